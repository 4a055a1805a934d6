"""Credentials by the identifiers other systems give them: the SIS course id, the LTI context and resource link ids,
the student number.

One row per credential issued with any of them, a column per scheme (``COLUMNS``, which the lookup asks by). The
student number is never stored: the row holds its digest (``student_digest``: an HMAC of provider and number under
a key derived from the key-encryption key), computed from the learner's sealed data while the learner's key exists.
Forgetting the learner clears the digest, and a rebuild after it finds no key to compute one from, so the number can
no longer find the credential.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.reading import Recorded
from mcreg.projections.tables import Table, TableWriter
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import Erasure, SealedStudent
from mcreg.registry.schemes import COURSE_FIELDS, CREDENTIAL_FIELDS, RULES, IdentifierScheme

COLUMNS: dict[IdentifierScheme, str] = {
    scheme: "student_digest" if RULES[scheme].personal else name for scheme, name in CREDENTIAL_FIELDS.items()
}
"""The column a credential is looked up by, per scheme: the event's field of the same name, or for the student
number (personal, never stored) its digest."""

IDENTIFIED = Table(
    "credential_identifiers",
    columns=(
        ("credential_id", "uuid"),
        ("provider_id", "uuid NOT NULL"),
        ("learner_id", "uuid"),  # of a row of identifiers added after issue, with no student number: unknown
        ("course_id", "text"),
        ("lti_context_id", "text"),
        ("student_digest", "bytea"),
        ("lti_resource_link_id", "text"),  # added later: tables from before gain it on start
    ),
    key=("credential_id",),
)


@runtime_checkable
class StudentDigests(Protocol):
    """Where the projection gets the digests of student numbers: the registry, which holds the learners' keys."""

    def student_digests(self, sealed: Sequence[SealedStudent]) -> list[bytes | None]: ...


@dataclass(frozen=True, slots=True)
class IdentifiedCredential:
    credential_id: UUID
    provider_id: UUID
    learner_id: UUID | None


@dataclass
class IdentifierChanges:
    """A page's rows: of credentials issued in it, and identifiers added to credentials issued before (merged into
    their rows, or the rows made, when written); where its student numbers are sealed; the learners forgotten."""

    created: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    added: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    students: list[SealedStudent] = field(default_factory=list)
    forgotten: set[UUID] = field(default_factory=set)

    def row(self, credential_id: UUID, provider_id: UUID) -> dict[str, Any]:
        """The row the page has for the credential: the one it created, or one of identifiers added to it."""
        if (created := self.created.get(credential_id)) is not None:
            return created
        return self.added.setdefault(
            credential_id,
            dict.fromkeys(IDENTIFIED.names) | {"credential_id": credential_id, "provider_id": provider_id},
        )


class CredentialIdentifiersView(View[IdentifierChanges]):
    """The ``credential_identifiers`` table, looked up within one provider by one identifier."""

    tables = (IDENTIFIED.name,)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # One index per identifier, led by the value (a course id is shared by few providers), ending with the
        # credential id the pages follow.
        self.sql_create_statements.extend(
            [
                IDENTIFIED.create_statement(self.schema),
                SQL("ALTER TABLE {0}.credential_identifiers ADD COLUMN IF NOT EXISTS lti_resource_link_id text").format(
                    self.schema
                ),
                *(
                    SQL(
                        "CREATE INDEX IF NOT EXISTS {0} ON {1}.credential_identifiers ({2}, provider_id, credential_id)"
                        " WHERE {2} IS NOT NULL"
                    ).format(Identifier(f"credential_identifiers_by_{column}"), self.schema, Identifier(column))
                    for column in COLUMNS.values()
                ),
                # A learner forgotten: the rows whose digest to clear, without reading the others.
                SQL(
                    "CREATE INDEX IF NOT EXISTS credential_identifiers_by_learner ON {0}.credential_identifiers"
                    " (learner_id) WHERE student_digest IS NOT NULL"
                ).format(self.schema),
            ]
        )
        self.writer = TableWriter(self.schema, IDENTIFIED)
        self.forget_statement = SQL(
            "UPDATE {0}.credential_identifiers SET student_digest = NULL"
            " WHERE learner_id = ANY(%s) AND student_digest IS NOT NULL"
        ).format(self.schema)
        # Identifiers added after issue fill the row's empty columns (a credential keeps the ones it has), or make
        # the row of a credential issued with none.
        self.add_statement = SQL(
            "INSERT INTO {0}.credential_identifiers AS t ({1}) SELECT * FROM unnest({2})"
            " ON CONFLICT (credential_id) DO UPDATE SET {3}"
        ).format(
            self.schema,
            SQL(", ").join(map(Identifier, IDENTIFIED.names)),
            SQL(", ").join(SQL("%s::{0}[]").format(SQL(t)) for t in IDENTIFIED.types.values()),
            SQL(", ").join(
                SQL("{0} = coalesce(t.{0}, excluded.{0})").format(Identifier(name))
                for name in IDENTIFIED.names
                if name not in ("credential_id", "provider_id")
            ),
        )
        self.find_statement = SQL(
            "SELECT credential_id, provider_id, learner_id FROM {schema}.credential_identifiers"
            " WHERE {column} = %(value)s AND provider_id = %(provider)s AND credential_id > %(after)s"
            " ORDER BY credential_id LIMIT %(limit)s"
        )

    def write(self, curs: Cursor[DictRow], changes: IdentifierChanges) -> None:
        if changes.created:
            self.writer.create(curs, changes.created.values())
        if changes.added:
            columns = [[row[name] for row in changes.added.values()] for name in IDENTIFIED.names]
            curs.execute(self.add_statement, columns)
        if changes.forgotten:
            curs.execute(self.forget_statement, [list(changes.forgotten)])

    def find(
        self,
        provider_id: UUID,
        scheme: IdentifierScheme,
        value: str | bytes,
        *,
        after: UUID | None = None,
        limit: int = 100,
    ) -> list[IdentifiedCredential]:
        """``provider_id``'s credentials whose ``scheme`` identifier is ``value`` (a student number's digest), in the
        order of their ids: at most ``limit``, from the first after ``after``."""
        statement = self.find_statement.format(schema=self.schema, column=Identifier(COLUMNS[scheme]))
        params = {"value": value, "provider": provider_id, "after": after or UUID(int=0), "limit": limit}
        with self.datastore.transaction() as curs:
            curs.execute(statement, params, prepare=True)
            return [IdentifiedCredential(**row) for row in curs.fetchall()]


class CredentialIdentifiersProjection(Projection[IdentifierChanges]):
    """Keeps ``credential_identifiers`` from credentials issued and learners forgotten."""

    name = "credential_identifiers"
    view_class = CredentialIdentifiersView

    def __init__(self, digests: StudentDigests) -> None:
        self.digests = digests

    @classmethod
    def of(cls, app: Application[Any]) -> CredentialIdentifiersProjection:
        if not isinstance(app, StudentDigests):
            raise TypeError(f"{cls.name} needs an application that digests student numbers, not {app!r}")
        return cls(app)

    def changes(self) -> IdentifierChanges:
        return IdentifierChanges()

    def fold(self, recorded: Iterable[Recorded]) -> IdentifierChanges:
        """The page's rows, every student number of it digested in one call (one look into the vault); rows of
        credentials issued with no identifier left out."""
        changes = super().fold(recorded)
        digests = self.digests.student_digests(changes.students)
        for (provider_id, credential_id, _), digest in zip(changes.students, digests, strict=True):
            row = changes.row(credential_id, provider_id)
            if digest is not None and row["student_digest"] is None:
                row["student_digest"] = digest
        for credential_id, row in list(changes.created.items()):
            if all(row[column] is None for column in COLUMNS.values()):
                del changes.created[credential_id]
        return changes

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: IdentifierChanges) -> None:
        """Other events change no identifier."""

    @process_event.register(event_class(Credential, "Issued"))
    def _(self, event: Any, position: int, changes: IdentifierChanges) -> None:
        changes.created[event.originator_id] = {
            "credential_id": event.originator_id,
            "provider_id": event.provider_id,
            "learner_id": event.learner.learner_id,
            "student_digest": None,
            # Events from before these fields existed have none.
            **{name: getattr(event, name, None) for name in COURSE_FIELDS},
        }
        changes.students.append((event.provider_id, event.originator_id, event.learner))

    @process_event.register(event_class(Credential, "IdentifiersAdded"))
    def _(self, event: Any, position: int, changes: IdentifierChanges) -> None:
        row = changes.row(event.originator_id, event.provider_id)
        for name in COURSE_FIELDS:
            if row[name] is None:
                row[name] = getattr(event, name, None)  # not in events from before it existed
        if event.student_id is not None:
            row["learner_id"] = row["learner_id"] or event.student_id.learner_id
            changes.students.append((event.provider_id, event.originator_id, event.student_id))

    @process_event.register(event_class(Erasure, "LearnerForgotten"))
    def _(self, event: Any, position: int, changes: IdentifierChanges) -> None:
        changes.forgotten.add(event.learner_id)
