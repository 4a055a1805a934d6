"""The projection engine: read tables kept from an application's notification log, exactly once, a page at a time.

A ``Projection`` names the event topics it needs and folds domain events into
the changes of one page (``process_event``, dispatched on the event's class).
Its ``View``, a ``PostgresTrackingRecorder``, owns the tables and writes a
page's changes together with the page's end position in one transaction,
after checking that the tracked position is where the page starts. A page is
therefore applied once or not at all, whether a run crashes half-way, is
repeated, or races another worker.

``catch_up`` reads the log in pages (``projections.reading``) and feeds
several projections from one read, so an event is decoded once however many
projections want it; each applies pages on a thread of its own, and those
decoded while it was busy together, in one transaction. ``Projector.follow``
then applies new events as the process's one LISTEN session announces them (``projections.news``).

An event a projection cannot apply stops that projection only, just before the
event, which it holds in quarantine (``projections.quarantine``) until an
operator has it skipped or retried; the others go on.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
import types
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import structlog
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresFactory, PostgresTrackingRecorder
from eventsourcing.utils import Environment, get_topic, strtobool
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.gc_pause import cyclic_gc_paused
from mcreg.projections.grants import carry_over, keep_owner
from mcreg.projections.lease import LeaseLost
from mcreg.projections.news import News
from mcreg.projections.quarantine import PoisonEvent, Quarantine, Quarantined, State, operational
from mcreg.projections.reading import LogReader, Recorded, Undecodable
from mcreg.projections.tables import CREATE_IN_TURN, table_exists

PAGE_SIZE = 2000
"""Notifications read, and applied in one transaction, at a time."""

APPLY_AHEAD = 2
"""Pages decoded that a projector may have waiting before the reader waits for it: they are applied together.
Two, so that what a catch-up holds in memory is no more than a small registry's whole log (decision 71)."""

IDLE = 0.5
"""Seconds after its position last moved that a follower moves it over events of other topics it had news of, or,
without news, catches up on its own (a notification may have been missed)."""

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
    guard: Callable[[Cursor[DictRow]], None] | None = None
    """Called in each page's transaction under the tracking lock, before anything is written: a leased view's
    ``Lease.confirm``, which refuses the page (``LeaseLost``) when its writer no longer holds the lease."""
    shares_datastore: bool = False
    """Whether its pool is shared with other views (``open_datastore``): closed by its owner, not by the view."""

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
        self.tracking_table_exists_statement = table_exists(self.datastore.schema, tracking_table_name)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        curs.execute(CREATE_IN_TURN)
        if not self.tracking_table_exists:
            # Made by another process while this one waited its turn: the library looked before the turn.
            curs.execute(self.tracking_table_exists_statement)
            if (found := curs.fetchone()) and found["found"]:
                self.tracking_table_exists = True
                migrated = self._max_tracking_id(self.table_migration_identifier, curs)
                self.tracking_migration_current = self.tracking_migration_previous = migrated
        super()._create_table(curs)

    @abstractmethod
    def write(self, curs: Cursor[DictRow], changes: Changes) -> None:
        """Write one page's changes through ``curs``, inside the page's transaction."""

    def position(self, application_name: str) -> int:
        """The tracked position: every wanted event up to it, and none after it, is in the tables."""
        return self.max_tracking_id(application_name) or 0

    def apply(self, application_name: str, start: int, end: int, changes: Changes) -> None:
        """Write a page's changes and move the tracked position from ``start`` to ``end``, in one transaction.

        Raises ``PositionMoved``, having written nothing, when the tracked position is not ``start``, and
        ``LeaseLost`` when the view's ``guard`` refuses.
        """
        with self.datastore.transaction(commit=True) as curs:
            tracked = self.lock(curs, application_name)
            if self.guard is not None:
                self.guard(curs)
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
        """Drop this view's tables and move ``scratch``'s (the same view in another schema) in their place.

        What a DBA granted on a live table, and its owner, carry over to the table that replaces it.
        """
        for table in self.tables:
            live = Identifier(self.datastore.schema, table)
            owner = carry_over(curs, live, Identifier(scratch.datastore.schema, table))
            curs.execute(self.drop_table_statement.format(schema=self.schema, table=Identifier(table)))
            curs.execute(
                self.move_table_statement.format(other=scratch.schema, table=Identifier(table), schema=self.schema)
            )
            keep_owner(curs, live, owner)

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
        """Close the view's connections, unless its pool is shared with other views."""
        if not self.shares_datastore:
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
    """Topics of the events the projection needs; empty for every event. By default, those of the event classes
    ``process_event`` is registered for."""
    view_class: ClassVar[type[View[Any]]]
    decodes: ClassVar[bool] = True
    """Whether it folds decoded domain events; if not, only the stored records (``Recorded.stored``)."""
    gather: ClassVar[float] = 0.0
    """Seconds a follower lets news gather after the first of it, so that a burst is applied as one page."""
    merges: ClassVar[bool] = True
    """Whether pages read while the view was busy are applied together, in one transaction, or one at a time."""
    skippable: ClassVar[bool] = True
    """Whether an operator may have it step over an event it cannot apply."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Take the topics, unless the class names them, from the event classes ``process_event`` handles."""
        super().__init_subclass__(**kwargs)
        method = inspect.getattr_static(cls, "process_event")
        if "topics" not in vars(cls) and isinstance(method, functools.singledispatchmethod):
            handled = (c for c in method.dispatcher.registry if c is not object)
            cls.topics = tuple(sorted(get_topic(c) for c in handled))

    @classmethod
    def of(cls, app: Application[Any]) -> Projection[Changes]:
        """The projection of ``app``'s log; one that needs more of the application than its events takes it here."""
        return cls()

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
        handlers = self.handlers
        for position, _, event, _ in recorded:
            try:
                handler = handlers[event.__class__]
            except KeyError:
                handler = handlers[event.__class__] = self.handler(event.__class__)
            handler(event, position, changes)
        return changes

    @functools.cached_property
    def handlers(self) -> dict[type, Callable[[Any, int, Changes], None]]:
        """The handler of each class of event folded so far."""
        return {}

    def handler(self, event_class: type) -> Callable[[Any, int, Changes], None]:
        """``process_event`` for events of this class, dispatched once rather than for each event; for an event
        that could not be decoded, the decoding's error."""
        if event_class is Undecodable:
            return _undecodable
        method = inspect.getattr_static(self, "process_event")
        if isinstance(method, functools.singledispatchmethod):
            return types.MethodType(method.dispatcher.dispatch(event_class), self)
        return self.process_event


def _undecodable(event: Undecodable, position: int, changes: Any) -> None:
    raise event.error


def event_class(aggregate: type[Aggregate], name: str) -> type[DomainEvent]:
    """The class of ``aggregate``'s event ``name``, which the library's ``@event`` decorator makes when the
    aggregate's class is created, out of a type checker's sight."""
    found = vars(aggregate).get(name)
    if not (isinstance(found, type) and issubclass(found, DomainEvent)):
        raise TypeError(f"{aggregate.__qualname__} has no event {name}")
    return found


def open_view(
    projection: type[Projection[Any]],
    env: Mapping[str, str],
    *,
    schema: str | None = None,
    datastore: PostgresDatastore | None = None,
) -> View[Any]:
    """The projection's view on the PostgreSQL database ``env`` names (the library's ``POSTGRES_*`` settings),
    in ``schema`` if given, with its tables created if missing (unless ``CREATE_TABLE`` says no).

    With ``datastore`` (``open_datastore``'s), the view uses its pool, shared with other views, which closing the
    view leaves open; else it has a pool of its own."""
    if datastore is not None:
        view = projection.view_class(datastore, tracking_table_name=f"{projection.name.lower()}_tracking")
        view.shares_datastore = True
        if creates_tables(env):
            view.create_table()
        return view
    if schema is not None:
        env = {**env, "POSTGRES_SCHEMA": schema}
    return _factory(projection.name, env).tracking_recorder(projection.view_class)


def creates_tables(env: Mapping[str, str]) -> bool:
    """Whether views opened on ``env`` create their tables if missing: yes, unless ``CREATE_TABLE`` says no (a
    read-only replica's, which has the primary's)."""
    return strtobool(env.get("CREATE_TABLE") or "yes")


def open_datastore(env: Mapping[str, str]) -> PostgresDatastore:
    """A pool on the database ``env`` names, for views to share (``open_view``); close it once they are done."""
    return _factory("views", env).datastore


def _factory(name: str, env: Mapping[str, str]) -> PostgresFactory:
    # The factory the settings name (the shell's passes on which server of a cluster to use), the library's by default.
    factory = InfrastructureFactory.construct(
        Environment(name, {InfrastructureFactory.PERSISTENCE_MODULE: "eventsourcing.postgres", **env})
    )
    if not isinstance(factory, PostgresFactory):
        raise TypeError(f"{name} needs a PostgreSQL view, not a {type(factory).__name__}")
    return factory


class Projector(Generic[Changes]):
    """One projection kept in its view from one application's notification log."""

    def __init__(
        self,
        app: Application[Any],
        projection: Projection[Changes],
        view: View[Changes],
        quarantine: Quarantine | None = None,
    ) -> None:
        self.app = app
        self.projection = projection
        self.view = view
        self.quarantine = quarantine if quarantine is not None else Quarantine(view.datastore)
        """Where the projection's events that cannot be applied are held: the live schema's, for a rebuild too."""
        self.wanted = frozenset(projection.topics)
        self.position = 0
        """How far this projector knows its view to be; the view's tracking row is the truth."""
        self.held: Quarantined | None = None
        """The event held in quarantine that the projector stops before, if it has not passed it."""
        self.skipped: frozenset[int] = frozenset()
        """Positions of the events an operator had the projection step over."""
        self.refresh()

    @property
    def name(self) -> str:
        return self.projection.name

    def refresh(self) -> None:
        """Take the position from the view, and what is quarantined from its table: another process may have
        moved them."""
        self.position = self.view.position(self.app.name)
        entries = self.quarantine.entries(self.name)
        self.skipped = frozenset(e.position for e in entries if e.state is State.SKIPPED)
        self.held = next((e for e in entries if e.state is State.HELD and e.position > self.position), None)

    @property
    def stopped(self) -> bool:
        """Whether it has applied every event before the one it holds in quarantine, and can go no further."""
        return self.held is not None and self.position >= self.held.position - 1

    def skip(self, position: int) -> Quarantined:
        """Step over the held event at ``position`` for good: mark it skipped, and track it if the view stopped
        just before it. NotQuarantined, having changed nothing, if it is not held here."""
        if not self.projection.skippable:
            raise ValueError(f"{self.name} cannot step over an event")
        with self.view.datastore.transaction(commit=True) as curs:
            tracked = self.view.lock(curs, self.app.name)
            skipped = self.quarantine.resolve(curs, self.name, position, State.SKIPPED)
            if tracked == position - 1:
                self.view.move(curs, self.app.name, position)
        self.refresh()
        return skipped

    def retry(self, position: int) -> Quarantined:
        """Release the held event at ``position``, for the next catch-up to try again. NotQuarantined, having
        changed nothing, if it is not held here."""
        with self.view.datastore.transaction(commit=True) as curs:
            retried = self.quarantine.resolve(curs, self.name, position, State.RETRIED)
        self.refresh()
        return retried

    def tracked_position(self) -> int:
        """The position the view has got to."""
        return self.view.position(self.app.name)

    def lag(self) -> int:
        """Notifications recorded beyond the tracked position."""
        tracked = self.tracked_position()  # first: the head read after it is at least as far
        return (self.app.recorder.max_notification_id() or 0) - tracked

    def apply(self, page: Sequence[Recorded], end: int) -> None:
        """Apply the page's wanted events after this projector's position and track ``end``, exactly once.

        ``page`` must hold every wanted event between the position and ``end``.
        When the view turns out to be further on (another worker, or a rebuild,
        got there first), only the events after its position are applied.
        Raises ``PoisonEvent`` when it stops before an event held in quarantine.
        """
        start = self.position  # the events folded and the start checked are one position's, whatever other
        held = self.held  # threads applying through this projector do meanwhile
        if held is not None and held.position <= end:
            end = held.position - 1
            page = [r for r in page if r.position <= end]
        while start < end:
            try:
                self.settle(self.wanted_after(page, start), start, end)
            except PositionMoved as moved:
                if moved.tracked < start:
                    raise  # tracking only moves forward: someone reset the view under a running projector
                log.info("projection.position_moved", projection=self.name, expected=start, to=moved.tracked)
                start = moved.tracked
            else:
                start = end
            self.position = max(self.position, start)
        if held is not None and held.position == end + 1:
            raise PoisonEvent(held)

    def settle(self, wanted: Sequence[Recorded], start: int, end: int) -> None:
        """Apply ``wanted``, the events after ``start`` up to ``end``, in one transaction; should that fail for a
        reason other than the database's state, in halves, until the event that fails alone is found and held.

        A failure is an event's only when it fails alone: the events before it are applied, and then it is held.
        """
        try:
            self.view.apply(self.app.name, start, end, self.projection.fold(wanted))
        except (PositionMoved, LeaseLost):
            raise  # no event's fault
        except Exception as error:
            if operational(error) or not wanted:
                raise
            if len(wanted) == 1:
                self.hold(wanted[0].position, start, error)
            half = len(wanted) // 2
            self.settle(wanted[:half], start, wanted[half - 1].position)
            self.settle(wanted[half:], wanted[half - 1].position, end)
        self.position = max(self.position, end)

    def hold(self, position: int, start: int, error: Exception) -> NoReturn:
        """Track the position just before the event at ``position`` and hold the event in quarantine."""
        if position - 1 > start:  # over events not wanted
            self.view.apply(self.app.name, start, position - 1, self.projection.changes())
        self.position = max(self.position, position - 1)
        self.held = self.quarantine.hold(self.name, position, error)
        log.error("projection.quarantined", projection=self.name, position=position, error=repr(error))
        raise PoisonEvent(self.held) from error

    def wanted_after(self, page: Sequence[Recorded], position: int) -> Sequence[Recorded]:
        """The events of ``page`` that this projector wants, after ``position`` (none that it skips)."""
        if self.skipped:
            page = [r for r in page if r.position not in self.skipped]
        wanted = self.wanted
        if wanted:
            return [r for r in page if r.topic in wanted and r.position > position]
        return page if not page or page[0].position > position else [r for r in page if r.position > position]

    def follow(self, stop: threading.Event, news: News, *, page_size: int = PAGE_SIZE, idle: float = IDLE) -> None:
        """Catch up, then apply new events as ``news`` announces them, until ``stop`` is set.

        Woken, it lets news gather for the projection's ``gather`` seconds, then applies the events it wants
        up to the head ``news`` read, in one transaction. A page of wanted events moves its position to that head,
        over the events of other topics too; news of other topics only moves it once ``idle`` seconds have passed
        since it last moved, so that ``lag`` counts only work left to do without a transaction per news. After
        ``idle`` seconds without news it catches up on its own (news may have been missed).
        """
        wake = news.listener(self.name)  # before catching up: news of what is recorded meanwhile is not lost
        self.reach_head(page_size, stop)
        reader = LogReader(self.app)
        moved = time.monotonic()
        while not stop.is_set():
            if not wake.wait(max(0.0, moved + idle - time.monotonic())):
                self.reach_head(page_size, stop)
                moved = time.monotonic()
                continue
            wake.clear()
            if self.projection.gather:
                stop.wait(self.projection.gather)
            head = news.head
            if stop.is_set() or head <= self.position:
                continue
            if stored := reader.select(self.position, head, self.projection.topics, page_size):
                end = head if len(stored) < page_size else stored[-1].id
                if end < head:
                    wake.set()  # more to read at once
                with cyclic_gc_paused():
                    self.apply(reader.decode(stored, events=self.projection.decodes), end)
            elif time.monotonic() - moved >= idle:
                self.apply([], head)  # over events of other topics only
            else:
                continue
            moved = time.monotonic()

    def reach_head(self, page_size: int, stop: threading.Event) -> None:
        """Catch up alone; raise ``PoisonEvent`` if it stopped before an event held in quarantine."""
        catch_up(self.app, [self], page_size=page_size, stop=stop)
        if self.held is not None and self.stopped:
            raise PoisonEvent(self.held)


def catch_up(
    app: Application[Any],
    projectors: Sequence[Projector[Any]],
    *,
    until: int | None = None,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    then: Callable[[Projector[Any]], None] | None = None,
) -> int:
    """Bring each projector to the head of the log (or to ``until``); the number of notifications read.

    One read serves all: a page is decoded once, then each projector applies,
    in its own transaction on its own thread, the events it wants after its own position.
    ``then``, if given, is called with each projector, on its thread, as soon as it has applied every page read.
    A projector that stops before an event held in quarantine (``Projector.stopped``) leaves the others going.
    """
    for projector in projectors:
        projector.refresh()
    head = until if until is not None else app.recorder.max_notification_id() or 0
    if then is None and all(p.position >= head for p in projectors):
        return 0  # an idle follower asks twice a second: no reader, threads or garbage for nothing to read
    everything = any(not p.wanted for p in projectors)
    topics = () if everything else tuple(sorted(set().union(*(p.wanted for p in projectors))))
    reader = LogReader(app)
    decodes = any(p.projection.decodes for p in projectors)
    read = 0
    # The next page is selected while this thread decodes one, and each projector applies pages on a
    # thread of its own: database time and decoding overlap.
    appliers = [_Applier(p) for p in projectors]
    reported = min((p.position for p in projectors), default=head)
    # The collector stays off for the whole catch-up, not page by page: pages waiting to be applied are
    # many objects, which each collection between pages would trace again.
    with cyclic_gc_paused():
        try:
            for stored, end in reader.pages_ahead(reported, head, topics, page_size):
                if stop and stop.is_set():
                    break
                page = reader.decode(stored, events=decodes)
                for applier in appliers:
                    applier.take(page, end)
                read += len(stored)
                reported = _report(progress, projectors, reported, head)
            for applier in appliers:  # all of them at once, then wait: the last pages apply side by side
                applier.flush(then)
            for applier in appliers:
                applier.wait()
            _report(progress, projectors, reported, head)
        finally:
            for applier in appliers:
                applier.close()
    return read


class _Applier:
    """Applies one projector's pages in order, on a thread of its own.

    Pages decoded while it is busy wait, and are then applied together in one
    transaction: when a projector is slower than decoding, it commits less
    often instead of holding the reader up. The reader waits for it only when
    ``APPLY_AHEAD`` pages are waiting, so memory stays bounded and an error
    surfaces a few pages later at the latest.
    """

    def __init__(self, projector: Projector[Any]) -> None:
        self.projector = projector
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"apply-{projector.name}")
        self.applying: Future[None] | None = None
        self.waiting: list[Recorded] = []  # the events of the pages waiting
        self.pages = 0  # how many pages are waiting
        self.end = 0  # where they end
        self.stopped = False  # before an event held in quarantine: later pages are not its to apply

    def take(self, page: Sequence[Recorded], end: int) -> None:
        """Apply ``page`` now if the projector is free, else when it is (waiting for it if too far behind)."""
        if self.stopped:
            return
        self.waiting.extend(page)
        self.pages += 1
        self.end = end
        merges = self.projector.projection.merges
        if not merges or self.pages >= APPLY_AHEAD or self.applying is None or self.applying.done():
            self.wait()  # at once if the projector is free; raises the failure of the pages in hand
            self.start()

    def start(self) -> None:
        """Apply the waiting pages on the projector's thread, after those in hand (if they are applied)."""
        self.after(self.projector.apply, self.waiting, self.end)
        self.waiting, self.pages = [], 0

    def flush(self, then: Callable[[Projector[Any]], None] | None = None) -> None:
        """Start applying the pages waiting, if any; then, if given, call ``then`` with the projector."""
        if self.pages:
            self.start()
        if then is not None:
            self.after(then, self.projector)

    def after(self, work: Callable[..., None], *args: Any) -> None:
        """Run ``work`` on the projector's thread after what is in hand, unless that failed."""
        self.applying = self.thread.submit(_after, self.applying, work, *args)

    def wait(self) -> None:
        """Wait until the work started is done; raise the first failure, if any, but a stop before a poison event."""
        if self.applying is not None:
            try:
                self.applying.result()
            except PoisonEvent:
                self.stopped = True

    def close(self) -> None:
        self.thread.shutdown(wait=True, cancel_futures=True)


def _after(before: Future[None] | None, work: Callable[..., None], *args: Any) -> None:
    if before is not None:
        before.result()  # the failure of the work before: pages are never applied after a gap
    work(*args)


def _report(progress: Progress | None, projectors: Sequence[Projector[Any]], reported: int, head: int) -> int:
    """Tell ``progress`` the position every projector has reached, if it moved since ``reported``; that position."""
    reached = min((p.position for p in projectors), default=head)
    if progress and reached > reported:
        progress(reached, head)
    return reached
