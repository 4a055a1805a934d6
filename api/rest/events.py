"""The ordered event feed, for auditors: every stored event, exactly as recorded, by log position.

Pages come from ``mcreg.stores.event_store.select_feed``, which bounds the work of a
page on a log of any length (decision 22).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field, StringConstraints

from mcreg.api.deps import Auditor, Registered
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output
from mcreg.stores.event_store import select_feed

router = APIRouter(prefix="/v1/events", tags=["audit"], responses=PROBLEM_RESPONSES)

EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+\.[A-Za-z]+$", max_length=100)]


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


@router.get("", summary="The ordered event log, for auditors and the operator")
def list_events(
    _: Auditor,
    registry: Registered,
    after: Annotated[int, Query(ge=0, description="Events after this position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    aggregate: Annotated[UUID | None, Query(description="Only this aggregate's events")] = None,
    type: Annotated[list[EventType], Query(description="Only these event types, e.g. Credential.Revoked")] = [],  # noqa: B006 - FastAPI copies query defaults
) -> EventPage:
    page = select_feed(registry.recorder, after, limit, aggregate, type)
    events = [
        StoredEvent(
            position=r.position,
            aggregate_id=r.aggregate_id,
            aggregate_version=r.version,
            type=r.topic.split(":", 1)[-1],
            topic=r.topic,
            state=json.loads(r.state),
        )
        for r in page.records
    ]
    return EventPage(events=events, next_after=page.next_after, head=page.head)
