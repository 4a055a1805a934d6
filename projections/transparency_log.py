"""The registry's transparency log: its tree kept as a read model (``log_tree``), and what the log answers.

``TransparencyLog`` is the projector of ``LogTreeProjection``: it catches up, follows and
rebuilds on the projection engine like every read model, each page of leaves
and its signed C2SP checkpoint committing with the page's tracking row, so
racing or crashed runners append each event once and the log signs each size
once. Anyone holding a checkpoint can then ask for an inclusion proof of an
event, or a consistency proof that a later checkpoint extends theirs, and
check it with nothing but ``registry.trust.merkle`` and the log's public keys:
the key in force, and those it replaced, each announced by a rotation note
its predecessor signed (``registry.trust.key_rotation``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import TupleRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from mcreg.projections import rebuild as rebuilding
from mcreg.projections.engine import PAGE_SIZE, Progress, Projector, catch_up, open_view
from mcreg.projections.log_audit import AUDIT_PAGE, AUDIT_SAMPLE, Audit, AuditReport
from mcreg.projections.log_tree import (
    LEAF_DOMAIN,
    Leaves,
    LogCorrupted,
    LogSigning,
    LogTreeProjection,
    TreeView,
    encode_leaf,
    event_leaf_hash,
    lookup,
)
from mcreg.projections.rebuild import Comparison
from mcreg.registry.errors import InvalidInput, NotFound
from mcreg.registry.trust.key_rotation import AnnouncedKey
from mcreg.registry.trust.merkle import (
    consistency_path,
    consistency_proof,
    covering_subtrees,
    inclusion_path,
    inclusion_proof,
    root_hash,
)
from mcreg.registry.trust.signed_note import Verifier

__all__ = [
    "AUDIT_SAMPLE",
    "LEAF_DOMAIN",
    "AuditReport",
    "LogConsistencyProof",
    "LogCorrupted",
    "LogInclusionProof",
    "LogKeySource",
    "LogLeaf",
    "TransparencyLog",
    "encode_leaf",
    "event_leaf_hash",
]


@dataclass(frozen=True, slots=True)
class LogLeaf:
    """A leaf, and the event stored at its position now (``None`` fields when the event is gone)."""

    index: int
    position: int
    hash: bytes
    aggregate_id: UUID | None
    aggregate_version: int | None
    topic: str | None


@dataclass(frozen=True, slots=True)
class LogInclusionProof:
    """The path from a leaf to the root of the tree of ``tree_size`` leaves."""

    index: int
    position: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]
    root: bytes


@dataclass(frozen=True, slots=True)
class LogConsistencyProof:
    """The hashes that show the tree of ``to_size`` leaves extends the tree of ``from_size``."""

    from_size: int
    to_size: int
    from_root: bytes
    to_root: bytes
    hashes: list[bytes]


class LogKeySource(LogSigning, Protocol):
    """The log's keys: the one that signs, and all of them with their rotation notes (``mcreg.stores.log_keys``)."""

    @property
    def origin(self) -> str:
        """The log's name: every checkpoint's first line, and the name of every key."""
        ...

    def announced(self, curs: Cursor[TupleRow]) -> list[AnnouncedKey]:
        """Every key the log has had, oldest first, with the note that announced it, as ``curs`` sees them."""
        ...


class TransparencyLog(Projector[Leaves]):
    """The registry's transparency log: appends stored events as leaves, signs checkpoints, answers proofs.

    ``app`` is the registry (its notification log is followed, and its schema
    holds the log's tables); ``env`` names its database as for every view (the
    library's ``POSTGRES_*`` settings); ``keys`` gives the log's signed-note
    keys, named by the checkpoints' origin; ``datastore``, if given, a pool shared with other views (as
    ``engine.open_view`` says). Safe to share between threads;
    several processes may append at once.
    """

    view: TreeView

    def __init__(
        self,
        app: Application[Any],
        env: Mapping[str, str],
        keys: LogKeySource,
        *,
        datastore: PostgresDatastore | None = None,
    ) -> None:
        self.env = dict(env)
        view = open_view(LogTreeProjection, self.env, datastore=datastore)
        super().__init__(app, LogTreeProjection(keys), cast(TreeView, view))
        self.keys = keys
        self.origin = keys.origin
        self.view.sign_empty(keys)
        self.events_table = cast(PostgresApplicationRecorder, app.recorder).events_table_name
        self.sql = _Statements(self.view.schema, self.events_table)

    def close(self) -> None:
        self.view.close()

    @contextmanager
    def reading(self) -> Iterator[Cursor[TupleRow]]:
        """A cursor in a transaction of its own, rolled back at the end: the log's tables are written by pages."""
        with self.view.datastore.transaction() as curs, curs.connection.cursor(row_factory=tuple_row) as tuples:
            yield tuples

    # -- keeping the tree

    def catch_up(
        self, stop: threading.Event | None = None, page_size: int = PAGE_SIZE, progress: Progress | None = None
    ) -> int:
        """Append every stored event after the tracked position, a page per transaction; the number appended."""
        return catch_up(self.app, [self], page_size=page_size, progress=progress, stop=stop)

    def rebuild(self, *, page_size: int = PAGE_SIZE, progress: Progress | None = None) -> int:
        """Recompute the tree from position 0 aside and swap it in; the checkpoints signed so far stay."""
        return rebuilding.rebuild(self.app, [self], self.env, page_size=page_size, progress=progress)

    def check(self, *, page_size: int = PAGE_SIZE, progress: Progress | None = None) -> Comparison:
        """Recompute the tree aside and compare it, row for row, with the live one, which stays as it is."""
        _, [comparison] = rebuilding.check(self.app, [self], self.env, page_size=page_size, progress=progress)
        return comparison

    @contextmanager
    def rotating(self) -> Iterator[tuple[Cursor[TupleRow], int]]:
        """A transaction holding the log's page lock, and the log's size: a key rotated in it hands over there."""
        with (
            self.view.datastore.transaction(commit=True) as curs,
            curs.connection.cursor(row_factory=tuple_row) as tuples,
        ):
            curs.execute(self.view.lock_tracking_statement)
            yield tuples, self.view.tracked(tuples)[1]

    def announced(self) -> list[AnnouncedKey]:
        """Every key the log has had, oldest first, with the rotation note that announced it."""
        with self.reading() as curs:
            return self.keys.announced(curs)

    @property
    def verifier(self) -> Verifier:
        """The key in force, as a signed-note verifier key."""
        return self.announced()[-1].key

    def tracked(self) -> tuple[int, int]:
        """(the last position logged, the tree size), as committed."""
        with self.reading() as curs:
            return self.view.tracked(curs)

    def size(self) -> int:
        return self.tracked()[1]

    # -- what the log answers

    def checkpoint(self, size: int | None = None) -> str:
        """The signed checkpoint note of ``size`` (default: the latest). NotFound when none was signed."""
        with self.reading() as curs:
            if size is None:
                row = curs.execute(self.sql.latest_checkpoint).fetchone()
            else:
                row = curs.execute(self.sql.checkpoint_at, [size]).fetchone()
        if row is None:
            raise NotFound("checkpoint", "latest" if size is None else str(size))
        return str(row[0])

    def leaf(self, index: int | None = None, *, position: int | None = None) -> LogLeaf:
        """The leaf at ``index`` (or of the event at ``position``), with the event stored there now."""
        with self.reading() as curs:
            if position is not None:
                row = curs.execute(self.sql.leaf_at_position, [position]).fetchone()
            else:
                row = curs.execute(self.sql.leaf_at_index, [index]).fetchone()
        if row is None:
            raise NotFound("log leaf", f"position {position}" if position is not None else f"index {index}")
        idx, pos, h, aggregate_id, version, topic = row
        return LogLeaf(idx, pos, bytes(h), aggregate_id, version, topic)

    def indexes(self, positions: Iterable[int]) -> dict[int, int]:
        """The leaf index of each event at these positions that the log holds (position → index)."""
        with self.reading() as curs:
            rows = curs.execute(self.sql.indexes_of_positions, [list(positions)]).fetchall()
        return {int(position): int(index) for position, index in rows}

    def _checked_size(self, curs: Cursor[TupleRow], size: int | None, what: str) -> int:
        current = self.view.tracked(curs)[1]
        if size is None:
            return current
        if size < 0 or size > current:
            raise InvalidInput(what, f"must be between 0 and the log's size {current}")
        return size

    def inclusion_proof(
        self, index: int | None = None, size: int | None = None, *, position: int | None = None
    ) -> LogInclusionProof:
        """The proof that the leaf at ``index`` (or of the event at ``position``) is in the tree of ``size``.

        ``size`` defaults to the log's size, the latest checkpoint's.
        """
        if (index is None) == (position is None):
            raise InvalidInput("index", "give either index or position")
        with self.reading() as curs:
            size = self._checked_size(curs, size, "size")
            if position is not None:
                row = curs.execute(self.sql.index_of_position, [position]).fetchone()
                if row is None:
                    raise NotFound("log leaf", f"position {position}")
                index = int(row[0])
            assert index is not None
            if index < 0 or index >= size:
                field_name = "index" if position is None else "position"
                raise InvalidInput(field_name, f"must name a leaf below the tree size {size}")
            path = inclusion_path(index, size)
            wanted = [(index, index + 1), *(r for a, b in path for r in covering_subtrees(a, b))]
            wanted += covering_subtrees(0, size)
            found = self.view.subtrees(curs, wanted)
            if position is None:  # asked by index: read the leaf's position (asked by position, it is known)
                row = curs.execute(self.sql.position_of_index, [index]).fetchone()
                assert row is not None
                position = int(row[0])
        subtree_root = lookup(found)
        return LogInclusionProof(
            index=index,
            position=position,
            tree_size=size,
            leaf_hash=subtree_root(index, index + 1),
            hashes=inclusion_proof(index, size, subtree_root),
            root=root_hash(size, subtree_root),
        )

    def consistency_proof(self, from_size: int, to_size: int | None = None) -> LogConsistencyProof:
        """The proof that the tree of ``to_size`` (default: the log's size) extends the tree of ``from_size``.

        As RFC 9162 §2.1.4 defines them, ``0 < from_size <= to_size``: every tree extends the empty one, so
        there is nothing to prove from size 0; equal sizes answer an empty proof between equal roots.
        """
        with self.reading() as curs:
            to_size = self._checked_size(curs, to_size, "to")
            if from_size < 1:
                raise InvalidInput("from", "must be at least 1: RFC 9162 proves no consistency from the empty tree")
            if from_size > to_size:
                raise InvalidInput("from", f"must not be above the newer tree size {to_size}")
            return self.consistency(curs, from_size, to_size)

    def consistency(self, curs: Cursor[TupleRow], size1: int, size2: int) -> LogConsistencyProof:
        """The consistency proof between sizes ``0 < size1 <= size2``, from the subtrees ``curs`` sees (not checked
        against the log's size)."""
        wanted = [r for a, b in consistency_path(size1, size2) for r in covering_subtrees(a, b)]
        wanted += covering_subtrees(0, size1) + covering_subtrees(0, size2)
        subtree_root = lookup(self.view.subtrees(curs, wanted))
        return LogConsistencyProof(
            from_size=size1,
            to_size=size2,
            from_root=root_hash(size1, subtree_root),
            to_root=root_hash(size2, subtree_root),
            hashes=consistency_proof(size1, size2, subtree_root),
        )

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of ``size`` leaves (default: all), from the stored subtrees."""
        with self.reading() as curs:
            size = self._checked_size(curs, size, "size")
            found = self.view.subtrees(curs, covering_subtrees(0, size) if size else [])
        return root_hash(size, lookup(found))

    def audit(
        self,
        *,
        verifier: Verifier | None = None,
        against: str | bytes | None = None,
        sample: int = AUDIT_SAMPLE,
        page_size: int = AUDIT_PAGE,
        progress: Progress | None = None,
    ) -> AuditReport:
        """Check the log against the event store and its own signatures (``log_audit.Audit``).

        ``verifier`` is a key of the log the auditor trusts (kept apart); the chain of the log's keys is followed
        from the first, and must hold it.
        """
        return Audit(self, self.announced(), verifier, sample, page_size, progress).run(against)


class _Statements:
    """The queries the log answers, on its tables in ``schema`` and the event store's ``events`` table there."""

    def __init__(self, schema: Identifier, events: str) -> None:
        def q(text: str) -> Composed:
            return SQL(text).format(
                leaves=SQL("{0}.tlog_leaves").format(schema),
                checkpoints=SQL("{0}.tlog_checkpoints").format(schema),
                events=SQL("{0}.{1}").format(schema, Identifier(events)),
            )

        self.latest_checkpoint = q("SELECT note FROM {checkpoints} ORDER BY size DESC LIMIT 1")
        self.checkpoint_at = q("SELECT note FROM {checkpoints} WHERE size = %s")
        leaf = (
            "SELECT l.idx, l.position, l.hash, e.originator_id, e.originator_version, e.topic"
            " FROM {leaves} AS l LEFT JOIN {events} AS e ON e.notification_id = l.position"
        )
        self.leaf_at_index = q(leaf + " WHERE l.idx = %s")
        self.leaf_at_position = q(leaf + " WHERE l.position = %s")
        self.index_of_position = q("SELECT idx FROM {leaves} WHERE position = %s")
        self.indexes_of_positions = q("SELECT position, idx FROM {leaves} WHERE position = ANY(%s)")
        self.position_of_index = q("SELECT position FROM {leaves} WHERE idx = %s")
