"""QA agencies: registered (on EQAR), suspended, reinstated, deregistered."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.errors import StateConflict
from mcreg.registry.periods import Interruption, check_can_end, close_last, interrupted, is_open
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import ESGActivity


class Agency(Aggregate):
    """A quality assurance agency whose decisions the registry trusts while it is in good standing."""

    @staticmethod
    def create_id(deqar_id: str | None) -> UUID:
        """Agencies known to DEQAR get the same id in every registry."""
        return uuid5(NAMESPACE_URL, f"mcreg:agency:{deqar_id}") if deqar_id else uuid4()

    @event("Registered")
    def __init__(
        self,
        stamp: Stamp,
        name: str,
        acronym: str | None,
        country: str,
        deqar_id: str | None,
        esg_activities: tuple[ESGActivity, ...],
    ) -> None:
        self.name = name
        self.acronym = acronym
        self.country = country
        self.deqar_id = deqar_id
        self.esg_activities = [ESGActivity(a) for a in esg_activities]
        self.registered_on = stamp.effective
        self.suspensions: list[Interruption] = []
        self.deregistered_on: date | None = None

    def in_good_standing(self, day: date) -> bool:
        """Registered on ``day``, not deregistered and not suspended then."""
        return (
            self.registered_on <= day
            and (self.deregistered_on is None or day < self.deregistered_on)
            and not interrupted(self.suspensions, day)
        )

    @property
    def is_suspended(self) -> bool:
        return is_open(self.suspensions)

    def suspend(self, stamp: Stamp, reason: str) -> None:
        self.check_registered()
        if self.is_suspended:
            raise StateConflict("the agency is already suspended")
        self._suspend(stamp, reason)

    @event("Suspended")
    def _suspend(self, stamp: Stamp, reason: str) -> None:
        self.suspensions.append(Interruption(stamp.effective))

    def reinstate(self, stamp: Stamp) -> None:
        self.check_registered()
        check_can_end(self.suspensions, stamp.effective, "agency")
        self._reinstate(stamp)

    @event("Reinstated")
    def _reinstate(self, stamp: Stamp) -> None:
        close_last(self.suspensions, stamp.effective)

    def deregister(self, stamp: Stamp, reason: str) -> None:
        self.check_registered()
        self._deregister(stamp, reason)

    @event("Deregistered")
    def _deregister(self, stamp: Stamp, reason: str) -> None:
        self.deregistered_on = stamp.effective

    def check_registered(self) -> None:
        if self.deregistered_on is not None:
            raise StateConflict("the agency is deregistered")


stored_as("registry.agency", Agency)
