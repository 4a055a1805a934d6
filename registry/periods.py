"""Time spans during which something was not in force (suspensions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from mcreg.registry.errors import StateConflict


@dataclass(frozen=True)
class Interruption:
    """Not in force from ``start`` until the day before ``end`` (open while ``end`` is None)."""

    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def interrupted(interruptions: Sequence[Interruption], day: date) -> bool:
    return any(i.covers(day) for i in interruptions)


def is_open(interruptions: Sequence[Interruption]) -> bool:
    return bool(interruptions) and interruptions[-1].end is None


def close_last(interruptions: list[Interruption], end: date) -> None:
    interruptions[-1] = replace(interruptions[-1], end=end)


def check_can_end(interruptions: Sequence[Interruption], end: date, what: str) -> None:
    """The last interruption of ``what`` is open, and ``end`` is not before it began: a reinstatement's rule."""
    if not is_open(interruptions):
        raise StateConflict(f"the {what} is not suspended")
    if end < interruptions[-1].start:
        raise StateConflict("reinstatement must be on or after the suspension")
