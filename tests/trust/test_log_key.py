"""The log's key: sealed under the key-encryption key, rotated with a note the old key signs, audited across."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from psycopg import sql
from pydantic import SecretStr
from typer.testing import CliRunner

from mcreg.api.app import create_app
from mcreg.bootstrap import Services, bootstrap, open_transparency_log, view_env
from mcreg.cli import app
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.registry.trust.key_rotation import AnnouncedKey, Rotation, sign_rotation
from mcreg.registry.trust.signed_note import (
    Signer,
    Verifier,
    open_checkpoint,
    parse_note,
)
from mcreg.services.audit import audit_log
from mcreg.services.log_keys import rotate_log_key
from mcreg.stores.issuer_keys import KeyUnavailable
from mcreg.stores.log_keys import UNSEALED_KEY
from tests.projections.conftest import issue_many
from tests.trust.test_issuer_keys import secret_forms
from tests.world import World


def log_events(services: Services, world: World, count: int) -> None:
    issue_many(world, count)
    log = open_transparency_log(services)
    try:
        log.catch_up(page_size=7)
    finally:
        log.close()


def log_signer(services: Services) -> Signer:
    with services.pool.connection() as conn:
        return services.log_keys.signer(conn.cursor())


def rows(services: Services, table: str) -> list[tuple[Any, ...]]:
    name = sql.Identifier(services.settings.postgres_schema, table)
    with psycopg.connect(services.database.conninfo) as conn:
        return conn.execute(sql.SQL("SELECT * FROM {}").format(name)).fetchall()


def execute(services: Services, statement: str, *args: Any) -> None:
    with psycopg.connect(services.database.conninfo, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {services.settings.postgres_schema}")
        conn.execute(statement, args)  # type: ignore[arg-type]


def checkpoint_signers(services: Services) -> dict[int, int]:
    """Each checkpoint's size, and the number of the log key that signed it."""
    keys = {Verifier(services.identity.log_origin, k.public_key).key_id: k.number for k in services.log_keys.all_keys()}
    return {size: keys[parse_note(note)[1][0].key_id] for size, _, note, _ in rows(services, "tlog_checkpoints")}


def raw_bytes(found: list[tuple[Any, ...]]) -> bytes:
    return b"".join(v if isinstance(v, bytes) else str(v).encode() for row in found for v in row)


@pytest.fixture
def another_kek(services: Services) -> Iterator[Callable[[], Services]]:
    """The test's registry opened by a process given another key-encryption key."""
    opened: list[Services] = []

    def start() -> Services:
        kek = SecretStr(base64.b64encode(os.urandom(32)).decode())
        opened.append(bootstrap(services.settings.model_copy(update={"key_encryption_key": kek})))
        return opened[-1]

    yield start
    for other in opened:
        other.close()


def cli(services: Services, *args: str, kek: str | None = None) -> tuple[int, str]:
    env = {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_DATA_DIR": str(services.settings.data_dir),
        "MCREG_LOG_FORMAT": "json",
        "COLUMNS": "250",
    } | ({"MCREG_KEY_ENCRYPTION_KEY": kek} if kek else {})
    logging = structlog.get_config()
    try:
        result = CliRunner().invoke(app, list(args), prog_name="mcreg", env=env)
    finally:
        structlog.configure(**logging)
    return result.exit_code, result.output


def test_the_log_key_is_stored_sealed_never_in_plaintext(services: Services, world: World):
    log_events(services, world, 5)
    private = log_signer(services).private_key
    stored = rows(services, "log_keys") + rows(services, "registry_secrets")
    assert len(rows(services, "log_keys")) == 1
    assert not any(secret in raw_bytes(stored) for secret in secret_forms(private))
    assert UNSEALED_KEY not in {name for name, _ in rows(services, "registry_secrets")}


class Unsealed:
    """How a registry from before signed its log: with its key read in plaintext."""

    def __init__(self, origin: str, key: Ed25519PrivateKey) -> None:
        self.origin = origin
        self.key = key

    def signer(self, curs: Any) -> Signer:
        return Signer(self.origin, self.key)

    def announced(self, curs: Any) -> list[AnnouncedKey]:
        return [AnnouncedKey(self.signer(curs).verifier, None)]


def test_a_key_stored_unsealed_by_a_registry_from_before_is_sealed_at_the_first_start(services: Services, world: World):
    legacy = Ed25519PrivateKey.generate()
    origin = services.identity.log_origin
    execute(services, "INSERT INTO registry_secrets VALUES (%s, %s)", UNSEALED_KEY, legacy.private_bytes_raw())
    before = TransparencyLog(services.registry, view_env(services), Unsealed(origin, legacy))
    issue_many(world, 6)
    before.catch_up(page_size=4)
    before.close()

    started = bootstrap(services.settings)
    try:
        assert UNSEALED_KEY not in {name for name, _ in rows(started, "registry_secrets")}
        [key] = started.log_keys.all_keys()
        assert key.public_key == legacy.public_key().public_bytes_raw()
        assert not any(secret in raw_bytes(rows(started, "log_keys")) for secret in secret_forms(legacy))
        world.registry = started.registry
        log_events(started, world, 8)
        assert set(checkpoint_signers(started).values()) == {1}
        report = audit_log(started, verifier=Verifier(origin, legacy.public_key().public_bytes_raw()))
        assert report.ok, report.findings
        assert report.checkpoints > 4
    finally:
        started.close()


def test_after_a_rotation_checkpoints_are_signed_by_the_new_key_and_the_audit_follows_the_chain(
    services: Services, world: World, read_models: ReadModels
):
    log_events(services, world, 10)
    log = open_transparency_log(services)
    saved = log.checkpoint()  # what an auditor kept before the rotation
    first_key = log.verifier
    log.close()
    handed_over = max(checkpoint_signers(services))

    made = rotate_log_key(services)
    assert made.number == 2
    log_events(services, world, 10)

    signers = checkpoint_signers(services)
    assert {n for size, n in signers.items() if size <= handed_over} == {1}
    assert {n for size, n in signers.items() if size > handed_over} == {2}
    assert made.announcement is not None
    rotation = Rotation.parse(parse_note(made.announcement)[0])
    assert rotation.last_size == handed_over
    open_checkpoint(saved, first_key)  # the old checkpoint stays valid under the old key

    report = audit_log(services, against=saved.encode())
    assert report.ok, report.findings
    assert report.keys == 2 and report.signatures == report.checkpoints > 4
    trusted_first = audit_log(services, verifier=first_key)  # an auditor who kept the first key follows it
    assert trusted_first.ok, trusted_first.findings

    # The DID document lists the key in force as #log and keeps the first; the log lists both with the note.
    with TestClient(create_app(services, read_models)) as client:
        did = client.get("/.well-known/did.json").json()
        chain = client.get("/v1/log/keys").json()
        current = client.get("/v1/log/key").text
    ids = [m["id"] for m in did["verificationMethod"]]
    assert ids[:2] == [f"{services.identity.did}#log", f"{services.identity.did}#log-1"]
    assert set(ids[:2]) <= set(did["assertionMethod"])
    assert [k["number"] for k in chain] == [1, 2]
    assert chain[0] == {"number": 1, "key": first_key.key(), "announcement": None}
    assert chain[1]["announcement"] == made.announcement and current == chain[1]["key"] + "\n"


def test_rotating_and_auditing_from_the_command_line(services: Services, world: World):
    log_events(services, world, 6)
    exit_code, output = cli(services, "log", "rotate-key")
    assert exit_code == 0, output
    assert "log key 2 signs from size" in output
    log_events(services, world, 6)
    exit_code, output = cli(services, "log", "keys")
    assert exit_code == 0, output
    assert "now" in output
    exit_code, output = cli(services, "audit", "verify")
    assert exit_code == 0, output
    assert "verified" in output and "2 keys" in output


def test_a_forged_rotation_note_fails_the_audit(services: Services, world: World):
    log_events(services, world, 6)
    rotate_log_key(services)
    log_events(services, world, 6)
    # Someone with the database, not the old key, announces a key of their own.
    origin = services.identity.log_origin
    intruder = Signer.generate(origin)
    [_, second] = services.log_keys.all_keys()
    forged = sign_rotation(Rotation(origin, 6, Verifier(origin, second.public_key)), intruder)
    execute(services, "UPDATE log_keys SET announcement = %s WHERE number = 2", forged)

    report = audit_log(services)
    assert not report.ok
    assert report.first is not None and report.first.kind == "rotation"
    assert "announcing log key 2 is not a rotation signed by log key 1" in report.first.detail
    exit_code, output = cli(services, "audit", "verify")
    assert exit_code == 1
    assert "first problem: rotation" in output


def test_rotating_with_the_wrong_kek_says_so_and_writes_nothing(
    services: Services, world: World, another_kek: Callable[[], Services]
):
    log_events(services, world, 4)
    before = rows(services, "log_keys"), rows(services, "tlog_checkpoints")
    stranger = another_kek()
    with pytest.raises(KeyUnavailable, match=r"log key 1 is sealed under KEK .*, this process has"):
        rotate_log_key(stranger)
    assert (rows(services, "log_keys"), rows(services, "tlog_checkpoints")) == before
    exit_code, output = cli(services, "log", "rotate-key", kek=base64.b64encode(os.urandom(32)).decode())
    assert exit_code == 2
    assert "the log key was not rotated: log key 1 is sealed under KEK" in output
    assert (rows(services, "log_keys"), rows(services, "tlog_checkpoints")) == before
    # Nor does a process with the wrong KEK sign the log with a key of its own: it stops.
    world.registry = stranger.registry
    issue_many(world, 3)
    log = open_transparency_log(stranger)
    try:
        with pytest.raises(KeyUnavailable, match="sealed under KEK"):
            log.catch_up()
    finally:
        log.close()
    assert rows(services, "log_keys") == before[0]


def test_a_log_that_lost_its_keys_stops_rather_than_take_a_new_one(services: Services, world: World):
    log_events(services, world, 4)
    execute(services, "DELETE FROM log_keys")
    issue_many(world, 2)
    log = open_transparency_log(services)
    try:
        with pytest.raises(KeyUnavailable, match="signed checkpoints but holds no key"):
            log.catch_up()
    finally:
        log.close()
    assert rows(services, "log_keys") == []
    report = audit_log(services)
    assert report.first is not None and (report.first.kind, report.first.detail) == ("rotation", "the log holds no key")
