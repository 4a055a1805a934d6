"""Recognitions: a recognising institution's decision on a credential (Lisbon Convention)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mcreg.registry.aggregates.learners import SealedText
from mcreg.registry.errors import InvalidInput, StateConflict
from mcreg.registry.quality import QAStanding
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import (
    AppealOutcome,
    CredentialStatus,
    RecognitionOutcome,
    RecognitionPurpose,
    RecognitionStatus,
    Requester,
)


@dataclass(frozen=True)
class SubstantialDifference:
    """What differs, and why the institution judges it substantial; sealed under the learner's key (clear text
    in events from before sealing)."""

    difference: str | SealedText
    reason: str | SealedText


@dataclass(frozen=True)
class Verdict:
    """An institution's decision, with what it knew of the credential when deciding."""

    outcome: RecognitionOutcome
    ects_recognised: Decimal
    differences: tuple[SubstantialDifference, ...]
    credential_status: CredentialStatus
    qa_standing: QAStanding

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", RecognitionOutcome(self.outcome))
        object.__setattr__(self, "credential_status", CredentialStatus(self.credential_status))

    def check(self, credential_ects: Decimal) -> None:
        """Full recognition carries every credit; anything less states its substantial differences."""
        if self.ects_recognised > credential_ects:
            raise InvalidInput("ects_recognised", f"may not exceed the credential's {credential_ects} ECTS")
        if self.outcome == RecognitionOutcome.RECOGNISED:
            if self.ects_recognised != credential_ects:
                raise InvalidInput("ects_recognised", "must equal the credential's ECTS for full recognition")
        elif not self.differences:
            raise InvalidInput(
                "differences", "must state the substantial differences and reasons unless recognised in full"
            )
        if self.outcome == RecognitionOutcome.REFUSED and self.ects_recognised:
            raise InvalidInput("ects_recognised", "must be 0 when recognition is refused")


class Recognition(Aggregate):
    @event("Requested")
    def __init__(
        self,
        stamp: Stamp,
        credential_id: UUID,
        institution_id: UUID,
        purpose: RecognitionPurpose,
        requested_by: Requester,
    ) -> None:
        self.credential_id = credential_id
        self.institution_id = institution_id
        self.purpose = RecognitionPurpose(purpose)
        self.requested_by = Requester(requested_by)
        self.requested_on = stamp.effective
        self.status = RecognitionStatus.REQUESTED
        self.verdict: Verdict | None = None
        self.decided_on: date | None = None
        self.appeal_lodged_on: date | None = None
        self.appeal_outcome: AppealOutcome | None = None

    def decide(self, stamp: Stamp, verdict: Verdict) -> None:
        if self.status != RecognitionStatus.REQUESTED:
            raise StateConflict(f"only a requested recognition can be decided; it is {self.status}")
        self.check_on_or_after("decided_on", stamp, self.requested_on, "the request")
        self._decide(stamp, verdict)

    @event("Decided")
    def _decide(self, stamp: Stamp, verdict: Verdict) -> None:
        self.verdict = verdict
        self.decided_on = stamp.effective
        self.status = RecognitionStatus.DECIDED

    def appeal(self, stamp: Stamp, grounds: SealedText) -> None:
        if self.status != RecognitionStatus.DECIDED:
            raise StateConflict(f"only a decided recognition can be appealed; it is {self.status}")
        assert self.decided_on is not None
        self.check_on_or_after("effective", stamp, self.decided_on, "the decision")
        self._appeal(stamp, grounds)

    @event("Appealed")
    def _appeal(self, stamp: Stamp, grounds: str | SealedText) -> None:  # clear text in events from before sealing
        self.appeal_lodged_on = stamp.effective
        self.status = RecognitionStatus.APPEALED

    def decide_appeal(self, stamp: Stamp, outcome: AppealOutcome, verdict: Verdict | None) -> None:
        if self.status != RecognitionStatus.APPEALED:
            raise StateConflict("there is no pending appeal")
        assert self.appeal_lodged_on is not None
        self.check_on_or_after("decided_on", stamp, self.appeal_lodged_on, "the appeal")
        self._decide_appeal(stamp, outcome, verdict)

    @event("AppealDecided")
    def _decide_appeal(self, stamp: Stamp, outcome: AppealOutcome, verdict: Verdict | None) -> None:
        self.appeal_outcome = AppealOutcome(outcome)
        if verdict is not None:
            self.verdict = verdict
            self.decided_on = stamp.effective
        self.status = RecognitionStatus.APPEAL_DECIDED

    def withdraw(self, stamp: Stamp, reason: SealedText) -> None:
        if self.status not in (RecognitionStatus.REQUESTED, RecognitionStatus.APPEALED):
            raise StateConflict(f"only a pending request or appeal can be withdrawn; it is {self.status}")
        self._withdraw(stamp, reason)

    @event("Withdrawn")
    def _withdraw(self, stamp: Stamp, reason: str | SealedText) -> None:
        self.status = RecognitionStatus.WITHDRAWN

    @staticmethod
    def check_on_or_after(field: str, stamp: Stamp, earlier: date, what: str) -> None:
        if stamp.effective < earlier:
            raise InvalidInput(field, f"must be on or after {what} ({earlier})")


stored_as("registry.recognition", Recognition)
