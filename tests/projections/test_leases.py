"""Leases: one session at a time holds a projection's lease, a killed holder's lease passes to the next, and a
writer that lost its lease writes nothing more."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from mcreg.bootstrap import Services, open_leases
from mcreg.projections.lease import LEASE_POLL, LeaseLost, Leases
from mcreg.projections.read_models import ReadModels
from mcreg.projections.reading import LogReader
from mcreg.projections.worker import ProjectionWorker
from tests.projections.conftest import issue_many
from tests.world import World

pytestmark = pytest.mark.cluster  # a cluster changes it: .ci/run's cluster step runs it there too


@pytest.fixture
def two_processes(services: Services) -> Iterator[tuple[Leases, Leases]]:
    """The leases of two processes on the test's schema (each its own session, as each process has)."""
    first, second = open_leases(services), open_leases(services)
    yield first, second
    first.close()
    second.close()


def kill_session(services: Services, leases: Leases) -> None:
    """End the lease session's server process, as the death of its process (SIGKILL) does."""
    with psycopg.connect(services.database.conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [leases.pid])


def test_one_process_at_a_time_holds_a_lease_and_a_killed_holders_passes_to_the_next(
    services: Services, two_processes: tuple[Leases, Leases]
) -> None:
    first, second = two_processes
    assert first.lease("credential_status").acquire()
    assert first.lease("credential_status").acquire(), "taking a lease one holds again keeps it"
    assert not second.lease("credential_status").acquire()
    assert second.lease("dashboard").acquire(), "leases are per projection"

    kill_session(services, first)
    deadline = time.monotonic() + 30
    while not second.lease("credential_status").acquire():
        assert time.monotonic() < deadline, "the killed holder's lease was never free"
        time.sleep(LEASE_POLL / 10)

    assert not first.lease("credential_status").acquire(), "the old holder comes back to find it taken"


def test_a_lease_given_up_is_taken_by_the_next_and_other_schemas_have_leases_of_their_own(
    services: Services, two_processes: tuple[Leases, Leases]
) -> None:
    first, second = two_processes
    assert first.lease("transparency_log").acquire()
    elsewhere = Leases(services.database.conninfo, "another_schema")
    try:
        assert elsewhere.lease("transparency_log").acquire()
    finally:
        elsewhere.close()
    first.lease("transparency_log").release()
    assert second.lease("transparency_log").acquire()


def test_a_writer_that_lost_its_lease_writes_no_page_and_holds_no_event_as_poison(
    services: Services, world: World, read_models: ReadModels, two_processes: tuple[Leases, Leases]
) -> None:
    first, second = two_processes
    issue_many(world, 5)
    status = read_models["credential_status"]
    lease = first.lease(status.name)
    status.view.guard = lease.confirm
    assert lease.acquire()
    app = services.registry
    head = app.recorder.max_notification_id() or 0
    page = LogReader(app).decode(app.recorder.select_notifications(start=1, limit=head), events=True)

    kill_session(services, first)  # not yet noticed by the holder: it believes it holds the lease
    assert second.lease(status.name).acquire()
    with pytest.raises(LeaseLost):
        status.apply(page, head)

    assert status.view.position(app.name) == 0
    assert status.view.rows("credential_status") == []
    assert read_models.quarantine.held() == {}, "a lost lease is no event's fault"


def test_a_holder_writes_while_its_lease_session_lives(
    services: Services, world: World, read_models: ReadModels, two_processes: tuple[Leases, Leases]
) -> None:
    first, _ = two_processes
    issue_many(world, 5)
    for projector in read_models.select():
        lease = first.lease(projector.name)
        projector.view.guard = lease.confirm
        assert lease.acquire()
    read_models.catch_up()
    assert set(read_models.lag().values()) == {0}
    assert read_models.check().equal


def test_a_worker_whose_lease_session_dies_takes_its_leases_again_and_follows_on(
    services: Services, world: World, read_models: ReadModels
) -> None:
    leases = open_leases(services)
    worker = ProjectionWorker(read_models.select(), leases=leases, idle=0.1)

    def caught_up() -> None:
        deadline = time.monotonic() + 60
        while set(read_models.lag().values()) != {0}:
            assert time.monotonic() < deadline and worker.running, worker.errors
            time.sleep(0.05)

    try:
        with worker:
            issue_many(world, 5)
            caught_up()
            kill_session(services, leases)  # as a dropped connection: every lease of the process is gone
            issue_many(world, 5)
            caught_up()
            assert all(leases.lease(p.name).held for p in read_models.select())
    finally:
        leases.close()
    assert worker.errors == {}
    assert read_models.check().equal
