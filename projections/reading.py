"""Reading an application's notification log a page at a time, and decoding its events, for projections.

Projections read every event of the log, so two steps of the library's own
reading are done more cheaply here, with the same results:

- a page is selected as one row of arrays with binary results, ahead of the
  caller on a thread of its own; the library's query returns a row per event,
  with the state as hex text, and builds a dict for each;
- events are decoded by a library ``Mapper`` (upcasting, id conversion,
  cipher and compressor as the application's) whose transcoder decodes each
  distinct stored value once: a credential's stamp, provider, micro-credential
  and QA basis recur across thousands of events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, Protocol, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

READ_AHEAD = 2
"""Pages selected before the caller asks for them."""

MEMO_SIZE = 10_000
"""Distinct values remembered per transcoding; a transcoding's memo starts afresh when it is full."""


class StoredRow(NamedTuple):
    """A row of the notification log, as the library's mapper reads a stored event (and a ``Notification``)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


class StoredEventLike(Protocol):
    """A stored event as the notification log holds it: a ``StoredRow``, or a library ``Notification``."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> Any: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


class Recorded(NamedTuple):
    """A stored event, its place in the notification log, and the domain event it records (if decoded)."""

    position: int
    topic: str
    event: Any
    stored: StoredEventLike


class Undecodable:
    """In place of a domain event that its stored record cannot be decoded into: a projection that wants the
    event raises ``error`` when it folds it, and so holds the event in quarantine (decision 55)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class MemoTranscoder(JSONTranscoder):
    """The application's transcodings, each decoding a value once and then handing out the same object.

    A value is remembered when its stored data is hashable: a string, or a list
    of strings, numbers, nulls and values decoded before (a list holding a list
    or an object is decoded every time). Decoded values are immutable (UUIDs,
    dates, frozen dataclasses), so sharing them is safe. Equal data means equal
    stored data because each position of a value's list is written from one
    typed field: it never holds ``1`` in one event and ``true`` or ``1.0`` in another.
    A transcoding whose memo fills with fewer hits than values (a learner's
    sealed data, a timestamp) is no longer remembered.
    """

    def __init__(self, transcoder: JSONTranscoder) -> None:
        super().__init__()  # its decoder calls this class's ``_decode_obj``
        for transcoding in transcoder.names.values():
            self.register(transcoding)
        self.memos: dict[str, dict[Any, Any]] = {name: {} for name in self.names}
        self.hits = dict.fromkeys(self.names, 0)

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2 or "_type_" not in d or "_data_" not in d:
            return d
        name, data = d["_type_"], d["_data_"]
        memo = self.memos.get(name)
        if memo is None:  # not remembered, or not registered (the library's error)
            return super()._decode_obj(d)
        key = tuple(data) if data.__class__ is list else data
        try:
            value = memo[key]
        except KeyError:
            return self.remember(name, key, data)
        except TypeError:  # unhashable data
            return self.names[name].decode(data)
        self.hits[name] += 1
        return value

    def remember(self, name: str, key: Any, data: Any) -> Any:
        """Decode a value not seen yet, and remember it while its transcoding's values recur."""
        value = self.names[name].decode(data)
        memo = self.memos[name]
        if len(memo) >= MEMO_SIZE:  # full: go on only if lookups hit more often than they missed
            if self.hits[name] < MEMO_SIZE:
                del self.memos[name]
                return value
            memo.clear()
            self.hits[name] = 0
        memo[key] = value
        return value


class LogReader:
    """An application's notification log on PostgreSQL, read a page at a time and decoded for projections.

    Decode on one thread at a time: the decoder's memos are not locked.
    """

    def __init__(self, app: Application[Any]) -> None:
        recorder = cast(PostgresApplicationRecorder, app.recorder)
        self.datastore = recorder.datastore
        # A page is selected as one row of arrays, one per column. libpq then receives one large message
        # and reads it in a few large reads, where thousands of small rows cost a read per 16 kB, each
        # waiting for the GIL while another thread decodes (which made reading ten times slower).
        columns = ("notification_id", "originator_id", "originator_version", "topic", "state")
        parts = (
            SQL(", ").join(SQL("array_agg({0} ORDER BY notification_id)").format(Identifier(c)) for c in columns),
            SQL(", ").join(map(Identifier, columns)),
            Identifier(self.datastore.schema),
            Identifier(recorder.events_table_name),
        )
        select = SQL(
            "SELECT {0} FROM (SELECT {1} FROM {2}.{3} WHERE notification_id > %s AND notification_id <= %s{4} "
            "ORDER BY notification_id LIMIT %s) AS page"
        )
        self.select_statement = select.format(*parts, SQL(""))
        self.select_topics_statement = select.format(*parts, SQL(" AND topic = ANY(%s)"))
        transcoder = app.mapper.transcoder
        self.mapper = (
            Mapper(transcoder=MemoTranscoder(transcoder), compressor=app.mapper.compressor, cipher=app.mapper.cipher)
            if isinstance(transcoder, JSONTranscoder)
            else app.mapper
        )

    def pages(
        self, after: int, until: int, topics: Sequence[str], page_size: int
    ) -> Iterator[tuple[list[StoredRow], int]]:
        """The stored events of ``topics`` (all if empty) after position ``after`` up to ``until``, a page at a
        time, each with the position it ends at: its last event's, or ``until`` for the last page."""
        # A page shorter than the limit may end at ``until`` only because ``until`` is a head seen
        # before reading: the recorder commits notification ids in order, so all ids up to it are visible.
        while after < until:
            rows = self.select(after, until, topics, page_size)
            after = rows[-1].id if len(rows) == page_size else until
            yield rows, after

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select(self, after: int, until: int, topics: Sequence[str], limit: int) -> list[StoredRow]:
        """Up to ``limit`` stored events of ``topics`` (all if empty) after ``after`` up to ``until``, in order."""
        if topics:
            statement, params = self.select_topics_statement, [after, until, list(topics), limit]
        else:
            statement, params = self.select_statement, [after, until, limit]
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, params, prepare=True, binary=True)
            page = curs.fetchone()
        if page is None or page[0] is None:  # no rows: each array_agg is NULL
            return []
        return list(map(StoredRow._make, zip(*page, strict=True)))

    def pages_ahead(
        self, after: int, until: int, topics: Sequence[str], page_size: int
    ) -> Iterator[tuple[list[StoredRow], int]]:
        """``pages``, selected ``READ_AHEAD`` pages ahead of the caller, on a thread of their own."""
        pages = self.pages(after, until, topics, page_size)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as ahead:
            following = deque(ahead.submit(next, pages, None) for _ in range(READ_AHEAD))
            while (page := following.popleft().result()) is not None:
                following.append(ahead.submit(next, pages, None))
                yield page

    def decode(self, stored: Iterable[StoredEventLike], *, events: bool = True) -> list[Recorded]:
        """These stored events (rows of ``pages``, or the library's notifications) with their places in the log,
        and decoded as domain events if ``events`` (``None`` otherwise)."""
        if not events:
            return [Recorded(s.id, s.topic, None, s) for s in stored]
        # The mapper reads only the five attributes a ``StoredEventLike`` (the protocol) has, whatever their holder.
        to_domain_event = cast(Callable[[StoredEventLike], Any], self.mapper.to_domain_event)
        stored = list(stored)
        try:
            return [Recorded(s.id, s.topic, to_domain_event(s), s) for s in stored]
        except Exception:  # then one at a time: an event that cannot be decoded fails only the projections wanting it
            return [Recorded(s.id, s.topic, _decoded(to_domain_event, s), s) for s in stored]


def _decoded(to_domain_event: Callable[[StoredEventLike], Any], stored: StoredEventLike) -> Any:
    try:
        return to_domain_event(stored)
    except Exception as error:
        return Undecodable(error)
