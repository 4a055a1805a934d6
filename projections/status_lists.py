"""Status lists: each credential's place on the registry's Bitstring Status Lists, and its two status bits.

A credential's place needs no counter and never changes: it is the position
(notification id) of its ``Credential.Issued`` event. List number
``position // LIST_SIZE``, bit ``position % LIST_SIZE``. The Recommendation
asks for random indexes so that a list says little about whose bits it holds;
here every list spans 131,072 log positions shared by every issuer and by all
other events, so a list does not tell which provider, micro-credential or
learner a set bit belongs to (herd privacy), and nothing needs allocating.

There are two lists per number: ``revocation`` (final) and ``suspension``
(lifted by a reinstatement; a revocation ends an open suspension). Besides the
bits, a row keeps when each list last changed because of it, so that a list
document changes only when one of its bits does: the same bits always give
the same bytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from projections.engine import Projection, View
from registry.credential import Credential
from registry.status_list import MIN_BITS, PURPOSES

LIST_SIZE = MIN_BITS
"""Bits per list (131,072, the Recommendation's minimum): log positions per list number."""


def list_place(position: int) -> tuple[int, int]:
    """The list number and bit of the credential whose ``Issued`` event is at ``position`` in the log."""
    return divmod(position, LIST_SIZE)


COLUMNS = (
    ("credential_id", "uuid"),
    ("list_number", "int8"),
    ("bit", "int4"),
    ("issued_at", "timestamptz"),
    ("revoked_at", "timestamptz"),
    ("suspended", "bool"),
    ("suspension_changed_at", "timestamptz"),
)
"""The columns of a row as ``StatusLists`` builds it, in order, with their types for binary COPY."""
_REVOKED_AT, _SUSPENDED, _SUSPENSION_CHANGED_AT = 4, 5, 6


class ListState(NamedTuple):
    """What one list (a purpose and a number) says now."""

    bits: list[int]  # the set bits, in order
    changed_at: datetime  # when a bit last changed; if none ever did, when the list's first credential was issued


@dataclass
class StatusChanges:
    """A page's changes: whole rows of credentials issued in it, the later events of credentials issued before."""

    issued: dict[UUID, list[Any]] = field(default_factory=dict)
    suspensions: dict[UUID, tuple[bool, datetime]] = field(default_factory=dict)  # suspended?, when
    revocations: dict[UUID, datetime] = field(default_factory=dict)

    def suspension(self, credential_id: UUID, suspended: bool, at: datetime) -> None:
        if row := self.issued.get(credential_id):
            row[_SUSPENDED], row[_SUSPENSION_CHANGED_AT] = suspended, at
        else:
            self.suspensions[credential_id] = (suspended, at)

    def revocation(self, credential_id: UUID, at: datetime) -> None:
        if row := self.issued.get(credential_id):
            row[_REVOKED_AT] = at
            if row[_SUSPENDED]:
                row[_SUSPENDED], row[_SUSPENSION_CHANGED_AT] = False, at
            return
        self.revocations[credential_id] = at
        if self.suspensions.get(credential_id, (False, at))[0]:
            self.suspensions[credential_id] = (False, at)
        # Otherwise whether it was suspended is in the table: the revocation statement ends a suspension there.


class StatusListsView(View[StatusChanges]):
    """The ``status_list_entries`` table, read a list at a time."""

    tables = ("status_list_entries",)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.status_list_entries ("
                    "credential_id uuid PRIMARY KEY, "
                    "list_number bigint NOT NULL, "
                    "bit integer NOT NULL, "
                    "issued_at timestamptz NOT NULL, "
                    "revoked_at timestamptz, "
                    "suspended boolean NOT NULL, "
                    "suspension_changed_at timestamptz)"
                ).format(self.schema),
                # A list's first credential; and no two credentials share a place.
                SQL(
                    "CREATE UNIQUE INDEX IF NOT EXISTS status_list_entries_by_place "
                    "ON {0}.status_list_entries (list_number, bit)"
                ).format(self.schema),
                # Building a list reads only the rows that ever touched it.
                SQL(
                    "CREATE INDEX IF NOT EXISTS status_list_entries_revoked "
                    "ON {0}.status_list_entries (list_number, bit) WHERE revoked_at IS NOT NULL"
                ).format(self.schema),
                SQL(
                    "CREATE INDEX IF NOT EXISTS status_list_entries_suspension "
                    "ON {0}.status_list_entries (list_number, bit) WHERE suspension_changed_at IS NOT NULL"
                ).format(self.schema),
            ]
        )
        self.copy_rows_statement = SQL("COPY {0}.status_list_entries ({1}) FROM STDIN (FORMAT BINARY)").format(
            self.schema, SQL(", ").join(Identifier(column) for column, _ in COLUMNS)
        )
        self.copy_types = [pg_type for _, pg_type in COLUMNS]
        self.update_suspensions_statement = SQL(
            "UPDATE {0}.status_list_entries AS e SET suspended = s.suspended, suspension_changed_at = s.at "
            "FROM unnest(%s::uuid[], %s::boolean[], %s::timestamptz[]) AS s(credential_id, suspended, at) "
            "WHERE e.credential_id = s.credential_id"
        ).format(self.schema)
        # Revocation is final and ends an open suspension, which then changes the suspension list too.
        self.update_revocations_statement = SQL(
            "UPDATE {0}.status_list_entries AS e SET revoked_at = s.at, "
            "suspension_changed_at = CASE WHEN e.suspended THEN s.at ELSE e.suspension_changed_at END, "
            "suspended = false "
            "FROM unnest(%s::uuid[], %s::timestamptz[]) AS s(credential_id, at) "
            "WHERE e.credential_id = s.credential_id"
        ).format(self.schema)
        first_issued = "(SELECT issued_at FROM {0}.status_list_entries WHERE list_number = %(n)s ORDER BY bit LIMIT 1)"
        self.select_list_statements = {
            "revocation": SQL(
                f"SELECT {first_issued} AS first_issued_at, max(revoked_at) AS changed_at, "
                "coalesce(array_agg(bit ORDER BY bit), '{{}}') AS bits "
                "FROM {0}.status_list_entries WHERE list_number = %(n)s AND revoked_at IS NOT NULL"
            ).format(self.schema),
            "suspension": SQL(
                f"SELECT {first_issued} AS first_issued_at, max(suspension_changed_at) AS changed_at, "
                "coalesce(array_agg(bit ORDER BY bit) FILTER (WHERE suspended), '{{}}') AS bits "
                "FROM {0}.status_list_entries WHERE list_number = %(n)s AND suspension_changed_at IS NOT NULL"
            ).format(self.schema),
        }

    def write(self, curs: Cursor[DictRow], changes: StatusChanges) -> None:
        if changes.issued:
            with curs.copy(self.copy_rows_statement) as copy:
                copy.set_types(self.copy_types)
                for row in changes.issued.values():
                    copy.write_row(row)
        # Suspensions first: a revocation in the same page comes after them, and reads what they wrote.
        if changes.suspensions:
            suspended, at = zip(*changes.suspensions.values(), strict=True)
            curs.execute(self.update_suspensions_statement, [list(changes.suspensions), list(suspended), list(at)])
        if changes.revocations:
            curs.execute(
                self.update_revocations_statement, [list(changes.revocations), list(changes.revocations.values())]
            )

    def list_state(self, purpose: str, number: int) -> ListState | None:
        """The set bits of one list and when it last changed; None while no credential is on it."""
        if purpose not in PURPOSES:
            raise ValueError(f"status purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
        with self.datastore.transaction(commit=False) as curs:  # one statement: one snapshot
            curs.execute(self.select_list_statements[purpose], {"n": number}, prepare=True)
            row = curs.fetchone()
        assert row is not None  # an aggregate without GROUP BY always answers a row
        if row["first_issued_at"] is None:
            return None
        return ListState(list(row["bits"]), row["changed_at"] or row["first_issued_at"])


class StatusLists(Projection[StatusChanges]):
    """Keeps ``status_list_entries`` from the credentials' events."""

    name = "status_lists"
    topics = tuple(
        get_topic(cls) for cls in (Credential.Issued, Credential.Suspended, Credential.Reinstated, Credential.Revoked)
    )
    view_class = StatusListsView

    def changes(self) -> StatusChanges:
        return StatusChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: StatusChanges) -> None:
        """Other events do not change a status list."""

    @process_event.register(Credential.Issued)
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        number, bit = list_place(position)
        changes.issued[event.originator_id] = [event.originator_id, number, bit, event.timestamp, None, False, None]

    @process_event.register(Credential.Suspended)
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        changes.suspension(event.originator_id, True, event.timestamp)

    @process_event.register(Credential.Reinstated)
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        changes.suspension(event.originator_id, False, event.timestamp)

    @process_event.register(Credential.Revoked)
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        changes.revocation(event.originator_id, event.timestamp)
