"""Provider standing: who accredited a provider, for what, until when, on which conditions; who reviewed its
micro-credentials and with what outcome; and where each agency's registration stands."""

from __future__ import annotations

from datetime import date

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from tests.projections.histories import contents, record_history
from tests.world import OPERATOR, World


def test_an_institution_reads_a_providers_accreditations_with_scope_conditions_suspension_and_withdrawal(
    services: Services, world: World, read_models: ReadModels
):
    registry, agency = services.registry, world.agency
    conditional = registry.grant_accreditation(
        agency,
        provider_id=world.provider_id,
        outcome="positive with conditions or restrictions",
        local_identifier="INST-2022-7",
        valid_from=date(2022, 1, 1),
        valid_to=date(2027, 12, 31),
        eqf_levels=[8],
        isced_fields=["0613"],
        jurisdictions=["NL", "BE"],
        conditions=[("Publish the assessment policy", date(2022, 6, 30)), ("Train examiners", date(2023, 1, 31))],
        report_url="https://qa.example.org/reports/inst-2022-7",
        decided_on=date(2021, 11, 15),
    )
    read_models.catch_up(["provider_standing"])  # later events change rows of an earlier page
    registry.fulfil_accreditation_condition(agency, conditional, condition=0, effective=date(2022, 5, 2))
    registry.renew_accreditation(agency, conditional, valid_to=date(2028, 12, 31), effective=date(2023, 1, 5))
    registry.suspend_accreditation(agency, conditional, reason="examiners untrained", effective=date(2023, 2, 1))
    registry.withdraw_accreditation(agency, conditional, reason="conditions not met", effective=date(2023, 3, 1))
    read_models.catch_up(["provider_standing"])

    standing = read_models.provider_standing.standing(world.provider_id)

    assert standing.provider.names == {"en": "Universiteit Voorbeeld"}
    first, withdrawn = standing.accreditations  # oldest validity first
    assert (first.accreditation_id, first.outcome, first.eqf_levels, first.isced_fields) == (
        world.accreditation_id,
        "positive",
        [5, 6, 7],
        ["06"],
    )
    assert (first.valid_from, first.valid_to, first.withdrawn_on, first.conditions) == (
        date(2021, 1, 1),
        date(2026, 12, 31),
        None,
        (),
    )
    assert (withdrawn.agency_id, withdrawn.granted_by, withdrawn.local_identifier) == (
        world.agency_id,
        world.agency_id,
        "INST-2022-7",
    )
    assert (withdrawn.outcome, withdrawn.decided_on) == ("positive with conditions or restrictions", date(2021, 11, 15))
    assert (withdrawn.eqf_levels, withdrawn.isced_fields, withdrawn.jurisdictions) == ([8], ["0613"], ["BE", "NL"])
    assert withdrawn.micro_credentials is True
    assert (withdrawn.valid_from, withdrawn.valid_to) == (date(2022, 1, 1), date(2028, 12, 31))  # renewed
    assert withdrawn.report_url == "https://qa.example.org/reports/inst-2022-7"  # a renewal without a report keeps it
    assert [(c.number, c.text, c.deadline, c.fulfilled_on) for c in withdrawn.conditions] == [
        (0, "Publish the assessment policy", date(2022, 6, 30), date(2022, 5, 2)),
        (1, "Train examiners", date(2023, 1, 31), None),
    ]
    assert (withdrawn.suspended_since, withdrawn.suspension_reason) == (date(2023, 2, 1), "examiners untrained")
    assert (withdrawn.withdrawn_on, withdrawn.withdrawal_reason) == (date(2023, 3, 1), "conditions not met")


def test_the_reviews_of_a_providers_micro_credentials_show_decision_validity_and_appeal(
    services: Services, read_models: ReadModels
):
    history = record_history(services.registry)
    read_models.catch_up(["provider_standing"])
    view = read_models.provider_standing

    standing = view.standing(history.be_provider_id)

    assert standing.provider.names == {"nl": "Hogeschool Voorbeeld", "fr": "Haute École Exemple"}
    assert (standing.provider.country, standing.provider.provider_type, standing.provider.deqar_id) == (
        "BE",
        "vocational",
        "DEMOINST0099",
    )
    (by_authority,) = standing.accreditations
    assert (by_authority.agency_id, by_authority.eqf_levels, by_authority.isced_fields) == (None, [7], [])
    (review,) = standing.reviews
    assert (review.review_id, review.agency_id, review.microcredential_id) == (
        history.review_id,
        history.world.agency_id,
        history.be_microcredential_id,
    )
    assert (review.spec_version, review.local_identifier, review.opened_on) == (1, "MC-BE-1", date(2022, 1, 10))
    assert (review.report_url, review.report_summary, review.report_published_on) == (
        "https://qa.example.org/reports/mc-be-1",
        "Sound",
        date(2022, 3, 1),
    )
    # The appeal overturned the negative decision: the new decision and its validity replace the first.
    assert (review.decision, review.valid_from, review.valid_to, review.decided_on) == (
        "positive",
        date(2022, 5, 1),
        date(2027, 4, 30),
        date(2022, 5, 1),
    )
    assert (review.appeal_lodged_on, review.appeal_outcome, review.appeal) == (
        date(2022, 3, 20),
        "overturned",
        "overturned",
    )
    assert review.withdrawn_on is None
    assert view.reviews_of([history.world.provider_id]) == {}
    assert view.accreditations_of([history.be_provider_id, history.world.provider_id]).keys() == {
        history.be_provider_id,
        history.world.provider_id,
    }


def test_a_withdrawn_review_and_a_pending_appeal(services: Services, world: World, read_models: ReadModels):
    registry, agency = services.registry, world.agency
    pending = registry.open_review(agency, microcredential_id=world.microcredential_id, opened_on=date(2023, 1, 2))
    registry.decide_review(agency, pending, decision="negative", decided_on=date(2023, 3, 1))
    registry.appeal_review(agency, pending, grounds="criteria misapplied", effective=date(2023, 3, 15))
    withdrawn = registry.open_review(agency, microcredential_id=world.microcredential_id, opened_on=date(2023, 4, 1))
    registry.withdraw_review(agency, withdrawn, reason="opened in error", effective=date(2023, 4, 2))
    read_models.catch_up(["provider_standing"])

    reviews = {r.review_id: r for r in read_models.provider_standing.reviews_of([world.provider_id])[world.provider_id]}

    assert (reviews[pending].decision, reviews[pending].appeal) == ("negative", "pending")
    assert (reviews[withdrawn].decision, reviews[withdrawn].appeal) == (None, None)
    assert (reviews[withdrawn].withdrawn_on, reviews[withdrawn].withdrawal_reason) == (
        date(2023, 4, 2),
        "opened in error",
    )


def test_providers_of_a_country_a_page_at_a_time_and_agencies_with_their_registration(
    services: Services, world: World, read_models: ReadModels
):
    registry = services.registry
    nl = {world.provider_id} | {world.register_provider("NL", f"Hogeschool {i}") for i in range(4)}
    world.register_provider("DE", "Universität Beispiel")
    registry.rename_provider(world.provider, world.provider_id, names={"en": "Example University", "nl": "Voorbeeld"})
    registry.close_provider(OPERATOR, next(iter(nl - {world.provider_id})), effective=date(2024, 8, 1))
    registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2024, 2, 1))
    read_models.catch_up(["provider_standing"])
    view = read_models.provider_standing

    first = view.providers("NL", limit=2)
    second = view.providers("NL", limit=2, after=first.after)
    third = view.providers("NL", limit=2, after=second.after)

    pages = [first.rows, second.rows, third.rows]
    assert [len(rows) for rows in pages] == [2, 2, 1]
    assert {p.provider_id for rows in pages for p in rows} == nl
    assert sorted(p.provider_id for rows in pages for p in rows) == [p.provider_id for rows in pages for p in rows]
    assert (first.has_next, second.has_next, third.has_next) == (True, True, False)
    assert {p.country for p in view.providers(limit=10).rows} == {"NL", "DE"}
    assert view.providers("NL", "vocational").rows == ()
    assert view.provider(world.provider_id).names == {"en": "Example University", "nl": "Voorbeeld"}
    assert [p.closed_on for p in view.providers_by_id(nl).values() if p.closed_on] == [date(2024, 8, 1)]

    agency = view.agency(world.agency_id)
    assert (agency.name, agency.acronym, agency.country, agency.registered_on) == (
        "Quality Agency",
        "QA",
        "NL",
        date(2015, 1, 1),
    )
    assert (agency.status, agency.suspended_since, agency.suspension_reason) == (
        "suspended",
        date(2024, 2, 1),
        "EQAR review",
    )
    registry.reinstate_agency(OPERATOR, world.agency_id, effective=date(2024, 3, 1))
    registry.deregister_agency(OPERATOR, world.agency_id, reason="left EQAR", effective=date(2024, 12, 31))
    read_models.catch_up(["provider_standing"])
    agency = view.agency(world.agency_id)
    assert (agency.status, agency.suspended_since, agency.deregistered_on) == ("deregistered", None, date(2024, 12, 31))
    assert view.agencies("NL").rows == (agency,)
    assert view.agencies("DE").rows == ()


def test_catching_up_a_page_of_one_event_at_a_time_equals_a_rebuild(services: Services, read_models: ReadModels):
    record_history(services.registry, between=lambda: read_models.catch_up(["provider_standing"], page_size=1))
    projected = contents(read_models, "provider_standing")

    assert read_models.check(["provider_standing"]).equal
    read_models.rebuild(["provider_standing"])
    assert contents(read_models, "provider_standing") == projected
