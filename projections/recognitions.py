"""Recognitions: each recognition request and its decision, as the institution and the credential's holder read it.

A row names the credential, the recognising institution and the issuer, with
both countries (joined as the events are projected), the purpose, who asked,
the status, and the decision in force: outcome, ECTS recognised, substantial
differences, and the credential's status and QA standing the institution
recorded on the decision date; and the appeal. The substantial differences are
kept as the events hold them, sealed under the learner's key, and opened by the
reader (``Registry.opened_differences``): the table holds no clear text that
could outlive the learner's erasure. Free-text grounds and reasons for appeals
and withdrawals stay in the events only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.countries import ProviderCountries, countries_table
from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.listing import DEFAULT_PAGE_SIZE, Page, fetch_size, page, where
from mcreg.projections.tables import Rows, Table, TableWriter
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import SealedText
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition, SubstantialDifference, Verdict
from mcreg.registry.vocabulary import RecognitionStatus

PROVIDERS = countries_table("recognition_providers")
CREDENTIALS = Table(
    "recognition_credentials",
    columns=(("credential_id", "uuid"), ("issuer_id", "uuid NOT NULL"), ("issuer_country", "text NOT NULL")),
    key=("credential_id",),
)
DECISION = (
    ("outcome", "text"),
    ("ects_recognised", "numeric"),
    ("differences", "jsonb"),
    ("decided_on", "date"),
    ("credential_status", "text"),
    ("qa_basis_kind", "text"),
    ("qa_basis_id", "uuid"),
    ("qa_basis_version", "int4"),
    ("qa_standing", "text"),
)
"""The columns a decision fills, which an appeal that overturns it fills anew."""
RECOGNITIONS = Table(
    "recognitions",
    columns=(
        ("recognition_id", "uuid"),
        ("requested_at_position", "int8 NOT NULL"),
        ("credential_id", "uuid NOT NULL"),
        ("institution_id", "uuid NOT NULL"),
        ("institution_country", "text NOT NULL"),
        ("issuer_id", "uuid NOT NULL"),
        ("issuer_country", "text NOT NULL"),
        ("purpose", "text NOT NULL"),
        ("requested_by", "text NOT NULL"),
        ("requested_on", "date NOT NULL"),
        ("status", "text NOT NULL"),
        *DECISION,
        ("appeal_lodged_on", "date"),
        ("appeal_outcome", "text"),
        ("withdrawn_on", "date"),
    ),
    key=("recognition_id",),
    settable=("status", *(name for name, _ in DECISION), "appeal_lodged_on", "appeal_outcome", "withdrawn_on"),
)


@dataclass(frozen=True, slots=True)
class RecognitionRow:
    """A recognition request and the decision in force on it."""

    recognition_id: UUID
    requested_at_position: int  # the notification id of the request: the order lists keep
    credential_id: UUID
    institution_id: UUID
    institution_country: str
    issuer_id: UUID
    issuer_country: str
    purpose: str
    requested_by: str  # learner or institution
    requested_on: date
    status: str
    outcome: str | None  # None until decided
    ects_recognised: Decimal | None
    differences: list[dict[str, Any]] | None  # [{"difference": …, "reason": …}], each sealed (or clear from before)
    decided_on: date | None
    credential_status: str | None  # as the institution recorded it on the decision date
    qa_basis_kind: str | None
    qa_basis_id: UUID | None
    qa_basis_version: int | None
    qa_standing: str | None  # the standing of that QA basis on the decision date
    appeal_lodged_on: date | None
    appeal_outcome: str | None
    withdrawn_on: date | None

    @property
    def substantial_differences(self) -> tuple[SubstantialDifference, ...]:
        """The decision's differences as its event holds them, for ``Registry.opened_differences``."""
        return tuple(
            SubstantialDifference(SealedText.of(d["difference"]), SealedText.of(d["reason"]))
            for d in self.differences or ()
        )

    @property
    def appeal(self) -> str | None:
        """None if never appealed, else ``pending``, ``withdrawn`` or the appeal's outcome."""
        if self.appeal_lodged_on is None:
            return None
        if self.appeal_outcome is None:
            return "withdrawn" if self.status == RecognitionStatus.WITHDRAWN else "pending"
        return self.appeal_outcome


@dataclass
class RecognitionChanges:
    """A page's changes: providers' countries, credentials' issuers, and the recognitions."""

    providers: Rows = field(default_factory=PROVIDERS.changes)
    issued: list[tuple[UUID, UUID]] = field(default_factory=list)  # (credential, issuer)
    recognitions: Rows = field(default_factory=RECOGNITIONS.changes)


class RecognitionsView(View[RecognitionChanges]):
    """The ``recognitions`` table, read by credential and by institution, and the lookups that fill it."""

    tables = (PROVIDERS.name, CREDENTIALS.name, RECOGNITIONS.name)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.providers = ProviderCountries(self.schema, PROVIDERS)
        self.sql_create_statements.append(self.providers.create_statement)
        self.sql_create_statements.extend(t.create_statement(self.schema) for t in (CREDENTIALS, RECOGNITIONS))
        self.sql_create_statements.extend(
            SQL(statement).format(self.schema)
            for statement in (
                "CREATE INDEX IF NOT EXISTS recognitions_by_credential "
                "ON {0}.recognitions (credential_id, requested_at_position)",
                "CREATE INDEX IF NOT EXISTS recognitions_by_institution "
                "ON {0}.recognitions (institution_id, requested_at_position)",
                "CREATE INDEX IF NOT EXISTS recognitions_by_institution_and_status "
                "ON {0}.recognitions (institution_id, status, requested_at_position)",
                # The recognitions list (GET /v1/recognitions) of the operator or an authority: in request order.
                "CREATE INDEX IF NOT EXISTS recognitions_by_position ON {0}.recognitions (requested_at_position)",
            )
        )
        self.credentials = TableWriter(self.schema, CREDENTIALS)
        self.recognitions = TableWriter(self.schema, RECOGNITIONS)
        self.select_issuers_statement = SQL(
            "SELECT credential_id, issuer_id, issuer_country FROM {0}.recognition_credentials "
            "WHERE credential_id = ANY(%s)"
        ).format(self.schema)
        self.select_statement = SQL("SELECT * FROM {0}.recognitions WHERE recognition_id = ANY(%s)").format(self.schema)
        self.outcomes_statement = SQL(
            "SELECT outcome, count(*)::integer AS recognitions FROM {0}.recognitions "
            "WHERE credential_id = %s AND outcome IS NOT NULL GROUP BY outcome ORDER BY min(requested_at_position)"
        ).format(self.schema)
        self.list_statement = SQL(
            "SELECT * FROM {schema}.recognitions{where} ORDER BY requested_at_position LIMIT %(limit)s"
        )
        self.list_conditions = {
            "credential_id": SQL("credential_id = %(credential_id)s"),
            "institution_id": SQL("institution_id = %(institution_id)s"),
            "status": SQL("status = %(status)s"),
            "after": SQL("requested_at_position > %(after)s"),
        }

    def write(self, curs: Cursor[DictRow], changes: RecognitionChanges) -> None:
        # Each table is filled from the ones before it, this page's rows included.
        self.providers.write(curs, changes.providers)
        if issued := changes.issued:
            countries = self.providers.of(curs, (issuer_id for _, issuer_id in issued))
            self.credentials.copy(curs, ((c, issuer_id, countries[issuer_id]) for c, issuer_id in issued))
        requested = changes.recognitions.created.values()
        if requested:
            issuers = self.issuers(curs, (row["credential_id"] for row in requested))
            countries = self.providers.of(curs, (row["institution_id"] for row in requested))
            self.recognitions.create(
                curs,
                (
                    row | issuers[row["credential_id"]] | {"institution_country": countries[row["institution_id"]]}
                    for row in requested
                ),
            )
        if changes.recognitions.updated:
            self.recognitions.update(curs, changes.recognitions.updated)

    def issuers(self, curs: Cursor[DictRow], credential_ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
        """The issuer id and country of each of these credentials."""
        curs.execute(self.select_issuers_statement, [list(set(credential_ids))], prepare=True)
        return {row.pop("credential_id"): row for row in curs.fetchall()}

    def get(self, recognition_id: UUID) -> RecognitionRow | None:
        """The recognition, if the view has seen it requested."""
        return self.get_many([recognition_id]).get(recognition_id)

    def get_many(self, recognition_ids: Iterable[UUID]) -> dict[UUID, RecognitionRow]:
        """The recognitions with these ids that the view has seen requested (a DataLoader's batch)."""
        with self.datastore.transaction() as curs:
            curs.execute(self.select_statement, [list(recognition_ids)], prepare=True)
            return {row["recognition_id"]: RecognitionRow(**row) for row in curs.fetchall()}

    def of_credential(
        self, credential_id: UUID, *, after: int | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[RecognitionRow]:
        """Every institution's recognitions of one credential, in the order they were requested, after ``after``
        (a ``requested_at_position``)."""
        return self._list({"credential_id": credential_id, "after": after}, limit)

    def outcomes_of(self, credential_id: UUID) -> dict[str, int]:
        """How many institutions' recognitions of one credential are decided with each outcome (in force now),
        outcomes in the order of the first recognition requested with each."""
        with self.datastore.transaction() as curs:
            curs.execute(self.outcomes_statement, [credential_id], prepare=True)
            return {row["outcome"]: row["recognitions"] for row in curs.fetchall()}

    def of_institution(
        self,
        institution_id: UUID,
        status: str | None = None,
        *,
        after: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[RecognitionRow]:
        """One institution's recognitions, of one status if given, in the order they were requested, after
        ``after`` (a ``requested_at_position``)."""
        return self._list({"institution_id": institution_id, "status": status, "after": after}, limit)

    def _list(self, params: dict[str, Any], limit: int) -> Page[RecognitionRow]:
        params["limit"] = fetch_size(limit)
        statement = self.list_statement.format(schema=self.schema, where=where(self.list_conditions, params))
        with self.datastore.transaction() as curs:
            curs.execute(statement, params)
            return page([RecognitionRow(**row) for row in curs.fetchall()], limit, lambda r: r.requested_at_position)


class RecognitionsProjection(Projection[RecognitionChanges]):
    """Keeps the recognitions from their events, with the issuers of credentials and the countries of providers."""

    name = "recognitions"
    view_class = RecognitionsView

    def changes(self) -> RecognitionChanges:
        return RecognitionChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        """Other events do not change a recognition."""

    @process_event.register(event_class(Provider, "Registered"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.providers.create(provider_id=event.originator_id, country=event.country)

    @process_event.register(event_class(Credential, "Issued"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.issued.append((event.originator_id, event.provider_id))

    @process_event.register(event_class(Recognition, "Requested"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.recognitions.create(
            recognition_id=event.originator_id,
            requested_at_position=position,
            credential_id=event.credential_id,
            institution_id=event.institution_id,
            purpose=event.purpose,
            requested_by=event.requested_by,
            requested_on=event.stamp.effective,
            status=RecognitionStatus.REQUESTED,
        )

    @process_event.register(event_class(Recognition, "Decided"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.recognitions.set(
            event.originator_id, status=RecognitionStatus.DECIDED, **decision(event.verdict, event.stamp.effective)
        )

    @process_event.register(event_class(Recognition, "Appealed"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.recognitions.set(
            event.originator_id, status=RecognitionStatus.APPEALED, appeal_lodged_on=event.stamp.effective
        )

    @process_event.register(event_class(Recognition, "AppealDecided"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.recognitions.set(
            event.originator_id, status=RecognitionStatus.APPEAL_DECIDED, appeal_outcome=event.outcome
        )
        if event.verdict is not None:  # overturned: the new decision replaces the first
            changes.recognitions.set(event.originator_id, **decision(event.verdict, event.stamp.effective))

    @process_event.register(event_class(Recognition, "Withdrawn"))
    def _(self, event: Any, position: int, changes: RecognitionChanges) -> None:
        changes.recognitions.set(
            event.originator_id, status=RecognitionStatus.WITHDRAWN, withdrawn_on=event.stamp.effective
        )


def stored(text: str | SealedText) -> str | dict[str, str]:
    """Free text as a JSON column keeps it: sealed, or clear as an event from before sealing holds it."""
    return text if isinstance(text, str) else text.jsonable()


def decision(verdict: Verdict, decided_on: date) -> dict[str, Any]:
    """The recognition columns a decision fills."""
    basis = verdict.qa_standing.basis
    return {
        "outcome": verdict.outcome,
        "ects_recognised": verdict.ects_recognised,
        "differences": [{"difference": stored(d.difference), "reason": stored(d.reason)} for d in verdict.differences],
        "decided_on": decided_on,
        "credential_status": verdict.credential_status,
        "qa_basis_kind": basis.kind if basis else None,
        "qa_basis_id": basis.id if basis else None,
        "qa_basis_version": basis.version if basis else None,
        "qa_standing": verdict.qa_standing.standing,
    }
