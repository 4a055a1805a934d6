"""Auditing the transparency log: the event store against the logged leaves, and the checkpoints' signatures.

``Audit`` makes one pass over the event store and the leaves together, in one
read-only snapshot, follows the chain of the log's keys, and reports each
``Finding`` in an ``AuditReport``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from psycopg import Connection, Cursor
from psycopg.rows import TupleRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from mcreg.projections.log_tree import LogCorrupted, TreeView, event_leaf_hash
from mcreg.projections.reading import StoredRow
from mcreg.registry.trust.key_rotation import AnnouncedKey, KeyChainError, LogKeyChain
from mcreg.registry.trust.merkle import EMPTY_ROOT, Frontier, InvalidProofError, verify_consistency
from mcreg.registry.trust.signed_note import Checkpoint, NoteError, Verifier


class Proof(Protocol):
    @property
    def hashes(self) -> list[bytes]: ...


class AuditedLog(Protocol):
    """What an audit reads of the log: ``TransparencyLog`` is one, and runs its audits."""

    view: TreeView
    events_table: str

    def reading(self) -> AbstractContextManager[Cursor[TupleRow]]: ...

    def consistency(self, curs: Cursor[TupleRow], size1: int, size2: int) -> Proof: ...


AUDIT_PAGE = 10_000
"""Leaves an audit reads and checks at a time."""
AUDIT_SAMPLE = 1000
"""Checkpoints whose signature and consistency an audit checks (all of them below this; first and last always)."""
MAX_FINDINGS = 1000
"""Findings an audit keeps; it still counts the rest."""
MAX_WRONG_NODES = 1_000_000
"""Wrong stored subtrees an audit remembers, to name only the lowest of a chain."""

Progress = Callable[[int, int], None]
"""Called with (leaves checked, the log's size) as an audit goes."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something an audit found wrong. ``kind`` is one of:

    ``altered`` (the event at ``position`` is not what was logged), ``missing``
    (a logged event is no longer stored), ``extra`` (an event stored at a
    position the log passed over), ``leaf`` (the leaf table is not dense and in
    order), ``node`` (a stored subtree hash does not match its leaves),
    ``checkpoint`` (a checkpoint's root is not the root of the logged leaves at
    its size), ``signature`` (a checkpoint note is refused), ``rotation`` (a
    note announcing a log key is not signed by the key before it, or names
    another key), ``consistency`` (a
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
    keys: int = 0
    """The log's keys whose announcement was verified, the first included."""
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


class Audit:
    """One pass over the event store and the leaves together, in position order, in one read-only snapshot.

    Checks, in that pass: each stored event against the leaf logged for its
    position (altered, missing, extra); the leaf table dense and in order;
    every stored subtree against the hashes of its leaves; every checkpoint's
    root against the root of the logged leaves at its size. Then, on a sample
    of checkpoints (first and last always): the signature, and a consistency
    proof from each to the next, built from the stored subtrees as the API
    serves them (none from the empty tree's, whose root the pass checked).
    Optionally, an auditor's saved checkpoint against today's log.

    Each checkpoint is checked with the log key that signed it, which must be
    one of the chain of the log's keys, each announced by a rotation note its
    predecessor signed, and must not have handed over at a smaller size. The
    chain is followed from the first key, and must hold the key the auditor
    trusts (``trusted``, kept apart) when one is given.
    """

    def __init__(
        self,
        log: AuditedLog,
        keys: Sequence[AnnouncedKey],
        trusted: Verifier | None,
        sample: int,
        page_size: int,
        progress: Progress | None,
    ) -> None:
        self.log = log
        self.sql = AuditStatements(log.view.schema, log.events_table)
        self.sample = max(sample, 2)
        self.page_size = page_size
        self.progress = progress
        self.report = AuditReport(origin=keys[0].key.name if keys else (trusted.name if trusted else ""))
        self.chain = self._follow(keys, trusted)
        self.wrong: set[tuple[int, int]] = set()
        """Stored subtrees found wrong so far."""

    def _follow(self, keys: Sequence[AnnouncedKey], trusted: Verifier | None) -> LogKeyChain:
        """The chain of the log's keys as far as it verifies, naming the first note that fails."""
        if not keys:
            self.report.add(Finding("rotation", "the log holds no key"))
            return LogKeyChain((trusted,) if trusted else (), ())
        verified = len(keys)
        while True:
            try:
                chain = LogKeyChain.follow(keys[:verified])
                break
            except KeyChainError as error:
                if verified == len(keys):
                    self.report.add(Finding("rotation", str(error)))
                verified -= 1
        self.report.keys = len(chain.keys)
        if trusted is not None and chain.number(trusted) is None:
            self.report.add(Finding("signature", f"the log key given ({trusted.key()}) is not one of the log's keys"))
            return LogKeyChain((trusted,), ())
        return chain

    def run(self, against: str | bytes | None) -> AuditReport:
        report = self.report
        saved = self._open_against(against) if against is not None else None
        with self.log.reading() as curs:
            curs.execute(self.sql.snapshot)
            report.position, report.size = self.log.view.tracked(curs)
            checkpoints = [(int(s), bytes(r)) for s, r in curs.execute(self.sql.all_checkpoints).fetchall()]
            report.checkpoints = len(checkpoints)
            wanted_roots = {s for s, _ in checkpoints} | ({saved.size} if saved else set())
            roots = self._walk(curs, dict(checkpoints), wanted_roots)
            self._check_tree_end(curs)
            self._check_checkpoints(curs, checkpoints)
            if saved is not None:
                self._check_against(curs, saved, roots)
        return report

    # -- the pass over events and leaves

    def _walk(
        self, curs: Cursor[TupleRow], checkpoint_roots: dict[int, bytes], wanted_roots: set[int]
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
                self._check_nodes(curs, chunk_start, frontier.size, completed)
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

        events = _rows(curs.connection, "tlog_audit_events", self.sql.all_events, self.page_size)
        leaves = _rows(curs.connection, "tlog_audit_leaves", self.sql.all_leaves, self.page_size)
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
                recomputed = event_leaf_hash(StoredRow(position, event[1], int(event[2]), event[3], bytes(event[4])))
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
            self._check_nodes(curs, chunk_start, frontier.size, completed)
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
                        *self._positions(curs, size - 1),
                    )
                )
        if self.progress:
            self.progress(report.leaves, report.size)
        return roots

    def _check_nodes(self, curs: Cursor[TupleRow], a: int, b: int, completed: dict[tuple[int, int], bytes]) -> None:
        """Compare the subtrees that leaves [a, b) completed with the stored ones; forget them."""
        stored = {
            (int(level), int(idx)): bytes(h)
            for level, idx, h in curs.execute(
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
                position, index = self._positions(curs, start)
                self.report.add(Finding("node", f"level {level} index {idx}: {what}", position, index))
        completed.clear()

    def _positions(self, curs: Cursor[TupleRow], index: int) -> tuple[int | None, int | None]:
        if index < 0:
            return None, None
        row = curs.execute(self.sql.positions_of, [[index]]).fetchone()
        return (int(row[1]), index) if row else (None, index)

    def _check_tree_end(self, curs: Cursor[TupleRow]) -> None:
        report = self.report
        if report.leaves != report.size:
            report.add(
                Finding("tracking", f"the tracking row says {report.size} leaves, the log holds {report.leaves}")
            )
        row = curs.execute(self.sql.nodes_beyond, {"size": report.leaves}).fetchone()
        if row is not None:
            level, idx = int(row[0]), int(row[1])
            report.add(Finding("node", f"a subtree hash is stored beyond the tree: level {level} index {idx}"))

    # -- signatures and consistency

    def _sampled(self, sizes: Sequence[int]) -> list[int]:
        if len(sizes) <= self.sample:
            return list(sizes)
        step = (len(sizes) - 1) / (self.sample - 1)
        return sorted({sizes[round(i * step)] for i in range(self.sample)} | {sizes[0], sizes[-1]})

    def _check_checkpoints(self, curs: Cursor[TupleRow], checkpoints: Sequence[tuple[int, bytes]]) -> None:
        report = self.report
        if not checkpoints:
            report.add(Finding("checkpoint", "the log holds no checkpoint"))
            return
        sampled = self._sampled([s for s, _ in checkpoints])
        rows = {int(s): (bytes(r), str(n)) for s, r, n in curs.execute(self.sql.checkpoint_notes, [sampled])}
        opened: list[Checkpoint] = []
        for size in sampled:
            root, note = rows[size]
            try:
                checkpoint, _ = self.chain.open_checkpoint(note)
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
            self._verify_consistency(curs, first, second, "checkpoint")

    def _verify_consistency(self, curs: Cursor[TupleRow], first: Checkpoint, second: Checkpoint, kind: str) -> None:
        if first.size == 0:
            return  # every tree extends the empty one, whose root the walk checked: RFC 9162 has no proof for it
        try:
            proof = self.log.consistency(curs, first.size, second.size)
            verify_consistency(first.size, second.size, first.root_hash, second.root_hash, proof.hashes)
        except (InvalidProofError, LogCorrupted) as error:
            self.report.add(Finding(kind, f"checkpoint {second.size} is not consistent with {first.size}: {error}"))
        else:
            self.report.consistency_proofs += 1

    def _open_against(self, note: str | bytes) -> Checkpoint | None:
        try:
            checkpoint, _ = self.chain.open_checkpoint(note)
        except NoteError as error:
            self.report.add(Finding("against", f"the checkpoint to check against is refused: {error}"))
            return None
        self.report.against = checkpoint
        return checkpoint

    def _check_against(self, curs: Cursor[TupleRow], saved: Checkpoint, roots: dict[int, bytes]) -> None:
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
                    *self._positions(curs, saved.size - 1),
                )
            )
        if report.latest is not None:
            self._verify_consistency(curs, saved, report.latest, "against")


class AuditStatements:
    """An audit's SQL, over the log's tables in ``schema`` and the event store's ``events`` table there."""

    def __init__(self, schema: Identifier, events: str) -> None:
        def q(text: str) -> Composed:
            return SQL(text).format(
                leaves=SQL("{0}.tlog_leaves").format(schema),
                nodes=SQL("{0}.tlog_nodes").format(schema),
                checkpoints=SQL("{0}.tlog_checkpoints").format(schema),
                events=SQL("{0}.{1}").format(schema, Identifier(events)),
            )

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


def _rows(conn: Connection[Any], name: str, query: Composed, size: int) -> Iterator[TupleRow]:
    """Every row of ``query``, through a server-side cursor, ``size`` at a time."""
    with conn.cursor(name=name, row_factory=tuple_row) as cursor:
        cursor.itersize = size
        cursor.execute(query)
        yield from cursor
