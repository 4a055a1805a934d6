"""The national authorities' dashboard: volumes, QA coverage, recognition rates and cross-border flows, pre-counted.

Counts are kept per cell as events arrive, so a dashboard is four small
GROUP BYs over counters, whatever the number of credentials:

- credentials issued and how many of them are revoked, by issuer country, EQF
  level, ISCED-F broad field and month of issue (the dashboard totals them by
  each dimension; ``issued_cells`` lists the cells, to drill down);
- credentials per QA basis (the accreditation or review each was issued
  under) and month. Whether a basis is positive *today* changes without any
  credential event (a withdrawal, a suspension of the agency, an expiry), so
  the counts are joined at query time with each basis's standing, kept from
  the accreditation, review and agency events: exact, and never recounted;
- decided recognitions by issuer country, recognising country, month of the
  decision in force and outcome; an appeal that overturns a decision moves
  its recognition from one cell to another.

The lookups a cell needs (a provider's country, a specification's level and
field, a credential's cell) are kept in tables of the dashboard's own. Nothing
here says anything of a learner. The figures, and the queries that read them,
are in ``dashboard_queries``.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.countries import ProviderCountries, countries_table
from mcreg.projections.dashboard_queries import DashboardQueries
from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.tables import Rows, Table, TableWriter
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import MicroCredential, Specification
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.aggregates.review import Decision, Review
from mcreg.registry.quality import BasisKind
from mcreg.registry.vocabulary import QA_COVER

PROVIDERS = countries_table("dashboard_providers")
SPECS = Table(
    "dashboard_specs",
    columns=(
        ("microcredential_id", "uuid"),
        ("spec_version", "int4"),
        ("eqf_level", "int4"),
        ("isced_broad", "text NOT NULL"),
    ),
    key=("microcredential_id", "spec_version"),
)
CREDENTIALS = Table(
    "dashboard_credentials",
    columns=(
        ("credential_id", "uuid"),
        ("issuer_country", "text NOT NULL"),
        ("eqf_level", "int4"),
        ("isced_broad", "text NOT NULL"),
        ("month", "date NOT NULL"),
    ),
    key=("credential_id",),
)
AGENCIES = Table(
    "dashboard_qa_agencies",
    columns=(
        ("agency_id", "uuid"),
        ("registered_on", "date NOT NULL"),
        ("suspended_since", "date"),
        ("deregistered_on", "date"),
    ),
    key=("agency_id",),
    settable=("suspended_since", "deregistered_on"),
)
BASES = Table(
    "dashboard_qa_bases",
    columns=(
        ("basis_id", "uuid"),
        ("kind", "text NOT NULL"),
        ("agency_id", "uuid"),
        ("positive", "bool NOT NULL"),
        ("valid_from", "date"),
        ("valid_to", "date"),
        ("suspended_since", "date"),
        ("withdrawn_on", "date"),
    ),
    key=("basis_id",),
    settable=("positive", "valid_from", "valid_to", "suspended_since", "withdrawn_on"),
)
ISSUED = Table(
    "dashboard_issued",
    columns=(
        ("issuer_country", "text NOT NULL"),
        ("eqf_level", "int4"),
        ("isced_broad", "text NOT NULL"),
        ("month", "date NOT NULL"),
        ("issued", "int4 NOT NULL"),
        ("revoked", "int4 NOT NULL"),
    ),
    # A level that does not apply (NULL) is a cell of its own, not one per credential: a unique index, not a key.
    key=("issuer_country", "month", "eqf_level", "isced_broad"),
    primary=False,
)
"""Counters: credentials issued and revoked, per cell."""
QA_CREDENTIALS = Table(
    "dashboard_qa_credentials",
    columns=(("basis_id", "uuid"), ("issuer_country", "text"), ("month", "date"), ("credentials", "int4 NOT NULL")),
    key=("basis_id", "issuer_country", "month"),
)
"""Counters: credentials per QA basis, issuer country and month."""
RECOGNITION_COUNTS = Table(
    "dashboard_recognition_counts",
    columns=(
        ("issuer_country", "text"),
        ("recognising_country", "text"),
        ("month", "date"),
        ("outcome", "text"),
        ("recognitions", "int4 NOT NULL"),
    ),
    key=("recognising_country", "month", "issuer_country", "outcome"),
)
"""Counters: decided recognitions per cell (``FlowCell``)."""
RECOGNITIONS = Table(
    "dashboard_recognitions",
    columns=(
        ("recognition_id", "uuid"),
        ("issuer_country", "text NOT NULL"),
        ("recognising_country", "text NOT NULL"),
        ("outcome", "text"),
        ("month", "date"),
    ),
    key=("recognition_id",),
    settable=("outcome", "month"),
)
TABLES = (SPECS, CREDENTIALS, ISSUED, AGENCIES, BASES, QA_CREDENTIALS, RECOGNITIONS, RECOGNITION_COUNTS)
"""The dashboard's tables beside its providers' countries, in the order the view has always listed them."""


class Cell(NamedTuple):
    """Where a credential is counted."""

    issuer_country: str
    eqf_level: int | None
    isced_broad: str
    month: date


class FlowCell(NamedTuple):
    """Where a decided recognition is counted."""

    issuer_country: str
    recognising_country: str
    month: date
    outcome: str


class Issue(NamedTuple):
    """What a credential's cell and QA basis are found from; a page's credentials are counted by it."""

    provider_id: UUID
    microcredential_id: UUID
    spec_version: int
    month: date
    basis_id: UUID


class CountedVerdict(NamedTuple):
    """The decision in force on a recognition: its outcome, and the month it was taken."""

    outcome: str
    month: date


@dataclass
class Requested:
    """A recognition requested in the page, with its decision if that was taken in the page too."""

    credential_id: UUID
    institution_id: UUID
    verdict: CountedVerdict | None = None


@dataclass
class Specs:
    """A page's specifications of one micro-credential: numbered from ``first``, or after the last one stored."""

    first: int | None
    levels: list[tuple[int | None, str]] = field(default_factory=list)  # (EQF level, ISCED-F broad field)


@dataclass
class DashboardChanges:
    """A page's changes: to the lookups, and the events that move counters."""

    providers: Rows = field(default_factory=PROVIDERS.changes)
    agencies: Rows = field(default_factory=AGENCIES.changes)
    bases: Rows = field(default_factory=BASES.changes)
    specs: dict[UUID, Specs] = field(default_factory=dict)
    issued: dict[Issue, list[UUID]] = field(default_factory=dict)  # the page's credentials, by issue
    revoked: list[UUID] = field(default_factory=list)
    requested: dict[UUID, Requested] = field(default_factory=dict)
    verdicts: dict[UUID, CountedVerdict] = field(default_factory=dict)  # on recognitions requested in earlier pages


class DashboardView(DashboardQueries, View[DashboardChanges]):
    """The dashboard's counters and lookups, written a page at a time; ``dashboard`` reads them."""

    tables = tuple(t.name for t in (PROVIDERS, *TABLES))

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.providers = ProviderCountries(self.schema, PROVIDERS)
        self.sql_create_statements.append(self.providers.create_statement)
        self.sql_create_statements.extend(t.create_statement(self.schema) for t in TABLES)
        self.sql_create_statements.extend(
            SQL(statement).format(self.schema)
            for statement in (
                "CREATE UNIQUE INDEX IF NOT EXISTS dashboard_issued_cell ON {0}.dashboard_issued "
                "(issuer_country, month, eqf_level, isced_broad) NULLS NOT DISTINCT",
                "CREATE INDEX IF NOT EXISTS dashboard_issued_by_month ON {0}.dashboard_issued (month)",
                "CREATE INDEX IF NOT EXISTS dashboard_qa_credentials_by_country "
                "ON {0}.dashboard_qa_credentials (issuer_country, month)",
                "CREATE INDEX IF NOT EXISTS dashboard_recognition_counts_by_issuer "
                "ON {0}.dashboard_recognition_counts (issuer_country, month)",
            )
        )
        self.specs = TableWriter(self.schema, SPECS)
        self.credentials = TableWriter(self.schema, CREDENTIALS)
        self.agencies = TableWriter(self.schema, AGENCIES)
        self.bases = TableWriter(self.schema, BASES)
        self.recognitions = TableWriter(self.schema, RECOGNITIONS)
        self.select_last_specs_statement = SQL(
            "SELECT microcredential_id, max(spec_version) AS spec_version FROM {0}.dashboard_specs "
            "WHERE microcredential_id = ANY(%s) GROUP BY microcredential_id"
        ).format(self.schema)
        self.select_specs_statement = SQL(
            "SELECT microcredential_id, spec_version, eqf_level, isced_broad FROM {0}.dashboard_specs "
            "WHERE microcredential_id = ANY(%s)"
        ).format(self.schema)
        self.select_cells_statement = SQL(
            "SELECT credential_id, issuer_country, eqf_level, isced_broad, month FROM {0}.dashboard_credentials "
            "WHERE credential_id = ANY(%s)"
        ).format(self.schema)
        self.select_recognitions_statement = SQL(
            "SELECT * FROM {0}.dashboard_recognitions WHERE recognition_id = ANY(%s)"
        ).format(self.schema)
        self.count_issued_statement = ISSUED.add_statement(self.schema, ("issued", "revoked"))
        self.count_qa_statement = QA_CREDENTIALS.add_statement(self.schema, ("credentials",))
        self.count_recognitions_statement = RECOGNITION_COUNTS.add_statement(self.schema, ("recognitions",))
        # A cell emptied by overturned decisions goes, as if it had never been counted (as a rebuild would have it).
        self.drop_empty_recognition_counts_statement = SQL(
            "DELETE FROM {0}.dashboard_recognition_counts AS t "
            "USING unnest(%s::text[], %s::text[], %s::date[], %s::text[]) AS s(issuer_country, recognising_country, "
            "month, outcome) WHERE t.recognitions = 0 AND (t.issuer_country, t.recognising_country, t.month, "
            "t.outcome) = (s.issuer_country, s.recognising_country, s.month, s.outcome)"
        ).format(self.schema)

    # Writing ----------------------------------------------------------------------

    def write(self, curs: Cursor[DictRow], changes: DashboardChanges) -> None:
        # Lookups first: the counts of this page join them, this page's rows included.
        self.providers.write(curs, changes.providers)
        self.agencies.write(curs, changes.agencies)
        self.bases.write(curs, changes.bases)
        if changes.specs:
            self.write_specs(curs, changes.specs)
        if changes.issued or changes.revoked:
            self.count_credentials(curs, changes.issued, changes.revoked)
        if changes.requested or changes.verdicts:
            self.count_recognitions(curs, changes.requested, changes.verdicts)

    def write_specs(self, curs: Cursor[DictRow], specs: dict[UUID, Specs]) -> None:
        """Number the page's specifications (a revision follows the last one stored) and store their cells."""
        later = [microcredential_id for microcredential_id, s in specs.items() if s.first is None]
        last = {}
        if later:
            curs.execute(self.select_last_specs_statement, [later])
            last = {row["microcredential_id"]: row["spec_version"] for row in curs.fetchall()}
        self.specs.create(
            curs,
            (
                {"microcredential_id": mc, "spec_version": version, "eqf_level": eqf, "isced_broad": broad}
                for mc, s in specs.items()
                for version, (eqf, broad) in enumerate(s.levels, start=s.first or last[mc] + 1)
            ),
        )

    def count_credentials(self, curs: Cursor[DictRow], issued: dict[Issue, list[UUID]], revoked: list[UUID]) -> None:
        """Store the cell of each credential issued, and count it there; count revocations in their credentials'
        cells; count credentials per QA basis."""
        cells: dict[Issue, Cell] = {}
        qa: Counter[tuple[UUID, str, date]] = Counter()
        counted: Counter[Cell] = Counter()
        if issued:
            countries = self.providers.of(curs, (issue.provider_id for issue in issued))
            curs.execute(self.select_specs_statement, [list({issue.microcredential_id for issue in issued})])
            levels = {(r["microcredential_id"], r["spec_version"]): (r["eqf_level"], r["isced_broad"]) for r in curs}
            credential_rows: list[tuple[Any, ...]] = []
            for issue, credentials in issued.items():
                country = countries[issue.provider_id]
                cell = cells[issue] = Cell(country, *levels[issue.microcredential_id, issue.spec_version], issue.month)
                counted[cell] += len(credentials)
                qa[issue.basis_id, country, issue.month] += len(credentials)
                credential_rows.extend((c, *cell) for c in credentials)
            self.credentials.copy(curs, credential_rows)
        revoked_in: Counter[Cell] = Counter()
        if revoked:
            wanted = set(revoked)
            page_cells = {c: cells[issue] for issue, ids in issued.items() for c in ids if c in wanted}
            revoked_in.update(self.cells(curs, revoked, page_cells))
        if counted or revoked_in:
            rows = ((*cell, counted[cell], revoked_in[cell]) for cell in counted.keys() | revoked_in.keys())
            curs.execute(self.count_issued_statement, columns(rows))
        if qa:
            curs.execute(self.count_qa_statement, columns((*key, n) for key, n in qa.items()))

    def cells(self, curs: Cursor[DictRow], credential_ids: list[UUID], known: dict[UUID, Cell]) -> list[Cell]:
        """The cells of these credentials: from ``known`` (this page's), else as stored."""
        stored = [c for c in credential_ids if c not in known]
        if stored:
            curs.execute(self.select_cells_statement, [stored])
            known = known | {row.pop("credential_id"): Cell(**row) for row in curs.fetchall()}
        return [known[c] for c in credential_ids]

    def count_recognitions(
        self, curs: Cursor[DictRow], requested: dict[UUID, Requested], verdicts: dict[UUID, CountedVerdict]
    ) -> None:
        """Store each recognition's countries and decision in force; move its count to the cell of a new decision."""
        deltas: Counter[FlowCell] = Counter()
        if requested:
            credential_ids = [r.credential_id for r in requested.values()]
            cells = self.cells(curs, credential_ids, {})
            issuers = {c: cell.issuer_country for c, cell in zip(credential_ids, cells, strict=True)}
            countries = self.providers.of(curs, (r.institution_id for r in requested.values()))
            rows = []
            for recognition_id, r in requested.items():
                row = {
                    "recognition_id": recognition_id,
                    "issuer_country": issuers[r.credential_id],
                    "recognising_country": countries[r.institution_id],
                }
                if r.verdict:
                    row |= r.verdict._asdict()
                    deltas[flow_cell(row)] += 1
                rows.append(row)
            self.recognitions.create(curs, rows)
        if verdicts:
            curs.execute(self.select_recognitions_statement, [list(verdicts)])
            for stored in curs.fetchall():
                if stored["outcome"] is not None:
                    deltas[flow_cell(stored)] -= 1
                deltas[flow_cell(stored | verdicts[stored["recognition_id"]]._asdict())] += 1
            self.recognitions.update(curs, {r: v._asdict() for r, v in verdicts.items()})
        changed = {cell: n for cell, n in deltas.items() if n}
        if changed:
            curs.execute(self.count_recognitions_statement, columns((*cell, n) for cell, n in changed.items()))
        emptied = [cell for cell, n in changed.items() if n < 0]
        if emptied:
            curs.execute(self.drop_empty_recognition_counts_statement, columns(emptied))


def columns(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as one list per column, for ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)]


def flow_cell(row: Mapping[str, Any]) -> FlowCell:
    return FlowCell(row["issuer_country"], row["recognising_country"], row["month"], row["outcome"])


class DashboardProjection(Projection[DashboardChanges]):
    """Keeps the dashboard's counters from the events of credentials, recognitions and their QA."""

    name = "dashboard"
    view_class = DashboardView

    def changes(self) -> DashboardChanges:
        return DashboardChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: DashboardChanges) -> None:
        """Other events change no figure."""

    @process_event.register(event_class(Provider, "Registered"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.providers.create(provider_id=event.originator_id, country=event.country)

    @process_event.register(event_class(Agency, "Registered"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.agencies.create(agency_id=event.originator_id, registered_on=event.stamp.effective)

    @process_event.register(event_class(Agency, "Suspended"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.agencies.set(event.originator_id, suspended_since=event.stamp.effective)

    @process_event.register(event_class(Agency, "Reinstated"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.agencies.set(event.originator_id, suspended_since=None)

    @process_event.register(event_class(Agency, "Deregistered"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.agencies.set(event.originator_id, deregistered_on=event.stamp.effective)

    @process_event.register(event_class(Accreditation, "Granted"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.bases.create(
            basis_id=event.originator_id,
            kind=BasisKind.ACCREDITATION,
            agency_id=event.agency_id,
            positive=event.outcome in QA_COVER,
            valid_from=event.valid_from,
            valid_to=event.valid_to,
        )

    @process_event.register(event_class(Accreditation, "Renewed"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.bases.set(event.originator_id, valid_to=event.valid_to)

    @process_event.register(event_class(Accreditation, "Suspended"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.bases.set(event.originator_id, suspended_since=event.stamp.effective)

    @process_event.register(event_class(Accreditation, "Reinstated"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.bases.set(event.originator_id, suspended_since=None)

    @process_event.register(event_class(Accreditation, "Withdrawn"))
    @process_event.register(event_class(Review, "Withdrawn"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.bases.set(event.originator_id, withdrawn_on=event.stamp.effective)

    @process_event.register(event_class(Review, "Opened"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.bases.create(
            basis_id=event.originator_id, kind=BasisKind.REVIEW, agency_id=event.agency_id, positive=False
        )

    @process_event.register(event_class(Review, "Decided"))
    @process_event.register(event_class(Review, "AppealDecided"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        if event.decision is not None:  # an appeal that upholds the decision leaves it as it is
            changes.bases.set(event.originator_id, **review_decision(event.decision))

    @process_event.register(event_class(MicroCredential, "Specified"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.specs[event.originator_id] = Specs(first=1, levels=[cell_of(event.specification)])

    @process_event.register(event_class(MicroCredential, "Revised"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.specs.setdefault(event.originator_id, Specs(first=None)).levels.append(cell_of(event.specification))

    @process_event.register(event_class(Credential, "Issued"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        month = event.stamp.effective.replace(day=1)
        issue = Issue(event.provider_id, event.microcredential_id, event.spec_version, month, event.qa_basis.id)
        if (credentials := changes.issued.get(issue)) is None:
            changes.issued[issue] = [event.originator_id]
        else:
            credentials.append(event.originator_id)

    @process_event.register(event_class(Credential, "Revoked"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.revoked.append(event.originator_id)

    @process_event.register(event_class(Recognition, "Requested"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        changes.requested[event.originator_id] = Requested(event.credential_id, event.institution_id)

    @process_event.register(event_class(Recognition, "Decided"))
    @process_event.register(event_class(Recognition, "AppealDecided"))
    def _(self, event: Any, position: int, changes: DashboardChanges) -> None:
        if event.verdict is None:  # an appeal that upholds the decision leaves it as it is
            return
        verdict = CountedVerdict(event.verdict.outcome, event.stamp.effective.replace(day=1))
        if (requested := changes.requested.get(event.originator_id)) is not None:
            requested.verdict = verdict
        else:
            changes.verdicts[event.originator_id] = verdict


def review_decision(decision: Decision) -> dict[str, Any]:
    """The basis columns a review's decision sets."""
    return {
        "positive": decision.decision in QA_COVER,
        "valid_from": decision.valid_from,
        "valid_to": decision.valid_to,
    }


def cell_of(spec: Specification) -> tuple[int | None, str]:
    """A specification's EQF level and ISCED-F broad field (the first two digits of its field)."""
    return spec.eqf_level, spec.isced_field[:2]
