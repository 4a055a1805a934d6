"""A subscriber rotates its webhook's signing secret without missing a delivery: for the overlap it asked for, each
delivery is signed with the new secret and the old one (two signatures in ``webhook-signature``), so its receiver
verifies with either while it changes over; afterwards with the new one only."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from mcreg.webhooks.subscriptions import Webhooks
from tests.api.rest import As, caller
from tests.webhooks.conftest import delivering
from tests.webhooks.receiver import Delivery, Receiver, receiving
from tests.webhooks.test_delivery import subscribe
from tests.world import World


def verifies(secret: str, delivery: Delivery) -> bool:
    try:
        Webhook(secret).verify(delivery.body, delivery.headers)
    except WebhookVerificationError:
        return False
    return True


def rotate(auditor: As, webhook: str, key: str | None = None, **body: Any) -> dict[str, Any]:
    answer = auditor.post(f"/v1/webhooks/{webhook}/secret", body or None, key=key)
    assert answer.status_code == 200, answer.text
    rotated: dict[str, Any] = answer.json()
    assert rotated["secret"].startswith("whsec_")
    return rotated


def delivered_next(receiver: Receiver, world: World) -> Delivery:
    count = len(set(receiver.positions))
    world.issue()
    assert len(receiver.wait_for(count + 1)) == count + 1
    return receiver.deliveries[-1]


def test_deliveries_verify_with_the_old_and_the_new_secret_during_the_overlap_then_the_new_only(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving() as receiver:
        made = subscribe(auditor, receiver.url, ["Credential.Issued"])
        old = receiver.secret = made["secret"]
        with delivering(services, webhooks):
            before = delivered_next(receiver, world)
            rotated = rotate(auditor, made["id"], overlap_seconds=3600)
            new = rotated["secret"]
            assert new != old and rotated["previous_secret_until"] is not None
            assert "secret" not in auditor.get(f"/v1/webhooks/{made['id']}").json()
            # The receiver still verifies with the old secret: the delivery carries both signatures.
            during = delivered_next(receiver, world)
            assert len(during.headers["webhook-signature"].split(" ")) == 2
            assert verifies(old, during) and verifies(new, during)
            assert verifies(old, before) and not verifies(new, before)
            # The receiver has taken the new secret in; a rotation with no overlap signs with its own secret only.
            receiver.secret = new
            newest = rotate(auditor, made["id"], overlap_seconds=0)["secret"]
            assert auditor.get(f"/v1/webhooks/{made['id']}").json()["previous_secret_until"] is None
            receiver.secret = newest
            after = delivered_next(receiver, world)
            assert verifies(newest, after) and not verifies(new, after) and not verifies(old, after)
            assert len(after.headers["webhook-signature"].split(" ")) == 1
        assert not receiver.refused


def test_a_retried_rotation_answers_the_same_secret_and_rotates_nothing_more(
    services: Services, client: TestClient, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    made = subscribe(auditor, "http://127.0.0.1:9/hooks")
    first = rotate(auditor, made["id"], key="rotate-1")
    again = rotate(auditor, made["id"], key="rotate-1")
    assert again["secret"] == first["secret"]
    subscription = webhooks.view.subscription(UUID(made["id"]))
    assert subscription is not None
    opened = webhooks.secrets(subscription)  # the first rotation's and the one before it: nothing rotated since
    assert [Webhook(s).sign("m", subscription.created_at, b"x") for s in opened] == [
        Webhook(first["secret"]).sign("m", subscription.created_at, b"x"),
        Webhook(made["secret"]).sign("m", subscription.created_at, b"x"),
    ]
    assert rotate(auditor, made["id"], key="rotate-2")["secret"] != first["secret"]


@pytest.mark.parametrize("overlap", [-1, 8 * 86_400, "soon"])
def test_an_overlap_out_of_range_is_refused_naming_it(
    services: Services, client: TestClient, webhooks: Webhooks, overlap: Any
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    made = subscribe(auditor, "http://127.0.0.1:9/hooks")
    answer = auditor.post(f"/v1/webhooks/{made['id']}/secret", {"overlap_seconds": overlap})
    assert answer.status_code == 422
    assert "overlap_seconds" in answer.json()["field"]
    other = caller(services, client, Role.AUDITOR, uuid4())
    assert other.post(f"/v1/webhooks/{made['id']}/secret").status_code == 404  # another organisation's
