"""The transparency log: every stored event is a leaf of an RFC 9162 Merkle tree with signed checkpoints.

The log follows the registry's notification log, as the read models do, and
appends one leaf per stored event, in log order. Leaf ``i`` is the ``i``-th
event of the notification log (0-based, dense: gaps that rolled-back
transactions leave in the notification ids are skipped). After each page it
signs a C2SP checkpoint (origin, tree size, root) with the registry's key.
Anyone holding a checkpoint can then ask for an inclusion proof of an event,
or a consistency proof that a later checkpoint extends theirs, and check it
with nothing but ``registry.merkle`` and the log's public key.

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
  every size the log has committed, the empty tree's included.
- ``tlog_tracking(position, size)``: one row, the last position logged and the
  tree size; a page moves it in the transaction that writes its leaves.

A page is appended exactly once: its transaction locks the tracking row, and
writes nothing (``PositionMoved``) when the row is not where the page starts,
because a crashed run rolled back or another runner got there first. The
appender then reloads its frontier from the stored subtrees and goes on.
"""

from __future__ import annotations

import itertools
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import psycopg
import structlog
from eventsourcing.application import Application
from psycopg import sql
from psycopg_pool import ConnectionPool

from mcreg.registry.errors import InvalidInput, NotFound
from mcreg.registry.trust.merkle import (
    EMPTY_ROOT,
    Frontier,
    InvalidProofError,
    consistency_path,
    consistency_proof,
    covering_subtrees,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
)
from mcreg.registry.trust.signed_note import Checkpoint, NoteError, Signer, Verifier, open_checkpoint, sign_checkpoint

__all__ = [
    "LEAF_DOMAIN",
    "AuditReport",
    "ConsistencyProof",
    "Finding",
    "InclusionProof",
    "LogCorrupted",
    "LogLeaf",
    "PositionMoved",
    "TransparencyLog",
    "encode_leaf",
]

PAGE_SIZE = 2000
"""Events appended, and one checkpoint signed, per transaction."""
IDLE = 0.5
"""Seconds a follower waits for a notification before it looks at the log anyway."""
COALESCE = 0.1
"""Seconds the follower lets new events gather before it appends them: at most ten signed checkpoints a second."""
AUDIT_PAGE = 10_000
"""Leaves an audit reads and checks at a time."""
AUDIT_SAMPLE = 1000
"""Checkpoints whose signature and consistency an audit checks (all of them below this; first and last always)."""
MAX_FINDINGS = 1000
"""Findings an audit keeps; it still counts the rest."""
MAX_WRONG_NODES = 1_000_000
"""Wrong stored subtrees an audit remembers, to name only the lowest of a chain."""

LEAF_DOMAIN = b"mcreg/tlog/event/v1\x00"
_HEAD = struct.Struct(">Q16sQI")
_LENGTH = struct.Struct(">I")

Range = tuple[int, int]
Progress = Callable[[int, int], None]

log = structlog.get_logger(__name__)


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


class StoredEventRow(Protocol):
    id: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes


def event_leaf_hash(event: StoredEventRow) -> bytes:
    """The leaf hash of a stored event (a library ``Notification``)."""
    return leaf_hash(encode_leaf(event.id, event.originator_id, event.originator_version, event.topic, event.state))


class PositionMoved(Exception):
    """The tracking row is not where the page starts: another runner logged these events, or some of them."""


class LogCorrupted(Exception):
    """A stored subtree that a proof needs is missing: the log's tables were damaged (run an audit)."""


# --- what the log answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLeaf:
    """A leaf, and the event stored at its position now (``None`` fields when the event is gone)."""

    index: int
    position: int
    hash: bytes
    aggregate_id: UUID | None
    aggregate_version: int | None
    topic: str | None


@dataclass(frozen=True)
class InclusionProof:
    index: int
    position: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]
    root: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: bytes
    to_root: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class _Tip:
    """Where the log is: the last position logged, and the frontier of the tree of every leaf so far."""

    position: int
    frontier: Frontier

    @property
    def size(self) -> int:
        return self.frontier.size


# --- audits ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something an audit found wrong. ``kind`` is one of:

    ``altered`` (the event at ``position`` is not what was logged), ``missing``
    (a logged event is no longer stored), ``extra`` (an event stored at a
    position the log passed over), ``leaf`` (the leaf table is not dense and in
    order), ``node`` (a stored subtree hash does not match its leaves),
    ``checkpoint`` (a checkpoint's root is not the root of the logged leaves at
    its size), ``signature`` (a checkpoint note is refused), ``consistency`` (a
    consistency proof between checkpoints fails), ``tracking`` (the tracking row
    disagrees with the leaves), ``against`` (the auditor's own checkpoint is not
    consistent with the log).
    """

    kind: str
    detail: str
    position: int | None = None
    index: int | None = None


_EVENT_KINDS = frozenset({"altered", "missing", "extra", "leaf"})


@dataclass
class AuditReport:
    """What an audit checked and what it found; ``ok`` when nothing."""

    origin: str
    size: int = 0
    position: int = 0
    root: bytes = EMPTY_ROOT
    events: int = 0
    leaves: int = 0
    pending: int = 0
    nodes: int = 0
    checkpoints: int = 0
    signatures: int = 0
    consistency_proofs: int = 0
    latest: Checkpoint | None = None
    against: Checkpoint | None = None
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The first problem, in log order: the earliest position (a stored event's problem before the tree's
        there), else the first found."""
        placed = [f for f in self.findings if f.position is not None]
        if placed:
            return min(placed, key=lambda f: (f.position or 0, f.kind not in _EVENT_KINDS))
        return self.findings[0] if self.findings else None

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.more_findings += 1


# --- the log ---------------------------------------------------------------------------------------------


class TransparencyLog:
    """The registry's transparency log: appends stored events as leaves, signs checkpoints, answers proofs.

    ``app`` is the registry (its recorder is read, and its schema holds the
    log's tables); ``conninfo`` the same database, for the log's own small
    connection pool; ``signer`` the registry key's signed-note signer, whose
    name is the checkpoints' origin. Safe to share between threads; several
    processes may append at once (each page goes in exactly once).
    """

    name = "transparency_log"

    def __init__(self, app: Application[Any], conninfo: str, signer: Signer, *, pool_size: int = 3) -> None:
        self.app = app
        recorder: Any = app.recorder  # the library's PostgreSQL application recorder
        self.recorder = recorder
        self.signer = signer
        self.verifier: Verifier = signer.verifier
        self.origin = signer.name
        self._conninfo = conninfo
        self._pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            conninfo, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True, name="tlog"
        )
        self._tip: _Tip | None = None
        self._tip_lock = threading.Lock()
        self._sql = _Statements(recorder.datastore.schema or "public", recorder.events_table_name)
        self.create_tables()

    # -- tables

    def create_tables(self) -> None:
        """Create the log's tables if missing, with the empty tree's tracking row and signed checkpoint."""
        empty = sign_checkpoint(Checkpoint(self.origin, 0, EMPTY_ROOT), self.signer)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(self._sql.serialise_ddl)  # two processes starting at once do not race on CREATE
            for statement in self._sql.create:
                conn.execute(statement)
            conn.execute(self._sql.insert_empty_checkpoint, [EMPTY_ROOT, empty])

    def close(self) -> None:
        self._pool.close()

    # -- appending

    def tracked(self) -> tuple[int, int]:
        """(the last position logged, the tree size), as committed."""
        with self._pool.connection() as conn:
            row = conn.execute(self._sql.select_tracking).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def size(self) -> int:
        return self.tracked()[1]

    def lag(self) -> int:
        """Notification positions recorded beyond the last one logged (gaps included)."""
        position = self.tracked()[0]
        return (self.recorder.max_notification_id() or 0) - position

    def _load_tip(self) -> _Tip:
        """The committed tip: the tracking row, then the frontier from the stored subtrees it covers."""
        with self._pool.connection() as conn:
            row = conn.execute(self._sql.select_tracking).fetchone()
            assert row is not None
            position, size = int(row[0]), int(row[1])
            # Subtrees up to the tracked size were committed with (or before) the tracking row just read.
            found = self._fetch(conn, covering_subtrees(0, size) if size else [])
        return _Tip(position, Frontier.from_subtrees(size, _lookup(found)))

    def catch_up(
        self, stop: threading.Event | None = None, page_size: int = PAGE_SIZE, progress: Progress | None = None
    ) -> int:
        """Append every stored event after the tracked position, a page per transaction; the number appended.

        Each page's leaves, completed subtrees, tracking row and signed
        checkpoint commit together. A page whose start another runner has
        passed is dropped and the log reloaded from its tables.
        """
        appended = 0
        with self._tip_lock:
            tip = self._tip
        if tip is None:
            tip = self._load_tip()
        head = None
        while not (stop and stop.is_set()):
            notifications = self.recorder.select_notifications(
                start=tip.position, limit=page_size, inclusive_of_start=False
            )
            if not notifications:
                break
            try:
                tip = self._append(tip, notifications)
            except PositionMoved:
                log.info("tlog.position_moved", expected=tip.position)
                tip = self._load_tip()
                continue
            finally:
                with self._tip_lock:
                    self._tip = tip
            appended += len(notifications)
            if progress:
                head = max(head or 0, tip.position, self.recorder.max_notification_id() or 0)
                progress(tip.position, head)
            if len(notifications) < page_size:
                break
        return appended

    def _append(self, tip: _Tip, notifications: Sequence[Any]) -> _Tip:
        """Write one page after ``tip`` in one transaction; the new tip. ``PositionMoved`` writes nothing."""
        frontier = Frontier(tip.size, tip.frontier.roots)
        leaves: list[tuple[int, int, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for n in notifications:
            index = frontier.size
            created = frontier.append(event_leaf_hash(n))
            leaves.append((index, n.id, created[0].hash))
            nodes.extend((c.level, c.index, c.hash) for c in created[1:])
        position, root = notifications[-1].id, frontier.root()
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as curs:
            row = curs.execute(self._sql.lock_tracking).fetchone()
            assert row is not None
            if (int(row[0]), int(row[1])) != (tip.position, tip.size):
                raise PositionMoved(f"tracked at {row[0]} (size {row[1]}), not {tip.position} (size {tip.size})")
            with curs.copy(self._sql.copy_leaves) as copy:
                copy.set_types(["int8", "int8", "bytea"])
                for leaf in leaves:
                    copy.write_row(leaf)
            if nodes:
                with curs.copy(self._sql.copy_nodes) as copy:
                    copy.set_types(["int2", "int8", "bytea"])
                    for node in nodes:
                        copy.write_row(node)
            self._write_checkpoint(curs, frontier.size, root)
            curs.execute(self._sql.move_tracking, [position, frontier.size])
        return _Tip(position, frontier)

    def _write_checkpoint(self, curs: psycopg.Cursor[Any], size: int, root: bytes) -> None:
        # Signed only once the page is sure to be this log's next: a log never signs a size twice.
        note = sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)
        curs.execute(self._sql.insert_checkpoint, [size, root, note])

    def follow(self, stop: threading.Event, *, idle: float = IDLE, page_size: int = PAGE_SIZE) -> None:
        """Catch up, then append new events as the event store announces them, until ``stop`` is set.

        Listens on the library's NOTIFY channel, and looks at the log every
        ``idle`` seconds anyway; after news it waits ``COALESCE`` seconds so that
        a burst of commits is appended (and signed) once. Errors propagate:
        restarting is safe.
        """
        with psycopg.connect(self._conninfo, autocommit=True) as listener:
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.recorder.channel_name)))
            while not stop.is_set():
                self.catch_up(stop=stop, page_size=page_size)
                # Wait for news, then take every announcement already queued: one catch-up serves them all.
                # Announcements arriving during the catch-up stay queued and bring another one.
                for _ in listener.notifies(timeout=idle, stop_after=1):
                    pass
                # A burst of commits becomes one page and one signature: at most one checkpoint per interval.
                stop.wait(COALESCE)
                for _ in listener.notifies(timeout=0.001):
                    pass

    # -- reading

    def checkpoint(self, size: int | None = None) -> str:
        """The signed checkpoint note of ``size`` (default: the latest). NotFound when none was signed."""
        with self._pool.connection() as conn:
            if size is None:
                row = conn.execute(self._sql.latest_checkpoint).fetchone()
            else:
                row = conn.execute(self._sql.checkpoint_at, [size]).fetchone()
        if row is None:
            raise NotFound("checkpoint", "latest" if size is None else str(size))
        return str(row[0])

    def leaf(self, index: int | None = None, *, position: int | None = None) -> LogLeaf:
        """The leaf at ``index`` (or of the event at ``position``), with the event stored there now."""
        with self._pool.connection() as conn:
            if position is not None:
                row = conn.execute(self._sql.leaf_at_position, [position]).fetchone()
            else:
                row = conn.execute(self._sql.leaf_at_index, [index]).fetchone()
        if row is None:
            raise NotFound("log leaf", f"position {position}" if position is not None else f"index {index}")
        idx, pos, h, aggregate_id, version, topic = row
        return LogLeaf(idx, pos, bytes(h), aggregate_id, version, topic)

    def _check_size(self, conn: psycopg.Connection[Any], size: int | None, what: str) -> int:
        row = conn.execute(self._sql.select_tracking).fetchone()
        assert row is not None
        current = int(row[1])
        if size is None:
            return current
        if size < 0 or size > current:
            raise InvalidInput(what, f"must be between 0 and the log's size {current}")
        return size

    def inclusion_proof(
        self, index: int | None = None, size: int | None = None, *, position: int | None = None
    ) -> InclusionProof:
        """The proof that the leaf at ``index`` (or of the event at ``position``) is in the tree of ``size``.

        ``size`` defaults to the log's size, the latest checkpoint's.
        """
        if (index is None) == (position is None):
            raise InvalidInput("index", "give either index or position")
        with self._pool.connection() as conn:
            size = self._check_size(conn, size, "size")
            if position is not None:
                row = conn.execute(self._sql.index_of_position, [position]).fetchone()
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
            found = self._fetch(conn, wanted)
            row = conn.execute(self._sql.position_of_index, [index]).fetchone()
            assert row is not None
        lookup = _lookup(found)
        return InclusionProof(
            index=index,
            position=int(row[0]),
            tree_size=size,
            leaf_hash=lookup(index, index + 1),
            hashes=inclusion_proof(index, size, lookup),
            root=root_hash(size, lookup),
        )

    def consistency_proof(self, from_size: int, to_size: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``to_size`` (default: the log's size) extends the tree of ``from_size``."""
        with self._pool.connection() as conn:
            to_size = self._check_size(conn, to_size, "to")
            if from_size < 0 or from_size > to_size:
                raise InvalidInput("from", f"must be between 0 and {to_size}")
            return self._consistency(conn, from_size, to_size)

    def _consistency(self, conn: psycopg.Connection[Any], size1: int, size2: int) -> ConsistencyProof:
        wanted = [r for a, b in consistency_path(size1, size2) for r in covering_subtrees(a, b)]
        for size in (size1, size2):
            if size:
                wanted += covering_subtrees(0, size)
        lookup = _lookup(self._fetch(conn, wanted))
        return ConsistencyProof(
            from_size=size1,
            to_size=size2,
            from_root=root_hash(size1, lookup),
            to_root=root_hash(size2, lookup),
            hashes=consistency_proof(size1, size2, lookup),
        )

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of ``size`` leaves (default: all), from the stored subtrees."""
        with self._pool.connection() as conn:
            size = self._check_size(conn, size, "size")
            found = self._fetch(conn, covering_subtrees(0, size) if size else [])
        return root_hash(size, _lookup(found))

    def _fetch(self, conn: psycopg.Connection[Any], ranges: Iterable[Range]) -> dict[Range, bytes]:
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
        rows = conn.execute(self._sql.select_subtrees, [sorted(leaves), levels, indexes]).fetchall()
        return {(idx << level, (idx + 1) << level): bytes(h) for level, idx, h in rows}

    # -- auditing

    def audit(
        self,
        *,
        verifier: Verifier | None = None,
        against: str | bytes | None = None,
        sample: int = AUDIT_SAMPLE,
        page_size: int = AUDIT_PAGE,
        progress: Progress | None = None,
    ) -> AuditReport:
        """Check the log against the event store and its own signatures; see ``audit``."""
        return _Audit(self, verifier or self.verifier, sample, page_size, progress).run(against)


def _lookup(found: dict[Range, bytes]) -> Callable[[int, int], bytes]:
    def subtree_root(start: int, end: int) -> bytes:
        try:
            return found[start, end]
        except KeyError:
            raise LogCorrupted(f"the log holds no hash of the subtree over leaves [{start}, {end})") from None

    return subtree_root


class _Statements:
    """The log's SQL, on its tables in ``schema`` and the event store's ``events`` table there."""

    def __init__(self, schema: str, events: str) -> None:
        def q(text: str) -> sql.Composed:
            return sql.SQL(text).format(
                leaves=sql.Identifier(schema, "tlog_leaves"),
                nodes=sql.Identifier(schema, "tlog_nodes"),
                checkpoints=sql.Identifier(schema, "tlog_checkpoints"),
                tracking=sql.Identifier(schema, "tlog_tracking"),
                events=sql.Identifier(schema, events),
                lock_key=sql.Literal(f"mcreg.tlog.{schema}"),
            )

        self.serialise_ddl = q("SELECT pg_advisory_xact_lock(hashtext({lock_key}))")
        self.create = [
            q(
                "CREATE TABLE IF NOT EXISTS {leaves} ("
                "idx bigint PRIMARY KEY, position bigint NOT NULL UNIQUE, hash bytea NOT NULL)"
            ),
            q(
                "CREATE TABLE IF NOT EXISTS {nodes} (level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),"
                " idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx))"
            ),
            q(
                "CREATE TABLE IF NOT EXISTS {checkpoints} (size bigint PRIMARY KEY, root bytea NOT NULL,"
                " note text NOT NULL, signed_at timestamptz NOT NULL DEFAULT now())"
            ),
            q(
                "CREATE TABLE IF NOT EXISTS {tracking} (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
                " position bigint NOT NULL, size bigint NOT NULL)"
            ),
            q("INSERT INTO {tracking} (position, size) VALUES (0, 0) ON CONFLICT DO NOTHING"),
        ]
        self.insert_empty_checkpoint = q(
            "INSERT INTO {checkpoints} (size, root, note) VALUES (0, %s, %s) ON CONFLICT DO NOTHING"
        )
        self.select_tracking = q("SELECT position, size FROM {tracking}")
        self.lock_tracking = q("SELECT position, size FROM {tracking} FOR UPDATE")
        self.move_tracking = q("UPDATE {tracking} SET position = %s, size = %s")
        self.copy_leaves = q("COPY {leaves} (idx, position, hash) FROM STDIN (FORMAT BINARY)")
        self.copy_nodes = q("COPY {nodes} (level, idx, hash) FROM STDIN (FORMAT BINARY)")
        self.insert_checkpoint = q("INSERT INTO {checkpoints} (size, root, note) VALUES (%s, %s, %s)")
        self.latest_checkpoint = q("SELECT note FROM {checkpoints} ORDER BY size DESC LIMIT 1")
        self.checkpoint_at = q("SELECT note FROM {checkpoints} WHERE size = %s")
        self.select_subtrees = q(
            "SELECT 0 AS level, idx, hash FROM {leaves} WHERE idx = ANY(%s::bigint[])"
            " UNION ALL SELECT n.level, n.idx, n.hash"
            " FROM unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) JOIN {nodes} AS n USING (level, idx)"
        )
        leaf = (
            "SELECT l.idx, l.position, l.hash, e.originator_id, e.originator_version, e.topic"
            " FROM {leaves} AS l LEFT JOIN {events} AS e ON e.notification_id = l.position"
        )
        self.leaf_at_index = q(leaf + " WHERE l.idx = %s")
        self.leaf_at_position = q(leaf + " WHERE l.position = %s")
        self.index_of_position = q("SELECT idx FROM {leaves} WHERE position = %s")
        self.position_of_index = q("SELECT position FROM {leaves} WHERE idx = %s")
        # Audits
        self.snapshot = q("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        self.all_checkpoints = q("SELECT size, root FROM {checkpoints} ORDER BY size")
        self.checkpoint_notes = q("SELECT size, root, note FROM {checkpoints} WHERE size = ANY(%s::bigint[])")
        self.all_events = q(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {events}"
            " ORDER BY notification_id"
        )
        self.all_leaves = q("SELECT idx, position, hash FROM {leaves} ORDER BY idx")
        # The nodes that appending leaves [a, b) completes: at each level l, indexes [a >> l, b >> l).
        self.nodes_completed = q(
            "SELECT n.level, n.idx, n.hash FROM generate_series(1, %(levels)s::int) AS l(level)"
            " JOIN {nodes} AS n ON n.level = l.level AND n.idx >= (%(a)s::bigint >> l.level)"
            " AND n.idx < (%(b)s::bigint >> l.level)"
        )
        self.nodes_beyond = q(
            "SELECT n.level, n.idx FROM generate_series(1, 62) AS l(level)"
            " JOIN {nodes} AS n ON n.level = l.level AND n.idx >= (%(size)s::bigint >> l.level)"
            " ORDER BY n.level, n.idx LIMIT 1"
        )
        self.positions_of = q("SELECT idx, position FROM {leaves} WHERE idx = ANY(%s::bigint[])")


# --- the audit ---------------------------------------------------------------------------------------------


@dataclass
class _Event:
    id: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes


class _Audit:
    """One pass over the event store and the leaves together, in position order, in one read-only snapshot.

    Checks, in that pass: each stored event against the leaf logged for its
    position (altered, missing, extra); the leaf table dense and in order;
    every stored subtree against the hashes of its leaves; every checkpoint's
    root against the root of the logged leaves at its size. Then, on a sample
    of checkpoints (first and last always): the signature, and a consistency
    proof from each to the next, built from the stored subtrees as the API
    serves them. Optionally, an auditor's saved checkpoint against today's log.
    """

    def __init__(
        self, log: TransparencyLog, verifier: Verifier, sample: int, page_size: int, progress: Progress | None
    ) -> None:
        self.log = log
        self.sql = log._sql
        self.verifier = verifier
        self.sample = max(sample, 2)
        self.page_size = page_size
        self.progress = progress
        self.report = AuditReport(origin=verifier.name)
        self.wrong: set[tuple[int, int]] = set()
        """Stored subtrees found wrong so far."""

    def run(self, against: str | bytes | None) -> AuditReport:
        report = self.report
        saved = self._open_against(against) if against is not None else None
        with self.log._pool.connection() as conn, conn.transaction():
            conn.execute(self.sql.snapshot)
            row = conn.execute(self.sql.select_tracking).fetchone()
            assert row is not None
            report.position, report.size = int(row[0]), int(row[1])
            checkpoints = [(int(s), bytes(r)) for s, r in conn.execute(self.sql.all_checkpoints).fetchall()]
            report.checkpoints = len(checkpoints)
            wanted_roots = {s for s, _ in checkpoints} | ({saved.size} if saved else set())
            roots = self._walk(conn, dict(checkpoints), wanted_roots)
            self._check_tree_end(conn)
            self._check_checkpoints(conn, checkpoints)
            if saved is not None:
                self._check_against(conn, saved, roots)
        return report

    # -- the pass over events and leaves

    def _walk(
        self, conn: psycopg.Connection[Any], checkpoint_roots: dict[int, bytes], wanted_roots: set[int]
    ) -> dict[int, bytes]:
        report = self.report
        frontier = Frontier()
        roots: dict[int, bytes] = {}
        if 0 in wanted_roots:
            roots[0] = EMPTY_ROOT
        completed: dict[tuple[int, int], bytes] = {}
        chunk_start = 0
        last_position = 0

        def appended(h: bytes) -> None:
            nonlocal chunk_start
            for node in frontier.append(h)[1:]:
                completed[node.level, node.index] = node.hash
            if frontier.size in wanted_roots:
                roots[frontier.size] = frontier.root()
            if frontier.size - chunk_start >= self.page_size:
                self._check_nodes(conn, chunk_start, frontier.size, completed)
                chunk_start = frontier.size
                if self.progress:
                    self.progress(frontier.size, report.size)

        def check_leaf(index: int, position: int) -> None:
            nonlocal last_position
            if index != frontier.size:
                report.add(Finding("leaf", f"leaf index {index} where leaf {frontier.size} was due", position, index))
            if position <= last_position:
                report.add(
                    Finding("leaf", f"leaf {index} is at position {position}, not after {last_position}", position)
                )
            last_position = max(last_position, position)

        events = _rows(conn, "tlog_audit_events", self.sql.all_events, self.page_size)
        leaves = _rows(conn, "tlog_audit_leaves", self.sql.all_leaves, self.page_size)
        event, leaf = next(events, None), next(leaves, None)
        while event is not None or leaf is not None:
            if leaf is not None and (event is None or leaf[1] < event[0]):
                index, position, stored = int(leaf[0]), int(leaf[1]), bytes(leaf[2])
                check_leaf(index, position)
                report.add(Finding("missing", f"the event logged as leaf {index} is no longer stored", position, index))
                report.leaves += 1
                appended(stored)
                leaf = next(leaves, None)
            elif event is not None and (leaf is None or event[0] < leaf[1]):
                position = int(event[0])
                report.events += 1
                if position <= report.position:
                    report.add(Finding("extra", "an event is stored where the log recorded none", position))
                else:
                    report.pending += 1
                event = next(events, None)
            else:
                assert event is not None and leaf is not None
                index, position, stored = int(leaf[0]), int(leaf[1]), bytes(leaf[2])
                check_leaf(index, position)
                report.events += 1
                report.leaves += 1
                recomputed = event_leaf_hash(_Event(position, event[1], int(event[2]), event[3], bytes(event[4])))
                if recomputed != stored:
                    report.add(
                        Finding(
                            "altered",
                            f"the stored event hashes to {recomputed.hex()[:16]}…, "
                            f"leaf {index} logged {stored.hex()[:16]}…",
                            position,
                            index,
                        )
                    )
                appended(stored)
                event, leaf = next(events, None), next(leaves, None)
        if frontier.size > chunk_start:
            self._check_nodes(conn, chunk_start, frontier.size, completed)
        report.root = frontier.root()
        for size, root in checkpoint_roots.items():
            if size > frontier.size:
                report.add(Finding("checkpoint", f"a checkpoint of size {size} is beyond the {frontier.size} leaves"))
            elif roots.get(size) != root:
                logged = roots.get(size, b"").hex()
                report.add(
                    Finding(
                        "checkpoint",
                        f"checkpoint {size} has root {root.hex()}, the logged leaves give {logged}",
                        *self._positions(conn, size - 1),
                    )
                )
        if self.progress:
            self.progress(report.leaves, report.size)
        return roots

    def _check_nodes(
        self, conn: psycopg.Connection[Any], a: int, b: int, completed: dict[tuple[int, int], bytes]
    ) -> None:
        """Compare the subtrees that leaves [a, b) completed with the stored ones; forget them."""
        stored = {
            (int(level), int(idx)): bytes(h)
            for level, idx, h in conn.execute(
                self.sql.nodes_completed, {"levels": max(b.bit_length(), 1), "a": a, "b": b}
            ).fetchall()
        }
        self.report.nodes += len(stored)
        # Children first: a stored subtree is named only when none of its children was, so a leaf hash changed in
        # the log is named once, by its smallest subtree, not by every subtree above it up to the root.
        for (level, idx), h in sorted(completed.items(), key=lambda item: ((item[0][1] + 1) << item[0][0], item[0])):
            start, end = idx << level, (idx + 1) << level
            if (level, idx) not in stored:
                what = f"no stored hash of the subtree over leaves [{start}, {end})"
            elif stored[level, idx] != h:
                what = f"the stored hash of the subtree over leaves [{start}, {end}) is not the hash of those leaves"
            else:
                continue
            children_differ = level > 1 and not {(level - 1, 2 * idx), (level - 1, 2 * idx + 1)}.isdisjoint(self.wrong)
            if len(self.wrong) < MAX_WRONG_NODES:
                self.wrong.add((level, idx))
            if not children_differ:
                position, index = self._positions(conn, start)
                self.report.add(Finding("node", f"level {level} index {idx}: {what}", position, index))
        completed.clear()

    def _positions(self, conn: psycopg.Connection[Any], index: int) -> tuple[int | None, int | None]:
        if index < 0:
            return None, None
        row = conn.execute(self.sql.positions_of, [[index]]).fetchone()
        return (int(row[1]), index) if row else (None, index)

    def _check_tree_end(self, conn: psycopg.Connection[Any]) -> None:
        report = self.report
        if report.leaves != report.size:
            report.add(
                Finding("tracking", f"the tracking row says {report.size} leaves, the log holds {report.leaves}")
            )
        row = conn.execute(self.sql.nodes_beyond, {"size": report.leaves}).fetchone()
        if row is not None:
            level, idx = int(row[0]), int(row[1])
            report.add(Finding("node", f"a subtree hash is stored beyond the tree: level {level} index {idx}"))

    # -- signatures and consistency

    def _sampled(self, sizes: Sequence[int]) -> list[int]:
        if len(sizes) <= self.sample:
            return list(sizes)
        step = (len(sizes) - 1) / (self.sample - 1)
        return sorted({sizes[round(i * step)] for i in range(self.sample)} | {sizes[0], sizes[-1]})

    def _check_checkpoints(self, conn: psycopg.Connection[Any], checkpoints: Sequence[tuple[int, bytes]]) -> None:
        report = self.report
        if not checkpoints:
            report.add(Finding("checkpoint", "the log holds no checkpoint"))
            return
        sampled = self._sampled([s for s, _ in checkpoints])
        rows = {int(s): (bytes(r), str(n)) for s, r, n in conn.execute(self.sql.checkpoint_notes, [sampled])}
        opened: list[Checkpoint] = []
        for size in sampled:
            root, note = rows[size]
            try:
                checkpoint, _ = open_checkpoint(note, self.verifier)
            except NoteError as error:
                report.add(Finding("signature", f"checkpoint {size} is refused: {error}"))
                continue
            report.signatures += 1
            if (checkpoint.size, checkpoint.root_hash) != (size, root):
                report.add(Finding("signature", f"the note stored for checkpoint {size} signs another tree"))
                continue
            opened.append(checkpoint)
        latest = checkpoints[-1][0]
        if opened and opened[-1].size == latest:
            report.latest = opened[-1]
        if latest != report.size:
            report.add(
                Finding("tracking", f"the latest checkpoint is of size {latest}, the log's size is {report.size}")
            )
        for first, second in itertools.pairwise(opened):
            self._verify_consistency(conn, first, second, "checkpoint")

    def _verify_consistency(
        self, conn: psycopg.Connection[Any], first: Checkpoint, second: Checkpoint, kind: str
    ) -> None:
        try:
            proof = self.log._consistency(conn, first.size, second.size)
            verify_consistency(first.size, second.size, first.root_hash, second.root_hash, proof.hashes)
        except (InvalidProofError, LogCorrupted) as error:
            self.report.add(Finding(kind, f"checkpoint {second.size} is not consistent with {first.size}: {error}"))
        else:
            self.report.consistency_proofs += 1

    def _open_against(self, note: str | bytes) -> Checkpoint | None:
        try:
            checkpoint, _ = open_checkpoint(note, self.verifier)
        except NoteError as error:
            self.report.add(Finding("against", f"the checkpoint to check against is refused: {error}"))
            return None
        self.report.against = checkpoint
        return checkpoint

    def _check_against(self, conn: psycopg.Connection[Any], saved: Checkpoint, roots: dict[int, bytes]) -> None:
        report = self.report
        if saved.size > report.leaves:
            report.add(
                Finding("against", f"the saved checkpoint has {saved.size} leaves, the log now only {report.leaves}")
            )
            return
        if roots.get(saved.size) != saved.root_hash:
            report.add(
                Finding(
                    "against",
                    f"the saved checkpoint's root at size {saved.size} is not the root of the logged leaves",
                    *self._positions(conn, saved.size - 1),
                )
            )
        if report.latest is not None:
            self._verify_consistency(conn, saved, report.latest, "against")


def _rows(conn: psycopg.Connection[Any], name: str, query: sql.Composed, size: int) -> Iterator[tuple[Any, ...]]:
    """Every row of ``query``, through a server-side cursor, ``size`` at a time."""
    with conn.cursor(name=name) as cursor:
        cursor.itersize = size
        cursor.execute(query)
        yield from cursor
