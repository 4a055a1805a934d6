"""The event store's PostgreSQL recorder, as the library ships it but for one change.

The library writes a save's events inside psycopg's pipeline mode. A save of
a few hundred credentials (a bulk issuance) sends a parameter large enough to
fill the socket buffers both ways, and client and server then wait on each
other for ever (psycopg issue 685). This recorder runs the very same
statements (table lock for gap-free notification order, NOTIFY, INSERT …
RETURNING) in one ordinary transaction instead; a save of ``BULK_FROM`` events or
more is written under the same lock with one binary ``COPY`` (``bulk_copy``).

Its subscriptions listen before they first read (``ListeningSubscription``).

On top of it, ``ReadCheckingRecorder`` makes a command fail when what it
decided on changed before it committed (decision 25).

The stored records are also read here as they are, for the auditors' feed
(``select_feed``), and streamed out and copied back in for a backup
(``stored_records``, ``load_records``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresSubscription
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.errors import DuplicateObject
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from mcreg.projections.tables import CREATE_IN_TURN
from mcreg.registry.read_versions import check_read_versions, relied_on
from mcreg.stores.bulk_copy import BULK_FROM, copy_events


class CreatedInTurn(PostgresAggregateRecorder):
    """The library's recorder, creating its tables in turn with other processes (``CREATE_IN_TURN``): the
    snapshots' recorder, and the events' below."""

    def create_table(self) -> None:
        """The library makes its composite types each in a transaction of its own, expecting ``DuplicateObject``
        when one exists; a twin's at the same moment fails otherwise, so they are made here first, in turn."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(CREATE_IN_TURN)
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    with contextlib.suppress(DuplicateObject), curs.connection.transaction():
                        curs.execute(statement, prepare=False)
        super().create_table()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        curs.execute(CREATE_IN_TURN)
        super()._create_table(curs)


class BulkSafeApplicationRecorder(CreatedInTurn, PostgresApplicationRecorder):
    bulk_from = BULK_FROM
    """Events in a save from which it is copied in (``bulk_copy``) rather than inserted as the library does."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            if len(stored_events) >= self.bulk_from:
                return self._copy_stored_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _copy_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any) -> list[int]:
        """A large save: the library's lock and NOTIFY, then one binary COPY; the events' notification ids."""
        self._lock_table(curs)
        self._notify_channel(curs)
        schema = self.datastore.schema
        return copy_events(curs, schema, self.events_table_name, self.datastore.originator_id_type, stored_events)


class ListeningSubscription(PostgresSubscription):
    """The library's subscription, but its first read waits until it is listening.

    The library starts reading and LISTENing in two threads at once: a commit that
    lands after the first read but before the LISTEN is registered announces
    itself to no one, and waits for the next commit (or a follower's idle
    catch-up) to be seen. Listening first closes that window.
    """

    LISTEN_TIMEOUT = 10.0

    def __init__(self, recorder: PostgresApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()):
        self._listening = threading.Event()  # before the library's __init__ starts the reading thread
        super().__init__(recorder, gt=gt, topics=topics)

    def _loop_on_pull(self) -> None:
        self._listening.wait(self.LISTEN_TIMEOUT)
        super()._loop_on_pull()

    def _listen(self) -> None:
        # The library's loop, telling the reading thread when the LISTEN is in place.
        try:
            with self._recorder.datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(self._recorder.channel_name)))
                self._listening.set()
                while not self._has_been_stopped and not self._thread_error:
                    for _ in conn.notifies(timeout=0.1, stop_after=1):
                        self._has_been_notified.set()
        except BaseException as error:
            if self._thread_error is None:
                self._thread_error = error
            self.stop()
        finally:
            self._listening.set()


class ReadCheckingRecorder(BulkSafeApplicationRecorder):
    """Refuses a save when an aggregate its command relied on changed after the command read it.

    ``Application.save(..., read_versions={id: version})`` names them. The
    library's recorder locks the events table for every insert (so positions
    commit in order); checked after that lock, the versions cannot change before
    this transaction commits, so the check is exact, not a race of its own. The
    rule is ``mcreg.registry.read_versions``'s, which the in-memory recorder applies too.
    """

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> ListeningSubscription:
        return ListeningSubscription(self, gt=gt, topics=topics)

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)
        self._check_read_versions(curs, stored_events, **kwargs)

    def _copy_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> list[int]:
        notification_ids = super()._copy_stored_events(curs, stored_events, **kwargs)
        self._check_read_versions(curs, stored_events, **kwargs)
        return notification_ids

    def _check_read_versions(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        expected = relied_on(stored_events, kwargs.get("read_versions"))
        check_read_versions(expected, lambda aggregate_ids: self._stored_versions(curs, aggregate_ids))

    def _stored_versions(self, curs: Cursor[DictRow], aggregate_ids: Iterable[UUID]) -> dict[UUID, int]:
        # Another cursor of the same transaction: the library fetches the inserted positions from ``curs`` after this.
        with curs.connection.cursor(row_factory=dict_row) as check:
            check.execute(self.select_versions_statement, [list(aggregate_ids)])
            return {row["originator_id"]: row["version"] for row in check.fetchall()}

    def stored_versions(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, int]:
        """The latest stored version of each of these aggregates that has events, in one query."""
        with self.datastore.transaction(commit=False) as curs, curs.connection.cursor(row_factory=dict_row) as read:
            read.execute(self.select_versions_statement, [list(aggregate_ids)])
            return {row["originator_id"]: row["version"] for row in read.fetchall()}

    @property
    def select_versions_statement(self) -> Composed:
        return SQL(
            "SELECT originator_id, max(originator_version) AS version FROM {0}.{1} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))


def events_table(recorder: Any) -> Identifier:
    """The recorder's events table, schema-qualified."""
    return Identifier(recorder.datastore.schema or "public", recorder.events_table_name)


WINDOW = 100_000
"""Positions a feed page filtered by type scans at most."""


@dataclass(frozen=True)
class FeedRecord:
    """A stored event as the store holds it: its position, aggregate, version, topic and state bytes."""

    position: int
    aggregate_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class FeedPage:
    records: list[FeedRecord]
    next_after: int  # where the next page continues, even when a sparse filter found nothing
    head: int


def select_feed(recorder: Any, after: int, limit: int, aggregate: UUID | None, types: Sequence[str]) -> FeedPage:
    """Stored events after ``after`` in log order, of one aggregate and/or of some types (``Credential.Issued``).

    Filtering by aggregate uses the primary key. Filtering by type has no index, so a page scans at most
    ``WINDOW`` positions: bounded work on a log of any length.
    """
    table = events_table(recorder)
    conditions = [SQL("notification_id > %(after)s")]
    params: dict[str, Any] = {"after": after, "limit": limit, "stop": after + WINDOW}
    if aggregate is not None:
        conditions.append(SQL("originator_id = %(aggregate)s"))
        params["aggregate"] = aggregate
    elif types:
        conditions.append(SQL("notification_id <= %(stop)s"))
    if types:
        conditions.append(SQL("split_part(topic, ':', 2) = ANY(%(types)s)"))
        params["types"] = list(types)
    query = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} WHERE {}"
        " ORDER BY notification_id LIMIT %(limit)s"
    ).format(table, SQL(" AND ").join(conditions))
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(query, params)
        rows = curs.fetchall()
        curs.execute(SQL("SELECT coalesce(max(notification_id), 0) AS head FROM {}").format(table))
        head = curs.fetchone()["head"]
    records = [
        FeedRecord(r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
        for r in rows
    ]
    if len(records) == limit or aggregate is not None or not types:
        next_after = records[-1].position if records else after
    else:  # a sparse type filter scanned its whole window
        next_after = max(after, min(params["stop"], head))
    return FeedPage(records, next_after, head)


def created_at_position(recorder: Any, aggregate_id: UUID) -> int | None:
    """The log position of an aggregate's first event (version 1), by the event store's primary key."""
    table = events_table(recorder)
    statement = SQL("SELECT notification_id FROM {} WHERE originator_id = %s AND originator_version = 1")
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(statement.format(table), [aggregate_id])
        row = curs.fetchone()
    return None if row is None else int(row["notification_id"])


def stored_records(recorder: Any, head: int, batch: int) -> Iterator[FeedRecord]:
    """Every stored event up to position ``head``, in log order, streamed through a server-side cursor (constant
    memory for a log of any size), in one read-only snapshot."""
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
        " WHERE notification_id <= %s ORDER BY notification_id"
    ).format(events_table(recorder))
    with (
        recorder.datastore.transaction(commit=False) as curs,
        curs.connection.cursor(name="mcreg_stored_records", row_factory=tuple_row) as cursor,
    ):
        cursor.itersize = batch
        cursor.execute(statement, [head])
        for position, originator_id, version, topic, state in cursor:
            yield FeedRecord(position, originator_id, version, topic, bytes(state))


def load_records(
    recorder: Any, records: Iterable[FeedRecord], head: int, progress: Callable[[int], None], batch: int
) -> int:
    """Write ``records`` with their own positions into the event store (one COPY, one transaction), so that new
    events continue after ``head``; the number written."""
    table = events_table(recorder)
    loaded = 0
    with recorder.datastore.transaction(commit=True) as curs:
        columns = "notification_id, originator_id, originator_version, topic, state"
        with curs.copy(SQL("COPY {} ({}) FROM STDIN").format(table, SQL(columns))) as copy:
            for r in records:
                copy.write_row((r.position, r.aggregate_id, r.version, r.topic, r.state))
                loaded += 1
                if loaded % batch == 0:
                    progress(loaded)
        curs.execute(
            SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s, %s)"),
            [table.as_string(curs.connection), max(head, 1), head > 0],
        )
    return loaded


def records_at(recorder: Any, positions: Sequence[int]) -> list[FeedRecord]:
    """The stored events at these positions, in log order (by the event store's unique position index)."""
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
        " WHERE notification_id = ANY(%s) ORDER BY notification_id"
    ).format(events_table(recorder))
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(statement, [list(positions)])
        rows = curs.fetchall()
    return [
        FeedRecord(r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
        for r in rows
    ]
