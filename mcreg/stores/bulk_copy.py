"""A large save written into the events table with one binary ``COPY``, its notification ids reserved first.

The library inserts a save's events as one array of a composite type, which psycopg dumps as text row by
row; for a save of thousands of events that dump, not the database, is most of the time. ``COPY`` in
binary format costs a fraction of it, but returns nothing: so, while the caller holds the library's
``EXCLUSIVE`` lock on the table (no other writer takes a notification id meanwhile), ``reserve_ids``
advances the table's own sequence by the number of events in one statement, and ``copy_events`` writes
each event with its id. Ids are therefore gap-free, ascend in the order of the events, and are handed out
in commit order, as the library's own inserts are; a row that breaks the primary key (aggregate id,
version) fails the ``COPY`` with the same unique violation, which the library's datastore raises as its
``IntegrityError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import StoredEvent
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

BULK_FROM = 10
"""Events in a save from which it is copied rather than inserted by the library (a command on one aggregate
writes a few; a batch writes hundreds or thousands)."""


def reserve_ids_statement(schema: str, table: str, count: int) -> Composed:
    """Advance the table's notification id sequence by ``count`` in one step; answers the last id reserved."""
    qualified = Literal(Identifier(schema, table).as_string())
    return SQL(
        "SELECT setval(pg_get_serial_sequence({0}, 'notification_id'),"
        " nextval(pg_get_serial_sequence({0}, 'notification_id')) + {1} - 1) AS last"
    ).format(qualified, Literal(count))


def copy_statement(schema: str, table: str) -> Composed:
    return SQL(
        "COPY {} (notification_id, originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
    ).format(Identifier(schema, table))


def copy_events(
    curs: Cursor[DictRow], schema: str, table: str, originator_id_type: str, stored_events: Sequence[StoredEvent]
) -> list[int]:
    """Write these events with ids reserved for them, in their order; their notification ids.

    The caller holds the table's ``EXCLUSIVE`` lock: it is what makes the reserved ids the next ones committed.
    """
    curs.execute(reserve_ids_statement(schema, table, len(stored_events)))
    row = curs.fetchone()
    assert row is not None
    last = int(row["last"])
    ids = list(range(last - len(stored_events) + 1, last + 1))
    with curs.copy(copy_statement(schema, table)) as copy:
        copy.set_types(["int8", originator_id_type, "int8", "text", "bytea"])
        for notification_id, event in zip(ids, stored_events, strict=True):
            copy.write_row((notification_id, event.originator_id, event.originator_version, event.topic, event.state))
    return ids
