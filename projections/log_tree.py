"""The transparency log's tree as a read model: every stored event an RFC 9162 leaf, each page a signed checkpoint.

``LogTreeProjection`` follows the notification log on the projection engine like every
other read model, but reads the stored records rather than decoded events.
Leaf ``i`` is the ``i``-th event of the notification log (0-based, dense: gaps
that rolled-back transactions leave in the notification ids are skipped).

Leaf encoding, version 1 (``encode_leaf``), all integers big-endian::

    b"mcreg/tlog/event/v1\\x00"   20 bytes, domain separation and version
    position                      uint64, the event's notification id
    aggregate id                  16 bytes, the originator UUID
    aggregate version             uint64
    len(topic), topic             uint32, UTF-8 bytes of the stored topic
    len(state), state             uint32, the stored state bytes exactly as recorded

and the leaf hash is ``merkle.leaf_hash(encoding)`` = SHA-256(0x00 || encoding).
The state is the stored bytes (learner data already sealed), so erasing a
learner's key changes no leaf. The position is in the leaf, so a deleted,
moved or inserted event is caught where it happened, not only as a different
root.

Tables, in the event store's schema:

- ``tlog_leaves(idx, position, hash)``: level 0 of the tree, one row per leaf.
- ``tlog_nodes(level, idx, hash)``: one row per complete subtree of level 1
  and up (leaves ``[idx·2^level, (idx+1)·2^level)``); level 0 is not repeated
  here, ``tlog_leaves`` holds it. Rows never change once written.
- ``tlog_checkpoints(size, root, note, signed_at)``: the signed checkpoint of
  every size the log has committed, the empty tree's included, each signed by
  the log key in force when its page took the lock (``LogSigning``). A rebuild
  keeps them: they are what the log said, not what it derives.
- ``tlog_tracking(position, size)``: the view's tracking row, the last position
  logged and the tree size; a page moves it in the transaction that writes its
  leaves, as every view's tracking moves with its page (decision 10).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, TupleRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from mcreg.projections.engine import Projection, View
from mcreg.projections.reading import Recorded, StoredEventLike
from mcreg.projections.tables import CREATE_IN_TURN, Table, TableWriter
from mcreg.registry.trust.merkle import EMPTY_ROOT, Frontier, covering_subtrees, leaf_hash
from mcreg.registry.trust.signed_note import Checkpoint, Signer, sign_checkpoint

LEAF_DOMAIN = b"mcreg/tlog/event/v1\x00"
_HEAD = struct.Struct(">Q16sQI")
_LENGTH = struct.Struct(">I")

LEAVES = Table(
    "tlog_leaves",
    columns=(("idx", "int8"), ("position", "int8 NOT NULL UNIQUE"), ("hash", "bytea NOT NULL")),
    key=("idx",),
)
"""Level 0 of the tree: a leaf per stored event."""
NODES = Table(
    "tlog_nodes",
    columns=(
        ("level", "int2 NOT NULL CHECK (level BETWEEN 1 AND 62)"),
        ("idx", "int8 NOT NULL"),
        ("hash", "bytea NOT NULL"),
    ),
    key=("level", "idx"),
)
"""The complete subtrees of level 1 and up."""
CHECKPOINTS = Table(
    "tlog_checkpoints",
    columns=(
        ("size", "int8"),
        ("root", "bytea NOT NULL"),
        ("note", "text NOT NULL"),
        ("signed_at", "timestamptz NOT NULL DEFAULT now()"),
    ),
    key=("size",),
)
"""The signed checkpoint of every size the log committed."""

GATHER = 0.1
"""Seconds a follower lets new events gather before it appends them: at most ten signed checkpoints a second."""

Range = tuple[int, int]
"""The leaves ``[start, end)`` of a complete subtree."""


def encode_leaf(position: int, aggregate_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """The leaf data of a stored event (encoding version 1, see the module's docstring)."""
    uuid = aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id))
    topic_bytes = topic.encode()
    state = bytes(state)
    return b"".join(
        (
            LEAF_DOMAIN,
            _HEAD.pack(position, uuid.bytes, version, len(topic_bytes)),
            topic_bytes,
            _LENGTH.pack(len(state)),
            state,
        )
    )


def event_leaf_hash(event: StoredEventLike) -> bytes:
    """The leaf hash of a stored event."""
    return leaf_hash(encode_leaf(event.id, event.originator_id, event.originator_version, event.topic, event.state))


class LogCorrupted(Exception):
    """A stored subtree that a proof needs is missing: the log's tables were damaged (run an audit)."""


class LogSigning(Protocol):
    """Where the log's key comes from: read in the transaction that signs, under the page lock, so a key rotated
    before a page takes the lock signs that page's checkpoint (``mcreg.stores.log_keys`` is one)."""

    def signer(self, curs: Cursor[TupleRow]) -> Signer:
        """The key in force as ``curs`` sees it (made if the log has none yet), named by the log's origin."""
        ...


@dataclass
class Leaves:
    """One page's changes to the tree: the leaf hash of each event, by position, in log order; and where the key
    that signs the checkpoint the page ends with comes from."""

    signing: LogSigning
    hashes: list[tuple[int, bytes]] = field(default_factory=list)


class TreeView(View[Leaves]):
    """The tree's tables and its tracking row; a page appends leaves and completed subtrees and signs its size."""

    tables = (LEAVES.name, NODES.name)
    TRACKING: ClassVar[str] = "tlog_tracking"

    def __init__(self, datastore: PostgresDatastore, *, tracking_table_name: str, **kwargs: Any) -> None:
        # The log keeps the tracking row it has always had, (position, size), rather than the library's table.
        super().__init__(datastore, tracking_table_name=self.TRACKING, **kwargs)
        schema = self.datastore.schema

        def q(text: str) -> Composed:
            return SQL(text).format(
                leaves=Identifier(schema, LEAVES.name),
                nodes=Identifier(schema, NODES.name),
                checkpoints=Identifier(schema, CHECKPOINTS.name),
                tracking=Identifier(schema, self.TRACKING),
            )

        self.sql_create_statements = [
            *(table.create_statement(self.schema) for table in (LEAVES, NODES, CHECKPOINTS)),
            q(
                "CREATE TABLE IF NOT EXISTS {tracking} (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
                " position bigint NOT NULL, size bigint NOT NULL)"
            ),
            q("INSERT INTO {tracking} (position, size) VALUES (0, 0) ON CONFLICT DO NOTHING"),
        ]
        self.select_tracking_statement = q("SELECT position, size FROM {tracking}")
        self.move_tracking_statement = q(
            "UPDATE {tracking} SET position = %(position)s WHERE position < %(position)s RETURNING position"
        )
        self.set_size_statement = q("UPDATE {tracking} SET size = %s")
        self.leaves = TableWriter(self.schema, LEAVES)
        self.nodes = TableWriter(self.schema, NODES)
        self.insert_checkpoint_statement = q("INSERT INTO {checkpoints} (size, root, note) VALUES (%s, %s, %s)")
        self.insert_empty_checkpoint_statement = q(
            "INSERT INTO {checkpoints} (size, root, note) VALUES (0, %s, %s) ON CONFLICT DO NOTHING"
        )
        self.select_empty_checkpoint_statement = q("SELECT 1 FROM {checkpoints} WHERE size = 0")
        self.select_subtrees_statement = q(
            "SELECT 0 AS level, idx, hash FROM {leaves} WHERE idx = ANY(%s::bigint[])"
            " UNION ALL SELECT n.level, n.idx, n.hash"
            " FROM unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) JOIN {nodes} AS n USING (level, idx)"
        )
        # Templates over a copy of this view in another schema, for the swap of a rebuild.
        self.adopt_size_statement = SQL("UPDATE {schema}.{tracking} SET size = (SELECT size FROM {other}.{tracking})")
        self.adopt_checkpoint_statement = SQL(
            "INSERT INTO {schema}.tlog_checkpoints SELECT c.* FROM {other}.tlog_checkpoints AS c"
            " JOIN {other}.{tracking} AS t ON c.size = t.size ON CONFLICT DO NOTHING"
        )
        self.frontier: Frontier | None = None
        """The tree's right edge as the last page written left it: a page at the same size goes on from it."""

    # -- the tracking row: the engine's position, and the tree's size beside it

    def create_table(self) -> None:
        """Create the log's tables if missing, with the empty tree's tracking row."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(CREATE_IN_TURN)
            for statement in self.sql_create_statements:
                curs.execute(statement)

    def _max_tracking_id(self, application_name: str, curs: Cursor[DictRow]) -> int | None:
        curs.execute(self.select_tracking_statement)
        row = curs.fetchone()
        return None if row is None else int(row["position"])

    def _insert_tracking(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        curs.execute(self.move_tracking_statement, {"position": tracking.notification_id})
        if curs.fetchone() is None:
            raise IntegrityError(f"the log is tracked at or beyond {tracking.notification_id}")

    def tracked(self, curs: Cursor[TupleRow]) -> tuple[int, int]:
        """(the last position logged, the tree size), as ``curs`` sees them."""
        row = curs.execute(self.select_tracking_statement).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    # -- a page

    def write(self, curs: Cursor[DictRow], changes: Leaves) -> None:
        """Append the page's leaves after the tracked size, with the subtrees they complete and the checkpoint of
        the new size, signed once the page is sure to be this log's next: a log never signs a size twice."""
        if not changes.hashes:
            return
        with curs.connection.cursor(row_factory=tuple_row) as tuples:
            _, size = self.tracked(tuples)  # the tracking row is locked by the page's transaction
            frontier = self.frontier_at(tuples, size)
            leaves: list[tuple[int, int, bytes]] = []
            nodes: list[tuple[int, int, bytes]] = []
            for position, hashed in changes.hashes:
                index = frontier.size
                created = frontier.append(hashed)
                leaves.append((index, position, created[0].hash))
                nodes.extend((c.level, c.index, c.hash) for c in created[1:])
            self.leaves.copy(curs, leaves)
            if nodes:
                self.nodes.copy(curs, nodes)
            self.write_checkpoint(tuples, changes.signing.signer(tuples), frontier.size, frontier.root())
            tuples.execute(self.set_size_statement, [frontier.size])
        # Kept even if the transaction then rolls back: the next page finds the tracked size different and reloads.
        self.frontier = Frontier(frontier.size, frontier.roots)

    def write_checkpoint(self, curs: Cursor[TupleRow], signer: Signer, size: int, root: bytes) -> None:
        """Sign the checkpoint of the tree of ``size`` leaves and store it, in the page's transaction."""
        note = sign_checkpoint(Checkpoint(signer.name, size, root), signer)
        curs.execute(self.insert_checkpoint_statement, [size, root, note])

    def sign_empty(self, signing: LogSigning) -> None:
        """Store the empty tree's signed checkpoint, if it is not there yet (so a log already signed needs no key).
        In turn with other processes opening the log, so that one of them makes the log's first key."""
        with self.datastore.transaction(commit=True) as curs, curs.connection.cursor(row_factory=tuple_row) as tuples:
            tuples.execute(CREATE_IN_TURN)
            if tuples.execute(self.select_empty_checkpoint_statement).fetchone() is None:
                signer = signing.signer(tuples)
                note = sign_checkpoint(Checkpoint(signer.name, 0, EMPTY_ROOT), signer)
                tuples.execute(self.insert_empty_checkpoint_statement, [EMPTY_ROOT, note])

    def frontier_at(self, curs: Cursor[TupleRow], size: int) -> Frontier:
        """The right edge of the tree of ``size`` leaves: as the last page left it, or from the stored subtrees."""
        known = self.frontier
        if known is not None and known.size == size:
            return Frontier(size, known.roots)
        return Frontier.from_subtrees(size, lookup(self.subtrees(curs, covering_subtrees(0, size) if size else [])))

    def subtrees(self, curs: Cursor[TupleRow], ranges: Iterable[Range]) -> dict[Range, bytes]:
        """The stored hashes of these complete subtrees, in one query, keyed by leaf range."""
        leaves: set[int] = set()
        upper: set[tuple[int, int]] = set()
        for a, b in ranges:
            if b - a == 1:
                leaves.add(a)
            else:
                level = (b - a).bit_length() - 1
                upper.add((level, a >> level))
        if not leaves and not upper:
            return {}
        levels, indexes = [level for level, _ in upper], [i for _, i in upper]
        rows = curs.execute(self.select_subtrees_statement, [sorted(leaves), levels, indexes]).fetchall()
        return {(int(idx) << level, (int(idx) + 1) << level): bytes(h) for level, idx, h in rows}

    # -- a rebuild

    def replace_tables(self, curs: Cursor[DictRow], scratch: View[Leaves]) -> None:
        """Swap in the rebuilt leaves and subtrees, with their size and its checkpoint if this log never signed it.

        The checkpoints signed before stay: a rebuild recomputes the tree, it does not rewrite what the log said.
        """
        super().replace_tables(curs, scratch)
        tracking = Identifier(self.TRACKING)
        curs.execute(self.adopt_size_statement.format(schema=self.schema, other=scratch.schema, tracking=tracking))
        curs.execute(
            self.adopt_checkpoint_statement.format(schema=self.schema, other=scratch.schema, tracking=tracking)
        )
        self.frontier = None


def lookup(found: dict[Range, bytes]) -> Callable[[int, int], bytes]:
    """``subtree_root`` over these stored hashes; ``LogCorrupted`` for one the log does not hold."""

    def subtree_root(start: int, end: int) -> bytes:
        try:
            return found[start, end]
        except KeyError:
            raise LogCorrupted(f"the log holds no hash of the subtree over leaves [{start}, {end})") from None

    return subtree_root


class LogTreeProjection(Projection[Leaves]):
    """Every stored event, in log order, as a leaf of the tree; the key ``signing`` gives signs each page's
    checkpoint."""

    name = "transparency_log"
    view_class = TreeView
    decodes = False
    gather = GATHER
    merges = False  # a checkpoint is signed per page (decision 28)
    skippable = False  # every event is a leaf, or the log's tree no longer matches the events (decision 55)

    def __init__(self, signing: LogSigning) -> None:
        self.signing = signing

    def changes(self) -> Leaves:
        return Leaves(self.signing)

    def fold(self, recorded: Iterable[Recorded]) -> Leaves:
        changes = self.changes()
        changes.hashes = [(r.position, event_leaf_hash(r.stored)) for r in recorded]
        return changes
