"""Reviews: a QA agency's external review of one micro-credential."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.errors import StateConflict
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import QA_COVER, AppealOutcome, QADecision, Standing


@dataclass(frozen=True)
class Report:
    url: str | None
    summary: str | None
    published_on: date


@dataclass(frozen=True)
class Decision:
    decision: QADecision
    valid_from: date
    valid_to: date
    conditions: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "decision", QADecision(self.decision))


class Review(Aggregate):
    """Opened by one agency, which alone records its report, decision and appeal outcome."""

    @staticmethod
    def create_id(agency_id: UUID, local_identifier: str | None) -> UUID:
        """Unique per agency and the agency's own report identifier, as in DEQAR."""
        if local_identifier:
            return uuid5(NAMESPACE_URL, f"mcreg:review:{agency_id}:{local_identifier}")
        return uuid4()

    @event("Opened")
    def __init__(
        self,
        stamp: Stamp,
        agency_id: UUID,
        microcredential_id: UUID,
        provider_id: UUID,
        spec_version: int,
        local_identifier: str | None,
    ) -> None:
        self.agency_id = agency_id
        self.microcredential_id = microcredential_id
        self.provider_id = provider_id
        self.spec_version = spec_version  # the specification the agency reviewed
        self.local_identifier = local_identifier
        self.opened_on = stamp.effective
        self.report: Report | None = None
        self.decision: Decision | None = None
        self.decided_on: date | None = None
        self.appeal_lodged_on: date | None = None
        self.appeal_outcome: AppealOutcome | None = None
        self.withdrawn_on: date | None = None

    def standing(self, day: date) -> Standing:
        """Where the review's decision stands on ``day`` (the agency's standing aside)."""
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return Standing.WITHDRAWN
        if self.decision is None or self.decision.decision not in QA_COVER:
            return Standing.NEGATIVE
        if day < self.decision.valid_from:
            return Standing.NOT_YET_VALID
        if day > self.decision.valid_to:
            return Standing.EXPIRED
        return Standing.IN_FORCE

    @property
    def is_under_appeal(self) -> bool:
        return self.appeal_lodged_on is not None and self.appeal_outcome is None

    def publish_report(self, stamp: Stamp, report: Report) -> None:
        self.check_not_withdrawn()
        self._publish_report(stamp, report)

    @event("ReportPublished")
    def _publish_report(self, stamp: Stamp, report: Report) -> None:
        self.report = report

    def decide(self, stamp: Stamp, decision: Decision) -> None:
        self.check_not_withdrawn()
        if self.decision is not None:
            raise StateConflict("the review is already decided; an appeal can change it")
        self._decide(stamp, decision)

    @event("Decided")
    def _decide(self, stamp: Stamp, decision: Decision) -> None:
        self.decision = decision
        self.decided_on = stamp.effective

    def appeal(self, stamp: Stamp, grounds: str) -> None:
        self.check_not_withdrawn()
        if self.decision is None:
            raise StateConflict("only a decided review can be appealed")
        if self.appeal_lodged_on is not None:
            raise StateConflict("the decision has already been appealed")
        self._appeal(stamp, grounds)

    @event("Appealed")
    def _appeal(self, stamp: Stamp, grounds: str) -> None:
        self.appeal_lodged_on = stamp.effective

    def decide_appeal(self, stamp: Stamp, outcome: AppealOutcome, decision: Decision | None) -> None:
        self.check_not_withdrawn()
        if not self.is_under_appeal:
            raise StateConflict("there is no pending appeal")
        self._decide_appeal(stamp, outcome, decision)

    @event("AppealDecided")
    def _decide_appeal(self, stamp: Stamp, outcome: AppealOutcome, decision: Decision | None) -> None:
        self.appeal_outcome = AppealOutcome(outcome)
        if decision is not None:
            self.decision = decision
            self.decided_on = stamp.effective

    def withdraw(self, stamp: Stamp, reason: str) -> None:
        self.check_not_withdrawn()
        self._withdraw(stamp, reason)

    @event("Withdrawn")
    def _withdraw(self, stamp: Stamp, reason: str) -> None:
        self.withdrawn_on = stamp.effective

    def check_not_withdrawn(self) -> None:
        if self.withdrawn_on is not None:
            raise StateConflict("the review is withdrawn")


stored_as("registry.review", Review)
