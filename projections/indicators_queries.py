"""What the dashboard's indicators answer, and how: one GROUP BY over their counter moves, as of one day and as
known at another.

"As of" a day sums the moves that take effect by the end of it; "as known at" a day sums only those the registry
had recorded by the end of it (UTC): the granularity of both is a day. Stocks (providers by status, agencies,
specifications, credentials by QA standing, recognitions in force) are summed whole; flows (credentials issued,
revoked, suspended, reviews decided) by month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

FLOWS = ("issued", "revoked", "suspended", "reviews")
"""Indicators counted by month; the others are summed whole."""

SELECT_INDICATORS = SQL(
    "SELECT indicator, CASE WHEN indicator = 'recognitions' THEN country ELSE '' END AS country, category, partner, "
    "CASE WHEN indicator = ANY(%(flows)s) THEN date_trunc('month', effective)::date END AS month, "
    "sum(n)::integer AS n FROM {schema}.dashboard_facts "
    "WHERE effective <= %(as_of)s AND (%(known_at)s::date IS NULL OR recorded <= %(known_at)s) "
    "AND (%(country)s::text IS NULL OR country = %(country)s OR indicator = 'erased' "
    "OR (indicator = 'recognitions' AND partner = %(country)s)) "
    "GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 5, 2, 3, 4"
)


@dataclass(frozen=True, slots=True)
class Flow:
    """Decided recognitions in force of credentials issued in one country by institutions of another, by outcome."""

    recognising_country: str
    issuer_country: str
    outcomes: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True, slots=True)
class Indicators:
    """The dashboard's indicators for one country (all if None), as of one day, as known at another (all that
    is recorded if None). Categories are codes (statuses, outcomes, reason codes), never free text."""

    country: str | None
    as_of: date
    known_at: date | None
    providers: Mapping[str, int]  # by accreditation status
    agencies: Mapping[str, int]  # by status
    reviews: Mapping[date, Mapping[str, int]]  # by month decided, then outcome
    specifications_by_eqf_level: Mapping[str, int]  # "none" where no level applies
    specifications_by_field: Mapping[str, int]  # ISCED-F broad field
    specifications_by_ects: Mapping[str, int]  # ECTS band
    issued: Mapping[date, int]  # by month
    revoked: Mapping[date, Mapping[str, int]]  # by month, then reason code
    suspended: Mapping[date, int]  # by month
    credentials_by_qa: Mapping[str, int]  # by the standing of the QA each was issued under
    flows: tuple[Flow, ...]  # recognitions in force, by recognising and issuer country
    decision_days: Mapping[int, int]  # first decisions, by the days from request to decision
    appeals: Mapping[str, Mapping[str, int]]  # by subject (recognition, review), then lodged/upheld/overturned
    learners_erased: int  # in the whole registry: a learner has no country here

    @property
    def outcomes(self) -> dict[str, int]:
        """Decided recognitions in force by outcome: those taken by the country's institutions (all if None)."""
        counted: dict[str, int] = {}
        for flow in self.flows:
            if self.country is None or flow.recognising_country == self.country:
                for outcome, n in flow.outcomes.items():
                    counted[outcome] = counted.get(outcome, 0) + n
        return counted


class IndicatorQueries:
    """The indicators' reading side, for their view."""

    datastore: PostgresDatastore
    schema: Identifier
    snapshot_statement: SQL

    def indicators(self, country: str | None = None, *, as_of: date, known_at: date | None = None) -> Indicators:
        """The indicators of one country (all if None) as of ``as_of``, as known at ``known_at`` (if given)."""
        params = {"country": country, "as_of": as_of, "known_at": known_at, "flows": list(FLOWS)}
        with self.datastore.transaction() as curs:
            curs.execute(SELECT_INDICATORS.format(schema=self.schema), params)
            rows = curs.fetchall()
        stocks: dict[str, dict[str, int]] = {}
        monthly: dict[str, dict[date, dict[str, int]]] = {}
        flows: dict[tuple[str, str], dict[str, int]] = {}
        appeals: dict[str, dict[str, int]] = {}
        days: dict[int, int] = {}
        for row in rows:
            indicator, category, n = row["indicator"], row["category"], row["n"]
            if row["month"] is not None:
                monthly.setdefault(indicator, {}).setdefault(row["month"], {})[category] = n
            elif indicator == "recognitions":
                flows.setdefault((row["country"], row["partner"]), {})[category] = n
            elif indicator == "appeals":
                appeals.setdefault(row["partner"], {})[category] = n
            elif indicator == "decision_days":
                days[int(category)] = days.get(int(category), 0) + n
            else:
                counts = stocks.setdefault(indicator, {})
                counts[category] = counts.get(category, 0) + n
        return Indicators(
            country=country,
            as_of=as_of,
            known_at=known_at,
            providers=stocks.get("providers", {}),
            agencies=stocks.get("agencies", {}),
            reviews=monthly.get("reviews", {}),
            specifications_by_eqf_level=stocks.get("specifications_eqf", {}),
            specifications_by_field=stocks.get("specifications_field", {}),
            specifications_by_ects=stocks.get("specifications_ects", {}),
            issued=totals(monthly.get("issued", {})),
            revoked=monthly.get("revoked", {}),
            suspended=totals(monthly.get("suspended", {})),
            credentials_by_qa=stocks.get("credentials_qa", {}),
            flows=tuple(Flow(recognising, issuer, outcomes) for (recognising, issuer), outcomes in flows.items()),
            decision_days=days,
            appeals=appeals,
            learners_erased=stocks.get("erased", {}).get("", 0),
        )


def totals(by_month: Mapping[date, Mapping[str, int]]) -> dict[date, int]:
    return {month: sum(counts.values()) for month, counts in by_month.items()}


def percentile(histogram: Mapping[int, int], share: float) -> int | None:
    """The smallest value with at least ``share`` of the counted values at or below it (the median at 0.5)."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= share * total:
            break
    return value


DAY_BANDS = ((7, "up_to_7"), (30, "8_to_30"), (90, "31_to_90"), (180, "91_to_180"))
"""Days to decision, banded (inclusive upper bounds); over the last, "over_180"."""


def day_bands(histogram: Mapping[int, int]) -> dict[str, int]:
    banded: dict[str, int] = {band: 0 for _, band in DAY_BANDS} | {"over_180": 0}
    for days, n in histogram.items():
        banded[next((band for bound, band in DAY_BANDS if days <= bound), "over_180")] += n
    return banded
