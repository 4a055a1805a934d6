"""Random histories against a small model: whatever users do, the registry's invariants hold.

Providers issue, suspend, reinstate and revoke; the agency suspends, reinstates
and withdraws its accreditation, or reviews the micro-credential; the operator
suspends the agency; an institution requests and decides recognitions. After
every step: statuses match the model, a revoked credential stays revoked,
every credential's recorded QA basis was in force on its issue date at the
version it names, aggregate versions are contiguous, and the only errors are
the domain errors the model expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)

from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.aggregates.review import Review
from mcreg.registry.application import Registry
from mcreg.registry.errors import InvalidInput, NoQualityAssurance, StateConflict
from mcreg.registry.quality import BasisKind
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import CredentialStatus, RecognitionStatus, Role, Standing
from tests.world import OPERATOR, World, learner

ACCREDITED_FROM, ACCREDITED_TO = date(2021, 1, 1), date(2026, 12, 31)
days = st.dates(min_value=date(2020, 6, 1), max_value=date(2025, 12, 31))


@dataclass
class Spans:
    """Suspensions as [start, end) spans; the model of ``registry.periods``."""

    spans: list[list[date | None]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return bool(self.spans) and self.spans[-1][1] is None

    def covers(self, day: date) -> bool:
        return any(start <= day and (end is None or day < end) for start, end in self.spans)


@dataclass
class ModelCredential:
    issued_on: date
    suspensions: Spans = field(default_factory=Spans)
    revoked_on: date | None = None

    @property
    def status(self) -> CredentialStatus:
        if self.revoked_on is not None:
            return CredentialStatus.REVOKED
        return CredentialStatus.SUSPENDED if self.suspensions.open else CredentialStatus.ACTIVE

    def status_on(self, day: date) -> CredentialStatus:
        if self.revoked_on is not None and self.revoked_on <= day:
            return CredentialStatus.REVOKED
        return CredentialStatus.SUSPENDED if self.suspensions.covers(day) else CredentialStatus.ACTIVE


class RegistryMachine(RuleBasedStateMachine):
    credentials = Bundle("credentials")
    recognitions = Bundle("recognitions")

    def __init__(self) -> None:
        super().__init__()
        self.registry = Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.world = World(self.registry)
        self.institution_id = self.world.register_provider("DE", "Technische Universität Beispiel")
        self.institution = Actor(self.institution_id, Role.INSTITUTION)
        # The model.
        self.agency_suspensions = Spans()
        self.accreditation_suspensions = Spans()
        self.withdrawn_on: date | None = None
        self.review: tuple[UUID, date, date] | None = None  # id, valid from, valid to
        self.model: dict[UUID, ModelCredential] = {}
        self.decided: dict[UUID, RecognitionStatus] = {}

    # What the model expects -------------------------------------------------

    def agency_good(self, day: date) -> bool:
        return day >= date(2015, 1, 1) and not self.agency_suspensions.covers(day)

    def accreditation_standing(self, day: date) -> Standing:
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return Standing.WITHDRAWN
        if day < ACCREDITED_FROM:
            return Standing.NOT_YET_VALID
        if day > ACCREDITED_TO:
            return Standing.EXPIRED
        return Standing.SUSPENDED if self.accreditation_suspensions.covers(day) else Standing.IN_FORCE

    def review_standing(self, day: date) -> Standing:
        assert self.review is not None
        _, valid_from, valid_to = self.review
        if day < valid_from:
            return Standing.NOT_YET_VALID
        return Standing.EXPIRED if day > valid_to else Standing.IN_FORCE

    def expected_basis(self, day: date) -> BasisKind | None:
        if not self.agency_good(day):
            return None  # one agency decided both the review and the accreditation
        if self.review is not None and self.review_standing(day) == Standing.IN_FORCE:
            return BasisKind.REVIEW
        if self.accreditation_standing(day) == Standing.IN_FORCE:
            return BasisKind.ACCREDITATION
        return None

    # Providers --------------------------------------------------------------

    @rule(target=credentials, day=days)
    def issue(self, day):
        expected = self.expected_basis(day)
        if expected is None:
            with pytest.raises(NoQualityAssurance):
                self.world.issue(day)
            return multiple()  # nothing issued, nothing to act on later
        credential_id = self.world.issue(day, learner=learner(f"Learner {len(self.model)}"))
        credential = self.registry.get(Credential, credential_id)
        assert credential.qa_basis.kind == expected
        self.model[credential_id] = ModelCredential(day)
        return credential_id

    @rule(credential_id=credentials, day=days)
    def suspend(self, credential_id, day):
        model = self.model[credential_id]
        if model.status != CredentialStatus.ACTIVE or day < model.issued_on:
            with pytest.raises(StateConflict):
                self.registry.suspend_credential(self.world.provider, credential_id, reason="inquiry", effective=day)
            return
        self.registry.suspend_credential(self.world.provider, credential_id, reason="inquiry", effective=day)
        model.suspensions.spans.append([day, None])

    @rule(credential_id=credentials, day=days)
    def reinstate(self, credential_id, day):
        model = self.model[credential_id]
        if model.status != CredentialStatus.SUSPENDED or day < model.suspensions.spans[-1][0]:
            with pytest.raises(StateConflict):
                self.registry.reinstate_credential(self.world.provider, credential_id, effective=day)
            return
        self.registry.reinstate_credential(self.world.provider, credential_id, effective=day)
        model.suspensions.spans[-1][1] = day

    @rule(credential_id=credentials, day=days)
    def revoke(self, credential_id, day):
        model = self.model[credential_id]
        if model.status == CredentialStatus.REVOKED or day < model.issued_on:
            with pytest.raises(StateConflict):
                self.registry.revoke_credential(self.world.provider, credential_id, reason="fraud", effective=day)
            return
        self.registry.revoke_credential(self.world.provider, credential_id, reason="fraud", effective=day)
        model.revoked_on = day

    # The agency and the operator -------------------------------------------

    @rule(day=days)
    def suspend_accreditation(self, day):
        if self.withdrawn_on is not None or self.accreditation_suspensions.open:
            with pytest.raises(StateConflict):
                self.registry.suspend_accreditation(
                    self.world.agency, self.world.accreditation_id, reason="audit", effective=day
                )
            return
        self.registry.suspend_accreditation(
            self.world.agency, self.world.accreditation_id, reason="audit", effective=day
        )
        self.accreditation_suspensions.spans.append([day, None])

    @rule(day=days)
    def reinstate_accreditation(self, day):
        spans = self.accreditation_suspensions
        if self.withdrawn_on is not None or not spans.open or day < spans.spans[-1][0]:
            with pytest.raises(StateConflict):
                self.registry.reinstate_accreditation(self.world.agency, self.world.accreditation_id, effective=day)
            return
        self.registry.reinstate_accreditation(self.world.agency, self.world.accreditation_id, effective=day)
        spans.spans[-1][1] = day

    @rule(day=days)
    def withdraw_accreditation(self, day):
        if self.withdrawn_on is not None:
            with pytest.raises(StateConflict):
                self.registry.withdraw_accreditation(
                    self.world.agency, self.world.accreditation_id, reason="fraud", effective=day
                )
            return
        self.registry.withdraw_accreditation(
            self.world.agency, self.world.accreditation_id, reason="fraud", effective=day
        )
        self.withdrawn_on = day

    @precondition(lambda self: self.review is None)
    @rule(valid_from=days, length=st.integers(min_value=0, max_value=800))
    def review_positively(self, valid_from, length):
        valid_to = valid_from + timedelta(days=length)
        review_id = self.registry.open_review(self.world.agency, microcredential_id=self.world.microcredential_id)
        self.registry.decide_review(
            self.world.agency, review_id, decision="positive", valid_from=valid_from, valid_to=valid_to
        )
        self.review = (review_id, valid_from, valid_to)

    @rule(day=days)
    def suspend_agency(self, day):
        if self.agency_suspensions.open:
            with pytest.raises(StateConflict):
                self.registry.suspend_agency(OPERATOR, self.world.agency_id, reason="EQAR", effective=day)
            return
        self.registry.suspend_agency(OPERATOR, self.world.agency_id, reason="EQAR", effective=day)
        self.agency_suspensions.spans.append([day, None])

    @rule(day=days)
    def reinstate_agency(self, day):
        spans = self.agency_suspensions
        if not spans.open or day < spans.spans[-1][0]:
            with pytest.raises(StateConflict):
                self.registry.reinstate_agency(OPERATOR, self.world.agency_id, effective=day)
            return
        self.registry.reinstate_agency(OPERATOR, self.world.agency_id, effective=day)
        spans.spans[-1][1] = day

    # The recognising institution -------------------------------------------

    @rule(target=recognitions, credential_id=credentials, requested_on=days, wait=st.integers(0, 200))
    def request_and_decide_recognition(self, credential_id, requested_on, wait):
        model = self.model[credential_id]
        request = dict(credential_id=credential_id, institution_id=self.institution_id, purpose="admission")
        if requested_on < model.issued_on:
            with pytest.raises(InvalidInput):
                self.registry.request_recognition(self.institution, requested_on=requested_on, **request)
            return multiple()
        recognition_id = self.registry.request_recognition(self.institution, requested_on=requested_on, **request)
        decided_on = min(requested_on + timedelta(days=wait), self.registry.today())
        self.registry.decide_recognition(
            self.institution, recognition_id, outcome="recognised", ects_recognised="5", decided_on=decided_on
        )

        verdict = self.registry.get(Recognition, recognition_id).verdict
        assert verdict.credential_status == model.status_on(decided_on)
        basis = self.registry.get(Credential, credential_id).qa_basis
        if basis.kind == BasisKind.REVIEW:
            standing = self.review_standing(decided_on)
        else:
            standing = self.accreditation_standing(decided_on)
        if standing == Standing.IN_FORCE and not self.agency_good(decided_on):
            standing = Standing.AGENCY_NOT_IN_GOOD_STANDING
        assert verdict.qa_standing.basis == basis
        assert verdict.qa_standing.standing == standing
        self.decided[recognition_id] = RecognitionStatus.DECIDED
        return recognition_id

    @rule(recognition_id=consumes(recognitions))
    def decide_again(self, recognition_id):
        with pytest.raises(StateConflict):
            self.registry.decide_recognition(
                self.institution,
                recognition_id,
                outcome="refused",
                ects_recognised="0",
                differences=[("late", "changed our mind")],
            )

    # Invariants -------------------------------------------------------------

    @invariant()
    def statuses_match_the_model_and_revocation_is_final(self):
        for credential_id, model in self.model.items():
            credential = self.registry.get(Credential, credential_id)
            assert credential.status == model.status
            if model.revoked_on is not None:
                assert credential.status == CredentialStatus.REVOKED
                assert credential.status_on(self.registry.today()) == CredentialStatus.REVOKED
        for recognition_id, status in self.decided.items():
            assert self.registry.get(Recognition, recognition_id).status == status

    @invariant()
    def every_credential_relied_on_a_decision_in_force_on_its_issue_date(self):
        for credential_id in self.model:
            credential = self.registry.get(Credential, credential_id)
            basis = credential.qa_basis
            cls = Accreditation if basis.kind == BasisKind.ACCREDITATION else Review
            decision = self.registry.get(cls, basis.id, version=basis.version)
            assert decision.version == basis.version
            assert decision.standing(credential.issued_on) == Standing.IN_FORCE

    @invariant()
    def versions_are_contiguous(self):
        world = self.world
        aggregates = [
            (Agency, world.agency_id),
            (Provider, world.provider_id),
            (Accreditation, world.accreditation_id),
            (MicroCredential, world.microcredential_id),
            *((Credential, i) for i in self.model),
            *((Recognition, i) for i in self.decided),
        ]
        if self.review is not None:
            aggregates.append((Review, self.review[0]))
        for cls, aggregate_id in aggregates:
            versions = [e.originator_version for e in self.registry.repository.event_store.get(aggregate_id)]
            assert versions == list(range(1, len(versions) + 1))
            assert self.registry.get(cls, aggregate_id).version == len(versions)
        notifications = self.registry.recorder.select_notifications(start=1, limit=100_000)
        assert [n.id for n in notifications] == list(range(1, len(notifications) + 1))


RegistryMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRegistryHistories = RegistryMachine.TestCase
