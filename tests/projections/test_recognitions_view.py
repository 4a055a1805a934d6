"""Recognitions as an admissions office or a credential's holder reads them: the decision in force, who issued the
credential where, and what the institution knew of it when deciding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.projections.conftest import issue_many
from tests.projections.histories import contents, record_history
from tests.world import World


def admissions(institution_id: UUID) -> Actor:
    return Actor(institution_id, Role.INSTITUTION, key_id="admissions")


def test_an_institution_reads_its_decisions_with_both_countries_and_what_it_knew_when_deciding(
    services: Services, read_models: ReadModels
):
    history = record_history(services.registry)
    read_models.catch_up(["recognitions"])
    view = read_models.recognitions
    full, overturned, partial, withdrawn = history.recognitions

    rows = view.of_institution(history.de_institution_id).rows

    assert [row.recognition_id for row in rows] == [full, overturned, withdrawn]  # in the order requested
    first = view.get(full)
    assert (first.credential_id, first.institution_id, first.institution_country) == (
        history.nl_credentials[0],
        history.de_institution_id,
        "DE",
    )
    assert (first.issuer_id, first.issuer_country) == (history.world.provider_id, "NL")
    assert (first.purpose, first.requested_by, first.requested_on, first.status) == (
        "credit_transfer",
        "learner",
        date(2024, 4, 2),
        "decided",
    )
    assert (first.outcome, first.ects_recognised, first.differences, first.decided_on) == (
        "recognised",
        Decimal(5),
        [],
        date(2024, 5, 1),
    )
    basis = services.registry.get(Credential, history.nl_credentials[0]).qa_basis
    assert (first.credential_status, first.qa_basis_kind, first.qa_basis_id, first.qa_basis_version) == (
        "active",
        "accreditation",
        basis.id,
        basis.version,
    )
    assert (first.qa_standing, first.appeal) == ("in_force", None)

    # Refused, appealed, and overturned: the appeal's decision is the one in force.
    second = view.get(overturned)
    assert (second.issuer_country, second.status, second.outcome, second.ects_recognised) == (
        "BE",
        "appeal_decided",
        "recognised_partially",
        Decimal(2),
    )
    # The table keeps the differences sealed under the learner's key; the registry opens them.
    assert "No lab work" not in str(second.differences)
    assert services.registry.opened_differences(overturned, second.substantial_differences) == [
        ("No lab work", "The programme requires supervised lab work")
    ]
    assert (second.decided_on, second.appeal_lodged_on, second.appeal_outcome, second.appeal) == (
        date(2024, 7, 1),
        date(2024, 6, 10),
        "overturned",
        "overturned",
    )
    assert (second.qa_basis_kind, second.qa_basis_id, second.qa_standing) == ("review", history.review_id, "in_force")

    third = view.get(withdrawn)
    assert (third.status, third.withdrawn_on, third.outcome, third.decided_on) == (
        "withdrawn",
        date(2024, 6, 1),
        None,
        None,
    )
    assert [row.recognition_id for row in view.of_institution(history.de_institution_id, "decided").rows] == [full]
    assert view.of_institution(history.world.provider_id).rows == (view.get(partial),)


def test_a_credentials_holder_sees_every_institutions_decision_on_it(
    services: Services, world: World, read_models: ReadModels
):
    registry = services.registry
    (credential_id,) = issue_many(world, 1)
    registry.suspend_credential(world.provider, credential_id, reason="fees unpaid", effective=date(2024, 4, 1))
    institutions = [world.register_provider(country, f"University {country}") for country in ("DE", "FR", "BE")]
    read_models.catch_up(["recognitions"])  # the credential and institutions in one page, the requests in others
    requests = []
    for institution_id in institutions:
        requests.append(
            registry.request_recognition(
                admissions(institution_id),
                credential_id=credential_id,
                institution_id=institution_id,
                purpose="admission",
                requested_on=date(2024, 4, 20),
            )
        )
        read_models.catch_up(["recognitions"])
    registry.decide_recognition(
        admissions(institutions[0]),
        requests[0],
        outcome="refused",
        ects_recognised="0",
        differences=[("Suspended credential", "The issuer suspended it")],
        decided_on=date(2024, 5, 1),
    )
    read_models.catch_up(["recognitions"])
    view = read_models.recognitions

    first = view.of_credential(credential_id, limit=2)
    rest = view.of_credential(credential_id, limit=2, after=first.after)

    assert [row.recognition_id for row in first.rows + rest.rows] == requests
    assert (first.has_next, rest.has_next) == (True, False)
    assert [row.institution_country for row in first.rows + rest.rows] == ["DE", "FR", "BE"]
    decided = first.rows[0]
    assert (decided.outcome, decided.credential_status, decided.qa_standing) == ("refused", "suspended", "in_force")
    assert view.of_credential(institutions[0]).rows == ()
    assert view.outcomes_of(credential_id) == {"refused": 1}  # decided ones only, counted in one query
    assert view.outcomes_of(institutions[0]) == {}


def test_catching_up_a_page_of_one_event_at_a_time_equals_a_rebuild(services: Services, read_models: ReadModels):
    record_history(services.registry, between=lambda: read_models.catch_up(["recognitions"], page_size=1))
    projected = contents(read_models, "recognitions")

    assert read_models.check(["recognitions"]).equal
    read_models.rebuild(["recognitions"])
    assert contents(read_models, "recognitions") == projected
