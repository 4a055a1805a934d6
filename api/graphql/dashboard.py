"""The national authorities' dashboard: counts only, never learner data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from mcreg.api.graphql.context import GraphQLContext
from mcreg.api.graphql.counts import sorted_counts
from mcreg.api.graphql.indicators import IndicatorsObject, read_indicators
from mcreg.api.graphql.paging import month_text
from mcreg.projections.dashboard_queries import DashboardFigures, QACoverage, Volumes


@strawberry.type(name="Counts")
class CountsObject:
    """Credentials issued, and how many of those are revoked now."""

    issued: int
    revoked: int


@strawberry.type(name="CountryCounts")
class CountryCountsObject:
    country: str
    issued: int
    revoked: int


@strawberry.type(name="LevelCounts")
class LevelCountsObject:
    eqf_level: int | None = strawberry.field(description="None: no EQF level applies")
    issued: int
    revoked: int


@strawberry.type(name="FieldCounts")
class FieldCountsObject:
    isced_broad_field: str
    issued: int
    revoked: int


@strawberry.type(name="MonthCounts")
class MonthCountsObject:
    month: str = strawberry.field(description="YYYY-MM")
    issued: int
    revoked: int


@strawberry.type(name="Volumes")
class VolumesObject:
    """Credentials issued (and of those, revoked), in total and by issuer country, EQF level, field and month."""

    total: CountsObject
    by_country: list[CountryCountsObject]
    by_eqf_level: list[LevelCountsObject]
    by_isced_broad_field: list[FieldCountsObject]
    by_month: list[MonthCountsObject]

    @staticmethod
    def of(volumes: Volumes) -> VolumesObject:
        return VolumesObject(
            total=CountsObject(issued=volumes.total.issued, revoked=volumes.total.revoked),
            by_country=[
                CountryCountsObject(country=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_country)
            ],
            by_eqf_level=[
                LevelCountsObject(eqf_level=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_eqf_level)
            ],
            by_isced_broad_field=[
                FieldCountsObject(isced_broad_field=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_field)
            ],
            by_month=[
                MonthCountsObject(month=month_text(k), issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_month)
            ],
        )


@strawberry.type(name="StandingCount")
class StandingCountObject:
    standing: str
    credentials: int


@strawberry.type(name="QACoverage")
class QACoverageObject:
    """Credentials by the kind of QA they were issued under, and by where that QA basis stands today."""

    under_accreditation: int
    under_review: int
    total: int
    positive_share: float | None = strawberry.field(
        description="The share whose QA basis is in force today, with its agency in good standing"
    )
    by_standing: list[StandingCountObject]

    @staticmethod
    def of(coverage: QACoverage) -> QACoverageObject:
        return QACoverageObject(
            under_accreditation=coverage.under_accreditation,
            under_review=coverage.under_review,
            total=coverage.total,
            positive_share=coverage.positive_share,
            by_standing=[
                StandingCountObject(standing=s, credentials=n) for s, n in sorted_counts(coverage.by_standing)
            ],
        )


@strawberry.type(name="OutcomeCount")
class OutcomeCountObject:
    outcome: str
    recognitions: int
    share: float = strawberry.field(description="Of the decided recognitions counted together")


def outcome_counts(outcomes: Mapping[str, int]) -> list[OutcomeCountObject]:
    decided = sum(outcomes.values())
    return [OutcomeCountObject(outcome=o, recognitions=n, share=n / decided) for o, n in sorted_counts(outcomes)]


@strawberry.type(name="RecognitionRate")
class RecognitionRateObject:
    """One recognising country's decided recognitions by outcome."""

    country: str
    decided: int
    outcomes: list[OutcomeCountObject]


@strawberry.type(name="CrossBorderFlow")
class CrossBorderFlowObject:
    """Decided recognitions of credentials issued in one country by institutions of another, by outcome."""

    from_country: str
    to_country: str
    total: int
    outcomes: list[OutcomeCountObject]


@strawberry.type(name="Dashboard")
class DashboardObject:
    """A national authority's figures: no learner personal data, only counts."""

    country: str | None
    from_month: str | None = strawberry.field(name="from", description="YYYY-MM; null: open-ended")
    to_month: str | None = strawberry.field(name="to", description="YYYY-MM; null: open-ended")
    today: date = strawberry.field(description="The day QA standing is counted as of: asOf if given")
    known_at: date | None = strawberry.field(description="Indicators count only what was recorded by this day (UTC)")
    issued: VolumesObject
    qa_coverage: QACoverageObject
    recognition_rates: list[RecognitionRateObject]
    cross_border: list[CrossBorderFlowObject]

    @strawberry.field(description="The indicators as of today (asOf), as known at knownAt")
    async def indicators(self, info: Info[GraphQLContext, None]) -> IndicatorsObject:
        return await run_in_threadpool(
            read_indicators, info.context.read_models, self.country, self.today, self.known_at
        )

    @staticmethod
    def of(figures: DashboardFigures, known_at: date | None = None) -> DashboardObject:
        return DashboardObject(
            country=figures.country,
            known_at=known_at,
            from_month=month_text(figures.from_month) if figures.from_month else None,
            to_month=month_text(figures.to_month) if figures.to_month else None,
            today=figures.today,
            issued=VolumesObject.of(figures.volumes),
            qa_coverage=QACoverageObject.of(figures.qa_coverage),
            recognition_rates=[
                RecognitionRateObject(country=r.country, decided=r.decided, outcomes=outcome_counts(r.outcomes))
                for r in sorted(figures.recognitions, key=lambda r: r.country)
            ],
            cross_border=[
                CrossBorderFlowObject(
                    from_country=f.from_country,
                    to_country=f.to_country,
                    total=f.total,
                    outcomes=outcome_counts(f.outcomes),
                )
                for f in sorted(figures.cross_border, key=lambda f: (f.from_country, f.to_country))
            ],
        )
