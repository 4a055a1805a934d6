"""Credential status: one row per credential, as a provider, a verifier or a status list reads it.

The row holds the learner id only, never the learner's personal data (that
stays sealed in the events, under the learner's key).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.tables import Table, TableWriter
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.vocabulary import CredentialStatus

CREDENTIALS = Table(
    "credential_status",
    columns=(
        ("credential_id", "uuid"),
        ("provider_id", "uuid NOT NULL"),
        ("microcredential_id", "uuid NOT NULL"),
        ("spec_version", "int4 NOT NULL"),
        ("issued_on", "date NOT NULL"),
        ("valid_until", "date"),
        ("qa_basis_kind", "text NOT NULL"),
        ("qa_basis_id", "uuid NOT NULL"),
        ("qa_basis_version", "int4 NOT NULL"),
        ("learner_id", "uuid NOT NULL"),
        # the state, which later events replace whole
        ("status", "text NOT NULL"),
        ("revoked_on", "date"),
        ("revocation_reason", "text"),
        ("suspended_since", "date"),
        ("updated_at_position", "int8 NOT NULL"),
    ),
    key=("credential_id",),
    settable=("status", "revoked_on", "revocation_reason", "suspended_since", "updated_at_position"),
)
"""A row as ``CredentialStatusProjection`` builds it, in order: the columns of a ``State`` last."""


class State(NamedTuple):
    """The columns a suspension, reinstatement or revocation sets: all of them, so the latest event wins."""

    status: CredentialStatus
    revoked_on: date | None
    revocation_reason: str | None
    suspended_since: date | None  # while suspended: the start of the open suspension
    updated_at_position: int  # the notification id of the last event that changed the row


@dataclass(frozen=True, slots=True)
class CredentialStatusRow:
    """A credential as the registry last recorded it."""

    credential_id: UUID
    provider_id: UUID
    microcredential_id: UUID
    spec_version: int
    issued_on: date
    valid_until: date | None
    qa_basis_kind: str
    qa_basis_id: UUID
    qa_basis_version: int
    learner_id: UUID
    status: str
    revoked_on: date | None
    revocation_reason: str | None
    suspended_since: date | None
    updated_at_position: int


@dataclass
class CredentialChanges:
    """A page's changes: whole rows of credentials issued in it, the latest state of credentials issued before."""

    issued: dict[UUID, list[Any]] = field(default_factory=dict)
    states: dict[UUID, State] = field(default_factory=dict)

    def set_state(self, credential_id: UUID, state: State) -> None:
        if credential_id in self.issued:
            self.issued[credential_id][-len(state) :] = state
        else:
            self.states[credential_id] = state


class CredentialStatusView(View[CredentialChanges]):
    """The ``credential_status`` table, looked up by credential, by provider and by status."""

    tables = (CREDENTIALS.name,)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(
            [
                CREDENTIALS.create_statement(self.schema),
                # A provider's credentials in issue order, a page at a time (keyset pagination).
                SQL(
                    "CREATE INDEX IF NOT EXISTS credential_status_by_provider "
                    "ON {0}.credential_status (provider_id, issued_on, credential_id)"
                ).format(self.schema),
                # A provider's page of the credentials list (GET /v1/credentials), in the order of their ids: without
                # it a page walks every credential's id to find the provider's (bench/catalogue_facets.py --explain).
                SQL(
                    "CREATE INDEX IF NOT EXISTS credential_status_by_provider_and_id "
                    "ON {0}.credential_status (provider_id, credential_id)"
                ).format(self.schema),
                # Credentials of one status (a status list), or of one status and provider.
                SQL(
                    "CREATE INDEX IF NOT EXISTS credential_status_by_status "
                    "ON {0}.credential_status (status, provider_id)"
                ).format(self.schema),
            ]
        )
        self.writer = TableWriter(self.schema, CREDENTIALS)
        self.select_credentials_statement = SQL(
            "SELECT * FROM {0}.credential_status WHERE credential_id = ANY(%s)"
        ).format(self.schema)
        # Its conditions are added only when asked for, so that each variant has a plan that uses an index.
        self.select_by_provider_statement = SQL(
            "SELECT * FROM {schema}.credential_status WHERE provider_id = %(provider)s{of_status}{after} "
            "ORDER BY issued_on, credential_id LIMIT %(limit)s"
        )
        self.of_status_condition = SQL(" AND status = %(status)s")
        self.after_condition = SQL(" AND (issued_on, credential_id) > (%(after_day)s, %(after_id)s)")

    def write(self, curs: Cursor[DictRow], changes: CredentialChanges) -> None:
        if changes.issued:
            self.writer.copy(curs, changes.issued.values())
        if changes.states:
            self.writer.update(
                curs, {credential_id: state._asdict() for credential_id, state in changes.states.items()}
            )

    def get(self, credential_id: UUID) -> CredentialStatusRow | None:
        """The credential's row, if the view has seen it issued."""
        rows = self.get_many([credential_id])
        return rows[0] if rows else None

    def get_many(self, credential_ids: Sequence[UUID]) -> list[CredentialStatusRow]:
        """The rows of those of these credentials the view has seen issued, in no particular order."""
        with self.datastore.transaction() as curs:
            curs.execute(self.select_credentials_statement, [list(credential_ids)], prepare=True)
            return [CredentialStatusRow(**row) for row in curs.fetchall()]

    def by_provider(
        self,
        provider_id: UUID,
        status: str | None = None,
        limit: int = 1000,
        after: tuple[date, UUID] | None = None,
    ) -> list[CredentialStatusRow]:
        """A provider's credentials, optionally of one status, in issue order: at most ``limit`` of them, from the
        first after ``after`` (the issue date and id of the last row of the previous page)."""
        statement = self.select_by_provider_statement.format(
            schema=self.schema,
            of_status=self.of_status_condition if status is not None else SQL(""),
            after=self.after_condition if after is not None else SQL(""),
        )
        after_day, after_id = after or (None, None)
        params = {"provider": provider_id, "status": status, "after_day": after_day, "after_id": after_id}
        with self.datastore.transaction() as curs:
            curs.execute(statement, params | {"limit": limit}, prepare=True)
            return [CredentialStatusRow(**row) for row in curs.fetchall()]


class CredentialStatusProjection(Projection[CredentialChanges]):
    """Keeps ``credential_status`` from the credentials' events."""

    name = "credential_status"
    view_class = CredentialStatusView

    def changes(self) -> CredentialChanges:
        return CredentialChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: CredentialChanges) -> None:
        """Other events do not change a credential's status."""

    @process_event.register(event_class(Credential, "Issued"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        basis = event.qa_basis
        changes.issued[event.originator_id] = [
            event.originator_id,
            event.provider_id,
            event.microcredential_id,
            event.spec_version,
            event.stamp.effective,
            event.valid_until,
            basis.kind,
            basis.id,
            basis.version,
            event.learner.learner_id,
            # The State of a credential just issued, written out: no State object for each credential.
            CredentialStatus.ACTIVE,
            None,
            None,
            None,
            position,
        ]

    @process_event.register(event_class(Credential, "Suspended"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        changes.set_state(
            event.originator_id, State(CredentialStatus.SUSPENDED, None, None, event.stamp.effective, position)
        )

    @process_event.register(event_class(Credential, "Reinstated"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        changes.set_state(event.originator_id, State(CredentialStatus.ACTIVE, None, None, None, position))

    @process_event.register(event_class(Credential, "Revoked"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        # Revocation is final: it ends an open suspension too.
        state = State(CredentialStatus.REVOKED, event.stamp.effective, event.reason, None, position)
        changes.set_state(event.originator_id, state)
