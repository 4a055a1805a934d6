"""Poison events: a read model that cannot apply an event stops just before it, holds it in quarantine and says
so, while the others go on; an operator has it step over the event, or try it again once the code is fixed.

The poison is real: a stored record in the PostgreSQL event store that cannot be decoded, or a handler that
raises on one event of a page.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date
from typing import ClassVar
from uuid import UUID

import psycopg
import pytest

from mcreg.bootstrap import Services
from mcreg.projections.credential_status import CredentialStatusProjection, CredentialStatusView
from mcreg.projections.log_tree import Leaves
from mcreg.projections.quarantine import NotQuarantined, PoisonEvent, State, operational
from mcreg.projections.read_models import ReadModels
from mcreg.projections.reading import Recorded
from mcreg.projections.transparency_log import TransparencyLog
from tests.projections.conftest import WANTING_REVOCATIONS, issue_many, poison
from tests.world import World, learner

WAIT = 10.0
"""Seconds a test waits for the worker; a pass takes a few."""


def held_of(read_models: ReadModels) -> dict[str, tuple[int, str, State]]:
    return {e.read_model: (e.position, e.error_class, e.state) for e in read_models.quarantine.entries()}


def test_a_read_model_stops_before_an_event_it_cannot_read_and_the_others_catch_up(
    services: Services, world: World, read_models: ReadModels
):
    before = issue_many(world, 3)
    position = poison(services)
    after = world.issue(date(2024, 3, 2), learner=learner("Ada Lovelace"))
    head = services.registry.recorder.max_notification_id()

    read_models.catch_up()  # no failure: the others go on
    read_models.catch_up()  # and again: the same stop, the same single row

    status = read_models["credential_status"]
    assert status.position == position - 1 and status.stopped
    assert {row["credential_id"] for row in status.view.rows("credential_status")} == set(before)  # not `after`
    assert read_models.lag()["credential_status"] == head - position + 1
    # Every read model that wants revocations stops there; those that do not, reach the head.
    assert read_models.stopped() == dict.fromkeys(WANTING_REVOCATIONS, position)
    assert read_models.lag()["catalogue"] == 0 and read_models.lag()["recognitions"] == 0
    held = held_of(read_models)
    assert held["credential_status"] == (position, "MapperDeserialisationError", State.HELD)
    assert len(read_models.quarantine.entries()) == len(WANTING_REVOCATIONS)
    assert read_models.catalogue  # the untouched read models still answer
    assert read_models.credential_status.get(after) is None


class FlakyCredentialStatus(CredentialStatusProjection):
    """The credential status, with a handler that fails on one credential's revocation until it is fixed."""

    broken: ClassVar[set[UUID]] = set()

    def fold(self, recorded: Iterable[Recorded]) -> object:
        recorded = list(recorded)
        for r in recorded:
            if r.topic.endswith("Credential.Revoked") and r.event.originator_id in self.broken:
                raise ValueError(f"cannot apply the revocation of {r.event.originator_id}")
        return super().fold(recorded)


def test_a_handler_that_fails_on_one_event_of_a_page_applies_those_before_it_and_retry_applies_it_once_fixed(
    services: Services, world: World, read_models: ReadModels
):
    credentials = issue_many(world, 6)
    registry, provider = world.registry, world.provider
    registry.revoke_credential(provider, credentials[1], reason="fraud", effective=date(2024, 5, 1))
    poisoned = credentials[2]
    registry.revoke_credential(provider, poisoned, reason="issued_in_error", effective=date(2024, 5, 2))
    registry.revoke_credential(provider, credentials[3], reason="fraud", effective=date(2024, 5, 3))
    position = registry.recorder.max_notification_id() - 1
    FlakyCredentialStatus.broken = {poisoned}
    flaky = ReadModels(registry, read_models.env, [FlakyCredentialStatus])
    try:
        flaky.catch_up()  # all in one page: the events before the poison are found and applied
        status = flaky["credential_status"]
        assert status.position == position - 1 and status.stopped
        rows = {row["credential_id"]: row["status"] for row in status.view.rows("credential_status")}
        assert [rows[c] for c in credentials[1:4]] == ["revoked", "active", "active"]
        assert held_of(flaky)["credential_status"][:2] == (position, "ValueError")

        FlakyCredentialStatus.broken = set()  # the code is fixed
        assert status.retry(position).state is State.RETRIED
        flaky.catch_up()

        assert not status.stopped and flaky.lag()["credential_status"] == 0
        rows = {row["credential_id"]: row["status"] for row in status.view.rows("credential_status")}
        assert [rows[c] for c in credentials[1:4]] == ["revoked", "revoked", "revoked"]
        assert flaky.stopped() == {}
        assert read_models.check(["credential_status"]).equal  # what the real projection makes from position 0
        with pytest.raises(NotQuarantined, match=f"position {position}"):
            status.retry(position)  # once only
    finally:
        flaky.close()


def test_the_worker_keeps_the_others_going_and_resumes_once_an_operator_skips(
    services: Services, world: World, read_models: ReadModels
):
    issue_many(world, 2)
    position = poison(services)
    with read_models.worker(idle=0.1) as worker:
        later = world.issue(date(2024, 3, 2), learner=learner("Grace Hopper"))
        until(lambda: read_models.lag()["catalogue"] == 0 and read_models.lag()["credential_status"] > 0)
        until(lambda: read_models["credential_status"].view.position(services.registry.name) == position - 1)
        assert worker.running and worker.errors == {}
        assert read_models.stopped() == dict.fromkeys(WANTING_REVOCATIONS, position)

        operator = ReadModels(services.registry, read_models.env)  # as `mcreg project --skip` does, elsewhere
        try:
            for name in WANTING_REVOCATIONS:
                operator[name].skip(position)
        finally:
            operator.close()
        until(lambda: set(read_models.lag().values()) == {0})

        assert read_models.credential_status.get(later) is not None
        assert read_models.stopped() == {}
        assert worker.errors == {}
    assert held_of(read_models)["credential_status"] == (position, "MapperDeserialisationError", State.SKIPPED)


def until(condition: object) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.1)


def test_a_skip_moves_the_position_past_the_event_and_a_rebuild_steps_over_it_too(
    services: Services, world: World, read_models: ReadModels
):
    issue_many(world, 3)
    position = poison(services)
    issue_many(world, 2)
    read_models.catch_up()
    status = read_models["credential_status"]

    status.skip(position)
    assert status.view.position(services.registry.name) == position  # stepped over, at once
    for name in WANTING_REVOCATIONS[1:]:
        read_models[name].skip(position)
    read_models.catch_up()
    assert set(read_models.lag().values()) == {0}

    check = read_models.check()
    assert check.equal  # a rebuild skips what the live read model skipped: no mystery difference
    skipped = {c.projection: c.skipped for c in check.comparisons}
    assert skipped["credential_status"] == (position,) and skipped["catalogue"] == ()
    rows = status.view.rows("credential_status")
    read_models.rebuild()  # reproducible: the same skips again
    assert status.view.rows("credential_status") == rows
    assert read_models.check().equal
    with pytest.raises(NotQuarantined):
        status.skip(position)  # skipped already


def test_a_rebuild_that_meets_a_held_event_stops_there_as_the_live_read_model_did(
    services: Services, world: World, read_models: ReadModels
):
    issue_many(world, 3)
    position = poison(services)
    issue_many(world, 2)
    read_models.catch_up()

    with pytest.raises(PoisonEvent, match=f"credential_status stopped at the event at position {position}"):
        read_models.rebuild(["credential_status"])

    status = read_models["credential_status"]
    assert status.view.position(services.registry.name) == position - 1
    assert len(status.view.rows("credential_status")) == 3
    [comparison] = read_models.check(["credential_status"]).comparisons
    assert comparison.equal and comparison.position == position - 1  # both stopped at the same place
    assert held_of(read_models)["credential_status"][2] is State.HELD


def test_a_rebuild_that_meets_a_new_poison_leaves_the_live_read_model_and_says_where_it_stopped(
    services: Services, world: World, read_models: ReadModels
):
    credentials = issue_many(world, 3)
    world.registry.revoke_credential(world.provider, credentials[0], reason="fraud", effective=date(2024, 5, 1))
    position = services.registry.recorder.max_notification_id()
    read_models.catch_up()  # the live read model applied the revocation with the code of its day
    FlakyCredentialStatus.broken = {credentials[0]}  # a later version of the code cannot
    flaky = ReadModels(services.registry, read_models.env, [FlakyCredentialStatus])
    try:
        [comparison] = flaky.check().comparisons
        assert not comparison.equal and comparison.stopped is not None and comparison.stopped.position == position
        with pytest.raises(PoisonEvent):
            flaky.rebuild()
        assert read_models.credential_status.get(credentials[0]).status == "revoked"  # left as it was
        assert flaky.stopped() == {"credential_status": position}  # for an operator to act on
    finally:
        FlakyCredentialStatus.broken = set()
        flaky.close()


class UnreachableView(CredentialStatusView):
    def write(self, curs: psycopg.Cursor, changes: object) -> None:
        raise psycopg.OperationalError("the server closed the connection unexpectedly")


class UnreachableCredentialStatus(CredentialStatusProjection):
    view_class = UnreachableView


def test_a_database_that_fails_is_no_poison_event(services: Services, world: World, read_models: ReadModels):
    issue_many(world, 2)
    unreachable = ReadModels(services.registry, read_models.env, [UnreachableCredentialStatus])
    try:
        with pytest.raises(Exception) as raised:  # the library wraps psycopg's error in its own
            unreachable.catch_up()
        assert operational(raised.value)
        assert unreachable.quarantine.entries() == []
    finally:
        unreachable.close()
    assert operational(RuntimeError("wrapped")) is False
    wrapped = RuntimeError("the library's")
    wrapped.__cause__ = psycopg.InterfaceError("connection closed")
    assert operational(wrapped)


def test_the_transparency_log_is_held_like_a_read_model_retried_but_never_skipped(
    services: Services, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
):
    issue_many(World(services.registry), 3)
    position = services.registry.recorder.max_notification_id()
    log = TransparencyLog(services.registry, read_models.env, services.log_keys)
    try:
        write = log.view.write

        def failing(curs: psycopg.Cursor, changes: Leaves) -> None:
            if any(p == position for p, _ in changes.hashes):
                raise ValueError("cannot append this leaf")
            write(curs, changes)

        monkeypatch.setattr(log.view, "write", failing)
        log.catch_up()
        assert log.stopped and log.tracked() == (position - 1, position - 1)  # every leaf before it, signed
        assert read_models.stopped() == {"transparency_log": position}
        with pytest.raises(ValueError, match="cannot step over"):
            log.skip(position)
        assert read_models.stopped() == {"transparency_log": position}

        monkeypatch.undo()  # the code is fixed
        log.retry(position)
        log.catch_up()
        assert log.tracked() == (position, position) and read_models.stopped() == {}
        assert log.check().equal
    finally:
        log.close()
