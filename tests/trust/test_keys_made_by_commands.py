"""Issuer keys are made by commands, never by a read.

A provider gets its signing key when it is accredited, or at the latest with its first credential, in that
command's transaction; reporting a key compromised makes its replacement. So a GET writes no event, and verifying
any credential checks its provider's key instead of skipping the check. A registry from before, whose providers
issued without a key, is keyed by ``mcreg keys issuers``; until then its exports are refused, not signed on need.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.projections.status_lists import StatusListsProjection
from mcreg.registry.aggregates.issuer_keys import IssuerKeys, MemoryIssuerKeyVault
from mcreg.registry.application import Registry
from mcreg.registry.application.core import Context
from mcreg.registry.vocabulary import Role
from mcreg.services.issuer_key_backfill import issuing_providers, key_issuing_providers
from tests.api.rest import As, caller
from tests.world import OPERATOR, World, learner

STATUS = StatusListsProjection.name
MCREG = str(Path(sys.executable).with_name("mcreg"))


def event_count(services: Services) -> int:
    return services.registry.recorder.max_notification_id() or 0


def key_check(answer: dict[str, Any]) -> str:
    (found,) = [c for c in answer["checks"] if c["check"] == "key"]
    return str(found["outcome"])


def key_ids(registry: Registry, issuer_id: UUID) -> list[str]:
    recorded = registry.issuer_keys(issuer_id)
    return [k.key_id for k in recorded.keys] if recorded is not None else []


class KeylessRegistry(Registry):
    """The registry as it was before keys came with commands: accrediting and issuing make no key."""

    name = "Registry"  # the same event store as the registry's

    def provide_issuer_key(self, ctx: Context, issuer_id: UUID) -> bool:
        return False


@dataclass(frozen=True)
class FromBefore:
    world: World
    credential_id: UUID


@pytest.fixture
def before_keys_came_with_commands(services: Services) -> Iterator[FromBefore]:
    """A provider accredited and issuing in a registry from before: it has no key (its first export made one)."""
    env = {**services.database.library_env, "POSTGRES_SCHEMA": services.settings.postgres_schema}
    legacy = KeylessRegistry(env, vault=services.registry.vault)
    try:
        world = World(legacy)
        yield FromBefore(world, world.issue())
    finally:
        legacy.close()


# --- the commands that make keys -----------------------------------------------------------------------------------


def test_accrediting_a_provider_gives_it_a_signing_key(registry: Registry):
    world = World(registry)
    keys = registry.issuer_keys(world.provider_id)
    assert keys is not None and [k.key_id for k in keys.keys] == ["key-1"]
    assert keys.current(registry.clock()) is not None
    if isinstance(registry.issuer_key_vault, MemoryIssuerKeyVault):  # the private half is in the vault, not an event
        assert set(registry.issuer_key_vault.private_keys) == {(world.provider_id, keys.keys[0].public_key_multibase)}
    world.issue()
    assert key_ids(registry, world.provider_id) == ["key-1"]  # issuing keeps the key there is


def test_a_provider_keyless_from_before_is_keyed_by_its_next_issuance(
    services: Services, before_keys_came_with_commands: FromBefore
):
    world = before_keys_came_with_commands.world
    assert key_ids(services.registry, world.provider_id) == []
    before = event_count(services)
    services.registry.issue_credential(
        world.provider, microcredential_id=world.microcredential_id, learner=learner("Grace Hopper")
    )
    assert key_ids(services.registry, world.provider_id) == ["key-1"]
    # The key came in the issuance's own transaction: the credential's and the key's events, nothing else.
    assert event_count(services) == before + 3  # Credential.Issued, IssuerKeys.Opened, IssuerKeys.KeyAdded


def test_reporting_the_key_in_use_compromised_makes_its_replacement(services: Services, world: World):
    since = datetime.now(UTC) - timedelta(seconds=1)
    services.registry.report_key_compromised(world.provider, world.provider_id, key_id="key-1", since=since)
    keys = services.registry.issuer_keys(world.provider_id)
    assert keys is not None
    current = keys.current(services.registry.clock())
    assert current is not None and current.key_id == "key-2"
    assert services.issuer_keys.signing_key(world.provider_id).key == current


# --- reads write nothing, and verification checks the key ---------------------------------------------------------


def test_a_get_writes_no_event(
    services: Services, client: TestClient, world: World, provider: As, public: As, read_models: ReadModels
):
    credential_id = world.issue()
    read_models.catch_up([STATUS])
    keyless = world.register_provider("BE", "Université Sans Clé")
    before = event_count(services)

    vc = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert vc.status_code == 200, vc.text
    assert provider.get(f"/v1/credentials/{credential_id}/elm").status_code == 200
    status_url = vc.json()["credentialStatus"]["statusListCredential"]
    assert public.get(status_url.removeprefix(services.settings.public_url.rstrip("/"))).status_code == 200
    assert public.get(f"/v1/credentials/{credential_id}/verify").status_code == 200
    for issuer in (world.provider_id, keyless):
        assert public.get(f"/issuers/{issuer}/did.json").status_code == 200
        assert public.get(f"/v1/issuers/{issuer}/keys").status_code == 200
    assert public.get(f"/v1/status/{keyless}/revocation-1").status_code == 404

    assert event_count(services) == before
    assert key_ids(services.registry, keyless) == []


def test_verifying_a_credential_checks_the_key_its_accreditation_made(
    services: Services, world: World, provider: As, public: As, read_models: ReadModels
):
    credential_id = world.issue()
    stored = public.get(f"/v1/credentials/{credential_id}/verify").json()
    assert key_check(stored) == "passed", stored["checks"]
    assert stored["signing_key"]["verification_method"] == f"{stored['issuer']}#key-1"

    read_models.catch_up([STATUS])
    vc = provider.get(f"/v1/credentials/{credential_id}/vc").json()
    presented = public.post("/v1/verify", vc).json()
    assert key_check(presented) == "passed" and presented["valid"] is True, presented["checks"]


# --- a registry from before ----------------------------------------------------------------------------------------


def test_a_registry_from_before_refuses_exports_until_its_issuers_are_keyed(
    services: Services,
    client: TestClient,
    public: As,
    read_models: ReadModels,
    before_keys_came_with_commands: FromBefore,
):
    world, credential_id = before_keys_came_with_commands.world, before_keys_came_with_commands.credential_id
    read_models.catch_up([STATUS])
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    before = event_count(services)

    refused = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert refused.status_code == 409, refused.text
    answer = public.get(f"/v1/credentials/{credential_id}/verify").json()
    assert key_check(answer) == "warning"  # the record decides; no export can be signed yet, which it says
    assert (answer["verdict"], answer["warnings"][0]["check"]) == ("valid_with_warnings", "key")
    assert event_count(services) == before  # the export made no key

    assert issuing_providers(services.registry) == [world.provider_id]
    assert key_issuing_providers(services.registry, OPERATOR) == [world.provider_id]
    assert key_issuing_providers(services.registry, OPERATOR) == []  # once is enough
    assert provider.get(f"/v1/credentials/{credential_id}/vc").status_code == 200
    assert key_check(public.get(f"/v1/credentials/{credential_id}/verify").json()) == "passed"
    recorded = services.registry.issuer_keys(world.provider_id)
    assert isinstance(recorded, IssuerKeys) and recorded.keys[0].key_id == "key-1"


def test_mcreg_keys_issuers_keys_the_providers_that_issued_without_a_key(
    services: Services, before_keys_came_with_commands: FromBefore
):
    world = before_keys_came_with_commands.world
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCREG_", "POSTGRES_"))} | {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_DATA_DIR": str(services.settings.data_dir),  # where the test's key-encryption key is
    }

    def keys_issuers() -> str:
        done = subprocess.run([MCREG, "keys", "issuers"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "1 issuing providers given a signing key" in keys_issuers()
    assert key_ids(services.registry, world.provider_id) == ["key-1"]
    assert services.issuer_keys.signing_key(world.provider_id).key.key_id == "key-1"  # its private half opens here
    assert "0 issuing providers given a signing key" in keys_issuers()


def test_an_accreditation_that_covers_no_micro_credentials_makes_no_key():
    registry = Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    world = World(registry)
    programmes_only = world.register_provider("BE", "Hogeschool Programma")
    registry.grant_accreditation(
        world.agency,
        provider_id=programmes_only,
        outcome="positive",
        valid_from=date(2021, 1, 1),
        eqf_levels=[6],
        micro_credentials=False,
        decided_on=date(2020, 12, 1),
    )
    assert key_ids(registry, programmes_only) == []  # it cannot issue under this accreditation
