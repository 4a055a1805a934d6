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
from psycopg.sql import SQL, Identifier

from mcreg.projections.engine import Projection, View, event_class
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.vocabulary import CredentialStatus as Status

COLUMNS = (
    ("credential_id", "uuid"),
    ("provider_id", "uuid"),
    ("microcredential_id", "uuid"),
    ("spec_version", "int4"),
    ("issued_on", "date"),
    ("valid_until", "date"),
    ("qa_basis_kind", "text"),
    ("qa_basis_id", "uuid"),
    ("qa_basis_version", "int4"),
    ("learner_id", "uuid"),
    # the state, which later events replace whole
    ("status", "text"),
    ("revoked_on", "date"),
    ("revocation_reason", "text"),
    ("suspended_since", "date"),
    ("updated_at_position", "int8"),
)
"""The columns of a row as ``CredentialStatus`` builds it, in order, with their types for binary COPY."""


class State(NamedTuple):
    """The columns a suspension, reinstatement or revocation sets: all of them, so the latest event wins."""

    status: Status
    revoked_on: date | None
    revocation_reason: str | None
    suspended_since: date | None  # while suspended: the start of the open suspension
    updated_at_position: int  # the notification id of the last event that changed the row


@dataclass(frozen=True)
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

    tables = ("credential_status",)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.credential_status ("
                    "credential_id uuid PRIMARY KEY, "
                    "provider_id uuid NOT NULL, "
                    "microcredential_id uuid NOT NULL, "
                    "spec_version integer NOT NULL, "
                    "issued_on date NOT NULL, "
                    "valid_until date, "
                    "qa_basis_kind text NOT NULL, "
                    "qa_basis_id uuid NOT NULL, "
                    "qa_basis_version integer NOT NULL, "
                    "learner_id uuid NOT NULL, "
                    "status text NOT NULL, "
                    "revoked_on date, "
                    "revocation_reason text, "
                    "suspended_since date, "
                    "updated_at_position bigint NOT NULL)"
                ).format(self.schema),
                # A provider's credentials in issue order, a page at a time (keyset pagination).
                SQL(
                    "CREATE INDEX IF NOT EXISTS credential_status_by_provider "
                    "ON {0}.credential_status (provider_id, issued_on, credential_id)"
                ).format(self.schema),
                # Credentials of one status (a status list), or of one status and provider.
                SQL(
                    "CREATE INDEX IF NOT EXISTS credential_status_by_status "
                    "ON {0}.credential_status (status, provider_id)"
                ).format(self.schema),
            ]
        )
        self.copy_rows_statement = SQL("COPY {0}.credential_status ({1}) FROM STDIN (FORMAT BINARY)").format(
            self.schema, SQL(", ").join(Identifier(column) for column, _ in COLUMNS)
        )
        self.copy_types = [pg_type for _, pg_type in COLUMNS]
        self.update_states_statement = SQL(
            "UPDATE {0}.credential_status AS c SET status = s.status, revoked_on = s.revoked_on, "
            "revocation_reason = s.revocation_reason, suspended_since = s.suspended_since, "
            "updated_at_position = s.updated_at_position "
            "FROM unnest(%s::uuid[], %s::text[], %s::date[], %s::text[], %s::date[], %s::bigint[]) "
            "AS s(credential_id, status, revoked_on, revocation_reason, suspended_since, updated_at_position) "
            "WHERE c.credential_id = s.credential_id"
        ).format(self.schema)
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
            with curs.copy(self.copy_rows_statement) as copy:
                copy.set_types(self.copy_types)
                for row in changes.issued.values():
                    copy.write_row(row)
        if changes.states:
            columns = zip(*changes.states.values(), strict=True)
            curs.execute(self.update_states_statement, [list(changes.states), *map(list, columns)])

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


class CredentialStatus(Projection[CredentialChanges]):
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
            Status.ACTIVE,
            None,
            None,
            None,
            position,
        ]

    @process_event.register(event_class(Credential, "Suspended"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        changes.set_state(event.originator_id, State(Status.SUSPENDED, None, None, event.stamp.effective, position))

    @process_event.register(event_class(Credential, "Reinstated"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        changes.set_state(event.originator_id, State(Status.ACTIVE, None, None, None, position))

    @process_event.register(event_class(Credential, "Revoked"))
    def _(self, event: Any, position: int, changes: CredentialChanges) -> None:
        # Revocation is final: it ends an open suspension too.
        state = State(Status.REVOKED, event.stamp.effective, event.reason, None, position)
        changes.set_state(event.originator_id, state)
