"""The projection engine: read tables kept from an application's notification log, exactly once, a page at a time.

A ``Projection`` names the event topics it needs and folds domain events into
the changes of one page (``process_event``, dispatched on the event's class).
Its ``View``, a ``PostgresTrackingRecorder``, owns the tables and writes a
page's changes together with the page's end position in one transaction,
after checking that the tracked position is where the page starts. A page is
therefore applied once or not at all, whether a run crashes half-way, is
repeated, or races another worker.

``catch_up`` reads the log in pages and feeds several projections from one
read, so an event is decoded once however many projections want it;
``Projector.follow`` then applies new events as LISTEN/NOTIFY announces them.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, Generic, TypeVar

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Subscription, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresFactory, PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from projections.reading import LogReader, Recorded

PAGE_SIZE = 2000
"""Notifications read, and applied in one transaction, at a time."""

IDLE = 0.5
"""Seconds a follower waits for news before it moves its position over events of other topics."""

Changes = TypeVar("Changes")
Progress = Callable[[int, int], None]
"""Called with (position reached, head) after each page."""

log = structlog.get_logger(__name__)


class PositionMoved(Exception):
    """The tracked position is not where a page starts: its events, or some, are in the tables already."""

    def __init__(self, tracked: int) -> None:
        super().__init__(f"the view is tracked at {tracked}")
        self.tracked = tracked


class View(PostgresTrackingRecorder, ABC, Generic[Changes]):
    """A projection's tables and tracking table, in one schema; written only a whole page at a time.

    Subclasses append the ``CREATE`` statements of their tables and indexes to
    ``self.sql_create_statements`` and write a page's changes in ``write``.
    """

    tables: ClassVar[tuple[str, ...]]
    """The projection's own tables: what a rebuild replaces and a check compares."""

    def __init__(self, datastore: PostgresDatastore, *, tracking_table_name: str, **kwargs: Any) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        self.schema = Identifier(self.datastore.schema)
        # Page writers of one projection take turns (readers do not wait), so that reading
        # the tracked position and moving it happen as one step, even for the very first page.
        self.lock_tracking_statement = SQL("LOCK TABLE {0}.{1} IN SHARE ROW EXCLUSIVE MODE").format(
            self.schema, Identifier(tracking_table_name)
        )
        # A check reads the live tables and their position as of one moment, without blocking the writer.
        self.snapshot_statement = SQL("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Templates over one of ``tables`` (and the schema of another copy of this view).
        self.drop_table_statement = SQL("DROP TABLE {schema}.{table}")
        self.move_table_statement = SQL("ALTER TABLE {other}.{table} SET SCHEMA {schema}")
        self.differences_statement = SQL(
            "SELECT (SELECT count(*) FROM (TABLE {schema}.{table} EXCEPT ALL TABLE {other}.{table}) AS d) AS only_here,"
            " (SELECT count(*) FROM (TABLE {other}.{table} EXCEPT ALL TABLE {schema}.{table}) AS d) AS only_there"
        )
        # Ordered by the whole row: the first column alone is not unique in counter tables.
        self.select_rows_statement = SQL("SELECT * FROM {schema}.{table} AS r ORDER BY r")
        self.analyze_statement = SQL("ANALYZE {schema}.{table}")

    @abstractmethod
    def write(self, curs: Cursor[DictRow], changes: Changes) -> None:
        """Write one page's changes through ``curs``, inside the page's transaction."""

    def position(self, application_name: str) -> int:
        """The tracked position: every wanted event up to it, and none after it, is in the tables."""
        return self.max_tracking_id(application_name) or 0

    def apply(self, application_name: str, start: int, end: int, changes: Changes) -> None:
        """Write a page's changes and move the tracked position from ``start`` to ``end``, in one transaction.

        Raises ``PositionMoved``, having written nothing, when the tracked position is not ``start``.
        """
        with self.datastore.transaction(commit=True) as curs:
            tracked = self.lock(curs, application_name)
            if tracked != start:
                raise PositionMoved(tracked)
            self.move(curs, application_name, end)
            self.write(curs, changes)

    def lock(self, curs: Cursor[DictRow], application_name: str) -> int:
        """Hold off this projection's page writers until the transaction ends; the tracked position."""
        curs.execute(self.lock_tracking_statement)
        return self._max_tracking_id(application_name, curs) or 0

    def move(self, curs: Cursor[DictRow], application_name: str, position: int) -> None:
        """Track ``position``; the library refuses (IntegrityError) a position not beyond the tracked one."""
        self._insert_tracking(curs, Tracking(application_name, position))

    def tracked_as_of_now(self, curs: Cursor[DictRow], application_name: str) -> int:
        """Start a repeatable-read snapshot in ``curs``'s new transaction; the position it sees."""
        curs.execute(self.snapshot_statement)
        return self._max_tracking_id(application_name, curs) or 0

    def replace_tables(self, curs: Cursor[DictRow], scratch: View[Changes]) -> None:
        """Drop this view's tables and move ``scratch``'s (the same view in another schema) in their place."""
        for table in self.tables:
            curs.execute(self.drop_table_statement.format(schema=self.schema, table=Identifier(table)))
            curs.execute(
                self.move_table_statement.format(other=scratch.schema, table=Identifier(table), schema=self.schema)
            )

    def differences(self, curs: Cursor[DictRow], other: View[Changes], table: str) -> tuple[int, int]:
        """Rows of ``table`` found only here and only in ``other`` (the same view in another schema)."""
        curs.execute(self.differences_statement.format(schema=self.schema, other=other.schema, table=Identifier(table)))
        row = curs.fetchone()
        assert row is not None
        return row["only_here"], row["only_there"]

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one of the view's tables, in a stable order (for audits and tests)."""
        with self.datastore.transaction() as curs:
            curs.execute(self.select_rows_statement.format(schema=self.schema, table=Identifier(table)))
            return curs.fetchall()

    def analyze(self) -> None:
        """Refresh the planner's statistics of the view's tables (after a bulk load)."""
        with self.datastore.transaction(commit=True) as curs:
            for table in self.tables:
                curs.execute(self.analyze_statement.format(schema=self.schema, table=Identifier(table)))

    def close(self) -> None:
        """Close the view's connections."""
        self.datastore.close()


class Projection(ABC, Generic[Changes]):
    """How a read model follows the log: which events it needs, and how each one changes its rows.

    ``process_event`` is dispatched on the domain event's class; handlers fold
    the event into the page's ``changes``, which the view then writes
    set-based, so a page costs a few statements however many events it holds.
    """

    name: ClassVar[str]
    """Names the tracking table (``<name>_tracking``) and prefixes the projection's own settings."""
    topics: ClassVar[tuple[str, ...]] = ()
    """Topics of the events the projection needs; empty for every event."""
    view_class: ClassVar[type[View[Any]]]

    @abstractmethod
    def changes(self) -> Changes:
        """The changes of a page before any of its events: what ``process_event`` folds events into."""

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: Changes) -> None:
        """Fold one event, recorded at ``position``, into the page's changes; an event without a handler changes
        nothing."""

    def fold(self, recorded: Iterable[Recorded]) -> Changes:
        """The changes that these events, in order, make."""
        changes = self.changes()
        process_event = self.process_event  # bound once: binding a singledispatchmethod is not cheap
        for item in recorded:
            process_event(item.event, item.position, changes)
        return changes


def open_view(projection: type[Projection[Any]], env: Mapping[str, str], *, schema: str | None = None) -> View[Any]:
    """The projection's view on the PostgreSQL database ``env`` names (the library's ``POSTGRES_*`` settings),
    in ``schema`` if given, with its tables created if missing."""
    if schema is not None:
        env = {**env, "POSTGRES_SCHEMA": schema}
    factory = PostgresFactory(Environment(projection.name, env))
    return factory.tracking_recorder(projection.view_class)


class Projector(Generic[Changes]):
    """One projection kept in its view from one application's notification log."""

    def __init__(self, app: Application[Any], projection: Projection[Changes], view: View[Changes]) -> None:
        self.app = app
        self.projection = projection
        self.view = view
        self.wanted = frozenset(projection.topics)
        self.position = view.position(app.name)
        """How far this projector knows its view to be; the view's tracking row is the truth."""

    @property
    def name(self) -> str:
        return self.projection.name

    def wants(self, topic: str) -> bool:
        return not self.wanted or topic in self.wanted

    def refresh(self) -> None:
        """Take the position from the view, which another process may have moved."""
        self.position = self.view.position(self.app.name)

    def lag(self) -> int:
        """Notifications recorded beyond the tracked position."""
        tracked = self.view.position(self.app.name)  # first: the head read after it is at least as far
        return (self.app.recorder.max_notification_id() or 0) - tracked

    def apply(self, page: Sequence[Recorded], end: int) -> None:
        """Apply the page's wanted events after this projector's position and track ``end``, exactly once.

        ``page`` must hold every wanted event between the position and ``end``.
        When the view turns out to be further on (another worker, or a rebuild,
        got there first), only the events after its position are applied.
        """
        while self.position < end:
            changes = self.projection.fold(r for r in page if r.position > self.position and self.wants(r.topic))
            try:
                self.view.apply(self.app.name, self.position, end, changes)
            except PositionMoved as moved:
                if moved.tracked < self.position:
                    raise  # tracking only moves forward: someone reset the view under a running projector
                log.info("projection.position_moved", projection=self.name, expected=self.position, to=moved.tracked)
                self.position = moved.tracked
            else:
                self.position = end

    def follow(self, stop: threading.Event, *, page_size: int = PAGE_SIZE, idle: float = IDLE) -> None:
        """Catch up, then apply new events as they are recorded, until ``stop`` is set.

        Whatever has arrived when the projector is ready is applied in one
        transaction. After ``idle`` seconds without news it catches up again,
        which moves the position over events of topics it does not need, so that
        ``lag`` counts only work left to do.
        """
        catch_up(self.app, [self], page_size=page_size, stop=stop)
        reader = LogReader(self.app)
        arrived: queue.Queue[Notification | BaseException] = queue.Queue()
        with self.app.recorder.subscribe(gt=self.position, topics=self.projection.topics) as subscription:
            feeder = threading.Thread(target=_feed, args=(subscription, arrived), name=f"{self.name}-subscription")
            feeder.start()
            try:
                while not stop.is_set():
                    if batch := _take(arrived, page_size, idle):
                        with cyclic_gc_paused():
                            self.apply(reader.decode(batch), batch[-1].id)
                    else:
                        catch_up(self.app, [self], page_size=page_size, stop=stop)
            finally:
                subscription.stop()
                feeder.join()


def _feed(subscription: Subscription[Any], arrived: queue.Queue[Notification | BaseException]) -> None:
    """Pass the subscription's notifications on; its failure too, for the applying thread to raise."""
    try:
        for notification in subscription:
            arrived.put(notification)
    except BaseException as error:
        arrived.put(error)


def _take(arrived: queue.Queue[Notification | BaseException], limit: int, timeout: float) -> list[Notification]:
    """What has arrived, up to ``limit``, waiting at most ``timeout`` for the first one."""
    batch: list[Notification] = []
    try:
        item = arrived.get(timeout=timeout)
        while True:
            if isinstance(item, BaseException):
                raise item
            batch.append(item)
            if len(batch) == limit:
                break
            item = arrived.get_nowait()
    except queue.Empty:
        pass
    return batch


def catch_up(
    app: Application[Any],
    projectors: Sequence[Projector[Any]],
    *,
    until: int | None = None,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Bring each projector to the head of the log (or to ``until``); the number of notifications read.

    One read serves all: a page is decoded once, then each projector applies,
    in its own transaction on its own thread, the events it wants after its own position.
    """
    for projector in projectors:
        projector.refresh()
    head = until if until is not None else app.recorder.max_notification_id() or 0
    everything = any(not p.wanted for p in projectors)
    topics = () if everything else tuple(sorted(set().union(*(p.wanted for p in projectors))))
    reader = LogReader(app)
    read = 0
    # Each projector applies pages in order on a thread of its own, on its own connection, while this
    # thread reads and decodes the next page: database time and decoding overlap. At most one page is
    # in flight, so memory stays at two pages and an error surfaces one page later at the latest.
    appliers = {p.name: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"apply-{p.name}") for p in projectors}
    in_flight: list[Future[None]] = []
    applied_end = None
    try:
        for stored, end in reader.pages(min((p.position for p in projectors), default=head), head, topics, page_size):
            if stop and stop.is_set():
                break
            with cyclic_gc_paused():
                page = reader.decode(stored)
            settle(in_flight, progress, applied_end, head)
            in_flight = [appliers[p.name].submit(_apply, p, page, end) for p in projectors]
            applied_end = end
            read += len(stored)
        settle(in_flight, progress, applied_end, head)
    finally:
        for applier in appliers.values():
            applier.shutdown(wait=True, cancel_futures=True)
    return read


def settle(in_flight: Sequence[Future[None]], progress: Progress | None, end: int | None, head: int) -> None:
    """Wait until every projector has applied the page in flight; raise the first failure."""
    for future in in_flight:
        future.result()
    if progress and end is not None and in_flight:
        progress(end, head)


def _apply(projector: Projector[Any], page: Sequence[Recorded], end: int) -> None:
    with cyclic_gc_paused():
        projector.apply(page, end)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a page is decoded and applied.

    A page is tens of thousands of small acyclic objects, freed by reference
    counting; meanwhile the collector would trace them again and again, which
    costs a third of a catch-up. Pauses are counted across threads: the
    collector resumes, if it was on, when the last one ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
