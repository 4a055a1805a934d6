"""The history page, ``/history/{id}``: the public timeline of an agency, provider, accreditation, review,
micro-credential or credential, each event with its place in the transparency log, and the state on a date.

The events come from the audit timeline (who recorded what, when, taking effect when); each one's leaf index
links the public inclusion proof against the latest signed checkpoint. The state is the registry's own
time travel (decision 12): the aggregate as recorded by ``known_at`` (now by default), its statuses worked out
on the ``as_of`` business date. Objects whose history is private (learners, recognitions, keys, receipts)
answer the same 404 as an unknown id, so the page does not even tell that they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mcreg.api.deps import Log, ReadSide, Registered, Visitor
from mcreg.api.pages.assets import templates, wording
from mcreg.api.pages.errors import PageError
from mcreg.api.pages.history_state import PUBLIC, Fields, identifiers_added, public_state
from mcreg.projections.audit_timeline import TimelineEntry
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import Registry
from mcreg.registry.errors import NotFound

router = APIRouter(include_in_schema=False)

EVENTS_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class Event:
    """An event as the page lists it: the timeline's entry, who recorded it, its leaf, and a reason code."""

    entry: TimelineEntry
    actor_names: dict[str, str] | None  # the recording organisation's names, if it is an agency or a provider
    leaf_index: int | None  # None until the log holds it
    reason: str | None  # a revocation's reason code; never free text
    identifiers: Fields  # the identifiers an ``IdentifiersAdded`` recorded, a value only where it is public


@dataclass(frozen=True, slots=True)
class History:
    aggregate_type: str
    events: list[Event]
    more_after: int | None  # the last version shown, when more events follow
    state: Fields | None  # None: not recorded yet by ``known_at``
    log_size: int
    names: dict[UUID, dict[str, str]]  # the names of the organisations and micro-credentials it names


def messages(request: Request) -> Any:
    """The macros that word this page's refusals (``history_errors.html``), in the request's language."""
    return wording(request, "history_errors.html")


def parsed_id(request: Request, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise PageError(400, messages(request).bad_request(), messages(request).bad_id(raw[:60])) from None


def parsed_day(request: Request, field: str, raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or day.year < 1900 or len(raw) != 10:
        raise PageError(400, messages(request).bad_request(), messages(request).bad_date(field, raw[:40]))
    return day


def parsed_after(request: Request, raw: str | None) -> int:
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 9:
        raise PageError(400, messages(request).bad_request(), messages(request).bad_after(raw[:40]))
    return int(raw)


def history_of(
    registry: Registry,
    read_models: ReadModels,
    log: TransparencyLog,
    aggregate_id: UUID,
    as_of: date,
    known_at: datetime | None,
    after: int,
) -> History | None:
    """The page's data, or None when the id names nothing whose history is public."""
    timeline = read_models.audit_timeline
    first = timeline.of_aggregate(aggregate_id, 1)
    if not first or first[0].aggregate_type not in PUBLIC:
        return None
    aggregate_type = first[0].aggregate_type
    entries = timeline.of_aggregate(aggregate_id, EVENTS_PER_PAGE + 1, after)
    shown, more = entries[:EVENTS_PER_PAGE], len(entries) > EVENTS_PER_PAGE
    state = state_of(registry, first[0], as_of, known_at)
    names = names_of(read_models, {e.actor_org for e in shown} | {v for _, v in state or () if isinstance(v, UUID)})
    indexes = log.indexes(e.notification_id for e in shown)
    reason = None
    if aggregate_type == "Credential":
        credential = registry.get(Credential, aggregate_id)
        reason = str(credential.revocation_reason) if credential.revocation_reason else None
    added = {
        e.aggregate_version: identifiers_added(event_at(registry, aggregate_id, e.aggregate_version))
        for e in shown
        if e.event_type == "IdentifiersAdded"
    }
    events = [
        Event(
            e,
            names.get(e.actor_org),
            indexes.get(e.notification_id),
            reason if e.event_type == "Revoked" else None,
            added.get(e.aggregate_version, []),
        )
        for e in shown
    ]
    return History(
        aggregate_type,
        events,
        shown[-1].aggregate_version if more else None,
        state,
        log.size(),
        names,
    )


def event_at(registry: Registry, aggregate_id: UUID, version: int) -> Any:
    """One stored event of an aggregate, decoded (a read of one row)."""
    (event,) = registry.events.get(aggregate_id, gt=version - 1, lte=version)
    return event


def names_of(read_models: ReadModels, ids: set[UUID]) -> dict[UUID, dict[str, str]]:
    """The names, by language, of the agencies, providers and micro-credentials among ``ids`` (an agency's one
    name under ``""``)."""
    standing = read_models.provider_standing
    names = {agency_id: {"": row.name} for agency_id, row in standing.agencies_by_id(ids).items()}
    names |= {provider_id: row.names for provider_id, row in standing.providers_by_id(ids).items()}
    return names | {mc_id: row.title for mc_id, row in read_models.catalogue.get_many(ids).items()}


def state_of(registry: Registry, entry: TimelineEntry, as_of: date, known_at: datetime | None) -> Fields | None:
    cls = PUBLIC[entry.aggregate_type][0]
    try:
        aggregate = registry.known_at(cls, entry.aggregate_id, known_at)
    except NotFound:
        return None
    return public_state(entry.aggregate_type, aggregate, as_of)


@router.get("/history/{aggregate_id}", response_class=HTMLResponse)
async def history(
    request: Request, aggregate_id: str, _: Visitor, registry: Registered, read_models: ReadSide, log: Log
) -> HTMLResponse:
    """What happened to one public object, who recorded it, when, where each event sits in the transparency log,
    and the object's public fields on a date (``as_of``, and ``known_at`` for what the registry knew then)."""
    query = request.query_params
    identifier = parsed_id(request, aggregate_id)
    as_of = parsed_day(request, "as_of", query.get("as_of")) or datetime.now(UTC).date()
    known_day = parsed_day(request, "known_at", query.get("known_at"))
    known_at = datetime.combine(known_day, time.max, tzinfo=UTC) if known_day else None
    after = parsed_after(request, query.get("after"))
    found = await run_in_threadpool(history_of, registry, read_models, log, identifier, as_of, known_at, after)
    if found is None:
        raise PageError(404, messages(request).unknown_title(), messages(request).unknown(str(identifier)))
    context = {
        "history": found,
        "aggregate_id": identifier,
        "as_of": as_of,
        "known_day": known_day,
        "names": found.names,
        "utc": UTC,
    }
    return templates.TemplateResponse(request, "history.html", context)
