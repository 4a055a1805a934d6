"""The event store's PostgreSQL recorder, as the library ships it but for one change.

The library writes a save's events inside psycopg's pipeline mode. A save of
a few hundred credentials (a bulk issuance) sends a parameter large enough to
fill the socket buffers both ways, and client and server then wait on each
other for ever (psycopg issue 685). This recorder runs the very same
statements (table lock for gap-free notification order, NOTIFY, INSERT …
RETURNING) in one ordinary transaction instead.

On top of it, ``ReadCheckingRecorder`` makes a command fail when what it
decided on changed before it committed (decision 25).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, retry
from psycopg import Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Composed, Identifier


class BulkSafeApplicationRecorder(PostgresApplicationRecorder):
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)


class ReadCheckingRecorder(BulkSafeApplicationRecorder):
    """Refuses a save when an aggregate its command relied on changed after the command read it.

    ``Application.save(..., read_versions={id: version})`` names them. The
    library's recorder locks the events table for every insert (so positions
    commit in order); checked after that lock, the versions cannot change before
    this transaction commits, so the check is exact, not a race of its own.
    """

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)
        written = {e.originator_id for e in stored_events}
        expected = {i: v for i, v in (kwargs.get("read_versions") or {}).items() if i not in written}
        if not expected:
            return
        # Another cursor of the same transaction: the library fetches the inserted positions from ``curs`` after this.
        with curs.connection.cursor(row_factory=dict_row) as check:
            check.execute(self.select_versions_statement, [list(expected)])
            current = {row["originator_id"]: row["version"] for row in check.fetchall()}
        if changed := [i for i, version in expected.items() if current.get(i) != version]:
            raise IntegrityError(f"relied-on aggregates changed meanwhile: {', '.join(map(str, changed))}")

    @property
    def select_versions_statement(self) -> Composed:
        return SQL(
            "SELECT originator_id, max(originator_version) AS version FROM {0}.{1} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))


RECORDER_TOPIC = get_topic(ReadCheckingRecorder)
