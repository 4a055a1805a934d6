"""The event store's PostgreSQL recorder, as the library ships it but for one change.

The library writes a save's events inside psycopg's pipeline mode. A save of
a few hundred credentials (a bulk issuance) sends a parameter large enough to
fill the socket buffers both ways, and client and server then wait on each
other for ever (psycopg issue 685). This recorder runs the very same
statements (table lock for gap-free notification order, NOTIFY, INSERT …
RETURNING) in one ordinary transaction instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, retry


class BulkSafeApplicationRecorder(PostgresApplicationRecorder):
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)


RECORDER_TOPIC = get_topic(BulkSafeApplicationRecorder)
