"""The national authorities' dashboard: counts only, never learner data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TypeVar

import strawberry

from mcreg.api.graphql.paging import month_text
from mcreg.projections.dashboard_queries import DashboardFigures
from mcreg.projections.dashboard_queries import QACoverage as DashboardCoverage
from mcreg.projections.dashboard_queries import Volumes as DashboardVolumes

K = TypeVar("K")
V = TypeVar("V")


@strawberry.type
class Counts:
    """Credentials issued, and how many of those are revoked now."""

    issued: int
    revoked: int


@strawberry.type
class CountryCounts:
    country: str
    issued: int
    revoked: int


@strawberry.type
class LevelCounts:
    eqf_level: int | None = strawberry.field(description="None: no EQF level applies")
    issued: int
    revoked: int


@strawberry.type
class FieldCounts:
    isced_broad_field: str
    issued: int
    revoked: int


@strawberry.type
class MonthCounts:
    month: str = strawberry.field(description="YYYY-MM")
    issued: int
    revoked: int


@strawberry.type
class Volumes:
    """Credentials issued (and of those, revoked), in total and by issuer country, EQF level, field and month."""

    total: Counts
    by_country: list[CountryCounts]
    by_eqf_level: list[LevelCounts]
    by_isced_broad_field: list[FieldCounts]
    by_month: list[MonthCounts]

    @staticmethod
    def of(volumes: DashboardVolumes) -> Volumes:
        return Volumes(
            total=Counts(issued=volumes.total.issued, revoked=volumes.total.revoked),
            by_country=[
                CountryCounts(country=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_country)
            ],
            by_eqf_level=[
                LevelCounts(eqf_level=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_eqf_level)
            ],
            by_isced_broad_field=[
                FieldCounts(isced_broad_field=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_field)
            ],
            by_month=[
                MonthCounts(month=month_text(k), issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_month)
            ],
        )


def sorted_counts(counts: Mapping[K, V]) -> list[tuple[K, V]]:
    """Counts in the order of their keys, None last."""
    return sorted(counts.items(), key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0))


@strawberry.type
class StandingCount:
    standing: str
    credentials: int


@strawberry.type
class QACoverage:
    """Credentials by the kind of QA they were issued under, and by where that QA basis stands today."""

    under_accreditation: int
    under_review: int
    total: int
    positive_share: float | None = strawberry.field(
        description="The share whose QA basis is in force today, with its agency in good standing"
    )
    by_standing: list[StandingCount]

    @staticmethod
    def of(coverage: DashboardCoverage) -> QACoverage:
        return QACoverage(
            under_accreditation=coverage.under_accreditation,
            under_review=coverage.under_review,
            total=coverage.total,
            positive_share=coverage.positive_share,
            by_standing=[StandingCount(standing=s, credentials=n) for s, n in sorted_counts(coverage.by_standing)],
        )


@strawberry.type
class OutcomeCount:
    outcome: str
    recognitions: int
    share: float = strawberry.field(description="Of the decided recognitions counted together")


def outcome_counts(outcomes: Mapping[str, int]) -> list[OutcomeCount]:
    decided = sum(outcomes.values())
    return [OutcomeCount(outcome=o, recognitions=n, share=n / decided) for o, n in sorted_counts(outcomes)]


@strawberry.type
class RecognitionRate:
    """One recognising country's decided recognitions by outcome."""

    country: str
    decided: int
    outcomes: list[OutcomeCount]


@strawberry.type
class CrossBorderFlow:
    """Decided recognitions of credentials issued in one country by institutions of another, by outcome."""

    from_country: str
    to_country: str
    total: int
    outcomes: list[OutcomeCount]


@strawberry.type
class Dashboard:
    """A national authority's figures: no learner personal data, only counts."""

    country: str | None
    from_month: str | None = strawberry.field(name="from", description="YYYY-MM; null: open-ended")
    to_month: str | None = strawberry.field(name="to", description="YYYY-MM; null: open-ended")
    today: date = strawberry.field(description="The day QA standing is counted as of")
    issued: Volumes
    qa_coverage: QACoverage
    recognition_rates: list[RecognitionRate]
    cross_border: list[CrossBorderFlow]

    @staticmethod
    def of(figures: DashboardFigures) -> Dashboard:
        return Dashboard(
            country=figures.country,
            from_month=month_text(figures.from_month) if figures.from_month else None,
            to_month=month_text(figures.to_month) if figures.to_month else None,
            today=figures.today,
            issued=Volumes.of(figures.volumes),
            qa_coverage=QACoverage.of(figures.qa_coverage),
            recognition_rates=[
                RecognitionRate(country=r.country, decided=r.decided, outcomes=outcome_counts(r.outcomes))
                for r in sorted(figures.recognitions, key=lambda r: r.country)
            ],
            cross_border=[
                CrossBorderFlow(
                    from_country=f.from_country,
                    to_country=f.to_country,
                    total=f.total,
                    outcomes=outcome_counts(f.outcomes),
                )
                for f in sorted(figures.cross_border, key=lambda f: (f.from_country, f.to_country))
            ],
        )
