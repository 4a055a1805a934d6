"""A key found valid is trusted for a second in the API process: a busy client costs one lookup a second, and a
key revoked anywhere is refused within that second (at once in the process that revoked it)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from mcreg.stores.api_keys import FRESH_FOR, ApiKeys
from tests.api.rest import As, caller
from tests.world import World


def prefix_of(caller: As) -> str:
    """The public prefix of a caller's key (``mcreg_<prefix>_<secret>``)."""
    return f"{caller.token}".split("_")[1]


def test_a_key_revoked_by_another_process_is_refused_within_a_second(
    services: Services, client: TestClient, world: World
) -> None:
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    assert provider.get("/healthz").status_code == 200  # the key is now trusted in this process
    elsewhere = ApiKeys(services.keys.pool, services.settings.postgres_schema)  # as `mcreg keys revoke` would
    assert elsewhere.revoke(prefix_of(provider))

    revoked_at = time.monotonic()
    deadline = revoked_at + FRESH_FOR + 1.0  # a bounded wait: one trusted second, and time to answer
    while (answer := provider.get("/healthz")).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert answer.status_code == 401, "the revoked key was still let in past the second it may be trusted"
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_key_revoked_through_the_api_is_refused_at_once_by_the_process_that_revoked_it(
    services: Services, client: TestClient, world: World
) -> None:
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    prefix = prefix_of(provider)
    assert provider.get("/healthz").status_code == 200  # the key is now trusted in this process

    assert provider.post(f"/v1/keys/{prefix}/revoke").status_code == 200

    assert provider.get("/healthz").status_code == 401


def test_a_wrong_secret_behind_a_trusted_key_prefix_is_refused(
    services: Services, client: TestClient, world: World
) -> None:
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    assert provider.get("/healthz").status_code == 200
    forged = As(client, f"{provider.token}"[:-4] + "AAAA")

    assert forged.get("/healthz").status_code == 401
