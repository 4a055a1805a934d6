"""Recognitions: an institution records its decision on a credential, with what it knew when deciding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound, StateConflict
from mcreg.registry.quality import BasisKind, QABasis, QAStanding
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import (
    AppealOutcome,
    CredentialStatus,
    RecognitionOutcome,
    RecognitionPurpose,
    RecognitionStatus,
    Requester,
    Role,
    Standing,
)
from tests.world import OPERATOR, SPEC, World

DIFFERENCE = [("No lab component", "The receiving programme requires supervised lab work")]


@dataclass
class Case:
    """A credential issued on 2024-03-01, and a German university asked to recognise it."""

    world: World
    credential_id: UUID
    institution_id: UUID

    @property
    def institution(self) -> Actor:
        return Actor(self.institution_id, Role.INSTITUTION, key_id="admissions")

    def request(self, requested_on: date = date(2024, 4, 1), **kwargs) -> UUID:
        return self.world.registry.request_recognition(
            self.institution,
            credential_id=kwargs.pop("credential_id", self.credential_id),
            institution_id=self.institution_id,
            purpose=kwargs.pop("purpose", "credit_transfer"),
            requested_on=requested_on,
            **kwargs,
        )


@pytest.fixture
def case(registry) -> Case:
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    return Case(world, credential_id, world.register_provider("DE", "Technische Universität Beispiel"))


def test_an_institution_recognises_a_credential_in_full(registry, case):
    recognition_id = case.request(requested_by="institution")
    registry.decide_recognition(
        case.institution, recognition_id, outcome="recognised", ects_recognised="5", decided_on=date(2024, 5, 1)
    )

    recognition = registry.get(Recognition, recognition_id)
    assert recognition.credential_id == case.credential_id
    assert recognition.institution_id == case.institution_id
    assert recognition.purpose == RecognitionPurpose.CREDIT_TRANSFER
    assert recognition.requested_by == Requester.INSTITUTION
    assert recognition.requested_on == date(2024, 4, 1)
    assert recognition.status == RecognitionStatus.DECIDED
    assert recognition.decided_on == date(2024, 5, 1)
    verdict = recognition.verdict
    assert verdict.outcome == RecognitionOutcome.RECOGNISED
    assert verdict.ects_recognised == Decimal("5.00")
    assert verdict.credential_status == CredentialStatus.ACTIVE
    assert verdict.qa_standing == QAStanding(
        QABasis(BasisKind.ACCREDITATION, case.world.accreditation_id, 1), Standing.IN_FORCE
    )


def test_no_recognition_of_an_unknown_credential(registry, case):
    before = registry.recorder.max_notification_id()
    with pytest.raises(NotFound):
        case.request(credential_id=uuid4())
    assert registry.recorder.max_notification_id() == before


def test_a_request_cannot_predate_the_credential_or_lie_in_the_future(registry, case):
    with pytest.raises(InvalidInput) as refused:
        case.request(date(2024, 2, 29))
    assert refused.value.field == "requested_on"
    with pytest.raises(InvalidInput) as refused:
        case.request(registry.today() + timedelta(days=1))
    assert (refused.value.field, refused.value.rule) == ("requested_on", "may not be in the future")


def test_an_institution_records_only_its_own_recognitions(registry, case):
    recognition_id = case.request()
    rival_id = case.world.register_provider("FR", "Université Exemple")
    rival = Actor(rival_id, Role.INSTITUTION)
    before = registry.recorder.max_notification_id()

    with pytest.raises(Forbidden):
        registry.decide_recognition(rival, recognition_id, outcome="recognised", ects_recognised="5")
    with pytest.raises(Forbidden):
        registry.withdraw_recognition(rival, recognition_id, reason="not mine")
    with pytest.raises(Forbidden):  # the same organisation acting as a provider is not the recognising office
        registry.decide_recognition(
            Actor(case.institution_id, Role.PROVIDER), recognition_id, outcome="recognised", ects_recognised="5"
        )
    with pytest.raises(Forbidden):  # nor may it file a request in another institution's name
        registry.request_recognition(
            rival, credential_id=case.credential_id, institution_id=case.institution_id, purpose="admission"
        )
    with pytest.raises(Forbidden):
        registry.decide_recognition(OPERATOR, recognition_id, outcome="recognised", ects_recognised="5")
    assert registry.recorder.max_notification_id() == before
    assert registry.get(Recognition, recognition_id).status == RecognitionStatus.REQUESTED


def test_the_decision_records_that_the_credential_was_revoked_by_then(registry, case):
    world = case.world
    registry.revoke_credential(world.provider, case.credential_id, reason="fraud", effective=date(2024, 6, 1))
    recognition_id = case.request()

    registry.decide_recognition(
        case.institution,
        recognition_id,
        outcome="refused",
        ects_recognised="0",
        differences=[("Revoked", "The issuer revoked the credential for fraud")],
        decided_on=date(2024, 7, 1),
    )

    assert registry.get(Recognition, recognition_id).verdict.credential_status == CredentialStatus.REVOKED


def test_the_decision_records_the_status_on_the_decision_date_not_today(registry, case):
    world = case.world
    registry.suspend_credential(world.provider, case.credential_id, reason="inquiry", effective=date(2024, 6, 1))
    recognition_id = case.request()
    registry.decide_recognition(
        case.institution, recognition_id, outcome="recognised", ects_recognised="5", decided_on=date(2024, 5, 1)
    )
    assert registry.get(Recognition, recognition_id).verdict.credential_status == CredentialStatus.ACTIVE


def test_what_the_decision_recorded_does_not_change_when_the_credential_later_does(registry, case):
    world = case.world
    recognition_id = case.request()
    registry.decide_recognition(
        case.institution, recognition_id, outcome="recognised", ects_recognised="5", decided_on=date(2024, 5, 1)
    )
    registry.revoke_credential(world.provider, case.credential_id, reason="fraud", effective=date(2024, 4, 1))
    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="fraud", effective=date(2024, 4, 1))

    verdict = registry.get(Recognition, recognition_id).verdict
    assert verdict.credential_status == CredentialStatus.ACTIVE
    assert verdict.qa_standing.standing == Standing.IN_FORCE


def test_the_decision_records_a_withdrawn_accreditation(registry, case):
    world = case.world
    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="fraud", effective=date(2024, 5, 1))
    recognition_id = case.request()
    registry.decide_recognition(
        case.institution,
        recognition_id,
        outcome="recognised_partially",
        ects_recognised="2.5",
        differences=DIFFERENCE,
        decided_on=date(2024, 6, 1),
    )
    verdict = registry.get(Recognition, recognition_id).verdict
    assert verdict.qa_standing.standing == Standing.WITHDRAWN
    assert verdict.qa_standing.basis.id == world.accreditation_id
    assert registry.opened_differences(recognition_id, verdict.differences) == DIFFERENCE


def test_the_decision_records_that_the_agency_was_not_in_good_standing(registry, case):
    world = case.world
    registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2024, 5, 1))
    recognition_id = case.request()
    registry.decide_recognition(
        case.institution, recognition_id, outcome="recognised", ects_recognised="5", decided_on=date(2024, 6, 1)
    )
    verdict = registry.get(Recognition, recognition_id).verdict
    assert verdict.qa_standing.standing == Standing.AGENCY_NOT_IN_GOOD_STANDING


@pytest.mark.parametrize(
    ("outcome", "ects", "differences", "field"),
    [
        ("recognised", "4", [], "ects_recognised"),  # full recognition carries every credit
        ("recognised", "6", [], "ects_recognised"),  # never more than the credential has
        ("recognised_partially", "2", [], "differences"),  # less than full states its differences
        ("alternative_recognition", "0", [], "differences"),
        ("refused", "1", DIFFERENCE, "ects_recognised"),  # refusal recognises nothing
        ("recognised", "-5", [], "ects_recognised"),
        ("recognised", "4.999", [], "ects_recognised"),
        ("accepted", "5", [], "outcome"),
    ],
)
def test_a_verdict_must_be_consistent(registry, case, outcome, ects, differences, field):
    recognition_id = case.request()
    before = registry.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as refused:
        registry.decide_recognition(
            case.institution, recognition_id, outcome=outcome, ects_recognised=ects, differences=differences
        )
    assert refused.value.field == field
    assert registry.recorder.max_notification_id() == before


def test_full_recognition_counts_the_ects_of_the_specification_the_credential_was_issued_under(registry, case):
    world = case.world
    registry.revise_microcredential(world.provider, world.microcredential_id, **{**SPEC, "ects": "10"})
    recognition_id = case.request()
    with pytest.raises(InvalidInput):
        registry.decide_recognition(case.institution, recognition_id, outcome="recognised", ects_recognised="10")
    registry.decide_recognition(case.institution, recognition_id, outcome="recognised", ects_recognised="5")


def test_a_recognition_is_decided_once_then_appealed_and_the_appeal_decided(registry, case):
    recognition_id = case.request()
    with pytest.raises(StateConflict):
        registry.appeal_recognition(case.institution, recognition_id, grounds="nothing decided yet")
    registry.decide_recognition(
        case.institution,
        recognition_id,
        outcome="refused",
        ects_recognised="0",
        differences=DIFFERENCE,
        decided_on=date(2024, 5, 1),
    )
    with pytest.raises(StateConflict):
        registry.decide_recognition(case.institution, recognition_id, outcome="recognised", ects_recognised="5")
    with pytest.raises(StateConflict):
        registry.withdraw_recognition(case.institution, recognition_id, reason="decided already")

    registry.appeal_recognition(
        case.institution, recognition_id, grounds="the lab was done online", effective=date(2024, 5, 10)
    )
    assert registry.get(Recognition, recognition_id).status == RecognitionStatus.APPEALED
    with pytest.raises(InvalidInput) as refused:
        registry.decide_recognition_appeal(case.institution, recognition_id, outcome="overturned")
    assert refused.value.field == "recognition_outcome"
    with pytest.raises(InvalidInput) as refused:
        registry.decide_recognition_appeal(
            case.institution, recognition_id, outcome="upheld", recognition_outcome="recognised"
        )
    assert refused.value.field == "recognition_outcome"

    registry.decide_recognition_appeal(
        case.institution,
        recognition_id,
        outcome="overturned",
        recognition_outcome="recognised",
        ects_recognised="5",
        decided_on=date(2024, 6, 1),
    )

    recognition = registry.get(Recognition, recognition_id)
    assert recognition.status == RecognitionStatus.APPEAL_DECIDED
    assert recognition.appeal_outcome == AppealOutcome.OVERTURNED
    assert recognition.verdict.outcome == RecognitionOutcome.RECOGNISED
    assert recognition.decided_on == date(2024, 6, 1)
    with pytest.raises(StateConflict):
        registry.decide_recognition_appeal(case.institution, recognition_id, outcome="upheld")


def test_an_upheld_appeal_keeps_the_first_verdict(registry, case):
    recognition_id = case.request()
    registry.decide_recognition(
        case.institution,
        recognition_id,
        outcome="refused",
        ects_recognised="0",
        differences=DIFFERENCE,
        decided_on=date(2024, 5, 1),
    )
    registry.appeal_recognition(case.institution, recognition_id, grounds="unfair", effective=date(2024, 5, 10))
    registry.decide_recognition_appeal(case.institution, recognition_id, outcome="upheld", decided_on=date(2024, 6, 1))

    recognition = registry.get(Recognition, recognition_id)
    assert recognition.appeal_outcome == AppealOutcome.UPHELD
    assert recognition.verdict.outcome == RecognitionOutcome.REFUSED
    assert recognition.decided_on == date(2024, 5, 1)


def test_a_pending_request_can_be_withdrawn_and_is_then_closed(registry, case):
    recognition_id = case.request()
    registry.withdraw_recognition(case.institution, recognition_id, reason="learner enrolled elsewhere")
    assert registry.get(Recognition, recognition_id).status == RecognitionStatus.WITHDRAWN
    with pytest.raises(StateConflict):
        registry.decide_recognition(case.institution, recognition_id, outcome="recognised", ects_recognised="5")


def test_a_decision_cannot_lie_in_the_future(registry, case):
    recognition_id = case.request()
    with pytest.raises(InvalidInput) as refused:
        registry.decide_recognition(
            case.institution,
            recognition_id,
            outcome="recognised",
            ects_recognised="5",
            decided_on=registry.today() + timedelta(days=1),
        )
    assert (refused.value.field, refused.value.rule) == ("decided_on", "may not be in the future")


def test_a_decision_cannot_predate_the_request_and_the_error_names_the_field_sent(registry, case):
    recognition_id = case.request(date(2024, 4, 1))
    with pytest.raises(InvalidInput) as refused:
        registry.decide_recognition(
            case.institution, recognition_id, outcome="recognised", ects_recognised="5", decided_on=date(2024, 3, 15)
        )
    assert refused.value.rule.startswith("must be on or after the request")
    assert refused.value.field == "decided_on"
    assert registry.get(Recognition, recognition_id).status == RecognitionStatus.REQUESTED
