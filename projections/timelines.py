"""Standings over time: a QA basis's, a provider's and an agency's, as change points; and the counter moves they make.

A state (``BasisState``, ``AgencyState``) is what the events of one aggregate have said so far; its timeline is
the list of days its standing changes on, each with the standing from that day. The dashboard counts a stock
(providers by accreditation status, credentials by their QA's standing) as +1 on the day a span begins and -1 on
the day it ends, so the sum of the moves up to any day is the stock on that day. When an event changes a state,
the moves of the new timeline less those of the old one are counted, on the day the event was recorded: a
backdated withdrawal changes the past "as of" answers, and "as known at" an earlier day still sees the old ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from mcreg.registry.vocabulary import Standing

Timeline = list[tuple[date, str]]
"""Days on which a standing begins, in order, each with that standing; it lasts until the next one."""

NOT_ACCREDITED = "not_accredited"
"""A provider's status while none of its accreditations has begun."""

PROVIDER_ORDER = (
    Standing.IN_FORCE,
    Standing.SUSPENDED,
    Standing.NOT_YET_VALID,
    Standing.EXPIRED,
    Standing.WITHDRAWN,
    Standing.NEGATIVE,
)
"""A provider's status is the best standing of its accreditations, in this order."""

REGISTERED, SUSPENDED, DEREGISTERED = "registered", "suspended", "deregistered"
"""An agency's statuses."""


@dataclass
class BasisState:
    """What a QA basis (an accreditation or a review) has said so far, as ``Accreditation.standing`` and
    ``Review.standing`` read it; ``issued`` counts the credentials issued under it, by issuer country and day."""

    kind: str
    provider_id: str
    start: date
    positive: bool
    valid_from: date | None = None
    valid_to: date | None = None
    suspensions: list[list[date | None]] = field(default_factory=list)  # [start, end or None while open]
    withdrawn_on: date | None = None
    issued: dict[str, int] = field(default_factory=dict)  # "<country> <day>" -> credentials

    def standing(self, day: date) -> str:
        """The same order of tests as the dashboard's ``STANDING`` (the agency's standing aside)."""
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return Standing.WITHDRAWN
        if not self.positive:
            return Standing.NEGATIVE
        if self.valid_from is not None and day < self.valid_from:
            return Standing.NOT_YET_VALID
        if self.valid_to is not None and day > self.valid_to:
            return Standing.EXPIRED
        if any(s <= day and (e is None or day < e) for s, e in self.suspensions if s is not None):
            return Standing.SUSPENDED
        return Standing.IN_FORCE

    def timeline(self) -> Timeline:
        days = {self.start, self.valid_from, self.withdrawn_on}
        if self.valid_to is not None:
            days.add(self.valid_to + timedelta(days=1))
        days.update(day for span in self.suspensions for day in span)
        return compressed((day, self.standing(day)) for day in sorted(d for d in days if d and d >= self.start))

    def jsonable(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "provider_id": self.provider_id,
            "start": self.start.isoformat(),
            "positive": self.positive,
            "valid_from": iso(self.valid_from),
            "valid_to": iso(self.valid_to),
            "suspensions": [[iso(s), iso(e)] for s, e in self.suspensions],
            "withdrawn_on": iso(self.withdrawn_on),
            "issued": self.issued,
        }

    @classmethod
    def of(cls, stored: dict[str, Any]) -> BasisState:
        return cls(
            kind=stored["kind"],
            provider_id=stored["provider_id"],
            start=date.fromisoformat(stored["start"]),
            positive=stored["positive"],
            valid_from=day_of(stored["valid_from"]),
            valid_to=day_of(stored["valid_to"]),
            suspensions=[[day_of(s), day_of(e)] for s, e in stored["suspensions"]],
            withdrawn_on=day_of(stored["withdrawn_on"]),
            issued=dict(stored["issued"]),
        )


def agency_timeline(
    registered_on: date, suspensions: Sequence[Sequence[date | None]], deregistered_on: date | None
) -> Timeline:
    """An agency's status from its registration: registered, suspended while a suspension lasts, deregistered."""

    def status(day: date) -> str:
        if deregistered_on is not None and deregistered_on <= day:
            return DEREGISTERED
        if any(s is not None and s <= day and (e is None or day < e) for s, e in suspensions):
            return SUSPENDED
        return REGISTERED

    days = {registered_on, deregistered_on, *(day for span in suspensions for day in span)}
    return compressed((day, status(day)) for day in sorted(d for d in days if d and d >= registered_on))


def provider_timeline(registered_on: date, accreditations: Iterable[BasisState]) -> Timeline:
    """A provider's status from its registration: the best standing of its accreditations that have begun."""
    timelines = [a.timeline() for a in accreditations]
    days = {registered_on, *(day for timeline in timelines for day, _ in timeline)}

    def status(day: date) -> str:
        standings = {s for s in (standing_on(timeline, day) for timeline in timelines) if s is not None}
        return next((s for s in PROVIDER_ORDER if s in standings), NOT_ACCREDITED)

    return compressed((day, status(day)) for day in sorted(d for d in days if d >= registered_on))


def standing_on(timeline: Timeline, day: date) -> str | None:
    """The standing a timeline gives ``day``; None before it begins."""
    found = None
    for start, standing in timeline:
        if start > day:
            break
        found = standing
    return found


def compressed(points: Iterable[tuple[date, str]]) -> Timeline:
    """Change points only: a day whose standing is the one before it is left out."""
    timeline: Timeline = []
    for day, standing in points:
        if not timeline or timeline[-1][1] != standing:
            timeline.append((day, standing))
    return timeline


def moves(timeline: Timeline, since: date, n: int = 1) -> Counter[tuple[str, date]]:
    """The counter moves that count ``n`` in each standing of a timeline from ``since`` on: +n on the day a span
    begins, -n on the day it ends."""
    counted: Counter[tuple[str, date]] = Counter()
    for index, (start, standing) in enumerate(timeline):
        end = timeline[index + 1][0] if index + 1 < len(timeline) else None
        begins = max(start, since)
        if end is not None and end <= begins:
            continue
        counted[standing, begins] += n
        if end is not None:
            counted[standing, end] -= n
    return counted


def iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def day_of(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None
