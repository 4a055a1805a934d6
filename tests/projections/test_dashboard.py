"""The national authorities' dashboard: volumes, QA coverage as it stands today, recognition rates and cross-border
flows, each equal to a count over the registry's own aggregates."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from mcreg.bootstrap import Services
from mcreg.demo import build_demo
from mcreg.projections.dashboard import DashboardView
from mcreg.projections.dashboard_queries import IssuedCount, Volumes
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.projections.conftest import issue_many
from tests.projections.histories import History, contents, record_history
from tests.world import OPERATOR, SPEC, World

AFTERWARDS = date(2025, 6, 1)
"""A day after every effective date of the histories below: "today" for the dashboard."""


@pytest.fixture
def dashboard(read_models: ReadModels) -> DashboardView:
    view = read_models.dashboard
    assert isinstance(view, DashboardView)
    return view


@pytest.fixture
def history(services: Services, read_models: ReadModels) -> History:
    history = record_history(services.registry)
    read_models.catch_up(["dashboard"])
    return history


def test_credentials_are_counted_by_country_level_field_and_month_with_those_revoked(
    history: History, dashboard: DashboardView
):
    nl = dashboard.dashboard("NL", today=AFTERWARDS).volumes

    assert nl.total == (4, 1)  # issued, of which revoked
    assert nl.by_month == {date(2024, 3, 1): (3, 0), date(2024, 4, 1): (1, 1)}
    assert (nl.by_country, nl.by_eqf_level, nl.by_field) == ({"NL": (4, 1)}, {6: (4, 1)}, {"06": (4, 1)})
    everywhere = dashboard.dashboard(today=AFTERWARDS).volumes
    assert (everywhere.total, everywhere.by_country) == ((6, 1), {"BE": (2, 0), "NL": (4, 1)})
    assert everywhere.by_eqf_level == {5: (2, 0), 6: (4, 1)}
    spring = dashboard.dashboard(from_month=date(2024, 4, 20), to_month=date(2024, 5, 31), today=AFTERWARDS)
    assert spring.volumes.by_month == {date(2024, 4, 1): (1, 1), date(2024, 5, 1): (2, 0)}
    assert (spring.from_month, spring.to_month) == (date(2024, 4, 1), date(2024, 5, 1))
    assert dashboard.dashboard("DE", today=AFTERWARDS).volumes == Volumes((0, 0), {}, {}, {}, {})

    assert dashboard.issued_cells("NL") == (
        IssuedCount("NL", 6, "06", date(2024, 3, 1), issued=3, revoked=0),
        IssuedCount("NL", 6, "06", date(2024, 4, 1), issued=1, revoked=1),
    )
    assert dashboard.issued_cells(from_month=date(2024, 5, 1)) == (
        IssuedCount("BE", 5, "06", date(2024, 5, 1), issued=2, revoked=0),
    )


def test_credentials_without_an_eqf_level_share_one_cell(
    services: Services, world: World, read_models: ReadModels, dashboard: DashboardView
):
    registry = services.registry
    unlevelled = registry.specify_microcredential(
        world.provider, provider_id=world.provider_id, specified_on=date(2023, 1, 1), **{**SPEC, "eqf_level": None}
    )
    review_id = registry.open_review(world.agency, microcredential_id=unlevelled, opened_on=date(2023, 2, 1))
    registry.decide_review(world.agency, review_id, decision="positive", decided_on=date(2023, 6, 1))
    world.issue(date(2024, 3, 1), microcredential_id=unlevelled)
    read_models.catch_up(["dashboard"])
    world.issue(date(2024, 3, 5), microcredential_id=unlevelled)  # counted in the same cell, in a later page
    read_models.catch_up(["dashboard"])

    figures = dashboard.dashboard(today=AFTERWARDS)

    assert figures.volumes.by_eqf_level == {None: (2, 0)}
    assert dashboard.issued_cells() == (IssuedCount("NL", None, "06", date(2024, 3, 1), issued=2, revoked=0),)
    assert (figures.qa_coverage.under_review, figures.qa_coverage.by_standing) == (2, {"in_force": 2})


def test_a_withdrawal_after_issuance_takes_the_credentials_out_of_positive_qa_coverage(
    services: Services, world: World, read_models: ReadModels, dashboard: DashboardView
):
    registry = services.registry
    issue_many(world, 4, issued_on=date(2024, 3, 1))
    read_models.catch_up(["dashboard"])

    before = dashboard.dashboard("NL", today=date(2024, 6, 1)).qa_coverage
    assert (before.under_accreditation, before.under_review, before.by_standing) == (4, 0, {"in_force": 4})
    assert before.positive_share == 1.0

    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="ESG", effective=date(2024, 7, 1))
    read_models.catch_up(["dashboard"])

    after = dashboard.dashboard("NL", today=date(2024, 8, 1)).qa_coverage
    assert (after.under_accreditation, after.by_standing, after.positive_share) == (4, {"withdrawn": 4}, 0.0)
    assert dashboard.dashboard("DE", today=date(2024, 8, 1)).qa_coverage.positive_share is None  # nothing issued


def test_qa_coverage_follows_agency_standing_and_expiry_and_counts_reviews_apart(
    history: History, services: Services, read_models: ReadModels, dashboard: DashboardView
):
    # The Dutch accreditation is withdrawn (2024-10-01); the Belgian credentials rest on a review, in force.
    coverage = dashboard.dashboard(today=AFTERWARDS).qa_coverage
    assert (coverage.under_accreditation, coverage.under_review) == (4, 2)
    assert coverage.by_standing == {"withdrawn": 4, "in_force": 2}
    assert coverage.positive_share == pytest.approx(2 / 6)

    services.registry.suspend_agency(OPERATOR, history.world.agency_id, reason="EQAR review", effective=AFTERWARDS)
    read_models.catch_up(["dashboard"])
    assert dashboard.dashboard("BE", today=AFTERWARDS).qa_coverage.by_standing == {"agency_not_in_good_standing": 2}
    assert dashboard.dashboard("BE", today=date(2027, 5, 1)).qa_coverage.by_standing == {"expired": 2}


def test_recognitions_by_outcome_per_recognising_country_and_cross_border_flows(
    history: History, dashboard: DashboardView
):
    figures = dashboard.dashboard(today=AFTERWARDS)

    rates = {r.country: r for r in figures.recognitions}
    assert rates.keys() == {"DE", "NL"}  # the withdrawn request was never decided
    assert rates["DE"].outcomes == {"recognised": 1, "recognised_partially": 1}  # the refusal was overturned
    assert (rates["DE"].decided, rates["DE"].rates) == (2, {"recognised": 0.5, "recognised_partially": 0.5})
    assert rates["NL"].outcomes == {"recognised_partially": 1}
    assert figures.recognition_outcomes == {"recognised": 1, "recognised_partially": 2}
    assert {(f.from_country, f.to_country): f.outcomes for f in figures.cross_border} == {
        ("BE", "DE"): {"recognised_partially": 1},
        ("BE", "NL"): {"recognised_partially": 1},
        ("NL", "DE"): {"recognised": 1},
    }

    belgian = dashboard.dashboard("BE", today=AFTERWARDS)
    assert belgian.recognitions == ()  # no Belgian institution decided anything
    assert {(f.from_country, f.to_country) for f in belgian.cross_border} == {("BE", "DE"), ("BE", "NL")}
    # A recognition counts in the month of the decision in force: the overturning one is in July.
    june = dashboard.dashboard("DE", to_month=date(2024, 6, 1), today=AFTERWARDS)
    assert [(r.country, r.outcomes) for r in june.recognitions] == [("DE", {"recognised": 1})]


def test_an_overturned_decision_moves_its_count_when_projected_in_between(
    services: Services, world: World, read_models: ReadModels, dashboard: DashboardView
):
    registry = services.registry
    (credential_id,) = issue_many(world, 1)
    institution_id = world.register_provider("DE", "Technische Universität Beispiel")
    de = Actor(institution_id, Role.INSTITUTION, key_id="de-admissions")
    recognition_id = registry.request_recognition(
        de,
        credential_id=credential_id,
        institution_id=institution_id,
        purpose="admission",
        requested_on=date(2024, 4, 1),
    )
    registry.decide_recognition(
        de,
        recognition_id,
        outcome="refused",
        ects_recognised="0",
        differences=[("No lab work", "Required")],
        decided_on=date(2024, 5, 1),
    )
    read_models.catch_up(["dashboard"])
    assert [f.outcomes for f in dashboard.dashboard(today=AFTERWARDS).cross_border] == [{"refused": 1}]

    registry.appeal_recognition(de, recognition_id, grounds="lab work done online", effective=date(2024, 5, 10))
    registry.decide_recognition_appeal(
        de,
        recognition_id,
        outcome="overturned",
        recognition_outcome="recognised",
        ects_recognised="5",
        decided_on=date(2024, 6, 1),
    )
    read_models.catch_up(["dashboard"])

    assert [f.outcomes for f in dashboard.dashboard(today=AFTERWARDS).cross_border] == [{"recognised": 1}]
    assert dashboard.rows("dashboard_recognition_counts") == [
        {
            "issuer_country": "NL",
            "recognising_country": "DE",
            "month": date(2024, 6, 1),
            "outcome": "recognised",
            "recognitions": 1,
        }
    ]


def test_the_figures_of_a_demo_registry_equal_counts_over_its_aggregates(
    services: Services, read_models: ReadModels, dashboard: DashboardView
):
    registry = services.registry
    build_demo(registry, credentials=300, seed=7)
    read_models.catch_up(["credential_status", "recognitions", "dashboard"], page_size=97)
    today = registry.today()

    issued: Counter = Counter()
    revoked: Counter = Counter()
    standing: Counter = Counter()
    for row in read_models.credential_status.rows("credential_status"):
        credential = registry.get(Credential, row["credential_id"])
        spec = registry.get(MicroCredential, credential.microcredential_id).specification_at(credential.spec_version)
        country = registry.get(Provider, credential.provider_id).country
        cell = (country, spec.eqf_level, spec.isced_field[:2], credential.issued_on.replace(day=1))
        issued[cell] += 1
        revoked[cell] += credential.revoked_on is not None
        standing[registry.qa_standing(credential.qa_basis, today).standing.value] += 1
    decided: Counter = Counter()
    for row in read_models.recognitions.rows("recognitions"):
        recognition = registry.get(Recognition, row["recognition_id"])
        if recognition.verdict is not None:
            decided[row["issuer_country"], row["institution_country"], recognition.verdict.outcome.value] += 1

    figures = dashboard.dashboard(today=today)

    cells = dashboard.issued_cells()
    assert {(c.issuer_country, c.eqf_level, c.isced_broad, c.month): c.issued for c in cells} == issued
    assert {(c.issuer_country, c.eqf_level, c.isced_broad, c.month): c.revoked for c in cells} == revoked
    assert figures.volumes.total == (sum(issued.values()), sum(revoked.values()))
    by_level: Counter = Counter()
    for (_, eqf_level, _, _), n in issued.items():
        by_level[eqf_level] += n
    assert {level: counts.issued for level, counts in figures.volumes.by_eqf_level.items()} == by_level
    assert figures.qa_coverage.by_standing == standing
    flows = {(f.from_country, f.to_country, o): n for f in figures.cross_border for o, n in f.outcomes.items()}
    assert flows == {key: n for key, n in decided.items() if key[0] != key[1]}
    by_recognising_country: Counter = Counter()
    for (_, to, outcome), n in decided.items():
        by_recognising_country[to, outcome] += n
    assert {(r.country, o): n for r in figures.recognitions for o, n in r.outcomes.items()} == by_recognising_country


def test_catching_up_a_page_of_one_event_at_a_time_equals_a_rebuild(services: Services, read_models: ReadModels):
    record_history(services.registry, between=lambda: read_models.catch_up(["dashboard"], page_size=1))
    projected = contents(read_models, "dashboard")

    assert read_models.check(["dashboard"]).equal
    read_models.rebuild(["dashboard"])
    assert contents(read_models, "dashboard") == projected
