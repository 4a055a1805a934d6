"""Reading an application's notification log a page at a time, and decoding its events, for projections.

Projections read every event of the log, so two steps of the library's own
reading are done more cheaply here, with the same results:

- a page is selected with binary results into tuples; the library's query
  returns the state as hex text and builds a dict per row (a third of the time);
- events are decoded by a library ``Mapper`` (upcasting, id conversion,
  cipher and compressor as the application's) whose transcoder decodes each
  distinct stored value once: a credential's stamp, provider, micro-credential
  and QA basis recur across thousands of events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.cursor import BaseCursor
from psycopg.rows import RowMaker
from psycopg.sql import SQL, Identifier

READ_AHEAD = 2
"""Pages selected before the caller asks for them."""

MEMO_SIZE = 10_000
"""Distinct values remembered per transcoding; a transcoding's memo starts afresh when it is full."""


class Recorded(NamedTuple):
    """A domain event and its place in the notification log."""

    position: int
    topic: str
    event: Any


class StoredRow(NamedTuple):
    """A row of the notification log, as the library's mapper reads a stored event (and a ``Notification``)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


class MemoTranscoder(JSONTranscoder):
    """The application's transcodings, each decoding a value once and then handing out the same object.

    A value is remembered when its stored data is hashable: a string, or a list
    of strings, numbers, nulls and values decoded before (a list holding a list
    or an object is decoded every time). Decoded values are immutable (UUIDs,
    dates, frozen dataclasses), so sharing them is safe. Equal data means equal
    stored data because each position of a value's list is written from one
    typed field: it never holds ``1`` in one event and ``true`` or ``1.0`` in another.
    """

    def __init__(self, transcoder: JSONTranscoder) -> None:
        super().__init__()  # its decoder calls this class's ``_decode_obj``
        for transcoding in transcoder.names.values():
            self.register(transcoding)
        self.memos: dict[str, dict[Any, Any]] = {name: {} for name in self.names}

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2 or "_type_" not in d or "_data_" not in d:
            return d
        name, data = d["_type_"], d["_data_"]
        memo = self.memos.get(name)
        if memo is None:
            return super()._decode_obj(d)  # not registered: the library's error
        key = tuple(data) if data.__class__ is list else data
        try:
            return memo[key]
        except KeyError:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            value = memo[key] = self.names[name].decode(data)
            return value
        except TypeError:  # unhashable data
            return self.names[name].decode(data)


class LogReader:
    """An application's notification log on PostgreSQL, read a page at a time and decoded for projections.

    Not shared between threads: its decoder's memos are its own.
    """

    def __init__(self, app: Application[Any]) -> None:
        recorder = cast(PostgresApplicationRecorder, app.recorder)
        self.datastore = recorder.datastore
        select = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {0}.{1} "
            "WHERE notification_id > %s AND notification_id <= %s{2} ORDER BY notification_id LIMIT %s"
        )
        table = (Identifier(self.datastore.schema), Identifier(recorder.events_table_name))
        self.select_statement = select.format(*table, SQL(""))
        self.select_topics_statement = select.format(*table, SQL(" AND topic = ANY(%s)"))
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
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=_stored_row) as curs:
            curs.execute(statement, params, prepare=True, binary=True)
            return curs.fetchall()

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

    def decode(self, stored: Iterable[Any]) -> list[Recorded]:
        """The domain events of these stored events (rows of ``pages``, or the library's notifications), with
        their places in the log."""
        to_domain_event = self.mapper.to_domain_event
        return [Recorded(s.id, s.topic, to_domain_event(s)) for s in stored]


def _stored_row(cursor: BaseCursor[Any, Any]) -> RowMaker[StoredRow]:
    """psycopg's row factory for ``StoredRow``: a named tuple made straight from the row's values."""
    return StoredRow._make
