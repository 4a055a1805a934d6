"""What the provider standing read model answers: typed rows of agencies, providers, accreditations and reviews.

``StandingQueries`` is the reading side of ``provider_standing``'s view: a
provider's whole QA standing read as of one moment, and the batches the
GraphQL DataLoaders ask for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from mcreg.projections.listing import DEFAULT_PAGE_SIZE, Page, fetch_size, page, where


@dataclass(frozen=True, slots=True)
class AgencyRow:
    """A QA agency and where its registration stands."""

    agency_id: UUID
    name: str
    acronym: str | None
    country: str
    deqar_id: str | None
    esg_activities: list[str]
    registered_on: date
    suspended_since: date | None  # the start of an open suspension
    suspension_reason: str | None
    deregistered_on: date | None
    deregistration_reason: str | None

    @property
    def status(self) -> str:
        """``registered``, ``suspended`` or ``deregistered``, as last recorded."""
        if self.deregistered_on is not None:
            return "deregistered"
        return "suspended" if self.suspended_since is not None else "registered"


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """A provider (an issuer, a recognising institution, or both)."""

    provider_id: UUID
    names: dict[str, str]  # ISO 639-1 → name
    country: str
    provider_type: str
    deqar_id: str | None
    eter_id: str | None
    schac: str | None
    erasmus_code: str | None
    registered_on: date
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class ConditionRow:
    """A condition of an accreditation, numbered from 0 as the command that fulfils it numbers it."""

    number: int
    text: str
    deadline: date
    fulfilled_on: date | None


@dataclass(frozen=True, slots=True)
class AccreditationRow:
    """An accreditation as last recorded; an empty scope list sets no limit on that axis."""

    accreditation_id: UUID
    provider_id: UUID
    granted_by: UUID
    agency_id: UUID | None  # None when a national authority granted it
    local_identifier: str | None
    outcome: str
    eqf_levels: list[int]
    isced_fields: list[str]
    jurisdictions: list[str]
    micro_credentials: bool
    valid_from: date
    valid_to: date
    report_url: str | None
    decided_on: date
    suspended_since: date | None  # the start of an open suspension
    suspension_reason: str | None
    withdrawn_on: date | None
    withdrawal_reason: str | None
    conditions: tuple[ConditionRow, ...]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """An agency's review of one micro-credential, with its report, decision and appeal."""

    review_id: UUID
    agency_id: UUID
    microcredential_id: UUID
    provider_id: UUID
    spec_version: int
    local_identifier: str | None
    opened_on: date
    report_url: str | None
    report_summary: str | None
    report_published_on: date | None
    decision: str | None
    valid_from: date | None
    valid_to: date | None
    conditions: str | None
    decided_on: date | None
    appeal_lodged_on: date | None
    appeal_outcome: str | None
    withdrawn_on: date | None
    withdrawal_reason: str | None

    @property
    def appeal(self) -> str | None:
        """None if never appealed, else ``pending`` or the appeal's outcome (``upheld`` / ``overturned``)."""
        if self.appeal_lodged_on is None:
            return None
        return self.appeal_outcome or "pending"


@dataclass(frozen=True, slots=True)
class ProviderQA:
    """A provider with every accreditation granted to it and every review of its micro-credentials."""

    provider: ProviderRow
    accreditations: tuple[AccreditationRow, ...]
    reviews: tuple[ReviewRow, ...]


SELECT_AGENCIES = SQL("SELECT * FROM {schema}.standing_agencies WHERE agency_id = ANY(%s) ORDER BY agency_id")
LIST_AGENCIES = SQL("SELECT * FROM {schema}.standing_agencies{where} ORDER BY agency_id LIMIT %(limit)s")
AGENCY_CONDITIONS = {"country": SQL("country = %(country)s"), "after": SQL("agency_id > %(after)s")}
SELECT_PROVIDERS = SQL("SELECT * FROM {schema}.standing_providers WHERE provider_id = ANY(%s) ORDER BY provider_id")
LIST_PROVIDERS = SQL("SELECT * FROM {schema}.standing_providers{where} ORDER BY provider_id LIMIT %(limit)s")
PROVIDER_CONDITIONS = {
    "country": SQL("country = %(country)s"),
    "provider_type": SQL("provider_type = %(provider_type)s"),
    "after": SQL("provider_id > %(after)s"),
}
# One row per condition (or one with NULL condition columns), so that a grant and its conditions are
# read in one statement, as of one moment.
SELECT_ACCREDITATIONS = SQL(
    "SELECT a.*, c.number, c.text, c.deadline, c.fulfilled_on "
    "FROM {schema}.standing_accreditations AS a LEFT JOIN {schema}.standing_conditions AS c USING (accreditation_id) "
    "WHERE a.provider_id = ANY(%s) ORDER BY a.valid_from, a.accreditation_id, c.number"
)
SELECT_REVIEWS = SQL(
    "SELECT * FROM {schema}.standing_reviews WHERE provider_id = ANY(%s) ORDER BY opened_on, review_id"
)


class StandingQueries:
    """The standing tables' reading side, for their view: by agency, by provider and by country."""

    datastore: PostgresDatastore
    schema: Identifier
    snapshot_statement: SQL

    def statement(self, template: SQL) -> Composed:
        """A statement over the view's tables, in its schema."""
        return template.format(schema=self.schema)

    def agency(self, agency_id: UUID) -> AgencyRow | None:
        """The agency, if the view has seen it registered."""
        return self.agencies_by_id([agency_id]).get(agency_id)

    def agencies_by_id(self, agency_ids: Iterable[UUID]) -> dict[UUID, AgencyRow]:
        """The agencies with these ids that the view has seen registered (a DataLoader's batch)."""
        with self.datastore.transaction() as curs:
            curs.execute(self.statement(SELECT_AGENCIES), [list(agency_ids)], prepare=True)
            return {row["agency_id"]: AgencyRow(**row) for row in curs.fetchall()}

    def agencies(
        self, country: str | None = None, *, after: UUID | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[AgencyRow]:
        """Agencies, of one country if given, in the order of their ids, after ``after``."""
        params = {"country": country, "after": after, "limit": fetch_size(limit)}
        statement = LIST_AGENCIES.format(schema=self.schema, where=where(AGENCY_CONDITIONS, params))
        with self.datastore.transaction() as curs:
            curs.execute(statement, params)
            return page([AgencyRow(**row) for row in curs.fetchall()], limit, lambda a: a.agency_id)

    def provider(self, provider_id: UUID) -> ProviderRow | None:
        """The provider, if the view has seen it registered."""
        return self.providers_by_id([provider_id]).get(provider_id)

    def providers_by_id(self, provider_ids: Iterable[UUID]) -> dict[UUID, ProviderRow]:
        """The providers with these ids that the view has seen registered (a DataLoader's batch)."""
        with self.datastore.transaction() as curs:
            curs.execute(self.statement(SELECT_PROVIDERS), [list(provider_ids)], prepare=True)
            return {row["provider_id"]: ProviderRow(**row) for row in curs.fetchall()}

    def providers(
        self,
        country: str | None = None,
        provider_type: str | None = None,
        *,
        after: UUID | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[ProviderRow]:
        """Providers, of one country and type if given, in the order of their ids, after ``after``."""
        params = {"country": country, "provider_type": provider_type, "after": after, "limit": fetch_size(limit)}
        statement = LIST_PROVIDERS.format(schema=self.schema, where=where(PROVIDER_CONDITIONS, params))
        with self.datastore.transaction() as curs:
            curs.execute(statement, params)
            return page([ProviderRow(**row) for row in curs.fetchall()], limit, lambda p: p.provider_id)

    def accreditations_of(self, provider_ids: Iterable[UUID]) -> dict[UUID, list[AccreditationRow]]:
        """Each provider's accreditations with their conditions, oldest validity first (a DataLoader's batch)."""
        with self.datastore.transaction() as curs:
            return self._accreditations(curs, list(provider_ids))

    def reviews_of(self, provider_ids: Iterable[UUID]) -> dict[UUID, list[ReviewRow]]:
        """The reviews of each provider's micro-credentials, oldest first (a DataLoader's batch)."""
        with self.datastore.transaction() as curs:
            return self._reviews(curs, list(provider_ids))

    def standing(self, provider_id: UUID) -> ProviderQA | None:
        """A provider's whole QA standing, read as of one moment; None for a provider the view has not seen."""
        with self.datastore.transaction() as curs:
            curs.execute(self.snapshot_statement)
            curs.execute(self.statement(SELECT_PROVIDERS), [[provider_id]])
            row = curs.fetchone()
            if row is None:
                return None
            accreditations = self._accreditations(curs, [provider_id]).get(provider_id, [])
            reviews = self._reviews(curs, [provider_id]).get(provider_id, [])
        return ProviderQA(ProviderRow(**row), tuple(accreditations), tuple(reviews))

    def _accreditations(self, curs: Cursor[DictRow], provider_ids: list[UUID]) -> dict[UUID, list[AccreditationRow]]:
        curs.execute(self.statement(SELECT_ACCREDITATIONS), [provider_ids])
        grants: dict[UUID, dict[str, Any]] = {}
        conditions: dict[UUID, list[ConditionRow]] = defaultdict(list)
        for row in curs.fetchall():
            condition = {name: row.pop(name) for name in ("number", "text", "deadline", "fulfilled_on")}
            grants.setdefault(row["accreditation_id"], row)
            if condition["number"] is not None:
                conditions[row["accreditation_id"]].append(ConditionRow(**condition))
        by_provider: dict[UUID, list[AccreditationRow]] = defaultdict(list)
        for accreditation_id, grant in grants.items():
            accreditation = AccreditationRow(**grant, conditions=tuple(conditions[accreditation_id]))
            by_provider[accreditation.provider_id].append(accreditation)
        return dict(by_provider)

    def _reviews(self, curs: Cursor[DictRow], provider_ids: list[UUID]) -> dict[UUID, list[ReviewRow]]:
        curs.execute(self.statement(SELECT_REVIEWS), [provider_ids])
        by_provider: dict[UUID, list[ReviewRow]] = defaultdict(list)
        for row in curs.fetchall():
            by_provider[row["provider_id"]].append(ReviewRow(**row))
        return dict(by_provider)
