"""The ordered event feed, for auditors: every stored event, exactly as recorded, by log position, in pages or live.

Pages come from ``mcreg.stores.event_store.select_feed``, which bounds the work of a page on a log of any length
(decision 22). The same feed streams as Server-Sent Events (``/v1/events/stream``, or ``/v1/events`` asked for
``text/event-stream``): each event's ``id:`` is its position, so a client that reconnects with ``Last-Event-ID``
resumes exactly after the last event it received. Both forms carry erasures: a forgotten learner's
``Erasure.LearnerForgotten`` comes with an ``erasure`` notice naming the learner, and no form carries erased data
(``mcreg.webhooks.event_documents``). The log is never compacted, so no position is too old; a position beyond
the head of the log is a 416 problem.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any
from uuid import UUID

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field, StringConstraints

from mcreg.api.deps import Auditor, Registered
from mcreg.api.problems import ProblemError
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output
from mcreg.registry.application import Registry
from mcreg.stores.event_store import select_feed
from mcreg.webhooks.event_documents import event_document

BEYOND_HEAD = {**PROBLEM_RESPONSES[422], "description": "The position to resume after is beyond the head of the log"}
router = APIRouter(prefix="/v1/events", tags=["audit"], responses=PROBLEM_RESPONSES | {416: BEYOND_HEAD})

EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+\.[A-Za-z]+$", max_length=100)]

EVENT_STREAM = "text/event-stream"

STREAM_PAGE = 100
"""Events a stream reads at a time: what one connection holds in memory at most."""

STREAM_POLL = 0.25
"""Seconds a stream at the head of the log waits before it looks for news."""


class ErasureNotice(Output):
    learner_id: UUID = Field(description="The learner forgotten: erase what you hold about them")


class StoredEvent(Output):
    position: int = Field(description="The event's place in the log (its notification id)")
    aggregate_id: UUID
    aggregate_version: int
    type: str = Field(examples=["Credential.Issued"])
    topic: str = Field(examples=["registry.credential:Credential.Issued"])
    state: dict[str, Any] = Field(description="The event's stored state, as recorded (learner data sealed)")
    erasure: ErasureNotice | None = Field(
        default=None, description="For Erasure.LearnerForgotten: the learner whose data a copy must erase"
    )


class EventPage(Output):
    events: list[StoredEvent]
    next_after: int = Field(description="Pass as `after` for the next page")
    head: int = Field(description="The highest position in the log now")


After = Annotated[int, Query(ge=0, description="Events after this position (not beyond the head of the log)")]
Types = Annotated[list[EventType], Query(description="Only these event types, e.g. Credential.Revoked")]
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", description="A stream resumes after this position (the last `id:` received)"),
]
Heartbeat = Annotated[float, Query(ge=1, le=60, description="Seconds between comments that keep an idle stream open")]


@router.get(
    "",
    summary="The ordered event log, for auditors and the operator",
    response_model=EventPage,
    responses={200: {"content": {EVENT_STREAM: {"description": "The stream, when asked for text/event-stream"}}}},
)
def list_events(
    request: Request,
    _: Auditor,
    registry: Registered,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    aggregate: Annotated[UUID | None, Query(description="Only this aggregate's events")] = None,
    type: Types = [],  # noqa: B006 - FastAPI copies query defaults
    last_event_id: LastEventId = None,
) -> EventPage | StreamingResponse:
    """A page of events after ``after``; with ``Accept: text/event-stream``, the stream ``/v1/events/stream``
    answers."""
    if EVENT_STREAM in request.headers.get("accept", ""):
        return _stream(request, registry, _resume(registry, after, last_event_id), type, 15.0, None)
    page = select_feed(registry.recorder, after, limit, aggregate, type)
    if after > page.head:
        raise _beyond_head(after, page.head)
    events = [StoredEvent.model_validate(event_document(r)) for r in page.records]
    return EventPage(events=events, next_after=page.next_after, head=page.head)


@router.get(
    "/stream",
    summary="The event log live, as Server-Sent Events (auditors and the operator)",
    response_class=StreamingResponse,
    responses={200: {"content": {EVENT_STREAM: {}}, "description": "`id:` position, `event:` type, `data:` event"}},
)
def stream_events(
    request: Request,
    _: Auditor,
    registry: Registered,
    after: After = 0,
    type: Types = [],  # noqa: B006 - FastAPI copies query defaults
    last_event_id: LastEventId = None,
    heartbeat: Heartbeat = 15.0,
    until: Annotated[
        int | None,
        Query(ge=0, description="End the stream once it has passed this position; by default it does not end"),
    ] = None,
) -> StreamingResponse:
    """Every event after ``after`` (or after ``Last-Event-ID``, which wins), then each new one as it is recorded,
    until the client leaves: ``id:`` is the event's position, ``event:`` its type, ``data:`` the event as a page
    shows it. A comment line every ``heartbeat`` seconds keeps an idle connection open."""
    return _stream(request, registry, _resume(registry, after, last_event_id), type, heartbeat, until)


def _resume(registry: Registry, after: int, last_event_id: str | None) -> int:
    """Where a stream starts: after ``Last-Event-ID`` if sent, else after ``after``; never beyond the head."""
    if last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise ProblemError(
                "invalid-input",
                "Last-Event-ID: must be a log position (a whole number)",
                field="Last-Event-ID",
                rule="must be a log position (a whole number)",
            )
        after = int(last_event_id.strip())
    head = registry.recorder.max_notification_id() or 0
    if after > head:
        raise _beyond_head(after, head)
    return after


def _beyond_head(after: int, head: int) -> ProblemError:
    return ProblemError(
        "position-beyond-head",
        f"position {after} is beyond the head of the log ({head})",
        headers={"Content-Range": f"events */{head}"},
        head=head,
    )


def _stream(
    request: Request, registry: Registry, after: int, types: Sequence[str], heartbeat: float, until: int | None
) -> StreamingResponse:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    frames = _frames(request, registry, after, types, heartbeat, until)
    return StreamingResponse(frames, media_type=EVENT_STREAM, headers=headers)


async def _frames(
    request: Request, registry: Registry, after: int, types: Sequence[str], heartbeat: float, until: int | None
) -> AsyncIterator[str]:
    """The stream's frames: a page of events at a time (sent before the next is read, so a slow client holds back
    the reading, and memory stays one page), a heartbeat comment when idle."""
    yield "retry: 2000\n\n"
    position, beat = after, time.monotonic()
    while (until is None or position < until) and not await request.is_disconnected():
        page = await anyio.to_thread.run_sync(select_feed, registry.recorder, position, STREAM_PAGE, None, types)
        for record in page.records:
            if until is not None and record.position > until:
                return
            document = event_document(record)
            yield f"id: {record.position}\nevent: {document['type']}\ndata: {json.dumps(document)}\n\n"
        position = page.next_after
        if page.records or position < page.head:
            beat = time.monotonic()
            continue
        if time.monotonic() - beat >= heartbeat:
            yield ": heartbeat\n\n"
            beat = time.monotonic()
        await anyio.sleep(STREAM_POLL)
