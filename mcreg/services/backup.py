"""The whole event log out, as JSON lines, and back into an empty database, byte for byte.

A backup of mcreg is its event log: every read model is rebuilt from it, and
the transparency log's leaves hash the stored records, so the export keeps
each record's position, aggregate id, version, topic and stored state bytes
exactly (state base64-encoded). Restoring writes them back with the same
positions, so tracked positions, proofs and checkpoints stay meaningful.

Learner keys are not in the log: they are backed up (or not) under the
erasure policy of ``learner_keys`` (see ``api/learner_vault.py``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any
from uuid import UUID

from psycopg import sql

from mcreg.bootstrap import Services

FORMAT = "mcreg-event-log"
VERSION = 1
BATCH = 5000


class RestoreRefused(Exception):
    pass


def _table(services: Services) -> sql.Composed:
    recorder: Any = services.registry.recorder
    return sql.SQL("{}.{}").format(
        sql.Identifier(recorder.datastore.schema or "public"), sql.Identifier(recorder.events_table_name)
    )


def export_events(services: Services, out: IO[str], progress: Callable[[int], None] = lambda n: None) -> int:
    """Write the log to ``out``, a header line then one line per stored event in log order; the number written."""
    head = services.registry.recorder.max_notification_id() or 0
    out.write(json.dumps({"format": FORMAT, "version": VERSION, "head": head}) + "\n")
    written = 0
    # A server-side cursor streams a log of any size in constant memory.
    with services.pool.connection() as conn, conn.transaction(), conn.cursor(name="mcreg_export") as cursor:
        cursor.itersize = BATCH
        cursor.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
                " WHERE notification_id <= %s ORDER BY notification_id"
            ).format(_table(services)),
            [head],
        )
        for position, originator_id, version, topic, state in cursor:
            record = {
                "position": position,
                "aggregate_id": str(originator_id),
                "version": version,
                "topic": topic,
                "state": base64.b64encode(bytes(state)).decode(),
            }
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            written += 1
            if written % BATCH == 0:
                progress(written)
    progress(written)
    return written


def _records(lines: Iterable[str]) -> Iterator[tuple[int, UUID, int, str, bytes]]:
    previous = 0
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            record = (int(r["position"]), UUID(r["aggregate_id"]), int(r["version"]), str(r["topic"]))
            state = base64.b64decode(r["state"], validate=True)
        except (ValueError, KeyError, TypeError) as error:
            raise RestoreRefused(f"line {number} is not an event record: {error}") from None
        if record[0] <= previous:
            raise RestoreRefused(f"line {number}: position {record[0]} is not after {previous}")
        previous = record[0]
        yield (*record, state)


def restore_events(services: Services, lines: IO[str], progress: Callable[[int], None] = lambda n: None) -> int:
    """Load an export into this registry's empty event store, keeping every position; the number loaded."""
    header = json.loads(lines.readline() or "{}")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise RestoreRefused(f"not an {FORMAT} version {VERSION} export")
    if services.registry.recorder.max_notification_id():
        raise RestoreRefused("the event store is not empty: restore only into a new database or schema")
    table = _table(services)
    loaded = 0
    with services.pool.connection() as conn, conn.transaction():
        with conn.cursor().copy(
            sql.SQL("COPY {} (notification_id, originator_id, originator_version, topic, state) FROM STDIN").format(
                table
            )
        ) as copy:
            for record in _records(lines):
                copy.write_row(record)
                loaded += 1
                if loaded % BATCH == 0:
                    progress(loaded)
        head = int(header.get("head", 0))
        conn.execute(  # new events continue after the exported head, as they would have
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s, %s)"),
            [table.as_string(conn), max(head, 1), head > 0],
        )
    progress(loaded)
    return loaded
