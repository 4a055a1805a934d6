"""What the dashboard answers, and how: its figures, read from the counters ``dashboard`` keeps.

A dashboard is four small GROUP BYs over counters, read as of one moment;
QA standing is decided at query time (``STANDING``), so it is exact for any
day without a credential event ever being recounted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Identifier

from mcreg.projections.listing import where
from mcreg.registry.quality import BasisKind
from mcreg.registry.vocabulary import Standing


class Counts(NamedTuple):
    """Credentials issued, and how many of those are revoked now."""

    issued: int
    revoked: int


@dataclass(frozen=True, slots=True)
class IssuedCount:
    """Credentials issued in one country, at one EQF level (None: not applicable), in one broad field and month."""

    issuer_country: str
    eqf_level: int | None
    isced_broad: str
    month: date
    issued: int
    revoked: int  # of those issued, how many are revoked now


@dataclass(frozen=True, slots=True)
class Volumes:
    """Credentials issued (and of those, revoked), in total and by each of the four dimensions of their cells."""

    total: Counts
    by_country: Mapping[str, Counts]
    by_eqf_level: Mapping[int | None, Counts]  # None: no EQF level applies
    by_field: Mapping[str, Counts]  # ISCED-F broad field
    by_month: Mapping[date, Counts]  # month of issue (its first day)


@dataclass(frozen=True, slots=True)
class QACoverage:
    """Credentials by the kind of QA they were issued under, and by where that QA basis stands today."""

    under_accreditation: int
    under_review: int
    by_standing: Mapping[str, int]  # Standing value → credentials

    @property
    def total(self) -> int:
        return self.under_accreditation + self.under_review

    @property
    def positive_share(self) -> float | None:
        """The share of credentials whose QA basis is in force today (with its agency in good standing)."""
        return self.by_standing.get(Standing.IN_FORCE, 0) / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class RecognitionRates:
    """One recognising country's decided recognitions by outcome."""

    country: str
    outcomes: Mapping[str, int]

    @property
    def decided(self) -> int:
        return sum(self.outcomes.values())

    @property
    def rates(self) -> dict[str, float]:
        """Each outcome's share of the decisions."""
        return {outcome: count / self.decided for outcome, count in self.outcomes.items()}


@dataclass(frozen=True, slots=True)
class Flow:
    """Decided recognitions of credentials issued in one country by institutions of another, by outcome."""

    from_country: str
    to_country: str
    outcomes: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True, slots=True)
class DashboardFigures:
    """A national authority's figures: for one country if given (issuer country for credentials, recognising
    country for recognition rates, either end for flows), between two months if given (the month of issue for
    credentials, of the decision in force for recognitions), with QA standing as of ``today``."""

    country: str | None
    from_month: date | None
    to_month: date | None
    today: date
    volumes: Volumes
    qa_coverage: QACoverage
    recognitions: tuple[RecognitionRates, ...]
    cross_border: tuple[Flow, ...]

    @property
    def recognition_outcomes(self) -> dict[str, int]:
        """Decided recognitions by outcome, all recognising countries together."""
        total: Counter[str] = Counter()
        for rates in self.recognitions:
            total.update(rates.outcomes)
        return dict(total)


STANDING = (
    "CASE WHEN b.withdrawn_on <= %(today)s THEN 'withdrawn' "
    "WHEN NOT b.positive THEN 'negative' "
    "WHEN %(today)s < b.valid_from THEN 'not_yet_valid' "
    "WHEN %(today)s > b.valid_to THEN 'expired' "
    "WHEN b.suspended_since <= %(today)s THEN 'suspended' "
    "WHEN a.agency_id IS NOT NULL AND NOT (a.registered_on <= %(today)s "
    "AND (a.deregistered_on IS NULL OR %(today)s < a.deregistered_on) "
    "AND (a.suspended_since IS NULL OR %(today)s < a.suspended_since)) THEN 'agency_not_in_good_standing' "
    "ELSE 'in_force' END"
)
"""Where a QA basis stands today, as ``Accreditation.standing`` / ``Review.standing`` and the agency's good standing
say. Exact for any day on or after the last effective date recorded (effective dates are never in the future): by
then every suspension that has ended lies in the past, so only an open one counts."""


SELECT_CELLS_OF_ISSUE = SQL(
    "SELECT issuer_country, eqf_level, isced_broad, month, issued, revoked FROM {schema}.dashboard_issued"
    "{where} ORDER BY issuer_country, month, eqf_level NULLS FIRST, isced_broad"
)
# Totals by each dimension in one pass; GROUPING tells a total by EQF level "none" (a NULL level) from the
# NULL of a dimension rolled up: its bit is set for each column summed over (country is the highest bit).
SELECT_VOLUMES = SQL(
    "SELECT GROUPING(issuer_country, eqf_level, isced_broad, month) AS summed, issuer_country, eqf_level, "
    "isced_broad, month, sum(issued)::integer AS issued, sum(revoked)::integer AS revoked "
    "FROM {schema}.dashboard_issued{where} "
    "GROUP BY GROUPING SETS ((issuer_country), (eqf_level), (isced_broad), (month), ()) "
    "ORDER BY 1, 2, 3 NULLS FIRST, 4, 5"
)
ISSUED_CONDITIONS = {
    "country": SQL("issuer_country = %(country)s"),
    "from_month": SQL("month >= %(from_month)s"),
    "to_month": SQL("month <= %(to_month)s"),
}
SELECT_COVERAGE = SQL(
    "SELECT b.kind, " + STANDING + " AS standing, sum(c.credentials)::integer AS credentials "
    "FROM {schema}.dashboard_qa_credentials AS c JOIN {schema}.dashboard_qa_bases AS b USING (basis_id) "
    "LEFT JOIN {schema}.dashboard_qa_agencies AS a ON a.agency_id = b.agency_id{where} GROUP BY 1, 2"
)
COVERAGE_CONDITIONS = {
    "country": SQL("c.issuer_country = %(country)s"),
    "from_month": SQL("c.month >= %(from_month)s"),
    "to_month": SQL("c.month <= %(to_month)s"),
}
SELECT_RECOGNITIONS_BY_COUNTRY = SQL(
    "SELECT recognising_country, outcome, sum(recognitions)::integer AS recognitions "
    "FROM {schema}.dashboard_recognition_counts{where} GROUP BY 1, 2 ORDER BY 1, 2"
)
RECOGNITION_CONDITIONS = {
    "country": SQL("recognising_country = %(country)s"),
    "from_month": SQL("month >= %(from_month)s"),
    "to_month": SQL("month <= %(to_month)s"),
}
SELECT_FLOWS = SQL(
    "SELECT issuer_country, recognising_country, outcome, sum(recognitions)::integer AS recognitions "
    "FROM {schema}.dashboard_recognition_counts{where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
CROSS_BORDER_CONDITION = SQL("issuer_country <> recognising_country")
FLOW_CONDITIONS = {
    "country": SQL("(issuer_country = %(country)s OR recognising_country = %(country)s)"),
    "from_month": SQL("month >= %(from_month)s"),
    "to_month": SQL("month <= %(to_month)s"),
}


class DashboardQueries:
    """The dashboard's reading side, for its view: the figures, and the cells they total."""

    datastore: PostgresDatastore
    schema: Identifier
    snapshot_statement: SQL

    def dashboard(
        self,
        country: str | None = None,
        from_month: date | None = None,
        to_month: date | None = None,
        *,
        today: date | None = None,
    ) -> DashboardFigures:
        """The figures for one country (all if None) between two months (any day of each; open-ended if None),
        read as of one moment; QA standing as of ``today`` (the system's date by default)."""
        today = today or date.today()
        from_month = from_month.replace(day=1) if from_month else None
        to_month = to_month.replace(day=1) if to_month else None
        params = {"country": country, "from_month": from_month, "to_month": to_month, "today": today}
        with self.datastore.transaction() as curs:
            curs.execute(self.snapshot_statement)
            volumes = self.select(curs, SELECT_VOLUMES, ISSUED_CONDITIONS, params)
            coverage = self.select(curs, SELECT_COVERAGE, COVERAGE_CONDITIONS, params)
            by_country = self.select(curs, SELECT_RECOGNITIONS_BY_COUNTRY, RECOGNITION_CONDITIONS, params)
            flows = self.select(curs, SELECT_FLOWS, FLOW_CONDITIONS, params, always=[CROSS_BORDER_CONDITION])
        under: Counter[str] = Counter()
        standing: Counter[str] = Counter()
        for row in coverage:
            under[row["kind"]] += row["credentials"]
            standing[row["standing"]] += row["credentials"]
        return DashboardFigures(
            country=country,
            from_month=from_month,
            to_month=to_month,
            today=today,
            volumes=volumes_of(volumes),
            qa_coverage=QACoverage(under[BasisKind.ACCREDITATION], under[BasisKind.REVIEW], dict(standing)),
            recognitions=tuple(
                RecognitionRates(recognising_country, outcomes)
                for recognising_country, outcomes in grouped(by_country, ("recognising_country",)).items()
            ),
            cross_border=tuple(
                Flow(issuer, recognising, outcomes)
                for (issuer, recognising), outcomes in grouped(flows, ("issuer_country", "recognising_country")).items()
            ),
        )

    def issued_cells(
        self, country: str | None = None, from_month: date | None = None, to_month: date | None = None
    ) -> tuple[IssuedCount, ...]:
        """Every cell of credentials issued, for drilling down: of one country (all if None) between two months
        (any day of each; open-ended if None), by country, month, EQF level and field."""
        params = {
            "country": country,
            "from_month": from_month.replace(day=1) if from_month else None,
            "to_month": to_month.replace(day=1) if to_month else None,
        }
        with self.datastore.transaction() as curs:
            rows = self.select(curs, SELECT_CELLS_OF_ISSUE, ISSUED_CONDITIONS, params)
        return tuple(IssuedCount(**row) for row in rows)

    def select(
        self,
        curs: Cursor[DictRow],
        statement: SQL,
        conditions: Mapping[str, Composable],
        params: dict[str, Any],
        always: Iterable[Composable] = (),
    ) -> list[DictRow]:
        """The rows of a statement whose ``{where}`` takes the conditions that apply."""
        curs.execute(statement.format(schema=self.schema, where=where(conditions, params, always)), params)
        return curs.fetchall()


VOLUME_DIMENSIONS = {0b0111: "issuer_country", 0b1011: "eqf_level", 0b1101: "isced_broad", 0b1110: "month"}
"""The column each grouping set of ``select_volumes_statement`` totals by, by its GROUPING bits."""


def volumes_of(rows: Iterable[DictRow]) -> Volumes:
    """The volumes from the rows of ``select_volumes_statement``."""
    by: dict[str, dict[Any, Counts]] = {column: {} for column in VOLUME_DIMENSIONS.values()}
    total = Counts(0, 0)
    for row in rows:
        counts = Counts(row["issued"] or 0, row["revoked"] or 0)  # sums are NULL when nothing matched
        if column := VOLUME_DIMENSIONS.get(row["summed"]):
            by[column][row[column]] = counts
        else:  # the grand total
            total = counts
    return Volumes(total, by["issuer_country"], by["eqf_level"], by["isced_broad"], by["month"])


def grouped(rows: Iterable[DictRow], by: tuple[str, ...]) -> dict[Any, dict[str, int]]:
    """Counts by outcome, per group of rows with equal ``by`` columns (a single column's value, or a tuple)."""
    groups: dict[Any, dict[str, int]] = {}
    for row in rows:
        key = row[by[0]] if len(by) == 1 else tuple(row[name] for name in by)
        groups.setdefault(key, {})[row["outcome"]] = row["recognitions"]
    return groups
