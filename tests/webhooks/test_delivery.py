"""Webhooks delivered to real receivers: every event a subscriber may see, at least once, signed, in order; none
to a subscriber who may not see it; a hanging receiver timed out; a failing one disabled, then replayed."""

from __future__ import annotations

import time
from uuid import uuid4

from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from mcreg.stores.event_store import select_feed
from mcreg.webhooks.subscriptions import Webhooks
from tests.api.rest import As, caller
from tests.webhooks.conftest import delivering
from tests.webhooks.receiver import receiving
from tests.world import OPERATOR, World


def positions_after(services: Services, after: int, types: list[str] | None = None) -> list[int]:
    page = select_feed(services.registry.recorder, after, 100_000, None, types or [])
    return [r.position for r in page.records]


def subscribe(who: As, url: str, types: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    answer = who.post("/v1/webhooks", {"url": url, "types": types or []})
    assert answer.status_code == 201, answer.text
    made: dict = answer.json()  # type: ignore[type-arg]
    assert made["secret"].startswith("whsec_")
    return made


def test_every_event_a_subscriber_may_see_is_delivered_signed_and_in_order(
    services: Services, client: TestClient, world: World, provider: As, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    operator = caller(services, client, Role.OPERATOR, uuid4())
    with receiving() as everything, receiving() as revocations, receiving() as the_provider:
        everything.secret = subscribe(auditor, everything.url)["secret"]
        made = subscribe(operator, revocations.url, ["Credential.Revoked"])
        revocations.secret = made["secret"]
        start = made["starts_after"]
        # The feed is for auditors and the operator; so are its webhooks: a provider may not subscribe.
        refused = provider.post("/v1/webhooks", {"url": the_provider.url, "types": ["Credential.Revoked"]})
        assert refused.status_code == 403
        assert refused.json()["rule"] == "role"
        with delivering(services, webhooks):
            credentials = [world.issue() for _ in range(5)]
            for credential in credentials[:2]:
                services.registry.revoke_credential(world.provider, credential, reason="fraud")
            expected = positions_after(services, start)
            assert everything.wait_for(len(expected)) == expected
            revoked = positions_after(services, start, ["Credential.Revoked"])
            assert len(revoked) == 2
            assert revocations.wait_for(2) == revoked
        assert everything.positions == sorted(everything.positions)  # per subscription, in log order
        assert {d.type for d in revocations.deliveries} == {"Credential.Revoked"}
        assert not everything.refused and not revocations.refused  # every signature verified
        assert the_provider.attempts == 0
        listed = auditor.get("/v1/webhooks").json()["webhooks"]
        assert [(w["url"], w["pending"], w["delivered_through"]) for w in listed] == [(everything.url, 0, expected[-1])]
        assert "secret" not in listed[0]
        assert operator.get(f"/v1/webhooks/{listed[0]['id']}").status_code == 404  # another organisation's


def test_a_hanging_receiver_is_timed_out_without_holding_the_others(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving("hang") as hanging, receiving() as healthy:
        stuck = subscribe(auditor, hanging.url, ["Credential.Issued"])
        healthy.secret = subscribe(auditor, healthy.url, ["Credential.Issued"])["secret"]
        with delivering(services, webhooks, timeout=1.0, concurrency=2):
            began = time.monotonic()
            world.issue()
            assert len(healthy.wait_for(1, timeout=10)) == 1
            assert time.monotonic() - began < 5  # not held behind the receiver that hangs
            deadline = time.monotonic() + 10
            while (answer := auditor.get(f"/v1/webhooks/{stuck['id']}").json())["failures"] == 0:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert answer["last_error"] == "no answer within 1.0 s"
        assert answer["pending"] == 1 and answer["retry_at"] is not None


def test_a_failing_receiver_is_disabled_with_its_reason_and_a_replay_delivers_again(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving("fail") as receiver:
        made = subscribe(auditor, receiver.url, ["Credential.Issued"])
        receiver.secret = made["secret"]
        path = f"/v1/webhooks/{made['id']}"
        with delivering(services, webhooks, max_failures=2):
            world.issue()
            world.issue()
            deadline = time.monotonic() + 15
            while (answer := auditor.get(path).json())["disabled_at"] is None:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert answer["disabled_reason"] == "2 failed attempts in a row; the last: the receiver answered 500"
            assert answer["pending"] == 2
            assert receiver.attempts == 2
            receiver.behaviour = "ok"
            replayed = auditor.post(f"{path}/replay?from={made['starts_after']}")
            assert replayed.status_code == 200, replayed.text
            assert replayed.json()["disabled_at"] is None
            issued = positions_after(services, made["starts_after"], ["Credential.Issued"])
            assert receiver.wait_for(2) == issued
            # A replay from the start owes every event again: delivered at least once, twice here.
            assert auditor.post(f"{path}/replay?from=0").status_code == 200
            deadline = time.monotonic() + 15
            while len(receiver.positions) < 4:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert receiver.positions == issued + issued
        assert auditor.post(f"{path}/replay?from=999999").status_code == 422
        assert auditor.delete(path).status_code == 204
        assert auditor.get(path).status_code == 404


def test_a_subscription_to_an_unsafe_url_or_an_unknown_type_is_refused(services: Services, client: TestClient) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    refusals = {
        "http://192.168.1.20/hooks": ("url", "must be https (plain http only to a loopback address, in development)"),
        "file:///etc/passwd": ("url", "must be an https URL with a host"),
        "https://user:secret@127.0.0.1/hooks": ("url", "must not carry credentials"),
    }
    for url, (field, rule) in refusals.items():
        answer = auditor.post("/v1/webhooks", {"url": url})
        assert answer.status_code == 422, answer.text
        assert (answer.json()["field"], answer.json()["rule"]) == (field, rule)
    unknown = auditor.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "types": ["Credential.Exploded"]})
    assert unknown.status_code == 422
    assert unknown.json()["rule"] == "Credential.Exploded is not an event type of the registry"
    assert auditor.get("/v1/webhooks").json() == {"webhooks": []}


def test_a_new_subscription_owes_only_what_is_recorded_after_it_even_when_the_outbox_is_behind(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    head = services.registry.recorder.max_notification_id() or 0
    with receiving() as receiver:
        made = subscribe(auditor, receiver.url)  # the outbox has not followed the log yet: it is at 0
        receiver.secret = made["secret"]
        assert made["starts_after"] == head
        with delivering(services, webhooks):
            world.issue()
            expected = positions_after(services, head)
            assert receiver.wait_for(len(expected)) == expected
            time.sleep(0.5)
        assert min(receiver.positions) == head + 1  # none of the history before it


def test_a_retried_subscription_with_its_idempotency_key_answers_the_same_webhook_and_secret(
    services: Services, client: TestClient
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    body = {"url": "http://127.0.0.1:9/hooks", "types": ["Credential.Revoked"]}
    first = auditor.post("/v1/webhooks", body, key="subscribe-1")
    again = auditor.post("/v1/webhooks", body, key="subscribe-1")
    assert first.status_code == again.status_code == 201
    assert (again.json()["id"], again.json()["secret"]) == (first.json()["id"], first.json()["secret"])
    other = auditor.post("/v1/webhooks", body | {"types": []}, key="subscribe-1")
    assert other.status_code == 409
    assert other.json()["type"].endswith("/problems/idempotency-key-reused")
    assert len(auditor.get("/v1/webhooks").json()["webhooks"]) == 1


def test_a_webhook_whose_secret_does_not_open_is_disabled_saying_so(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving() as receiver:
        made = subscribe(auditor, receiver.url)
        with webhooks.view.datastore.transaction(commit=True) as curs:  # as if sealed under another KEK
            table = f"{services.settings.postgres_schema}.webhook_subscriptions"
            curs.execute(f"UPDATE {table} SET kek_id = 'another' WHERE id = %s", [made["id"]])  # type: ignore[arg-type]
        with delivering(services, webhooks):
            world.issue()
            deadline = time.monotonic() + 10
            while (answer := auditor.get(f"/v1/webhooks/{made['id']}").json())["disabled_at"] is None:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert answer["disabled_reason"].startswith("its secret does not open: ")
        assert receiver.attempts == 0


def test_an_erasure_reaches_subscribers_as_a_notice(
    services: Services, client: TestClient, world: World, webhooks: Webhooks
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    credential = world.issue()
    learner_id = services.registry.repository.get(credential).learner_id
    with receiving() as receiver:
        receiver.secret = subscribe(auditor, receiver.url, ["Erasure.LearnerForgotten"])["secret"]
        with delivering(services, webhooks):
            services.registry.forget_learner(OPERATOR, learner_id)
            assert len(receiver.wait_for(1)) == 1
    [delivery] = receiver.deliveries
    assert delivery.type == "Erasure.LearnerForgotten"
    assert delivery.event["erasure"] == {"learner_id": str(learner_id)}
