"""The dashboard's indicators: each as of a day, as known at another, equal to what the history recorded, and a
rebuild gives the same counters as pages of one event at a time."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from uuid import uuid4

import pytest

from mcreg.bootstrap import Services
from mcreg.demo import build_demo
from mcreg.projections.indicators import IndicatorChanges, IndicatorsView
from mcreg.projections.indicators_queries import day_bands, percentile
from mcreg.projections.read_models import ReadModels
from mcreg.projections.timelines import BasisState
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.provider import Provider
from tests.projections.histories import History, contents, record_history
from tests.world import OPERATOR

AFTERWARDS = date(2025, 6, 1)


@pytest.fixture
def indicators(read_models: ReadModels) -> IndicatorsView:
    return read_models.indicators


@pytest.fixture
def history(services: Services, read_models: ReadModels) -> History:
    history = record_history(services.registry)
    read_models.catch_up(["indicators"])
    return history


def test_stocks_are_counted_as_of_a_day(history: History, indicators: IndicatorsView) -> None:
    now = indicators.indicators(as_of=AFTERWARDS)
    assert now.providers == {"in_force": 2, "not_accredited": 1}  # NL and BE accredited, the German institution not
    assert now.agencies == {"registered": 1, "deregistered": 1}
    assert now.specifications_by_eqf_level == {"6": 1}  # the Belgian one retired
    assert now.specifications_by_ects == {"6_to_15": 1}  # revised from 5 to 6 ECTS
    assert now.credentials_by_qa == {"withdrawn": 4, "in_force": 2}

    before = indicators.indicators(as_of=date(2023, 1, 20))
    assert before.agencies == {"registered": 1, "suspended": 1}
    assert before.specifications_by_eqf_level == {"6": 1, "5": 1}
    assert before.specifications_by_ects == {"3_to_6": 2}
    assert before.credentials_by_qa == {}  # none issued yet
    assert indicators.indicators(as_of=date(2020, 6, 1)).providers == {"in_force": 1, "not_accredited": 2}  # BE
    assert indicators.indicators("NL", as_of=date(2024, 6, 1)).credentials_by_qa == {"in_force": 4}


def test_flows_are_counted_by_month_with_reason_codes_only(history: History, indicators: IndicatorsView) -> None:
    nl = indicators.indicators("NL", as_of=AFTERWARDS)
    assert nl.issued == {date(2024, 3, 1): 3, date(2024, 4, 1): 1}
    assert nl.revoked == {date(2024, 6, 1): {"fraud": 1}}
    assert nl.suspended == {date(2024, 4, 1): 1}
    everywhere = indicators.indicators(as_of=AFTERWARDS)
    assert everywhere.issued == {date(2024, 3, 1): 3, date(2024, 4, 1): 1, date(2024, 5, 1): 2}
    assert everywhere.reviews == {date(2022, 3, 1): {"negative": 1}}
    assert indicators.indicators(as_of=date(2024, 3, 31)).issued == {date(2024, 3, 1): 3}


def test_recognitions_by_both_countries_outcome_days_and_appeals(history: History, indicators: IndicatorsView) -> None:
    now = indicators.indicators(as_of=AFTERWARDS)
    assert sorted((f.recognising_country, f.issuer_country, dict(f.outcomes)) for f in now.flows) == [
        ("DE", "BE", {"recognised_partially": 1}),  # refused, then overturned on appeal
        ("DE", "NL", {"recognised": 1}),
        ("NL", "BE", {"recognised_partially": 1}),
    ]
    assert now.outcomes == {"recognised": 1, "recognised_partially": 2}
    assert now.decision_days == {29: 1, 22: 1, 34: 1}
    assert (percentile(now.decision_days, 0.5), percentile(now.decision_days, 0.9)) == (29, 34)
    assert day_bands(now.decision_days)["8_to_30"] == 2
    assert now.appeals == {"recognition": {"lodged": 1, "overturned": 1}, "review": {"lodged": 1, "overturned": 1}}
    before_appeal = indicators.indicators(as_of=date(2024, 6, 20))
    assert before_appeal.outcomes == {"recognised": 1, "refused": 1, "recognised_partially": 1}

    nl = indicators.indicators("NL", as_of=AFTERWARDS)  # given by NL institutions, or received by NL credentials
    assert sorted((f.recognising_country, f.issuer_country) for f in nl.flows) == [("DE", "NL"), ("NL", "BE")]
    assert nl.outcomes == {"recognised_partially": 1}  # decided by NL institutions


def test_learners_erased_are_counts_for_the_whole_registry(
    history: History, services: Services, read_models: ReadModels, indicators: IndicatorsView
) -> None:
    learner_id = services.registry.get(Credential, history.nl_credentials[0]).learner_id
    services.registry.forget_learner(OPERATOR, learner_id)
    read_models.catch_up(["indicators"])
    today = services.registry.today()
    assert indicators.indicators(as_of=today).learners_erased == 1
    assert indicators.indicators("BE", as_of=today).learners_erased == 1  # a learner has no country here
    assert indicators.indicators(as_of=today, known_at=today - timedelta(days=1)).learners_erased == 0


def test_as_known_at_counts_only_what_was_recorded_by_then(indicators: IndicatorsView) -> None:
    """A withdrawal recorded on 1 March, effective on 1 February: as of 15 February, an auditor asking what the
    registry knew on 20 February sees the accreditation in force; asking now, withdrawn."""
    provider, accreditation, credential = uuid4(), uuid4(), uuid4()
    granted, issued, withdrawn, recorded = date(2024, 1, 1), date(2024, 1, 10), date(2024, 2, 1), date(2024, 3, 1)
    basis = BasisState("accreditation", str(provider), granted, True, granted, date(2028, 12, 31))

    def withdraw(state: BasisState) -> None:
        state.withdrawn_on = withdrawn

    steps = IndicatorChanges()
    steps.add(lambda t: t.provider_registered(provider, "NL", granted, granted), provider)
    steps.add(lambda t: t.basis_opened(accreditation, basis, granted), accreditation, provider)
    steps.add(lambda t: t.issued(credential, provider, accreditation, issued, issued), provider, accreditation)
    steps.add(lambda t: t.basis_changed(accreditation, withdraw, recorded), accreditation)
    indicators.apply("test", 0, 1, steps)

    as_of = date(2024, 2, 15)
    known_then = indicators.indicators(as_of=as_of, known_at=date(2024, 2, 20))
    assert (known_then.providers, known_then.credentials_by_qa) == ({"in_force": 1}, {"in_force": 1})
    known_now = indicators.indicators(as_of=as_of)
    assert (known_now.providers, known_now.credentials_by_qa) == ({"withdrawn": 1}, {"withdrawn": 1})
    assert indicators.indicators(as_of=as_of, known_at=date(2023, 12, 31)).providers == {}
    assert indicators.indicators(as_of=date(2024, 1, 20), known_at=recorded).providers == {"in_force": 1}


def test_the_figures_of_a_demo_registry_equal_counts_over_its_aggregates(
    services: Services, read_models: ReadModels, indicators: IndicatorsView
) -> None:
    registry = services.registry
    build_demo(registry, credentials=300, seed=7)
    read_models.catch_up(["credential_status", "indicators"], page_size=97)
    today = registry.today()

    issued: Counter[tuple[str, date]] = Counter()
    revoked: Counter[tuple[str, str]] = Counter()
    for row in read_models.credential_status.rows("credential_status"):
        credential = registry.get(Credential, row["credential_id"])
        country = registry.get(Provider, credential.provider_id).country
        issued[country, credential.issued_on.replace(day=1)] += 1
        if credential.revocation_reason is not None:
            revoked[country, credential.revocation_reason.value] += 1

    for country in {c for c, _ in issued}:
        figures = indicators.indicators(country, as_of=today)
        assert figures.issued == {month: n for (c, month), n in issued.items() if c == country}
        by_reason: Counter[str] = Counter()
        for reasons in figures.revoked.values():
            by_reason.update(reasons)
        assert by_reason == {reason: n for (c, reason), n in revoked.items() if c == country}
    assert sum(indicators.indicators(as_of=today).credentials_by_qa.values()) == sum(issued.values())
    assert read_models.check(["indicators"]).equal  # pages of 97 events build what one rebuild does


def test_catching_up_a_page_of_one_event_at_a_time_equals_a_rebuild(services: Services, read_models: ReadModels):
    record_history(services.registry, between=lambda: read_models.catch_up(["indicators"], page_size=1))
    projected = contents(read_models, "indicators")

    assert read_models.check(["indicators"]).equal
    read_models.rebuild(["indicators"])
    assert contents(read_models, "indicators") == projected
