"""Events: each says who did it, when it was recorded, when it takes effect, and under which idempotency key."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.receipt import Receipt
from mcreg.registry.stamp import Actor, Stamp
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR, World


def all_events(registry) -> list:
    notifications = registry.recorder.select_notifications(start=1, limit=10_000)
    return [registry.mapper.to_domain_event(n) for n in notifications]


def events_of(registry, aggregate_id: UUID) -> list:
    return list(registry.repository.event_store.get(aggregate_id))


def a_busy_day(registry) -> tuple[World, dict[str, UUID]]:
    """Every kind of aggregate, most kinds of event, some with idempotency keys."""
    world = World(registry)
    institution_id = world.register_provider("DE", "Technische Universität Beispiel")
    institution = Actor(institution_id, Role.INSTITUTION, key_id="admissions-key")
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id, idempotency_key="rev-1")
    registry.decide_review(world.agency, review_id, decision="positive", decided_on=date(2024, 1, 5))
    credential_id = world.issue(date(2024, 3, 1), idempotency_key="iss-1")
    registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 4, 1))
    registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 4, 15))
    recognition_id = registry.request_recognition(
        institution,
        credential_id=credential_id,
        institution_id=institution_id,
        purpose="admission",
        requested_on=date(2024, 5, 1),
    )
    registry.decide_recognition(
        institution,
        recognition_id,
        outcome="recognised",
        ects_recognised="5",
        decided_on=date(2024, 5, 20),
        idempotency_key="dec-1",
    )
    registry.revoke_credential(
        world.provider, credential_id, reason="fraud", effective=date(2024, 6, 1), idempotency_key="rvk-1"
    )
    registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2025, 1, 1))
    return world, {
        "credential": credential_id,
        "recognition": recognition_id,
        "review": review_id,
        "institution": institution_id,
    }


def test_every_event_carries_who_when_recorded_and_when_effective(registry):
    started = datetime.now(UTC)
    a_busy_day(registry)
    finished = datetime.now(UTC)

    events = all_events(registry)
    assert len(events) == registry.recorder.max_notification_id()
    kinds = {type(e).__qualname__ for e in events}
    assert {
        "Agency.Registered",
        "Credential.Issued",
        "Credential.Revoked",
        "Recognition.Decided",
        "Review.Decided",
        "Receipt.Given",
        "Agency.Suspended",
    } <= kinds
    for event in events:
        stamp = event.stamp
        assert isinstance(stamp, Stamp), type(event).__qualname__
        assert isinstance(stamp.actor.org, UUID)
        assert isinstance(stamp.actor.role, Role)
        assert stamp.actor.key_id
        assert type(stamp.effective) is date
        assert event.timestamp.tzinfo is not None
        assert started <= event.timestamp <= finished


def test_the_stamp_names_the_actor_and_the_business_date_of_each_step(registry):
    world, ids = a_busy_day(registry)
    issued, suspended, reinstated, revoked = events_of(registry, ids["credential"])

    assert issued.stamp.actor == world.provider
    assert issued.stamp.actor.key_id == "test-provider"
    assert [e.stamp.effective for e in (issued, suspended, reinstated, revoked)] == [
        date(2024, 3, 1),
        date(2024, 4, 1),
        date(2024, 4, 15),
        date(2024, 6, 1),
    ]
    _requested, decided = events_of(registry, ids["recognition"])
    assert decided.stamp.actor == Actor(ids["institution"], Role.INSTITUTION, key_id="admissions-key")
    assert decided.stamp.effective == date(2024, 5, 20)
    _opened, review_decided = events_of(registry, ids["review"])
    assert review_decided.stamp.actor.org == world.agency_id
    assert review_decided.stamp.actor.role == Role.QA_AGENCY
    assert review_decided.stamp.effective == date(2024, 1, 5)


def test_business_date_and_recorded_time_are_kept_apart(registry):
    world = World(registry)
    before = datetime.now(UTC)
    (issued,) = events_of(registry, world.issue(date(2022, 7, 1)))
    assert issued.stamp.effective == date(2022, 7, 1)
    assert issued.timestamp >= before  # recorded now, effective years ago
    timestamps = [e.timestamp for e in all_events(registry)]
    assert timestamps == sorted(timestamps)


def test_the_idempotency_key_is_in_every_event_the_command_wrote(registry):
    world = World(registry)
    accreditation_id = registry.grant_accreditation(
        world.agency,
        provider_id=world.provider_id,
        outcome="positive",
        valid_from=date(2022, 1, 1),
        idempotency_key="grant-77",
    )

    (granted,) = events_of(registry, accreditation_id)
    linked = events_of(registry, world.provider_id)[-1]
    (receipt,) = events_of(registry, Receipt.create_id(world.agency_id, "grant-77"))
    assert type(linked).__qualname__ == "Provider.AccreditationLinked"
    assert granted.stamp.idempotency_key == "grant-77"
    assert linked.stamp.idempotency_key == "grant-77"
    assert receipt.stamp.idempotency_key == "grant-77"
    # Commands sent without a key say so.
    assert all(e.stamp.idempotency_key is None for e in events_of(registry, world.accreditation_id))


def test_events_are_immutable(registry):
    world = World(registry)
    (issued,) = events_of(registry, world.issue(date(2024, 3, 1)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        issued.stamp = Stamp(OPERATOR, date(2024, 1, 1))  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        issued.stamp.effective = date(2024, 1, 1)  # type: ignore[misc]


def v1_state(registry, stored: StoredEvent) -> bytes:
    """The stored state as version 1 of ``Provider.Registered`` had it: one ``name``, no ``class_version``."""
    state = registry.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    state["name"] = state.pop("names")["en"]
    return registry.mapper.transcoder.encode(state)


def test_a_version_1_provider_registration_is_upcast_when_read(registry):
    """Mapper level, on both backends: v1 state decodes into today's event with ``names``."""
    provider_id = registry.register_provider(OPERATOR, names={"en": "Old Polytechnic"}, country="NL")
    (registered,) = events_of(registry, provider_id)
    stored = registry.mapper.to_stored_event(registered)
    old = dataclasses.replace(stored, state=v1_state(registry, stored))

    event = registry.mapper.to_domain_event(old)

    assert event.names == {"en": "Old Polytechnic"}
    assert not hasattr(event, "name")
    assert event.country == "NL"


def test_a_stored_version_1_provider_registration_reads_back_as_version_2(services, schema):
    registry = services.registry
    provider_id = registry.register_provider(OPERATOR, names={"en": "Old Polytechnic"}, country="BE")
    table = sql.Identifier(schema, "registry_events")
    with psycopg.connect(services.database.conninfo) as conn:
        topic, state = conn.execute(
            sql.SQL("SELECT topic, state FROM {} WHERE originator_id = %s AND originator_version = 1").format(table),
            [provider_id],
        ).fetchone()
        stored = StoredEvent(provider_id, 1, topic, bytes(state))
        old = v1_state(registry, stored)
        assert b'"names"' not in old and b"class_version" not in old
        conn.execute(
            sql.SQL("UPDATE {} SET state = %s WHERE originator_id = %s AND originator_version = 1").format(table),
            [old, provider_id],
        )

    provider = registry.get(Provider, provider_id)

    assert provider.names == {"en": "Old Polytechnic"}
    assert provider.country == "BE"
    # The stored record itself was not rewritten by reading it.
    with psycopg.connect(services.database.conninfo) as conn:
        (state,) = conn.execute(
            sql.SQL("SELECT state FROM {} WHERE originator_id = %s AND originator_version = 1").format(table),
            [provider_id],
        ).fetchone()
    assert bytes(state) == old


def test_aggregates_are_read_back_at_any_recorded_version(registry):
    world = World(registry)
    registry.suspend_accreditation(world.agency, world.accreditation_id, reason="audit", effective=date(2024, 1, 1))
    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="fraud", effective=date(2024, 6, 1))

    assert registry.get(Accreditation, world.accreditation_id, version=1).suspensions == []
    assert len(registry.get(Accreditation, world.accreditation_id, version=2).suspensions) == 1
    assert registry.get(Accreditation, world.accreditation_id, version=2).withdrawn_on is None
    assert registry.get(Accreditation, world.accreditation_id).withdrawn_on == date(2024, 6, 1)
    assert registry.get(Credential, world.issue(date(2023, 3, 1))).version == 1
