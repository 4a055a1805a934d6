"""Rebuilding projections from position 0 beside the live ones, then swapping them in; or comparing the two.

A rebuild writes the same tables into a scratch schema that nobody reads,
while readers and the live worker go on with the live tables. The swap is one
transaction per projection: it holds off that projection's live writer,
brings the rebuilt tables to the live position if the writer got further in
the meantime, drops the live tables, moves the rebuilt ones in, and tracks
the later of the two positions. A check rebuilds the same way and compares
row for row at the live position, then throws the rebuild away.

A rebuild steps over the events an operator had the live projection skip, so
the two stay equal, and stops before an event held in quarantine as the live
projection does (decision 55); a check reports both.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.engine import PAGE_SIZE, Progress, Projector, catch_up, open_view
from mcreg.projections.quarantine import PoisonEvent, Quarantined
from mcreg.projections.reading import LogReader

CREATE_SCHEMA = SQL("CREATE SCHEMA {0}")
DROP_SCHEMA = SQL("DROP SCHEMA IF EXISTS {0} CASCADE")


@dataclass(frozen=True, slots=True)
class Comparison:
    """A projection's live tables against a rebuild at the same position: rows found on one side only."""

    projection: str
    position: int
    only_live: Mapping[str, int]
    only_rebuilt: Mapping[str, int]
    skipped: tuple[int, ...] = ()
    """Positions, up to ``position``, of the events both sides stepped over as an operator said."""
    stopped: Quarantined | None = None
    """The event held in quarantine that the rebuild stopped before, short of the live position (then there is
    nothing to compare)."""

    @property
    def equal(self) -> bool:
        return self.stopped is None and not any(self.only_live.values()) and not any(self.only_rebuilt.values())


def rebuild(
    app: Application[Any],
    live: Sequence[Projector[Any]],
    env: Mapping[str, str],
    *,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> int:
    """Rebuild the projections from position 0 and swap each in; the number of notifications read.

    A projection whose rebuild stops before an event held in quarantine is swapped in only if the live one is
    no further on; ``PoisonEvent`` then says which stopped, once the others are in.
    """
    with scratch_copies(app, live, env) as rebuilt:
        # Each projection is swapped in on its own thread as soon as it is rebuilt, while others finish theirs.
        live_of = dict(zip(rebuilt, live, strict=True))
        read = catch_up(
            app,
            rebuilt,
            page_size=page_size,
            progress=progress,
            then=lambda copy: finish(live_of[copy], copy, page_size),
        )
        stopped = [copy for copy in rebuilt if copy.stopped]
        for copy in stopped:
            live_of[copy].refresh()
            if live_of[copy].position <= copy.position:
                finish(live_of[copy], copy, page_size)
    if stopped:
        raise PoisonEvent(*(copy.held for copy in stopped if copy.held is not None))
    return read


def finish(live: Projector[Any], rebuilt: Projector[Any], page_size: int) -> None:
    """Swap in a rebuilt projection: with the planner's statistics, and what was recorded meanwhile."""
    rebuilt.view.analyze()
    catch_up(rebuilt.app, [rebuilt], page_size=page_size)  # outside the swap's lock: the swap has less to do
    swap(live, rebuilt, page_size)


def check(
    app: Application[Any],
    live: Sequence[Projector[Any]],
    env: Mapping[str, str],
    *,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> tuple[int, list[Comparison]]:
    """Rebuild the projections into scratch tables and compare them with the live ones, which stay untouched.

    Returns the number of notifications read and one comparison per projection.
    """
    with scratch_copies(app, live, env) as rebuilt:
        for projector in live:
            projector.refresh()
        # Rebuild no further than the live views; they can only move on from there.
        read = catch_up(app, rebuilt, until=min(p.position for p in live), page_size=page_size, progress=progress)
        comparisons = []
        for projector, copy in zip(live, rebuilt, strict=True):
            catch_up(app, [copy], until=projector.position, page_size=page_size)
            if copy.stopped and copy.position < projector.position:
                comparisons.append(Comparison(projector.name, projector.position, {}, {}, stopped=copy.held))
            else:
                comparisons.append(compare(projector, copy, page_size))
    return read, comparisons


@contextmanager
def scratch_copies(
    app: Application[Any], live: Sequence[Projector[Any]], env: Mapping[str, str]
) -> Iterator[list[Projector[Any]]]:
    """Empty copies of the live projections, in a new schema of their own that is dropped afterwards."""
    datastore = live[0].view.datastore
    # Random, so that concurrent rebuilds or checks never share scratch tables.
    schema = f"{datastore.schema[:40]}_rebuild_{secrets.token_hex(4)}"
    with datastore.transaction(commit=True) as curs:
        curs.execute(CREATE_SCHEMA.format(Identifier(schema)))
    copies: list[Projector[Any]] = []
    try:
        # Side by side: each view connects and creates its tables on its own.
        with ThreadPoolExecutor(max_workers=len(live), thread_name_prefix="scratch") as threads:
            opening = [threads.submit(open_view, type(p.projection), env, schema=schema) for p in live]
        for projector, view in zip(live, opening, strict=True):
            if view.exception() is None:
                copies.append(Projector(app, projector.projection, view.result(), projector.quarantine))
        for view in opening:
            view.result()  # the first failure, once every view that opened is among the copies to close
        yield copies
    finally:
        for copy in copies:
            copy.view.close()
        with datastore.transaction(commit=True) as curs:
            curs.execute(DROP_SCHEMA.format(Identifier(schema)))


def swap(live: Projector[Any], rebuilt: Projector[Any], page_size: int = PAGE_SIZE) -> None:
    """Put the rebuilt tables in place of the live ones, with the tracked position, in one transaction."""
    app = live.app
    with live.view.datastore.transaction(commit=True) as curs:
        tracked = live.view.lock(curs, app.name)
        advance(curs, rebuilt, tracked, page_size)
        live.view.replace_tables(curs, rebuilt.view)
        if rebuilt.position > tracked:
            live.view.move(curs, app.name, rebuilt.position)
    live.position = max(tracked, rebuilt.position)


def compare(live: Projector[Any], rebuilt: Projector[Any], page_size: int = PAGE_SIZE) -> Comparison:
    """The live tables against the rebuilt ones at the live position, read as of one moment."""
    with live.view.datastore.transaction() as curs:  # rolled back: nothing of the live side changes
        tracked = live.view.tracked_as_of_now(curs, live.app.name)
        advance(curs, rebuilt, tracked, page_size)  # the live writer may have gone on since the rebuild
        counts = {table: live.view.differences(curs, rebuilt.view, table) for table in live.view.tables}
    return Comparison(
        live.name,
        tracked,
        only_live={table: here for table, (here, _) in counts.items()},
        only_rebuilt={table: there for table, (_, there) in counts.items()},
        skipped=tuple(sorted(p for p in rebuilt.skipped if p <= tracked)),
    )


def advance(curs: Cursor[DictRow], rebuilt: Projector[Any], target: int, page_size: int) -> None:
    """Bring the rebuilt tables to ``target`` inside the caller's transaction (their own tracking is not needed:
    they are swapped in or thrown away when it ends)."""
    reader = LogReader(rebuilt.app)
    for stored, end in reader.pages(rebuilt.position, target, rebuilt.projection.topics, page_size):
        recorded = rebuilt.wanted_after(reader.decode(stored, events=rebuilt.projection.decodes), rebuilt.position)
        rebuilt.view.write(curs, rebuilt.projection.fold(recorded))
        rebuilt.position = end
