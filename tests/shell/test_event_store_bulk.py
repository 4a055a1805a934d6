"""A large save is copied into the events table: ids gap-free in commit order, conflicts refused as the library
refuses them, the events read back as written."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from mcreg.bootstrap import Services
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import IssueRow
from mcreg.stores.bulk_copy import BULK_FROM
from mcreg.stores.event_store import ReadCheckingRecorder
from tests.world import World, learner

TOPIC = "tests.bulk:Thing.Happened"
CREDENTIAL_ISSUED = "registry.credential:Credential.Issued"


def events(count: int, version: int = 1) -> list[StoredEvent]:
    return [StoredEvent(uuid.uuid4(), version, TOPIC, f'{{"n": {n}}}'.encode()) for n in range(count)]


def recorder_of(services: Services) -> ReadCheckingRecorder:
    recorder = services.registry.recorder
    assert isinstance(recorder, ReadCheckingRecorder)
    return recorder


def test_a_batch_of_credentials_is_stored_in_its_order_at_consecutive_positions_and_loads_back(world: World) -> None:
    registry = world.registry
    rows = [
        IssueRow(world.microcredential_id, learner(f"Learner {n}"), date(2024, 3, 1), grade=f"{n % 10}/10")
        for n in range(3 * BULK_FROM)
    ]
    before = registry.recorder.max_notification_id() or 0

    result = registry.issue_credentials(world.provider, rows)

    issued = registry.recorder.select_notifications(start=before + 1, limit=1000, topics=[CREDENTIAL_ISSUED])
    assert [n.originator_id for n in issued] == list(result.issued)
    assert [n.id for n in issued] == list(range(issued[0].id, issued[0].id + len(rows)))
    for row, credential_id in zip(rows, result.issued, strict=True):
        assert credential_id is not None
        credential = registry.get(Credential, credential_id)
        assert (credential.grade, credential.microcredential_id) == (row.grade, row.microcredential_id)
        assert registry.learner_data(credential_id) == row.learner


def test_a_large_save_that_repeats_a_stored_version_is_refused_as_the_library_refuses_one_and_writes_nothing(
    services: Services,
) -> None:
    recorder = recorder_of(services)
    stored = events(BULK_FROM)
    recorder.insert_events(stored)
    head = recorder.max_notification_id()

    with pytest.raises(IntegrityError):
        recorder.insert_events([*events(BULK_FROM), stored[3]])
    with pytest.raises(IntegrityError):  # the library's own insert, for a small save, raises the same error
        recorder.insert_events([stored[3]])

    assert recorder.max_notification_id() == head
    again = events(BULK_FROM)
    ids = recorder.insert_events(again)
    assert ids is not None and ids[0] > (head or 0)
    assert [recorder.select_events(e.originator_id)[0] for e in again] == again


def test_a_large_save_that_relied_on_a_changed_aggregate_writes_nothing(services: Services) -> None:
    recorder = recorder_of(services)
    (relied,) = events(1)
    recorder.insert_events([relied, StoredEvent(relied.originator_id, 2, TOPIC, b"{}")])
    head = recorder.max_notification_id()

    with pytest.raises(IntegrityError, match="relied-on"):
        recorder.insert_events(events(BULK_FROM), read_versions={relied.originator_id: 1})

    assert recorder.max_notification_id() == head


def test_concurrent_large_and_small_saves_get_gap_free_ids_in_commit_order(services: Services) -> None:
    """A reader that follows the log as it grows reads every event, in order: no id is handed out below
    one already committed, and each save's events sit together at the ids it was told."""
    recorder = recorder_of(services)
    start = (recorder.max_notification_id() or 0) + 1
    saved: list[tuple[list[StoredEvent], list[int]]] = []
    done = threading.Event()
    followed: list[int] = []

    def write(size: int, saves: int) -> None:
        for _ in range(saves):
            batch = events(size)
            ids = recorder.insert_events(batch)
            assert ids is not None
            saved.append((batch, list(ids)))

    def follow() -> None:
        after = start - 1
        while True:
            finished = done.is_set()
            page = recorder.select_notifications(start=after + 1, limit=500)
            followed.extend(n.id for n in page)
            after = page[-1].id if page else after
            if finished and not page:
                return

    writers = [
        threading.Thread(target=write, args=(size, saves)) for size, saves in [(40, 8), (25, 8), (1, 40), (2, 30)]
    ]
    reader = threading.Thread(target=follow)
    for thread in [reader, *writers]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()

    stored = recorder.select_notifications(start=start, limit=10_000)
    assert followed == [n.id for n in stored]
    assert [n.id for n in stored] == list(range(start, start + len(stored)))
    assert len(stored) == sum(len(batch) for batch, _ in saved)
    at = {n.id: (n.originator_id, n.originator_version) for n in stored}
    for batch, ids in saved:
        assert [at[i] for i in ids] == [(e.originator_id, e.originator_version) for e in batch]
        assert ids == list(range(ids[0], ids[0] + len(ids)))
