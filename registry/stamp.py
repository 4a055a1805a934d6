"""Who did something, and when it takes effect: carried by every event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from mcreg.registry.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """An organisation acting on the registry through one of its keys."""

    org: UUID
    role: Role
    key_id: str | None = None
    country: str | None = None  # the country a national authority speaks for

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


@dataclass(frozen=True)
class Stamp:
    """Provenance written into every event.

    The system time at which the event was recorded is the event's own
    ``timestamp``; ``effective`` is the business date on which it takes effect.
    """

    actor: Actor
    effective: date
    idempotency_key: str | None = None
