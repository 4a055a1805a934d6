"""Credentials: one learner's micro-credential, issued, suspended, reinstated, revoked."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mcreg.registry.aggregates.learners import SealedPersonalData, SealedText
from mcreg.registry.errors import StateConflict
from mcreg.registry.periods import Interruption, check_can_end, close_last
from mcreg.registry.quality import QABasis
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import CredentialStatus, RevocationReason, Standing, Verdict


class Credential(Aggregate):
    """Revocation is final; suspension can be lifted."""

    lti_resource_link_id: str | None = None  # of credentials issued before it existed, until one is added
    student_id: SealedText | None = None
    """A student number added after issue (``add_identifiers``), sealed under the learner's key; one given at issue
    is in the sealed ``learner``."""

    @event("Issued")
    def __init__(
        self,
        stamp: Stamp,
        provider_id: UUID,
        microcredential_id: UUID,
        spec_version: int,
        learner: SealedPersonalData,
        grade: str | None,
        valid_until: date | None,
        qa_basis: QABasis,
        course_id: str | None = None,
        lti_context_id: str | None = None,
        lti_resource_link_id: str | None = None,
    ) -> None:
        """``course_id`` (the student-information system's) and ``lti_context_id`` (the learning platform's)
        name the course the credential was earned in, ``lti_resource_link_id`` the platform's link to the activity
        that awarded it; credentials issued before they existed have none."""
        self.provider_id = provider_id
        self.course_id = course_id
        self.lti_context_id = lti_context_id
        self.lti_resource_link_id = lti_resource_link_id
        self.microcredential_id = microcredential_id
        self.spec_version = spec_version
        self.learner = learner
        self.grade = grade
        self.issued_on = stamp.effective
        self.valid_until = valid_until
        self.qa_basis = qa_basis
        self.status = CredentialStatus.ACTIVE
        self.suspensions: list[Interruption] = []
        self.revoked_on: date | None = None
        self.revocation_reason: RevocationReason | None = None

    @property
    def learner_id(self) -> UUID:
        return self.learner.learner_id

    def status_on(self, day: date) -> CredentialStatus:
        """The status in force on a business date, by the effective dates of suspensions and revocation."""
        if self.revoked_on is not None and self.revoked_on <= day:
            return CredentialStatus.REVOKED
        if any(i.covers(day) for i in self.suspensions):
            return CredentialStatus.SUSPENDED
        return CredentialStatus.ACTIVE

    def active_on(self, day: date) -> bool:
        """Issued by ``day``, and neither suspended nor revoked on it."""
        return self.issued_on <= day and self.status_on(day) == CredentialStatus.ACTIVE

    def expired_on(self, day: date) -> bool:
        """Past its validity on ``day``: ``valid_until`` is the first day it is no longer valid."""
        return self.valid_until is not None and self.valid_until <= day

    def verdict_on(self, day: date, qa_at_issue: Standing, qa_on_day: Standing) -> Verdict:
        """The registry record's verdict on ``day`` (``qa_at_issue`` and ``qa_on_day`` are where its QA basis
        stood on those dates): valid if active and unexpired then and issued under QA in force; a QA decision
        that lapsed, expired or was withdrawn after the issue date only warns, since the credential was
        quality-assured when awarded."""
        if not self.active_on(day) or self.expired_on(day) or qa_at_issue != Standing.IN_FORCE:
            return Verdict.NOT_VALID
        return Verdict.VALID if qa_on_day == Standing.IN_FORCE else Verdict.VALID_WITH_WARNINGS

    def add_identifiers(
        self,
        stamp: Stamp,
        course_id: str | None,
        lti_context_id: str | None,
        student_id: SealedText | None,
        lti_resource_link_id: str | None = None,
    ) -> None:
        """Record identifiers the provider's systems give the credential that it did not have: the application
        checks each is new or the one it has."""
        self._add_identifiers(stamp, self.provider_id, course_id, lti_context_id, student_id, lti_resource_link_id)

    @event("IdentifiersAdded")
    def _add_identifiers(
        self,
        stamp: Stamp,
        provider_id: UUID,
        course_id: str | None,
        lti_context_id: str | None,
        student_id: SealedText | None,
        lti_resource_link_id: str | None = None,  # not in events from before it existed
    ) -> None:
        """``provider_id`` repeats the issuer's for those who read the event alone (a read model files the
        identifiers by provider)."""
        self.course_id = course_id if course_id is not None else self.course_id
        self.lti_context_id = lti_context_id if lti_context_id is not None else self.lti_context_id
        if lti_resource_link_id is not None:
            self.lti_resource_link_id = lti_resource_link_id
        self.student_id = student_id if student_id is not None else self.student_id

    def suspend(self, stamp: Stamp, reason: SealedText) -> None:
        self.check_not_revoked()
        if self.status == CredentialStatus.SUSPENDED:
            raise StateConflict("the credential is already suspended")
        self.check_effective_after_issue(stamp)
        self._suspend(stamp, reason)

    @event("Suspended")
    def _suspend(self, stamp: Stamp, reason: str | SealedText) -> None:  # clear text in events from before sealing
        self.status = CredentialStatus.SUSPENDED
        self.suspensions.append(Interruption(stamp.effective))

    def reinstate(self, stamp: Stamp) -> None:
        self.check_not_revoked()
        check_can_end(self.suspensions, stamp.effective, "credential")
        self._reinstate(stamp)

    @event("Reinstated")
    def _reinstate(self, stamp: Stamp) -> None:
        self.status = CredentialStatus.ACTIVE
        close_last(self.suspensions, stamp.effective)

    def revoke(self, stamp: Stamp, reason: RevocationReason, note: SealedText | None) -> None:
        self.check_not_revoked()
        self.check_effective_after_issue(stamp)
        self._revoke(stamp, reason, note)

    @event("Revoked")
    def _revoke(self, stamp: Stamp, reason: RevocationReason, note: str | SealedText | None) -> None:
        self.status = CredentialStatus.REVOKED
        self.revoked_on = stamp.effective
        self.revocation_reason = RevocationReason(reason)

    def check_not_revoked(self) -> None:
        if self.status == CredentialStatus.REVOKED:
            raise StateConflict("the credential is revoked, and revocation is final")

    def check_effective_after_issue(self, stamp: Stamp) -> None:
        if stamp.effective < self.issued_on:
            raise StateConflict("the change cannot take effect before the issue date")


stored_as("registry.credential", Credential)
