"""Provider QA standing: agencies, providers, their accreditations and the reviews of their micro-credentials.

What an institution or a learner checks before trusting a provider: who
accredited it, for which levels, fields and countries, until when, on which
conditions, whether a grant was suspended or withdrawn and why; and which
agency reviewed which of its micro-credentials, with what decision and
appeal. Agencies and providers have rows of their own, so that the API
serves them from tables too. The rows it answers with, and the queries, are in
``provider_standing_queries``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.provider_standing_queries import StandingQueries
from mcreg.projections.tables import Rows, Table, TableWriter
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.review import Decision, Review

AGENCIES = Table(
    "standing_agencies",
    columns=(
        ("agency_id", "uuid"),
        ("name", "text NOT NULL"),
        ("acronym", "text"),
        ("country", "text NOT NULL"),
        ("deqar_id", "text"),
        ("esg_activities", "text[] NOT NULL"),
        ("registered_on", "date NOT NULL"),
        ("suspended_since", "date"),
        ("suspension_reason", "text"),
        ("deregistered_on", "date"),
        ("deregistration_reason", "text"),
    ),
    key=("agency_id",),
    settable=("suspended_since", "suspension_reason", "deregistered_on", "deregistration_reason"),
)
PROVIDERS = Table(
    "standing_providers",
    columns=(
        ("provider_id", "uuid"),
        ("names", "jsonb NOT NULL"),
        ("country", "text NOT NULL"),
        ("provider_type", "text NOT NULL"),
        ("deqar_id", "text"),
        ("eter_id", "text"),
        ("schac", "text"),
        ("erasmus_code", "text"),
        ("registered_on", "date NOT NULL"),
        ("closed_on", "date"),
    ),
    key=("provider_id",),
    settable=("names", "closed_on"),
)
ACCREDITATIONS = Table(
    "standing_accreditations",
    columns=(
        ("accreditation_id", "uuid"),
        ("provider_id", "uuid NOT NULL"),
        ("granted_by", "uuid NOT NULL"),
        ("agency_id", "uuid"),
        ("local_identifier", "text"),
        ("outcome", "text NOT NULL"),
        ("eqf_levels", "int4[] NOT NULL"),
        ("isced_fields", "text[] NOT NULL"),
        ("jurisdictions", "text[] NOT NULL"),
        ("micro_credentials", "bool NOT NULL"),
        ("valid_from", "date NOT NULL"),
        ("valid_to", "date NOT NULL"),
        ("report_url", "text"),
        ("decided_on", "date NOT NULL"),
        ("suspended_since", "date"),
        ("suspension_reason", "text"),
        ("withdrawn_on", "date"),
        ("withdrawal_reason", "text"),
    ),
    key=("accreditation_id",),
    settable=("valid_to", "report_url", "suspended_since", "suspension_reason", "withdrawn_on", "withdrawal_reason"),
)
CONDITIONS = Table(
    "standing_conditions",
    columns=(
        ("accreditation_id", "uuid"),
        ("number", "int4"),
        ("text", "text NOT NULL"),
        ("deadline", "date NOT NULL"),
        ("fulfilled_on", "date"),
    ),
    key=("accreditation_id", "number"),
    settable=("fulfilled_on",),
)
REVIEWS = Table(
    "standing_reviews",
    columns=(
        ("review_id", "uuid"),
        ("agency_id", "uuid NOT NULL"),
        ("microcredential_id", "uuid NOT NULL"),
        ("provider_id", "uuid NOT NULL"),
        ("spec_version", "int4 NOT NULL"),
        ("local_identifier", "text"),
        ("opened_on", "date NOT NULL"),
        ("report_url", "text"),
        ("report_summary", "text"),
        ("report_published_on", "date"),
        ("decision", "text"),
        ("valid_from", "date"),
        ("valid_to", "date"),
        ("conditions", "text"),
        ("decided_on", "date"),
        ("appeal_lodged_on", "date"),
        ("appeal_outcome", "text"),
        ("withdrawn_on", "date"),
        ("withdrawal_reason", "text"),
    ),
    key=("review_id",),
    settable=(
        "report_url",
        "report_summary",
        "report_published_on",
        "decision",
        "valid_from",
        "valid_to",
        "conditions",
        "decided_on",
        "appeal_lodged_on",
        "appeal_outcome",
        "withdrawn_on",
        "withdrawal_reason",
    ),
)
TABLES = (AGENCIES, PROVIDERS, ACCREDITATIONS, CONDITIONS, REVIEWS)


@dataclass
class StandingChanges:
    """A page's changes to the five tables."""

    agencies: Rows = field(default_factory=AGENCIES.changes)
    providers: Rows = field(default_factory=PROVIDERS.changes)
    accreditations: Rows = field(default_factory=ACCREDITATIONS.changes)
    conditions: Rows = field(default_factory=CONDITIONS.changes)
    reviews: Rows = field(default_factory=REVIEWS.changes)


class ProviderStandingView(StandingQueries, View[StandingChanges]):
    """The standing tables, written a page at a time; read by agency, by provider and by country."""

    tables = tuple(t.name for t in TABLES)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(t.create_statement(self.schema) for t in TABLES)
        self.sql_create_statements.extend(
            SQL(statement).format(self.schema)
            for statement in (
                "CREATE INDEX IF NOT EXISTS standing_providers_by_country "
                "ON {0}.standing_providers (country, provider_id)",
                "CREATE INDEX IF NOT EXISTS standing_accreditations_by_provider "
                "ON {0}.standing_accreditations (provider_id)",
                "CREATE INDEX IF NOT EXISTS standing_accreditations_by_agency "
                "ON {0}.standing_accreditations (agency_id)",
                "CREATE INDEX IF NOT EXISTS standing_reviews_by_provider ON {0}.standing_reviews (provider_id)",
                "CREATE INDEX IF NOT EXISTS standing_reviews_by_microcredential "
                "ON {0}.standing_reviews (microcredential_id)",
                "CREATE INDEX IF NOT EXISTS standing_reviews_by_agency ON {0}.standing_reviews (agency_id)",
            )
        )
        self.writers = [TableWriter(self.schema, t) for t in TABLES]

    def write(self, curs: Cursor[DictRow], changes: StandingChanges) -> None:
        tables = (changes.agencies, changes.providers, changes.accreditations, changes.conditions, changes.reviews)
        for writer, rows in zip(self.writers, tables, strict=True):
            writer.write(curs, rows)


class ProviderStandingProjection(Projection[StandingChanges]):
    """Keeps the standing tables from the events of agencies, providers, accreditations and reviews."""

    name = "provider_standing"
    view_class = ProviderStandingView

    def changes(self) -> StandingChanges:
        return StandingChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: StandingChanges) -> None:
        """Other events do not change anyone's standing."""

    @process_event.register(event_class(Agency, "Registered"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.agencies.create(
            agency_id=event.originator_id,
            name=event.name,
            acronym=event.acronym,
            country=event.country,
            deqar_id=event.deqar_id,
            esg_activities=list(event.esg_activities),
            registered_on=event.stamp.effective,
        )

    @process_event.register(event_class(Agency, "Suspended"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.agencies.set(event.originator_id, suspended_since=event.stamp.effective, suspension_reason=event.reason)

    @process_event.register(event_class(Agency, "Reinstated"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.agencies.set(event.originator_id, suspended_since=None, suspension_reason=None)

    @process_event.register(event_class(Agency, "Deregistered"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.agencies.set(
            event.originator_id, deregistered_on=event.stamp.effective, deregistration_reason=event.reason
        )

    @process_event.register(event_class(Provider, "Registered"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        identifiers = event.identifiers
        changes.providers.create(
            provider_id=event.originator_id,
            names=dict(event.names),
            country=event.country,
            provider_type=event.provider_type,
            deqar_id=identifiers.deqar_id,
            eter_id=identifiers.eter_id,
            schac=identifiers.schac,
            erasmus_code=identifiers.erasmus_code,
            registered_on=event.stamp.effective,
        )

    @process_event.register(event_class(Provider, "Renamed"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.providers.set(event.originator_id, names=dict(event.names))

    @process_event.register(event_class(Provider, "IdentifiersAdded"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        held = ("deqar_id", "eter_id", "schac", "erasmus_code")
        added = {name: getattr(event.identifiers, name) for name in held if getattr(event.identifiers, name)}
        if added:
            changes.providers.set(event.originator_id, **added)

    @process_event.register(event_class(Provider, "Closed"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.providers.set(event.originator_id, closed_on=event.stamp.effective)

    @process_event.register(event_class(Accreditation, "Granted"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        scope = event.scope
        changes.accreditations.create(
            accreditation_id=event.originator_id,
            provider_id=event.provider_id,
            granted_by=event.granted_by,
            agency_id=event.agency_id,
            local_identifier=event.local_identifier,
            outcome=event.outcome,
            eqf_levels=list(scope.eqf_levels),
            isced_fields=list(scope.isced_fields),
            jurisdictions=list(scope.jurisdictions),
            micro_credentials=scope.micro_credentials,
            valid_from=event.valid_from,
            valid_to=event.valid_to,
            report_url=event.report_url,
            decided_on=event.stamp.effective,
        )
        for number, condition in enumerate(event.conditions):
            changes.conditions.create(
                accreditation_id=event.originator_id,
                number=number,
                text=condition.text,
                deadline=condition.deadline,
                fulfilled_on=condition.fulfilled_on,
            )

    @process_event.register(event_class(Accreditation, "ConditionFulfilled"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.conditions.set((event.originator_id, event.index), fulfilled_on=event.stamp.effective)

    @process_event.register(event_class(Accreditation, "Renewed"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.accreditations.set(event.originator_id, valid_to=event.valid_to)
        if event.report_url:  # a renewal without a new report keeps the old one
            changes.accreditations.set(event.originator_id, report_url=event.report_url)

    @process_event.register(event_class(Accreditation, "Suspended"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.accreditations.set(
            event.originator_id, suspended_since=event.stamp.effective, suspension_reason=event.reason
        )

    @process_event.register(event_class(Accreditation, "Reinstated"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.accreditations.set(event.originator_id, suspended_since=None, suspension_reason=None)

    @process_event.register(event_class(Accreditation, "Withdrawn"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.accreditations.set(
            event.originator_id, withdrawn_on=event.stamp.effective, withdrawal_reason=event.reason
        )

    @process_event.register(event_class(Review, "Opened"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.reviews.create(
            review_id=event.originator_id,
            agency_id=event.agency_id,
            microcredential_id=event.microcredential_id,
            provider_id=event.provider_id,
            spec_version=event.spec_version,
            local_identifier=event.local_identifier,
            opened_on=event.stamp.effective,
        )

    @process_event.register(event_class(Review, "ReportPublished"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        report = event.report
        changes.reviews.set(
            event.originator_id,
            report_url=report.url,
            report_summary=report.summary,
            report_published_on=report.published_on,
        )

    @process_event.register(event_class(Review, "Decided"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.reviews.set(event.originator_id, **decided(event.decision, event.stamp.effective))

    @process_event.register(event_class(Review, "Appealed"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.reviews.set(event.originator_id, appeal_lodged_on=event.stamp.effective)

    @process_event.register(event_class(Review, "AppealDecided"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.reviews.set(event.originator_id, appeal_outcome=event.outcome)
        if event.decision is not None:  # overturned: the new decision replaces the first
            changes.reviews.set(event.originator_id, **decided(event.decision, event.stamp.effective))

    @process_event.register(event_class(Review, "Withdrawn"))
    def _(self, event: Any, position: int, changes: StandingChanges) -> None:
        changes.reviews.set(event.originator_id, withdrawn_on=event.stamp.effective, withdrawal_reason=event.reason)


def decided(decision: Decision, decided_on: date) -> dict[str, Any]:
    """The review columns a decision sets."""
    return {
        "decision": decision.decision,
        "valid_from": decision.valid_from,
        "valid_to": decision.valid_to,
        "conditions": decision.conditions,
        "decided_on": decided_on,
    }
