"""Reviews: a QA agency reviews one micro-credential; only that agency records the report, decision and appeal."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.review import Review
from mcreg.registry.errors import Forbidden, InvalidInput, NoQualityAssurance, NotFound, StateConflict
from mcreg.registry.quality import BasisKind
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import AppealOutcome, QADecision, Role, Standing
from tests.world import OPERATOR, SPEC, World, learner


def unaccredited_microcredential(world: World) -> tuple[Actor, object]:
    """A provider with no accreditation at all, and its micro-credential: only a review can cover it."""
    provider_id = world.register_provider("BE", "Hogeschool Zonder Accreditatie")
    provider = Actor(provider_id, Role.PROVIDER, key_id="be-provider")
    return provider, world.registry.specify_microcredential(
        provider, provider_id=provider_id, specified_on=date(2019, 1, 1), **SPEC
    )


def test_an_agency_opens_a_review_of_the_current_specification(registry):
    world = World(registry)
    review_id = registry.open_review(
        world.agency,
        microcredential_id=world.microcredential_id,
        local_identifier="MC-2024-1",
        opened_on=date(2024, 1, 10),
    )

    assert review_id == Review.create_id(world.agency_id, "MC-2024-1")
    review = registry.get(Review, review_id)
    assert review.agency_id == world.agency_id
    assert review.provider_id == world.provider_id
    assert review.spec_version == 1
    assert review.opened_on == date(2024, 1, 10)
    assert review.standing(date(2024, 2, 1)) == Standing.NEGATIVE  # nothing decided yet
    assert registry.get(MicroCredential, world.microcredential_id).review_ids == [review_id]

    with pytest.raises(StateConflict):
        registry.open_review(world.agency, microcredential_id=world.microcredential_id, local_identifier="MC-2024-1")


def test_only_a_registered_agency_opens_reviews(registry):
    world = World(registry)
    with pytest.raises(Forbidden):
        registry.open_review(world.provider, microcredential_id=world.microcredential_id)
    registry.deregister_agency(OPERATOR, world.agency_id, reason="left EQAR")
    with pytest.raises(StateConflict):
        registry.open_review(world.agency, microcredential_id=world.microcredential_id)


def test_a_positive_decision_is_in_force_for_its_validity(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    registry.decide_review(
        world.agency,
        review_id,
        decision="positive",
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 12, 31),
        decided_on=date(2023, 12, 15),
    )

    review = registry.get(Review, review_id)
    assert review.decision.decision == QADecision.POSITIVE
    assert review.decided_on == date(2023, 12, 15)
    assert review.standing(date(2023, 12, 31)) == Standing.NOT_YET_VALID
    assert review.standing(date(2024, 1, 1)) == Standing.IN_FORCE
    assert review.standing(date(2025, 12, 31)) == Standing.IN_FORCE
    assert review.standing(date(2026, 1, 1)) == Standing.EXPIRED


def test_a_decision_without_dates_runs_six_years_from_the_decision(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    registry.decide_review(world.agency, review_id, decision="positive", decided_on=date(2024, 3, 1))

    decision = registry.get(Review, review_id).decision
    assert decision.valid_from == date(2024, 3, 1)
    assert decision.valid_to == date(2024, 3, 1) + timedelta(days=6 * 365)


def test_a_negative_decision_gives_no_cover(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    registry.decide_review(world.agency, review_id, decision="negative", decided_on=date(2024, 1, 1))
    assert registry.get(Review, review_id).standing(date(2024, 6, 1)) == Standing.NEGATIVE


def test_a_conditional_decision_states_its_conditions(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    with pytest.raises(InvalidInput) as refused:
        registry.decide_review(world.agency, review_id, decision="positive with conditions or restrictions")
    assert refused.value.field == "conditions"

    registry.decide_review(
        world.agency,
        review_id,
        decision="positive with conditions or restrictions",
        conditions="Add a supervised exam",
        decided_on=date(2024, 1, 1),
    )
    assert registry.get(Review, review_id).standing(date(2024, 6, 1)) == Standing.IN_FORCE


def test_only_the_agency_that_opened_the_review_records_its_report_and_decision(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    other_id = registry.register_agency(OPERATOR, name="Other Agency", country="DE", registered_on=date(2015, 1, 1))
    other = Actor(other_id, Role.QA_AGENCY, key_id="other")
    before = registry.recorder.max_notification_id()

    with pytest.raises(Forbidden):
        registry.decide_review(other, review_id, decision="positive")
    with pytest.raises(Forbidden):
        registry.publish_review_report(other, review_id, url="https://other.example/report")
    with pytest.raises(Forbidden):
        registry.withdraw_review(other, review_id, reason="not mine")
    with pytest.raises(Forbidden):  # the reviewed provider neither
        registry.decide_review(world.provider, review_id, decision="positive")
    with pytest.raises(Forbidden):  # nor the operator
        registry.decide_review(OPERATOR, review_id, decision="positive")
    assert registry.recorder.max_notification_id() == before
    assert registry.get(Review, review_id).decision is None


def test_a_review_is_decided_once_and_changed_only_by_appeal(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    with pytest.raises(StateConflict):
        registry.appeal_review(world.agency, review_id, grounds="nothing decided yet")

    registry.decide_review(world.agency, review_id, decision="negative", decided_on=date(2024, 1, 1))
    with pytest.raises(StateConflict):
        registry.decide_review(world.agency, review_id, decision="positive")
    with pytest.raises(StateConflict):
        registry.decide_review_appeal(world.agency, review_id, outcome="upheld")

    registry.appeal_review(
        world.agency, review_id, grounds="the panel misread the syllabus", effective=date(2024, 2, 1)
    )
    with pytest.raises(StateConflict):
        registry.appeal_review(world.agency, review_id, grounds="twice")
    with pytest.raises(InvalidInput) as refused:
        registry.decide_review_appeal(world.agency, review_id, outcome="overturned")
    assert refused.value.field == "decision"
    with pytest.raises(InvalidInput) as refused:
        registry.decide_review_appeal(world.agency, review_id, outcome="upheld", decision="positive")
    assert refused.value.field == "decision"

    registry.decide_review_appeal(
        world.agency, review_id, outcome="overturned", decision="positive", decided_on=date(2024, 3, 1)
    )
    review = registry.get(Review, review_id)
    assert review.appeal_outcome == AppealOutcome.OVERTURNED
    assert review.decision.decision == QADecision.POSITIVE
    assert review.decided_on == date(2024, 3, 1)
    assert review.standing(date(2024, 3, 1)) == Standing.IN_FORCE
    assert review.standing(date(2024, 2, 29)) == Standing.NOT_YET_VALID


def test_an_upheld_appeal_keeps_the_decision(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    registry.decide_review(world.agency, review_id, decision="negative", decided_on=date(2024, 1, 1))
    registry.appeal_review(world.agency, review_id, grounds="unfair", effective=date(2024, 2, 1))
    registry.decide_review_appeal(world.agency, review_id, outcome="upheld", decided_on=date(2024, 3, 1))

    review = registry.get(Review, review_id)
    assert review.appeal_outcome == AppealOutcome.UPHELD
    assert review.decision.decision == QADecision.NEGATIVE
    assert review.decided_on == date(2024, 1, 1)
    assert not review.is_under_appeal


def test_a_report_needs_a_url_or_a_summary(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    with pytest.raises(InvalidInput) as refused:
        registry.publish_review_report(world.agency, review_id)
    assert refused.value.field == "url"
    with pytest.raises(InvalidInput) as refused:
        registry.publish_review_report(world.agency, review_id, url="ftp://qa.example/report.pdf")
    assert refused.value.field == "url"

    registry.publish_review_report(
        world.agency, review_id, url="https://qa.example/report.pdf", published_on=date(2024, 1, 20)
    )
    report = registry.get(Review, review_id).report
    assert report.url == "https://qa.example/report.pdf"
    assert report.published_on == date(2024, 1, 20)


def test_a_decision_cannot_be_dated_in_the_future(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    with pytest.raises(InvalidInput) as refused:
        registry.decide_review(
            world.agency, review_id, decision="positive", decided_on=registry.today() + timedelta(days=1)
        )
    assert (refused.value.field, refused.value.rule) == ("decided_on", "may not be in the future")


def test_a_withdrawn_review_is_closed_to_changes(registry):
    world = World(registry)
    review_id = registry.open_review(world.agency, microcredential_id=world.microcredential_id)
    registry.decide_review(world.agency, review_id, decision="positive", decided_on=date(2024, 1, 1))
    registry.withdraw_review(world.agency, review_id, reason="provider misled the panel", effective=date(2024, 7, 1))

    review = registry.get(Review, review_id)
    assert review.standing(date(2024, 6, 30)) == Standing.IN_FORCE
    assert review.standing(date(2024, 7, 1)) == Standing.WITHDRAWN
    for change in (
        lambda: registry.withdraw_review(world.agency, review_id, reason="again"),
        lambda: registry.appeal_review(world.agency, review_id, grounds="too late"),
        lambda: registry.publish_review_report(world.agency, review_id, summary="late report"),
    ):
        with pytest.raises(StateConflict):
            change()


def test_a_positive_review_alone_lets_the_provider_issue_while_it_is_in_force(registry):
    world = World(registry)
    provider, microcredential_id = unaccredited_microcredential(world)
    issue = lambda day: registry.issue_credential(  # noqa: E731
        provider, microcredential_id=microcredential_id, learner=learner(), issued_on=day
    )

    with pytest.raises(NoQualityAssurance):
        issue(date(2024, 3, 1))

    review_id = registry.open_review(world.agency, microcredential_id=microcredential_id)
    registry.decide_review(
        world.agency,
        review_id,
        decision="positive with conditions or restrictions",
        conditions="Add an exam",
        valid_from=date(2024, 1, 1),
        valid_to=date(2024, 12, 31),
        decided_on=date(2023, 12, 1),
    )
    credential = registry.get(Credential, issue(date(2024, 3, 1)))

    review = registry.get(Review, review_id)
    assert credential.qa_basis.kind == BasisKind.REVIEW
    assert credential.qa_basis.id == review_id
    assert credential.qa_basis.version == review.version
    with pytest.raises(NoQualityAssurance):
        issue(date(2023, 12, 31))
    with pytest.raises(NoQualityAssurance):
        issue(date(2025, 1, 1))


def test_a_review_covers_nothing_while_its_agency_is_suspended(registry):
    world = World(registry)
    provider, microcredential_id = unaccredited_microcredential(world)
    review_id = registry.open_review(world.agency, microcredential_id=microcredential_id)
    registry.decide_review(world.agency, review_id, decision="positive", decided_on=date(2024, 1, 1))
    registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR", effective=date(2024, 5, 1))
    assert not registry.get(Agency, world.agency_id).in_good_standing(date(2024, 6, 1))

    with pytest.raises(NoQualityAssurance):
        registry.issue_credential(
            provider, microcredential_id=microcredential_id, learner=learner(), issued_on=date(2024, 6, 1)
        )
    issued = registry.issue_credential(
        provider, microcredential_id=microcredential_id, learner=learner(), issued_on=date(2024, 4, 30)
    )
    assert registry.get(Credential, issued).qa_basis.id == review_id


def test_a_negative_or_withdrawn_review_gives_no_cover(registry):
    world = World(registry)
    provider, microcredential_id = unaccredited_microcredential(world)
    negative = registry.open_review(world.agency, microcredential_id=microcredential_id)
    registry.decide_review(world.agency, negative, decision="negative", decided_on=date(2024, 1, 1))
    withdrawn = registry.open_review(world.agency, microcredential_id=microcredential_id)
    registry.decide_review(world.agency, withdrawn, decision="positive", decided_on=date(2024, 1, 1))
    registry.withdraw_review(world.agency, withdrawn, reason="misled", effective=date(2024, 2, 1))

    with pytest.raises(NoQualityAssurance):
        registry.issue_credential(
            provider, microcredential_id=microcredential_id, learner=learner(), issued_on=date(2024, 3, 1)
        )


def test_an_unknown_agency_id_cannot_review(registry):
    world = World(registry)
    with pytest.raises(NotFound):
        registry.open_review(Actor(uuid4(), Role.QA_AGENCY), microcredential_id=world.microcredential_id)
