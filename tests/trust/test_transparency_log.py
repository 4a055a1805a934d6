"""The transparency log on PostgreSQL: the tree of every stored event, proofs, checkpoints, crashes and tampering."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
import structlog
import typer
from fastapi.testclient import TestClient
from psycopg import sql
from typer.testing import CliRunner

from mcreg.api.app import create_app
from mcreg.api.rest.transparency import router
from mcreg.bootstrap import Services, open_transparency_log
from mcreg.cli.audit import app as audit_app
from mcreg.database import Database
from mcreg.projections.log_tree import TreeView
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import (
    LEAF_DOMAIN,
    AuditReport,
    TransparencyLog,
    encode_leaf,
    event_leaf_hash,
)
from mcreg.projections.worker import ProjectionWorker
from mcreg.registry.errors import InvalidInput
from mcreg.registry.trust.merkle import (
    EMPTY_ROOT,
    InvalidProofError,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from mcreg.registry.trust.signed_note import (
    Checkpoint,
    InvalidSignatureError,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    sign_checkpoint,
)
from mcreg.registry.vocabulary import Role
from tests.projections.conftest import issue_many
from tests.world import World


@pytest.fixture
def world(services: Services) -> World:
    return World(services.registry)


@pytest.fixture
def tlog(services: Services) -> Iterator[TransparencyLog]:
    log = open_transparency_log(services)
    yield log
    log.close()


def stored(services: Services) -> list[Any]:
    """Every stored event, in log order."""
    return list(services.registry.recorder.select_notifications(start=1, limit=1_000_000))


def expected_tree(services: Services) -> MerkleTree:
    return MerkleTree(event_leaf_hash(n) for n in stored(services))


def execute(services: Services, statement: str, *params: Any) -> None:
    """Run SQL in the test's schema, as someone with access to the database would."""
    with psycopg.connect(services.database.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(services.settings.postgres_schema)))
        conn.execute(statement, params or None)


def altered(state: bytes) -> bytes:
    """The state with its recorded time moved back a century: one byte different."""
    changed = bytes(state).replace(b'"_data_":"20', b'"_data_":"19', 1)
    assert changed != state
    return changed


def events_table(services: Services) -> str:
    recorder: Any = services.registry.recorder
    return str(recorder.events_table_name)


def log_signer(services: Services) -> Signer:
    """The log's key in force, opened, as the log signs with it."""
    with services.pool.connection() as conn:
        return services.log_keys.signer(conn.cursor())


def latest(tlog: TransparencyLog) -> Checkpoint:
    checkpoint, _ = open_checkpoint(tlog.checkpoint(), tlog.verifier)
    return checkpoint


# --- the leaf encoding -----------------------------------------------------------------------------------


def test_the_leaf_encoding_is_fixed_and_unambiguous():
    from uuid import UUID

    aggregate = UUID("00112233-4455-6677-8899-aabbccddeeff")
    data = encode_leaf(258, aggregate, 3, "registry.credential:Credential.Issued", b'{"a":1}')
    assert data == (
        LEAF_DOMAIN
        + (258).to_bytes(8, "big")
        + aggregate.bytes
        + (3).to_bytes(8, "big")
        + (37).to_bytes(4, "big")
        + b"registry.credential:Credential.Issued"
        + (7).to_bytes(4, "big")
        + b'{"a":1}'
    )
    # Moving bytes between topic and state gives another leaf.
    assert encode_leaf(1, aggregate, 1, "ab", b"c") != encode_leaf(1, aggregate, 1, "a", b"bc")
    assert encode_leaf(1, str(aggregate), 1, "a", b"") == encode_leaf(1, aggregate, 1, "a", b"")


# --- building the log ------------------------------------------------------------------------------------


def test_an_empty_log_has_a_signed_empty_checkpoint(tlog: TransparencyLog):
    assert latest(tlog) == Checkpoint(tlog.origin, 0, EMPTY_ROOT)
    assert tlog.catch_up() == 0
    assert tlog.root() == EMPTY_ROOT


def test_catch_up_logs_every_stored_event_in_order(services: Services, world: World, tlog: TransparencyLog):
    issue_many(world, 40)
    events = stored(services)

    assert tlog.catch_up(page_size=7) == len(events)

    tree = expected_tree(services)
    assert tlog.tracked() == (events[-1].id, len(events))
    assert tlog.root() == tree.root()
    assert latest(tlog) == Checkpoint(tlog.origin, len(events), tree.root())
    for index, event in enumerate(events):
        leaf = tlog.leaf(index)
        assert (leaf.position, leaf.hash) == (event.id, event_leaf_hash(event))
        assert (leaf.aggregate_id, leaf.aggregate_version, leaf.topic) == (
            event.originator_id,
            event.originator_version,
            event.topic,
        )
    # One signed checkpoint per page, each the root of the tree of that size.
    for size in [*range(7, len(events), 7), len(events)]:
        checkpoint, _ = open_checkpoint(tlog.checkpoint(size), tlog.verifier)
        assert checkpoint.root_hash == tree.root(size)
    assert tlog.catch_up() == 0
    assert tlog.audit().ok


def test_leaves_are_dense_over_gaps_in_the_positions(services: Services, world: World, tlog: TransparencyLog):
    issue_many(world, 3)
    # A rolled-back transaction leaves a gap in the notification ids.
    execute(
        services,
        "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) FROM generate_series(1, 5)",
        f"{services.settings.postgres_schema}.{events_table(services)}",
    )
    issue_many(world, 3)
    events = stored(services)
    gap = next(i for i in range(1, len(events)) if events[i].id != events[i - 1].id + 1)

    tlog.catch_up()

    assert tlog.size() == len(events)
    assert tlog.leaf(gap).position == events[gap].id == events[gap - 1].id + 6
    assert tlog.root() == expected_tree(services).root()
    assert tlog.audit().ok


def test_a_new_process_goes_on_from_the_stored_tree(services: Services, world: World, tlog: TransparencyLog):
    issue_many(world, 13)
    tlog.catch_up(page_size=5)
    issue_many(world, 21)

    restarted = open_transparency_log(services)
    try:
        restarted.catch_up(page_size=4)
        assert restarted.root() == expected_tree(services).root()
        # The first process's idea of the tip is stale: it finds out and carries on.
        issue_many(world, 2)
        assert tlog.catch_up() > 0
    finally:
        restarted.close()
    assert tlog.root() == expected_tree(services).root()
    assert tlog.audit().ok


# --- proofs ---------------------------------------------------------------------------------------------


def test_inclusion_proofs_of_random_events_verify_against_the_signed_checkpoint(
    services: Services, world: World, tlog: TransparencyLog
):
    issue_many(world, 50)
    tlog.catch_up(page_size=16)
    checkpoint = latest(tlog)
    events = stored(services)
    for event in random.Random(7).sample(events, 20):
        proof = tlog.inclusion_proof(position=event.id)
        assert proof.tree_size == checkpoint.size
        verify_inclusion(event_leaf_hash(event), proof.index, checkpoint.size, proof.hashes, checkpoint.root_hash)
        assert tlog.inclusion_proof(proof.index) == proof
    # In an older, smaller tree too.
    older, _ = open_checkpoint(tlog.checkpoint(32), tlog.verifier)
    proof = tlog.inclusion_proof(5, 32)
    verify_inclusion(event_leaf_hash(events[5]), 5, 32, proof.hashes, older.root_hash)
    # A leaf hash of another event does not pass.
    with pytest.raises(InvalidProofError):
        verify_inclusion(event_leaf_hash(events[6]), 5, 32, proof.hashes, older.root_hash)


def test_consistency_between_checkpoints_verifies(services: Services, world: World, tlog: TransparencyLog):
    issue_many(world, 9)
    tlog.catch_up(page_size=4)
    first = latest(tlog)
    issue_many(world, 30)
    tlog.catch_up(page_size=8)
    second = latest(tlog)

    proof = tlog.consistency_proof(first.size, second.size)
    assert (proof.from_root, proof.to_root) == (first.root_hash, second.root_hash)
    verify_consistency(first.size, second.size, first.root_hash, second.root_hash, proof.hashes)
    # Every pair of stored checkpoints.
    with psycopg.connect(services.database.conninfo) as conn:
        sizes = [
            row[0]
            for row in conn.execute(
                sql.SQL("SELECT size FROM {} ORDER BY size").format(
                    sql.Identifier(services.settings.postgres_schema, "tlog_checkpoints")
                )
            )
        ]
    assert len(sizes) > 5 and sizes[0] == 0
    for i, small in enumerate(sizes[1:], start=1):  # every tree extends the empty one: no proof from size 0
        for large in sizes[i:]:
            a, _ = open_checkpoint(tlog.checkpoint(small), tlog.verifier)
            b, _ = open_checkpoint(tlog.checkpoint(large), tlog.verifier)
            verify_consistency(small, large, a.root_hash, b.root_hash, tlog.consistency_proof(small, large).hashes)


def test_consistency_is_proved_only_from_a_non_empty_tree(world: World, tlog: TransparencyLog):
    # RFC 9162 §2.1.4: PROOF(first, D[second]) for 0 < first <= second.
    issue_many(world, 5)
    tlog.catch_up()
    size = tlog.size()
    for first, second in ((0, 0), (0, size), (size, size - 1)):
        with pytest.raises(InvalidInput) as refused:
            tlog.consistency_proof(first, second)
        assert refused.value.field == "from", (first, second)
    same = tlog.consistency_proof(size, size)
    assert same.hashes == [] and same.from_root == same.to_root == tlog.root()


def test_an_audit_checks_the_empty_checkpoint_by_its_root(services: Services, tlog: TransparencyLog, logged: list[Any]):
    report = tlog.audit(against=tlog.checkpoint(0))
    assert report.ok, report.findings
    assert report.consistency_proofs == report.signatures - 2  # a proof per pair, none from the empty checkpoint
    execute(services, "UPDATE tlog_checkpoints SET root = %s WHERE size = 0", leaf_hash(b"not empty"))
    assert first_problem(tlog.audit())[0] == "checkpoint"


# --- crashes and races -----------------------------------------------------------------------------------


class PowerCut(BaseException):
    """The process dies inside a page's transaction.

    A ``BaseException``, as ``SystemExit`` is: the process ends, so the engine must not take it for an event
    it cannot apply (which it would hold in quarantine)."""


def test_a_runner_killed_mid_page_leaves_the_log_as_it_was(
    services: Services, world: World, tlog: TransparencyLog, monkeypatch: pytest.MonkeyPatch
):
    issue_many(world, 30)
    signed = 0
    write_checkpoint = TreeView.write_checkpoint

    def dies_on_the_third_page(self: TreeView, curs: Any, signer: Signer, size: int, root: bytes) -> None:
        nonlocal signed
        write_checkpoint(self, curs, signer, size, root)  # leaves, nodes and checkpoint are in the transaction...
        signed += 1
        if signed == 3:
            raise PowerCut  # ...and go with it

    monkeypatch.setattr(TreeView, "write_checkpoint", dies_on_the_third_page)
    with pytest.raises(PowerCut):
        tlog.catch_up(page_size=6)
    monkeypatch.undo()

    assert tlog.size() == 12
    assert latest(tlog).size == 12
    assert tlog.audit().ok  # the log is whole at 12; the events after it are pending
    restarted = open_transparency_log(services)
    try:
        restarted.catch_up(page_size=6)
    finally:
        restarted.close()
    assert tlog.root() == expected_tree(services).root()
    report = tlog.audit()
    assert report.ok, report.findings
    assert report.pending == 0


def test_racing_runners_log_each_event_once(services: Services, world: World):
    logs = [open_transparency_log(services) for _ in range(3)]
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []

    def write() -> None:
        chance = random.Random(3)
        for _ in range(40):
            issue_many(world, chance.randint(1, 15))
        writing.clear()

    def run(log: TransparencyLog, page_size: int) -> None:
        try:
            while writing.is_set():
                log.catch_up(page_size=page_size)
        except BaseException as error:
            errors.append(error)

    # Three processes' logs, and one log shared by two threads, while the registry records.
    runners = [threading.Thread(target=run, args=(log, size)) for log, size in zip(logs, (5, 7, 11), strict=True)]
    runners.append(threading.Thread(target=run, args=(logs[0], 3)))
    for runner in runners:
        runner.start()
    write()
    for runner in runners:
        runner.join()
    assert not errors, errors
    try:
        logs[1].catch_up()
        events = stored(services)
        assert logs[2].tracked() == (events[-1].id, len(events))
        assert logs[0].root() == expected_tree(services).root()
        report = logs[2].audit()
        assert report.ok, report.findings
        assert report.checkpoints > 20
    finally:
        for log in logs:
            log.close()


def test_following_appends_new_events_as_they_come(services: Services, world: World, tlog: TransparencyLog):
    issue_many(world, 5)
    with ProjectionWorker([tlog], idle=5.0) as follower:
        for count in (1, 7, 3):
            issue_many(world, count)
            expected = len(stored(services))
            deadline = time.monotonic() + 3  # well inside the idle poll: LISTEN/NOTIFY woke it
            while tlog.size() < expected and time.monotonic() < deadline:
                time.sleep(0.02)
            assert tlog.size() == expected
    assert follower.errors == {}
    assert tlog.root() == expected_tree(services).root()


# --- tampering -------------------------------------------------------------------------------------------


@pytest.fixture
def logged(services: Services, world: World, tlog: TransparencyLog) -> list[Any]:
    """A registry of a few dozen events, all logged in pages of 10; the stored events."""
    issue_many(world, 25)
    issue_many(world, 25)
    tlog.catch_up(page_size=10)
    report = tlog.audit()
    assert report.ok, report.findings
    return stored(services)


def first_problem(report: AuditReport) -> tuple[str, int | None]:
    assert not report.ok
    assert report.first is not None
    return report.first.kind, report.first.position


def test_an_altered_event_is_named_by_its_position(services: Services, tlog: TransparencyLog, logged: list[Any]):
    victim = logged[33]
    state = altered(victim.state)
    execute(services, f"UPDATE {events_table(services)} SET state = %s WHERE notification_id = %s", state, victim.id)

    report = tlog.audit()
    assert first_problem(report) == ("altered", victim.id)
    assert [f.position for f in report.findings] == [victim.id]


def test_a_deleted_event_is_named_by_its_position(services: Services, tlog: TransparencyLog, logged: list[Any]):
    victim = logged[20]
    execute(services, f"DELETE FROM {events_table(services)} WHERE notification_id = %s", victim.id)

    assert first_problem(tlog.audit()) == ("missing", victim.id)


def test_reordered_events_are_named_by_the_first_position(services: Services, tlog: TransparencyLog, logged: list[Any]):
    a, b = logged[10], logged[40]
    table = events_table(services)
    move = f"UPDATE {table} SET notification_id = %s WHERE notification_id = %s"
    for to, where in ((-1, a.id), (a.id, b.id), (b.id, -1)):
        execute(services, move, to, where)

    report = tlog.audit()
    assert first_problem(report) == ("altered", a.id)
    assert {f.position for f in report.findings} == {a.id, b.id}


def test_an_event_slipped_into_the_logged_history_is_named(
    services: Services, tlog: TransparencyLog, logged: list[Any]
):
    execute(
        services,
        f"INSERT INTO {events_table(services)} (originator_id, originator_version, topic, state, notification_id)"
        " VALUES (gen_random_uuid(), 1, 'registry.agency:Agency.Registered', '\\x7b7d', %s)",
        logged[-1].id + 1000,
    )
    report = tlog.audit()
    assert report.pending == 1  # beyond the log's position: not logged yet, not wrong
    assert report.ok

    moved = f"UPDATE {events_table(services)} SET notification_id = 0 WHERE notification_id = %s"
    execute(services, moved, logged[-1].id + 1000)
    assert first_problem(tlog.audit()) == ("extra", 0)


def test_a_forged_checkpoint_signature_is_refused(services: Services, tlog: TransparencyLog, logged: list[Any]):
    size = len(logged)
    note = tlog.checkpoint()
    signatures = note.partition("\n\n")[2]
    # Same key name and id, another root: the signature no longer verifies.
    forged_root = Checkpoint(tlog.origin, size, leaf_hash(b"forged")).text()
    forged = forged_root + "\n" + signatures
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(forged, tlog.verifier)
    update = "UPDATE tlog_checkpoints SET note = %s, root = %s WHERE size = %s"
    execute(services, update, forged, leaf_hash(b"forged"), size)

    report = tlog.audit()
    kinds = {f.kind for f in report.findings}
    assert "signature" in kinds
    assert "checkpoint" in kinds  # and its root is not the logged leaves' root either

    # A note signed by another key under the log's name is not the log's.
    impostor = Signer.generate(tlog.origin)
    with pytest.raises(NoteError):
        open_checkpoint(sign_checkpoint(Checkpoint(tlog.origin, size, tlog.root()), impostor), tlog.verifier)


def test_an_altered_stored_node_is_detected(services: Services, tlog: TransparencyLog, logged: list[Any]):
    execute(services, "UPDATE tlog_nodes SET hash = %s WHERE level = 2 AND idx = 3", leaf_hash(b"x"))

    report = tlog.audit()
    kind, position = first_problem(report)
    assert kind == "node"
    assert position == logged[12].id  # the subtree [12, 16): its first leaf's position
    # Proofs served from that node no longer verify against the signed checkpoint.
    checkpoint = latest(tlog)
    proof = tlog.inclusion_proof(9)
    with pytest.raises(InvalidProofError):
        verify_inclusion(event_leaf_hash(logged[9]), 9, checkpoint.size, proof.hashes, checkpoint.root_hash)
    proof = tlog.inclusion_proof(1)  # those that do not use it still do
    verify_inclusion(event_leaf_hash(logged[1]), 1, checkpoint.size, proof.hashes, checkpoint.root_hash)
    assert [f.kind for f in report.findings if f.kind == "node"] == ["node"]


def test_an_event_rewritten_with_its_leaf_is_still_caught(services: Services, tlog: TransparencyLog, logged: list[Any]):
    """Someone who rewrites an event and its leaf hash breaks the tree above it and the signed roots."""
    victim = logged[7]
    state = altered(victim.state)
    forged = leaf_hash(encode_leaf(victim.id, victim.originator_id, victim.originator_version, victim.topic, state))
    execute(services, f"UPDATE {events_table(services)} SET state = %s WHERE notification_id = %s", state, victim.id)
    execute(services, "UPDATE tlog_leaves SET hash = %s WHERE position = %s", forged, victim.id)

    report = tlog.audit()
    kinds = {f.kind for f in report.findings}
    assert "altered" not in kinds
    assert {"node", "checkpoint"} <= kinds
    assert first_problem(report)[1] == logged[6].id  # the subtree [6, 8) holds it


def test_a_leaf_hash_altered_in_the_log_is_named(services: Services, tlog: TransparencyLog, logged: list[Any]):
    execute(services, "UPDATE tlog_leaves SET hash = %s WHERE idx = 44", leaf_hash(b"x"))
    assert first_problem(tlog.audit()) == ("altered", logged[44].id)


def test_a_saved_checkpoint_is_checked_against_todays_log(
    services: Services, world: World, tlog: TransparencyLog, logged: list[Any]
):
    saved = tlog.checkpoint()
    issue_many(world, 10)
    tlog.catch_up()
    report = tlog.audit(against=saved)
    assert report.ok, report.findings
    assert report.against is not None and report.against.size == len(logged)

    # A checkpoint of a forked log, signed by the log's key, of a size the log has.
    fork = sign_checkpoint(Checkpoint(tlog.origin, 20, leaf_hash(b"fork")), log_signer(services))
    assert first_problem(tlog.audit(against=fork))[0] == "against"
    # A checkpoint larger than the log: the log lost history since.
    ahead = sign_checkpoint(Checkpoint(tlog.origin, 10_000, leaf_hash(b"later")), log_signer(services))
    assert first_problem(tlog.audit(against=ahead))[0] == "against"
    # A checkpoint signed by somebody else.
    other = sign_checkpoint(Checkpoint(tlog.origin, 20, tlog.root(20)), Signer.generate(tlog.origin))
    assert "refused" in tlog.audit(against=other).findings[0].detail


def test_sampled_audits_check_first_and_last_checkpoints(tlog: TransparencyLog, logged: list[Any]):
    report = tlog.audit(sample=3)
    assert report.ok
    assert report.checkpoints == len(range(0, len(logged), 10)) + 1  # 0, 10, ..., 50 and the last short page
    assert report.signatures == 3
    assert report.consistency_proofs == 1  # the middle to the last: none from the empty tree's checkpoint
    assert report.latest is not None and report.latest.size == len(logged)


# --- the CLI --------------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> Iterator[typer.Typer]:
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    logging = structlog.get_config()
    yield app
    structlog.configure(**logging)


def test_audit_verify_reports_and_names_the_first_altered_position(
    cli: typer.Typer,
    database: Database,
    schema: str,
    services: Services,
    tlog: TransparencyLog,
    logged: list[Any],
    tmp_path: Any,
):
    env = {"MCREG_DATABASE_URL": database.conninfo, "POSTGRES_SCHEMA": schema, "MCREG_LOG_FORMAT": "json"}
    runner = CliRunner()

    saved = runner.invoke(cli, ["audit", "checkpoint"], env=env)
    assert saved.exit_code == 0, saved.output
    assert saved.stdout == tlog.checkpoint()
    (tmp_path / "checkpoint.txt").write_text(saved.stdout)

    verified = runner.invoke(cli, ["audit", "verify", "--against", str(tmp_path / "checkpoint.txt")], env=env)
    assert verified.exit_code == 0, verified.output
    assert "verified" in verified.output

    victim = logged[17]
    execute(services, f"DELETE FROM {events_table(services)} WHERE notification_id = %s", victim.id)
    failed = runner.invoke(cli, ["audit", "verify", "--log-key", tlog.verifier.key()], env=env)
    assert failed.exit_code == 1
    assert f"first problem: missing at position {victim.id}" in failed.output

    wrong_key = Verifier(tlog.origin, Signer.generate(tlog.origin).verifier.public_key).key()
    refused = runner.invoke(cli, ["audit", "verify", "--log-key", wrong_key], env=env)
    assert refused.exit_code == 1
    assert "signature" in refused.output


# --- REST ----------------------------------------------------------------------------------------------


@pytest.fixture
def client(services: Services, read_models: ReadModels, tlog: TransparencyLog) -> Iterator[TestClient]:
    app = create_app(services, read_models)
    app.state.transparency_log = tlog
    app.include_router(router)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def auditor(services: Services) -> dict[str, str]:
    """An auditor's headers: leaves name aggregates, as the event feed does, so they are for auditors."""
    return {"Authorization": f"Bearer {services.keys.create(uuid4(), Role.AUDITOR, name='auditor').token}"}


def test_the_api_serves_checkpoints_and_proofs_that_verify(
    client: TestClient, tlog: TransparencyLog, logged: list[Any], auditor: dict[str, str]
):
    key = client.get("/v1/log/key")
    assert key.status_code == 200
    verifier = Verifier.from_key(key.text.strip())
    response = client.get("/v1/log/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    checkpoint, _ = open_checkpoint(response.text, verifier)
    assert checkpoint.size == len(logged)

    assert client.get("/v1/log/leaves/3").status_code == 401
    leaf = client.get("/v1/log/leaves/3", headers=auditor).json()
    event = logged[3]
    assert leaf == {
        "index": 3,
        "position": event.id,
        "aggregate_id": str(event.originator_id),
        "aggregate_version": event.originator_version,
        "type": event.topic.split(":", 1)[1],
        "topic": event.topic,
        "hash": event_leaf_hash(event).hex(),
    }

    for query in ({"index": 3}, {"position": event.id}, {"index": 3, "size": checkpoint.size}):
        proof = client.get("/v1/log/proof/inclusion", params=query).json()
        assert proof["position"] == event.id
        verify_inclusion(
            event_leaf_hash(event),
            proof["index"],
            checkpoint.size,
            [bytes.fromhex(h) for h in proof["hashes"]],
            checkpoint.root_hash,
        )

    older, _ = open_checkpoint(tlog.checkpoint(20), verifier)
    proof = client.get("/v1/log/proof/consistency", params={"from": 20}).json()
    assert (proof["from_size"], proof["to_size"]) == (20, checkpoint.size)
    verify_consistency(
        20, checkpoint.size, older.root_hash, checkpoint.root_hash, [bytes.fromhex(h) for h in proof["hashes"]]
    )


def test_the_api_refuses_what_is_not_in_the_log(client: TestClient, logged: list[Any], auditor: dict[str, str]):
    size = len(logged)
    refusals = {
        f"/v1/log/leaves/{size}": (404, "not-found"),
        "/v1/log/leaves/-1": (422, "invalid-input"),
        f"/v1/log/leaves/{2**64}": (422, "invalid-input"),
        "/v1/log/proof/inclusion?index=0&position=1": (422, "invalid-input"),
        "/v1/log/proof/inclusion": (422, "invalid-input"),
        f"/v1/log/proof/inclusion?index={size}": (422, "invalid-input"),
        f"/v1/log/proof/inclusion?index=0&size={size + 1}": (422, "invalid-input"),
        "/v1/log/proof/inclusion?position=999999": (404, "not-found"),
        "/v1/log/proof/inclusion?index=x": (422, "invalid-input"),
        "/v1/log/proof/consistency?from=5&to=4": (422, "invalid-input"),
        "/v1/log/proof/consistency?from=0": (422, "invalid-input"),
        "/v1/log/proof/consistency?from=0&to=0": (422, "invalid-input"),
        f"/v1/log/proof/consistency?from=1&to={size + 1}": (422, "invalid-input"),
        "/v1/log/proof/consistency": (422, "invalid-input"),
    }
    for url, (status, slug) in refusals.items():
        response = client.get(url, headers=auditor)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith(f"/problems/{slug}"), url


def test_the_api_answers_consistency_at_the_size_edges_as_rfc_9162(client: TestClient, logged: list[Any]):
    size = len(logged)
    same = client.get("/v1/log/proof/consistency", params={"from": size, "to": size}).json()
    assert same["hashes"] == [] and same["from_root"] == same["to_root"]
    for params in ({"from": 0, "to": 0}, {"from": 0, "to": size}, {"from": 0}):
        refused = client.get("/v1/log/proof/consistency", params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert (refused.json()["field"], refused.json()["rule"]) == (
            "from",
            "input should be greater than or equal to 1",
        )


# --- the tree is a read model -----------------------------------------------------------------------------


def test_a_rebuilt_tree_equals_the_live_one_and_keeps_what_the_log_signed(
    services: Services, world: World, tlog: TransparencyLog
):
    issue_many(world, 12)
    tlog.catch_up(page_size=9)
    signed = tlog.checkpoint(9)
    check = tlog.check(page_size=4)
    assert check.equal and check.position == tlog.tracked()[0]

    issue_many(world, 3)  # recorded after the live log's position: the rebuild logs them too
    assert tlog.rebuild(page_size=5) == len(stored(services))
    events = stored(services)
    assert tlog.tracked() == (events[-1].id, len(events))
    assert tlog.root() == expected_tree(services).root()
    assert tlog.checkpoint(9) == signed  # sizes signed before stay as they were signed
    assert latest(tlog).size == len(events)
    report = tlog.audit()
    assert report.ok, report.findings
    assert tlog.catch_up() == 0
