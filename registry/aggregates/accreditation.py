"""Accreditations: a QA agency's (or national authority's) grant to a provider."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.errors import InvalidInput, StateConflict
from mcreg.registry.periods import Interruption, check_can_end, close_last, interrupted, is_open
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import QADecision, Standing


@dataclass(frozen=True)
class Scope:
    """What an accreditation covers. An empty tuple sets no limit on that axis."""

    eqf_levels: tuple[int, ...] = ()
    isced_fields: tuple[str, ...] = ()  # a broad or narrow code covers its subfields
    jurisdictions: tuple[str, ...] = ()
    micro_credentials: bool = True

    def covers(self, eqf_level: int | None, isced_field: str, country: str) -> bool:
        """Whether a micro-credential at this level, in this field, offered in ``country`` is in scope."""
        return (
            self.micro_credentials
            and (not self.jurisdictions or country in self.jurisdictions)
            and (not self.eqf_levels or eqf_level in self.eqf_levels)
            and (not self.isced_fields or any(isced_field.startswith(f) for f in self.isced_fields))
        )


@dataclass(frozen=True)
class Condition:
    text: str
    deadline: date
    fulfilled_on: date | None = None


class Accreditation(Aggregate):
    """A provider's accreditation, in force from ``valid_from`` to ``valid_to`` unless interrupted."""

    @staticmethod
    def create_id(granted_by: UUID, local_identifier: str | None) -> UUID:
        """Unique per granting body and its own report identifier, as in DEQAR."""
        if local_identifier:
            return uuid5(NAMESPACE_URL, f"mcreg:accreditation:{granted_by}:{local_identifier}")
        return uuid4()

    @event("Granted")
    def __init__(
        self,
        stamp: Stamp,
        provider_id: UUID,
        granted_by: UUID,
        agency_id: UUID | None,
        local_identifier: str | None,
        outcome: QADecision,
        scope: Scope,
        conditions: tuple[Condition, ...],
        valid_from: date,
        valid_to: date,
        report_url: str | None,
    ) -> None:
        self.provider_id = provider_id
        self.granted_by = granted_by
        self.agency_id = agency_id  # None when a national authority granted it
        self.local_identifier = local_identifier
        self.outcome = QADecision(outcome)
        self.scope = scope
        self.conditions = list(conditions)
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.report_url = report_url
        self.decided_on = stamp.effective
        self.suspensions: list[Interruption] = []
        self.withdrawn_on: date | None = None
        self.withdrawal_reason: str | None = None

    def standing(self, day: date) -> Standing:
        """Where this accreditation stands on ``day`` (the granting agency's standing aside)."""
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return Standing.WITHDRAWN
        if day < self.valid_from:
            return Standing.NOT_YET_VALID
        if day > self.valid_to:
            return Standing.EXPIRED
        if interrupted(self.suspensions, day):
            return Standing.SUSPENDED
        return Standing.IN_FORCE

    def fulfil_condition(self, stamp: Stamp, index: int) -> None:
        self.check_not_withdrawn()
        if not 0 <= index < len(self.conditions):
            raise InvalidInput("condition", f"must be a condition number from 0 to {len(self.conditions) - 1}")
        if self.conditions[index].fulfilled_on is not None:
            raise StateConflict("the condition is already fulfilled")
        self._fulfil_condition(stamp, index)

    @event("ConditionFulfilled")
    def _fulfil_condition(self, stamp: Stamp, index: int) -> None:
        self.conditions[index] = replace(self.conditions[index], fulfilled_on=stamp.effective)

    def renew(self, stamp: Stamp, valid_to: date, report_url: str | None) -> None:
        self.check_not_withdrawn()
        if valid_to <= self.valid_to:
            raise InvalidInput("valid_to", "must extend the current validity")
        self._renew(stamp, valid_to, report_url)

    @event("Renewed")
    def _renew(self, stamp: Stamp, valid_to: date, report_url: str | None) -> None:
        self.valid_to = valid_to
        self.report_url = report_url or self.report_url

    def suspend(self, stamp: Stamp, reason: str) -> None:
        self.check_not_withdrawn()
        if is_open(self.suspensions):
            raise StateConflict("the accreditation is already suspended")
        self._suspend(stamp, reason)

    @event("Suspended")
    def _suspend(self, stamp: Stamp, reason: str) -> None:
        self.suspensions.append(Interruption(stamp.effective))

    def reinstate(self, stamp: Stamp) -> None:
        self.check_not_withdrawn()
        check_can_end(self.suspensions, stamp.effective, "accreditation")
        self._reinstate(stamp)

    @event("Reinstated")
    def _reinstate(self, stamp: Stamp) -> None:
        close_last(self.suspensions, stamp.effective)

    def withdraw(self, stamp: Stamp, reason: str) -> None:
        self.check_not_withdrawn()
        self._withdraw(stamp, reason)

    @event("Withdrawn")
    def _withdraw(self, stamp: Stamp, reason: str) -> None:
        self.withdrawn_on = stamp.effective
        self.withdrawal_reason = reason

    def check_not_withdrawn(self) -> None:
        if self.withdrawn_on is not None:
            raise StateConflict("the accreditation is withdrawn")


stored_as("registry.accreditation", Accreditation)
