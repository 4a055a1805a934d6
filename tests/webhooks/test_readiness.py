"""An operator's probe sees webhook trouble: ``/readyz`` counts what the outbox has still to owe, what is owed and
how far behind the earliest owed event is, and the webhooks retrying or disabled; in counts only, since anyone may
read the probe and the webhooks' URLs are their organisations' business."""

from __future__ import annotations

import time
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.engine import Projector, catch_up
from mcreg.projections.webhook_outbox import OutboxProjection
from mcreg.registry.vocabulary import Role
from mcreg.webhooks.subscriptions import Webhooks
from tests.api.rest import caller
from tests.webhooks.conftest import delivering
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import positions_after, subscribe
from tests.world import World


def webhooks_ready(client: TestClient) -> dict[str, Any]:
    answer = client.get("/readyz")  # the public probe: no key
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready"  # a receiver's trouble is not the registry's
    ready: dict[str, Any] = answer.json()["webhooks"]
    return ready


def until(client: TestClient, field: str, value: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while (ready := webhooks_ready(client))[field] != value:
        assert time.monotonic() < deadline, ready
        time.sleep(0.05)
    return ready


def test_readyz_counts_what_the_outbox_owes_and_how_far_behind_it_is(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    head = services.registry.recorder.max_notification_id()
    assert webhooks_ready(client) == {"lag": head, "owed": 0, "behind": 0, "retrying": 0, "disabled": 0}
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving() as receiver:
        made = subscribe(auditor, receiver.url, ["Credential.Issued"])
        receiver.secret = made["secret"]
        world.issue()
        world.issue()
        head = services.registry.recorder.max_notification_id()
        assert webhooks_ready(client)["lag"] == head  # the outbox has fanned nothing out yet
        catch_up(services.registry, [Projector(services.registry, OutboxProjection(), webhooks.view)])
        first, _ = positions_after(services, made["starts_after"], ["Credential.Issued"])
        ready = webhooks_ready(client)
        assert (ready["lag"], ready["owed"], ready["behind"]) == (0, 2, head - first + 1)
        with delivering(services, webhooks):
            until(client, "owed", 0)
        assert webhooks_ready(client) == {"lag": 0, "owed": 0, "behind": 0, "retrying": 0, "disabled": 0}
        assert receiver.url not in client.get("/readyz").text and made["id"] not in client.get("/readyz").text


def test_readyz_counts_a_failing_webhook_retrying_then_disabled(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving("fail") as failing:
        made = subscribe(auditor, failing.url, ["Credential.Issued"])
        with delivering(services, webhooks):  # ten failures to go: it retries for minutes
            world.issue()
            retrying = until(client, "retrying", 1)
        assert (retrying["owed"], retrying["disabled"]) == (1, 0)
        with delivering(services, webhooks, max_failures=1):  # the next failure disables it
            disabled = until(client, "disabled", 1)
            # A disabled webhook is owed nothing more until replayed: it does not count as behind.
            assert (disabled["retrying"], disabled["owed"], disabled["behind"]) == (0, 0, 0)
        assert failing.url not in client.get("/readyz").text and made["id"] not in client.get("/readyz").text
