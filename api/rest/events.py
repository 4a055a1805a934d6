"""The ordered event feed, for auditors: every stored event, exactly as recorded, by log position.

A page scans at most ``WINDOW`` positions after ``after`` when filtering by
type, so every request does bounded work on a log of any length; the answer's
``next_after`` is where to continue, even when a sparse filter found nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from psycopg import sql
from pydantic import Field, StringConstraints

from api.auth import role
from api.rest.common import PROBLEM_RESPONSES, Output, Registered
from registry.application import Registry
from registry.stamp import Actor
from registry.vocabulary import Role

router = APIRouter(prefix="/v1/events", tags=["audit"], responses=PROBLEM_RESPONSES)

WINDOW = 100_000
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+\.[A-Za-z]+$", max_length=100)]
Auditor = Annotated[Actor, Depends(role(Role.AUDITOR, Role.OPERATOR))]


class StoredEvent(Output):
    position: int = Field(description="The event's place in the log (its notification id)")
    aggregate_id: UUID
    aggregate_version: int
    type: str = Field(examples=["Credential.Issued"])
    topic: str = Field(examples=["registry.credential:Credential.Issued"])
    state: dict[str, Any] = Field(description="The event's stored state, as recorded (learner data sealed)")


class EventPage(Output):
    events: list[StoredEvent]
    next_after: int = Field(description="Pass as `after` for the next page")
    head: int = Field(description="The highest position in the log now")


def feed(
    registry: Registry, after: int, limit: int, aggregate: UUID | None, types: list[str]
) -> tuple[list[StoredEvent], int, int]:
    recorder: Any = registry.recorder
    table = sql.Identifier(recorder.datastore.schema or "public", recorder.events_table_name)
    conditions = [sql.SQL("notification_id > %(after)s")]
    params: dict[str, Any] = {"after": after, "limit": limit, "stop": after + WINDOW}
    if aggregate is not None:
        conditions.append(sql.SQL("originator_id = %(aggregate)s"))
        params["aggregate"] = aggregate
    elif types:
        conditions.append(sql.SQL("notification_id <= %(stop)s"))
    if types:
        conditions.append(sql.SQL("split_part(topic, ':', 2) = ANY(%(types)s)"))
        params["types"] = types
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} WHERE {}"
        " ORDER BY notification_id LIMIT %(limit)s"
    ).format(table, sql.SQL(" AND ").join(conditions))
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(query, params)
        rows = curs.fetchall()
        curs.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) AS head FROM {}").format(table))
        head = curs.fetchone()["head"]
    events = [
        StoredEvent(
            position=row["notification_id"],
            aggregate_id=row["originator_id"],
            aggregate_version=row["originator_version"],
            type=row["topic"].split(":", 1)[-1],
            topic=row["topic"],
            state=json.loads(bytes(row["state"])),
        )
        for row in rows
    ]
    if len(events) == limit or aggregate is not None or not types:
        next_after = events[-1].position if events else after
    else:  # a sparse type filter scanned its whole window
        next_after = max(after, min(params["stop"], head))
    return events, next_after, head


@router.get("", summary="The ordered event log, for auditors and the operator")
def list_events(
    _: Auditor,
    registry: Registered,
    after: Annotated[int, Query(ge=0, description="Events after this position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    aggregate: Annotated[UUID | None, Query(description="Only this aggregate's events")] = None,
    type: Annotated[list[EventType], Query(description="Only these event types, e.g. Credential.Revoked")] = [],  # noqa: B006 - FastAPI copies query defaults
) -> EventPage:
    events, next_after, head = feed(registry, after, limit, aggregate, type)
    return EventPage(events=events, next_after=next_after, head=head)
