"""The dashboard's indicators in GraphQL, as of a day and as known at another: counts by code, never free text.

``read_indicators`` is what the ``Dashboard.indicators`` field resolves with, and what the dashboard page
renders, so the page's numbers are the API's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import strawberry

from mcreg.api.graphql.counts import sorted_counts
from mcreg.api.graphql.paging import month_text
from mcreg.projections.indicators_queries import Indicators, day_bands, percentile
from mcreg.projections.read_models import ReadModels
from mcreg.registry.errors import InvalidInput
from mcreg.registry.vocabulary import Standing

LAPSED = (Standing.EXPIRED, Standing.SUSPENDED, Standing.WITHDRAWN)
"""The standings of a QA basis that has lapsed or been withdrawn."""


@strawberry.type(name="CategoryCount")
class CategoryCountObject:
    category: str = strawberry.field(description="A status, outcome, reason code, EQF level, field or band")
    count: int


@strawberry.type(name="MonthCount")
class MonthCountObject:
    month: str = strawberry.field(description="YYYY-MM")
    count: int


@strawberry.type(name="MonthCategoryCount")
class MonthCategoryCountObject:
    month: str = strawberry.field(description="YYYY-MM")
    category: str
    count: int


@strawberry.type(name="RecognitionFlowCount")
class RecognitionFlowCountObject:
    """Decisions in force, taken by institutions of one country on credentials issued in another, by outcome."""

    recognising_country: str
    issuer_country: str
    outcome: str
    count: int


@strawberry.type(name="AppealCount")
class AppealCountObject:
    subject: str = strawberry.field(description="recognition or review")
    result: str = strawberry.field(description="lodged, upheld or overturned")
    count: int


@strawberry.type(name="DecisionTime")
class DecisionTimeObject:
    """Days from a recognition's request to its first decision."""

    decided: int
    median_days: int | None
    p90_days: int | None = strawberry.field(name="p90Days")
    by_band: list[CategoryCountObject]


@strawberry.type(name="Indicators")
class IndicatorsObject:
    """A national authority's indicators as of one day, as known at another (everything recorded if null)."""

    as_of: date
    known_at: date | None
    providers_by_status: list[CategoryCountObject] = strawberry.field(
        description="The best standing of each provider's accreditations; not_accredited while none has begun"
    )
    agencies_by_status: list[CategoryCountObject]
    reviews_by_month: list[MonthCategoryCountObject] = strawberry.field(description="Reviews decided, by outcome")
    specifications_by_eqf_level: list[CategoryCountObject] = strawberry.field(description="none: no level applies")
    specifications_by_field: list[CategoryCountObject] = strawberry.field(description="ISCED-F broad field")
    specifications_by_ects: list[CategoryCountObject] = strawberry.field(description="ECTS band")
    issued_by_month: list[MonthCountObject]
    revoked_by_month: list[MonthCategoryCountObject] = strawberry.field(description="By reason code")
    suspended_by_month: list[MonthCountObject]
    credentials_by_qa_standing: list[CategoryCountObject] = strawberry.field(
        description="Credentials by where the QA they were issued under stands (its agency's standing aside)"
    )
    credentials_qa_lapsed_or_withdrawn: int
    recognition_flows: list[RecognitionFlowCountObject]
    recognition_outcomes: list[CategoryCountObject] = strawberry.field(
        description="Decisions in force by outcome, taken by the country's institutions (all if no country)"
    )
    decision_time: DecisionTimeObject
    appeals: list[AppealCountObject]
    learners_erased: int = strawberry.field(description="In the whole registry: a learner has no country here")

    @staticmethod
    def of(indicators: Indicators) -> IndicatorsObject:
        days = indicators.decision_days
        return IndicatorsObject(
            as_of=indicators.as_of,
            known_at=indicators.known_at,
            providers_by_status=categories(indicators.providers),
            agencies_by_status=categories(indicators.agencies),
            reviews_by_month=by_month(indicators.reviews),
            specifications_by_eqf_level=categories(indicators.specifications_by_eqf_level),
            specifications_by_field=categories(indicators.specifications_by_field),
            specifications_by_ects=categories(indicators.specifications_by_ects),
            issued_by_month=[
                MonthCountObject(month=month_text(m), count=n) for m, n in sorted_counts(indicators.issued)
            ],
            revoked_by_month=by_month(indicators.revoked),
            suspended_by_month=[
                MonthCountObject(month=month_text(m), count=n) for m, n in sorted_counts(indicators.suspended)
            ],
            credentials_by_qa_standing=categories(indicators.credentials_by_qa),
            credentials_qa_lapsed_or_withdrawn=sum(indicators.credentials_by_qa.get(s, 0) for s in LAPSED),
            recognition_flows=[
                RecognitionFlowCountObject(
                    recognising_country=f.recognising_country, issuer_country=f.issuer_country, outcome=o, count=n
                )
                for f in sorted(indicators.flows, key=lambda f: (f.recognising_country, f.issuer_country))
                for o, n in sorted_counts(f.outcomes)
            ],
            recognition_outcomes=categories(indicators.outcomes),
            decision_time=DecisionTimeObject(
                decided=sum(days.values()),
                median_days=percentile(days, 0.5),
                p90_days=percentile(days, 0.9),
                by_band=[CategoryCountObject(category=b, count=n) for b, n in day_bands(days).items()],
            ),
            appeals=[
                AppealCountObject(subject=subject, result=result, count=n)
                for subject, results in sorted_counts(indicators.appeals)
                for result, n in sorted_counts(results)
            ],
            learners_erased=indicators.learners_erased,
        )


def categories(counts: Mapping[str, int]) -> list[CategoryCountObject]:
    return [CategoryCountObject(category=c, count=n) for c, n in sorted_counts(counts)]


def by_month(counts: Mapping[date, Mapping[str, int]]) -> list[MonthCategoryCountObject]:
    return [
        MonthCategoryCountObject(month=month_text(m), category=c, count=n)
        for m, per_category in sorted_counts(counts)
        for c, n in sorted_counts(per_category)
    ]


def checked_days(as_of: date | None, known_at: date | None, today: date, names: tuple[str, str]) -> date:
    """The day to count as of (today if not given); InvalidInput naming the field (of ``names``: as of, known at)
    when the registry cannot answer: a "known at" day in the future."""
    if known_at is not None and known_at > today:
        raise InvalidInput(names[1], "must not be in the future: the registry cannot know what it has not recorded")
    return as_of or today


def read_indicators(
    read_models: ReadModels, country: str | None, as_of: date, known_at: date | None
) -> IndicatorsObject:
    """The indicators, as ``Dashboard.indicators`` answers them (blocking: call from a thread)."""
    return IndicatorsObject.of(read_models.indicators.indicators(country, as_of=as_of, known_at=known_at))
