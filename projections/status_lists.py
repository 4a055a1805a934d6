"""Status lists: each credential's place on its issuer's Bitstring Status Lists, and its two status bits.

Every issuer (the provider that issued the credential) has its own lists,
numbered from 0, of ``LIST_SIZE`` (131,072) entries each; a list takes new
credentials until it is half full (``LIST_CAPACITY``), then the next one opens.
A credential's place is (issuer, list number, index), the same on the
``revocation`` list and the ``suspension`` list of that number.

The index is random-looking, as the Recommendation asks, so that a set bit
says nothing about when the credential was issued or which credentials were
issued together: the first free index among ``status_index(issuer, number,
credential, attempt)`` for attempt 0, 1, 2, … — a SHA-256 of the credential id
(a random uuid4, so no key is needed to make the index unpredictable before
issue, and none has to survive a rebuild). Credentials are placed in log
order, each where the first free candidate is given every credential placed
before it, so catching up page by page and rebuilding from position 0 place
every credential at the same index. At most half full, a credential needs two
candidates on average.

A page looks its candidates up in the table (an index probe each) rather than
reading whole lists, unless a list would be read more cheaply whole.

Besides the bits, a row keeps when each list last changed because of it, so a
list document changes only when one of its bits does: the same bits always
give the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.tables import Table, TableWriter
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.trust.status_list import MIN_BITS, PURPOSES

LIST_SIZE = MIN_BITS
"""Entries per list: 131,072, the Recommendation's minimum."""
LIST_CAPACITY = LIST_SIZE // 2
"""Credentials a list takes before the issuer's next list opens: at most half full, placing stays cheap."""
CANDIDATES = 12
"""Candidate indexes looked up at once per credential: at half full, all twelve are taken once in 4,096 placings."""


def status_index(issuer_id: UUID, number: int, credential_id: UUID, attempt: int) -> int:
    """The ``attempt``-th candidate index of a credential on its issuer's list ``number``."""
    digest = hashlib.sha256(
        b"mcreg/status-index/v1\x00"
        + issuer_id.bytes
        + number.to_bytes(8, "big")
        + credential_id.bytes
        + attempt.to_bytes(4, "big")
    ).digest()
    return int.from_bytes(digest[:8], "big") % LIST_SIZE


@dataclass(frozen=True, slots=True)
class StatusPlace:
    """Where a credential's bits are: the same index on its issuer's revocation and suspension lists ``number``."""

    issuer_id: UUID
    number: int
    index: int


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A credential's place, and its bits as its lists show them now."""

    place: StatusPlace
    revoked: bool
    suspended: bool


@dataclass(frozen=True, slots=True)
class ListState:
    """What one list (an issuer, a purpose and a number) says now."""

    bits: list[int]  # the set bits, in order
    changed_at: datetime  # when a bit last changed; if none ever did, when the list's first credential was issued


ENTRIES = Table(
    "issuer_status_entries",
    columns=(
        ("credential_id", "uuid"),
        ("issuer_id", "uuid NOT NULL"),
        ("list_number", "int4 NOT NULL"),
        ("idx", "int4 NOT NULL"),
        ("issued_at", "timestamptz NOT NULL"),
        ("revoked_at", "timestamptz"),
        ("suspended", "bool NOT NULL"),
        ("suspension_changed_at", "timestamptz"),
    ),
    key=("credential_id",),
)
"""A row as ``StatusListsProjection`` builds it, in order (the positions below name its columns)."""
_CREDENTIAL, _ISSUER, _NUMBER, _INDEX, _ISSUED_AT, _REVOKED_AT, _SUSPENDED, _SUSPENSION_CHANGED_AT = range(8)

ListKey = tuple[UUID, int]  # (issuer, list number)


@dataclass
class StatusChanges:
    """A page's changes: whole rows of credentials issued in it, the later events of credentials issued before."""

    issued: dict[UUID, list[Any]] = field(default_factory=dict)  # in log order; placed when the page is written
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
    """``issuer_status_entries`` (a row per credential) and ``issuer_status_lists`` (a row per list)."""

    tables = (ENTRIES.name, "issuer_status_lists")

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(
            [
                ENTRIES.create_statement(self.schema),
                # No two credentials share a place; placing a credential probes it.
                SQL(
                    "CREATE UNIQUE INDEX IF NOT EXISTS issuer_status_entries_by_place "
                    "ON {0}.issuer_status_entries (issuer_id, list_number, idx)"
                ).format(self.schema),
                # Building a list reads only the rows that ever touched it.
                SQL(
                    "CREATE INDEX IF NOT EXISTS issuer_status_entries_revoked "
                    "ON {0}.issuer_status_entries (issuer_id, list_number, idx) WHERE revoked_at IS NOT NULL"
                ).format(self.schema),
                SQL(
                    "CREATE INDEX IF NOT EXISTS issuer_status_entries_suspension "
                    "ON {0}.issuer_status_entries (issuer_id, list_number, idx) "
                    "WHERE suspension_changed_at IS NOT NULL"
                ).format(self.schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.issuer_status_lists ("
                    "issuer_id uuid NOT NULL, "
                    "list_number integer NOT NULL, "
                    "used integer NOT NULL, "
                    "opened_at timestamptz NOT NULL, "
                    "PRIMARY KEY (issuer_id, list_number))"
                ).format(self.schema),
            ]
        )
        self.entries = TableWriter(self.schema, ENTRIES)
        self.select_open_lists_statement = SQL(
            "SELECT DISTINCT ON (issuer_id) issuer_id, list_number, used FROM {0}.issuer_status_lists "
            "WHERE issuer_id = ANY(%s) ORDER BY issuer_id, list_number DESC"
        ).format(self.schema)
        self.select_taken_statement = SQL(
            "SELECT e.issuer_id, e.list_number, e.idx FROM {0}.issuer_status_entries AS e "
            "JOIN unnest(%s::uuid[], %s::int4[], %s::int4[]) AS c(issuer_id, list_number, idx) "
            "USING (issuer_id, list_number, idx)"
        ).format(self.schema)
        self.select_list_taken_statement = SQL(
            "SELECT idx FROM {0}.issuer_status_entries WHERE issuer_id = %s AND list_number = %s"
        ).format(self.schema)
        self.upsert_lists_statement = SQL(
            "INSERT INTO {0}.issuer_status_lists (issuer_id, list_number, used, opened_at) "
            "SELECT * FROM unnest(%s::uuid[], %s::int4[], %s::int4[], %s::timestamptz[]) "
            "ON CONFLICT (issuer_id, list_number) DO UPDATE SET used = EXCLUDED.used"
        ).format(self.schema)
        self.update_suspensions_statement = SQL(
            "UPDATE {0}.issuer_status_entries AS e SET suspended = s.suspended, suspension_changed_at = s.at "
            "FROM unnest(%s::uuid[], %s::boolean[], %s::timestamptz[]) AS s(credential_id, suspended, at) "
            "WHERE e.credential_id = s.credential_id"
        ).format(self.schema)
        # Revocation is final and ends an open suspension, which then changes the suspension list too.
        self.update_revocations_statement = SQL(
            "UPDATE {0}.issuer_status_entries AS e SET revoked_at = s.at, "
            "suspension_changed_at = CASE WHEN e.suspended THEN s.at ELSE e.suspension_changed_at END, "
            "suspended = false "
            "FROM unnest(%s::uuid[], %s::timestamptz[]) AS s(credential_id, at) "
            "WHERE e.credential_id = s.credential_id"
        ).format(self.schema)
        self.select_place_statement = SQL(
            "SELECT issuer_id, list_number, idx FROM {0}.issuer_status_entries WHERE credential_id = %s"
        ).format(self.schema)
        self.select_entry_statement = SQL(
            "SELECT issuer_id, list_number, idx, revoked_at IS NOT NULL AS revoked, suspended "
            "FROM {0}.issuer_status_entries WHERE credential_id = %s"
        ).format(self.schema)
        where = "e.issuer_id = l.issuer_id AND e.list_number = l.list_number"
        self.select_list_statements = {
            "revocation": SQL(
                "SELECT l.opened_at, "
                f"(SELECT max(revoked_at) FROM {{0}}.issuer_status_entries AS e WHERE {where} "
                "AND revoked_at IS NOT NULL) AS changed_at, "
                f"(SELECT coalesce(array_agg(idx ORDER BY idx), '{{{{}}}}') FROM {{0}}.issuer_status_entries AS e "
                f"WHERE {where} AND revoked_at IS NOT NULL) AS bits "
                "FROM {0}.issuer_status_lists AS l WHERE l.issuer_id = %(issuer)s AND l.list_number = %(n)s"
            ).format(self.schema),
            "suspension": SQL(
                "SELECT l.opened_at, "
                f"(SELECT max(suspension_changed_at) FROM {{0}}.issuer_status_entries AS e WHERE {where} "
                "AND suspension_changed_at IS NOT NULL) AS changed_at, "
                f"(SELECT coalesce(array_agg(idx ORDER BY idx) FILTER (WHERE suspended), '{{{{}}}}') "
                f"FROM {{0}}.issuer_status_entries AS e WHERE {where} AND suspension_changed_at IS NOT NULL) AS bits "
                "FROM {0}.issuer_status_lists AS l WHERE l.issuer_id = %(issuer)s AND l.list_number = %(n)s"
            ).format(self.schema),
        }

    # Writing a page

    def write(self, curs: Cursor[DictRow], changes: StatusChanges) -> None:
        if changes.issued:
            self.place(curs, list(changes.issued.values()))
            self.entries.copy(curs, changes.issued.values())
        # Suspensions first: a revocation in the same page comes after them, and reads what they wrote.
        if changes.suspensions:
            suspended, at = zip(*changes.suspensions.values(), strict=True)
            curs.execute(self.update_suspensions_statement, [list(changes.suspensions), list(suspended), list(at)])
        if changes.revocations:
            curs.execute(
                self.update_revocations_statement, [list(changes.revocations), list(changes.revocations.values())]
            )

    def place(self, curs: Cursor[DictRow], rows: list[list[Any]]) -> None:
        """Give each new credential (in log order) its list number and index, and count them on their lists."""
        issuers = list(dict.fromkeys(row[_ISSUER] for row in rows))
        curs.execute(self.select_open_lists_statement, [issuers])
        open_lists = {r["issuer_id"]: (r["list_number"], r["used"]) for r in curs.fetchall()}
        counts: dict[ListKey, list[Any]] = {}  # list → [used, opened_at]
        by_list: dict[ListKey, list[list[Any]]] = defaultdict(list)
        for row in rows:
            issuer = row[_ISSUER]
            number, used = open_lists.get(issuer, (0, 0))
            if used >= LIST_CAPACITY:
                number, used = number + 1, 0
            open_lists[issuer] = (number, used + 1)
            row[_NUMBER] = number
            counts.setdefault((issuer, number), [used, row[_ISSUED_AT]])[0] = used + 1
            by_list[issuer, number].append(row)
        self._index(curs, by_list, {key: used for key, (used, _) in counts.items()})
        issuer_ids, numbers, used_counts, opened = zip(
            *((issuer, number, used, at) for (issuer, number), (used, at) in counts.items()), strict=True
        )
        curs.execute(self.upsert_lists_statement, [list(issuer_ids), list(numbers), list(used_counts), list(opened)])

    def _index(self, curs: Cursor[DictRow], by_list: dict[ListKey, list[list[Any]]], used: dict[ListKey, int]) -> None:
        """Place each list's new credentials, in order, at their first candidate index that is free."""
        taken: dict[ListKey, set[int]] = defaultdict(set)
        looked_up: dict[ListKey, set[int]] = defaultdict(set)
        complete: set[ListKey] = set()  # lists whose every taken index is in ``taken``
        for key, rows in by_list.items():
            before = used[key] - len(rows)
            if before and before <= len(rows) * CANDIDATES:  # cheaper to read the list whole than to probe
                curs.execute(self.select_list_taken_statement, list(key))
                taken[key].update(r["idx"] for r in curs.fetchall())
                complete.add(key)
            elif not before:
                complete.add(key)  # a new list: nothing is taken yet
        attempts: dict[UUID, int] = {}  # the first candidate of each credential's next window
        placed = dict.fromkeys(by_list, 0)  # how many of each list's rows are placed
        while any(placed[key] < len(rows) for key, rows in by_list.items()):
            self._look_up(curs, by_list, placed, attempts, taken, looked_up, complete)
            for key, rows in by_list.items():
                while placed[key] < len(rows):
                    row = rows[placed[key]]
                    start = attempts.get(row[_CREDENTIAL], 0)
                    for attempt in range(start, start + CANDIDATES):
                        index = status_index(key[0], key[1], row[_CREDENTIAL], attempt)
                        if index not in taken[key]:
                            row[_INDEX] = index
                            taken[key].add(index)
                            break
                    else:  # every candidate looked up is taken: look further, then go on from this row
                        attempts[row[_CREDENTIAL]] = start + CANDIDATES
                        break
                    placed[key] += 1

    def _look_up(
        self,
        curs: Cursor[DictRow],
        by_list: dict[ListKey, list[list[Any]]],
        placed: dict[ListKey, int],
        attempts: dict[UUID, int],
        taken: dict[ListKey, set[int]],
        looked_up: dict[ListKey, set[int]],
        complete: set[ListKey],
    ) -> None:
        """Find which candidates of the rows still to place are taken in the table."""
        issuer_ids: list[UUID] = []
        numbers: list[int] = []
        indexes: list[int] = []
        for key, rows in by_list.items():
            if key in complete:
                continue
            for row in rows[placed[key] :]:
                start = attempts.get(row[_CREDENTIAL], 0)
                for attempt in range(start, start + CANDIDATES):
                    index = status_index(key[0], key[1], row[_CREDENTIAL], attempt)
                    if index not in looked_up[key]:
                        looked_up[key].add(index)
                        issuer_ids.append(key[0])
                        numbers.append(key[1])
                        indexes.append(index)
        if indexes:
            curs.execute(self.select_taken_statement, [issuer_ids, numbers, indexes])
            for r in curs.fetchall():
                taken[r["issuer_id"], r["list_number"]].add(r["idx"])

    # Reading

    def place_of(self, credential_id: UUID) -> StatusPlace | None:
        """The credential's place on its issuer's lists; None until the projection has seen its issuance."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.select_place_statement, [credential_id], prepare=True)
            row = curs.fetchone()
        return StatusPlace(row["issuer_id"], row["list_number"], row["idx"]) if row else None

    def entry(self, credential_id: UUID) -> StatusEntry | None:
        """The credential's place and its bits as its lists show them now."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.select_entry_statement, [credential_id], prepare=True)
            row = curs.fetchone()
        if row is None:
            return None
        return StatusEntry(
            StatusPlace(row["issuer_id"], row["list_number"], row["idx"]), row["revoked"], row["suspended"]
        )

    def list_state(self, issuer_id: UUID, purpose: str, number: int) -> ListState | None:
        """The set bits of one list and when it last changed; None while the issuer has no such list."""
        if purpose not in PURPOSES:
            raise ValueError(f"status purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
        with self.datastore.transaction(commit=False) as curs:  # one statement: one snapshot
            curs.execute(self.select_list_statements[purpose], {"issuer": issuer_id, "n": number}, prepare=True)
            row = curs.fetchone()
        if row is None:
            return None
        return ListState(list(row["bits"]), row["changed_at"] or row["opened_at"])


class StatusListsProjection(Projection[StatusChanges]):
    """Keeps ``issuer_status_entries`` and ``issuer_status_lists`` from the credentials' events.

    Named ``issuer_status_lists``, not ``status_lists`` as the registry-wide lists it replaces were: a new name
    has a tracking table of its own, so a registry that projected the old lists projects these from position 0.
    """

    name = "issuer_status_lists"
    view_class = StatusListsView

    def changes(self) -> StatusChanges:
        return StatusChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: StatusChanges) -> None:
        """Other events do not change a status list."""

    @process_event.register(event_class(Credential, "Issued"))
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        row = [event.originator_id, event.provider_id, None, None, event.timestamp, None, False, None]
        changes.issued[event.originator_id] = row  # list number and index are given when the page is written

    @process_event.register(event_class(Credential, "Suspended"))
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        changes.suspension(event.originator_id, True, event.timestamp)

    @process_event.register(event_class(Credential, "Reinstated"))
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        changes.suspension(event.originator_id, False, event.timestamp)

    @process_event.register(event_class(Credential, "Revoked"))
    def _(self, event: Any, position: int, changes: StatusChanges) -> None:
        changes.revocation(event.originator_id, event.timestamp)
