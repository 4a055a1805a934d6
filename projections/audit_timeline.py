"""The audit timeline: one row per stored event, saying who did what to which aggregate, when and for when.

Every event carries a ``Stamp`` (who acted, with which key, the business date
it takes effect, the idempotency key of its command) and the system time it
was recorded; the timeline makes them searchable without decoding the log.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.engine import Projection, View
from mcreg.projections.tables import Table, TableWriter
from mcreg.registry.stamp import Stamp

PUBLIC_HISTORIES = frozenset({"Agency", "Provider", "Accreditation", "Review", "MicroCredential", "Credential"})
"""The aggregate types whose timeline anyone may read (decision 65); every other one (a recognition, an erasure,
an issuer's keys, a row key, a read model's log) only the change feed's readers, and a recognition its parties."""

Row = tuple[int, UUID, int, str, str, UUID, str, str | None, datetime, date, str | None]
"""A row as a page writes it, in ``TIMELINE``'s column order."""
TIMELINE = Table(
    "audit_timeline",
    columns=(
        ("notification_id", "int8"),
        ("aggregate_id", "uuid NOT NULL"),
        ("aggregate_version", "int4 NOT NULL"),
        ("aggregate_type", "text NOT NULL"),
        ("event_type", "text NOT NULL"),
        ("actor_org", "uuid NOT NULL"),
        ("actor_role", "text NOT NULL"),
        ("actor_key_id", "text"),
        ("recorded_at", "timestamptz NOT NULL"),
        ("effective_on", "date NOT NULL"),
        ("idempotency_key", "text"),
    ),
    key=("notification_id",),
)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One stored event: who did what to which aggregate, recorded when, taking effect when."""

    notification_id: int
    aggregate_id: UUID
    aggregate_version: int
    aggregate_type: str
    event_type: str
    actor_org: UUID
    actor_role: str
    actor_key_id: str | None
    recorded_at: datetime
    effective_on: date
    idempotency_key: str | None


class AuditTimelineView(View[list[Row]]):
    """The ``audit_timeline`` table, in log order and by aggregate."""

    tables = (TIMELINE.name,)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(
            [
                TIMELINE.create_statement(self.schema),
                SQL(
                    "CREATE UNIQUE INDEX IF NOT EXISTS audit_timeline_by_aggregate "
                    "ON {0}.audit_timeline (aggregate_id, aggregate_version)"
                ).format(self.schema),
            ]
        )
        self.writer = TableWriter(self.schema, TIMELINE)
        self.select_aggregate_statement = SQL(
            "SELECT * FROM {0}.audit_timeline WHERE aggregate_id = %s AND aggregate_version > %s "
            "ORDER BY aggregate_version LIMIT %s"
        ).format(self.schema)

    def write(self, curs: Cursor[DictRow], changes: list[Row]) -> None:
        if changes:
            self.writer.copy(curs, changes)

    def of_aggregate(self, aggregate_id: UUID, limit: int = 1000, after_version: int = 0) -> list[TimelineEntry]:
        """What happened to one aggregate, version by version: at most ``limit`` events after ``after_version``."""
        with self.datastore.transaction() as curs:
            curs.execute(self.select_aggregate_statement, [aggregate_id, after_version, limit], prepare=True)
            return [TimelineEntry(**row) for row in curs.fetchall()]


class AuditTimelineProjection(Projection[list[Row]]):
    """Keeps ``audit_timeline`` from every event of the log."""

    name = "audit_timeline"
    topics = ()  # every event
    view_class = AuditTimelineView

    def changes(self) -> list[Row]:
        return []

    def process_event(self, event: Any, position: int, changes: list[Row]) -> None:
        """Every event is handled alike: by its ``Stamp``, which every registry event carries."""
        stamp: Stamp = event.stamp
        aggregate_type, event_type = names(event.__class__)
        changes.append(
            (
                position,
                event.originator_id,
                event.originator_version,
                aggregate_type,
                event_type,
                stamp.actor.org,
                stamp.actor.role,
                stamp.actor.key_id,
                event.timestamp,
                stamp.effective,
                stamp.idempotency_key,
            )
        )


@functools.cache
def names(event_class: type) -> tuple[str, str]:
    """The aggregate's and the event's names of an event class (``Credential.Issued``)."""
    aggregate_type, event_type = event_class.__qualname__.rsplit(".", 1)
    return aggregate_type, event_type
