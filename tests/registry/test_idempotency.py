"""Idempotency keys: a client that retries a command gets the first answer, and nothing is written twice."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import BatchResult, IssueRow
from mcreg.registry.errors import IdempotencyKeyReused, NoQualityAssurance
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import CredentialStatus, Role
from tests.world import OPERATOR, World, learner


def test_replaying_an_issuance_returns_the_first_credential_and_writes_nothing(registry):
    world = World(registry)
    first = world.issue(date(2024, 3, 1), idempotency_key="issue-0001")
    after_first = registry.recorder.max_notification_id()

    again = world.issue(date(2024, 3, 1), idempotency_key="issue-0001")

    assert again == first
    assert registry.recorder.max_notification_id() == after_first
    assert registry.get(Credential, first).issued_on == date(2024, 3, 1)


def test_without_a_key_a_retry_is_a_new_command(registry):
    world = World(registry)
    assert world.issue(date(2024, 3, 1)) != world.issue(date(2024, 3, 1))


def test_the_same_key_with_a_different_request_is_refused(registry):
    world = World(registry)
    world.issue(date(2024, 3, 1), idempotency_key="issue-0001")
    after_first = registry.recorder.max_notification_id()

    with pytest.raises(IdempotencyKeyReused):
        world.issue(date(2024, 3, 2), idempotency_key="issue-0001")
    with pytest.raises(IdempotencyKeyReused):
        world.issue(date(2024, 3, 1), learner=learner("Grace Hopper"), idempotency_key="issue-0001")
    assert registry.recorder.max_notification_id() == after_first


def test_a_retry_is_the_same_request_whatever_order_its_json_object_keys_come_in(registry):
    """JSON objects are unordered (RFC 8259): a client may re-serialise a retried body in another key order."""
    first = registry.register_provider(
        OPERATOR, names={"en": "Leiden University", "nl": "Universiteit Leiden"}, country="NL", idempotency_key="p-1"
    )
    before = registry.recorder.max_notification_id()

    again = registry.register_provider(
        OPERATOR, names={"nl": "Universiteit Leiden", "en": "Leiden University"}, country="NL", idempotency_key="p-1"
    )

    assert again == first
    assert registry.recorder.max_notification_id() == before


def test_the_same_key_for_a_different_command_is_refused(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1), idempotency_key="k-42")
    with pytest.raises(IdempotencyKeyReused):
        registry.revoke_credential(world.provider, credential_id, reason="fraud", idempotency_key="k-42")
    assert registry.get(Credential, credential_id).status == CredentialStatus.ACTIVE


def test_keys_belong_to_the_organisation_that_sent_them(registry):
    world = World(registry)
    other_id = world.register_provider("NL", "Other University")
    registry.rename_provider(world.provider, world.provider_id, names={"en": "Renamed"}, idempotency_key="rename-1")
    registry.rename_provider(
        Actor(other_id, Role.PROVIDER), other_id, names={"en": "Also renamed"}, idempotency_key="rename-1"
    )
    assert registry.get(Provider, world.provider_id).names == {"en": "Renamed"}
    assert registry.get(Provider, other_id).names == {"en": "Also renamed"}


def test_a_refused_command_does_not_use_up_its_key(registry):
    world = World(registry)
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2020, 6, 1), idempotency_key="try-1")
    credential_id = world.issue(date(2024, 3, 1), idempotency_key="try-1")
    assert registry.get(Credential, credential_id).issued_on == date(2024, 3, 1)


def test_replaying_a_status_change_does_not_conflict_with_itself(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    registry.revoke_credential(world.provider, credential_id, reason="fraud", idempotency_key="revoke-1")
    before = registry.recorder.max_notification_id()

    # Revoking twice is a conflict, but a retried revocation is the same revocation.
    assert registry.revoke_credential(world.provider, credential_id, reason="fraud", idempotency_key="revoke-1") == (
        credential_id
    )
    assert registry.recorder.max_notification_id() == before
    assert registry.get(Credential, credential_id).version == 2


def test_replaying_a_bulk_issuance_returns_the_first_batch_result(registry):
    world = World(registry)
    rows = [
        IssueRow(world.microcredential_id, learner("Learner A"), date(2024, 3, 1)),
        IssueRow(world.microcredential_id, learner("Learner B"), date(2020, 6, 1)),  # no QA cover yet
    ]
    first = registry.issue_credentials(world.provider, rows, partial=True, idempotency_key="batch-7")
    before = registry.recorder.max_notification_id()

    again = registry.issue_credentials(world.provider, rows, partial=True, idempotency_key="batch-7")

    assert isinstance(again, BatchResult)
    assert again == first
    assert again.issued[1] is None and isinstance(again.issued[0], UUID)
    assert registry.recorder.max_notification_id() == before
    with pytest.raises(IdempotencyKeyReused):
        registry.issue_credentials(world.provider, rows, partial=False, idempotency_key="batch-7")


def test_two_racing_retries_of_one_request_write_once(registry, monkeypatch):
    """The same request arrives twice at once: the slower one finds the faster one's receipt."""
    world = World(registry)
    original = registry.get
    raced = False

    def get(kind, aggregate_id, version=None):
        nonlocal raced
        aggregate = original(kind, aggregate_id, version)
        if not raced and aggregate_id == world.microcredential_id:
            raced = True  # the first copy of the request commits while the second is half-way
            faster.append(world.issue(date(2024, 3, 1), idempotency_key="dup-1"))
        return aggregate

    faster: list[UUID] = []
    monkeypatch.setattr(registry, "get", get)
    before = registry.recorder.max_notification_id()

    slower = world.issue(date(2024, 3, 1), idempotency_key="dup-1")

    assert slower == faster[0]
    assert registry.recorder.max_notification_id() == before + 2  # one credential, one receipt


def test_a_replay_is_answered_even_after_the_state_moved_on(registry):
    world = World(registry)
    agency_id = registry.register_agency(OPERATOR, name="Agency X", country="NL", idempotency_key="reg-x")
    registry.deregister_agency(OPERATOR, agency_id, reason="closed")
    assert registry.register_agency(OPERATOR, name="Agency X", country="NL", idempotency_key="reg-x") == agency_id
    assert world.agency_id != agency_id


def test_a_fresh_key_registers_a_fresh_object(registry):
    first = registry.register_agency(OPERATOR, name="Agency X", country="NL", idempotency_key=str(uuid4()))
    second = registry.register_agency(OPERATOR, name="Agency X", country="NL", idempotency_key=str(uuid4()))
    assert first != second
