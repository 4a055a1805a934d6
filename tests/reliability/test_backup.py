"""Backup: the event log exported and restored into an empty database gives back the same registry."""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import structlog
from pydantic import SecretStr
from typer.testing import CliRunner

from mcreg.bootstrap import Services, bootstrap, open_read_models, open_transparency_log
from mcreg.cli import app
from mcreg.database import Database
from mcreg.demo import build_demo
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.services.audit import audit_log
from mcreg.services.backup import Restored, RestoreRefused, export_events, restore_events
from mcreg.services.log_keys import rotate_log_key
from tests.projections.conftest import issue_many
from tests.testdata import data_path
from tests.world import OPERATOR, World


@pytest.fixture
def new_registry(database: Database, services: Services) -> Iterator[Callable[..., Services]]:
    """Registries on new, empty schemas of the same server, with the test's settings changed as asked."""
    made: list[Services] = []

    def make(**changes: Any) -> Services:
        schema = f"restore_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        made.append(bootstrap(services.settings.model_copy(update={"postgres_schema": schema, **changes})))
        return made[-1]

    yield make
    for registry in made:
        registry.close()
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {registry.settings.postgres_schema} CASCADE")


@pytest.fixture
def empty(new_registry: Callable[..., Services]) -> Services:
    """A second registry on a new, empty schema of the same server."""
    return new_registry()


def tables(services: Services, read_models: ReadModels) -> dict[str, list[tuple]]:
    """Every read model's rows, in a stable order."""
    schema = services.settings.postgres_schema
    found: dict[str, list[tuple]] = {}
    with psycopg.connect(services.database.conninfo) as conn:
        for name in read_models.names:
            for table in read_models[name].view.tables:
                found[table] = sorted(conn.execute(f"SELECT * FROM {schema}.{table}").fetchall(), key=repr)
    return found


def test_an_exported_log_restores_into_an_empty_database_with_the_same_positions_and_read_models(
    services: Services, read_models: ReadModels, empty: Services
) -> None:
    build_demo(services.registry, credentials=300, seed=7, batch_size=100, progress=lambda n: None)
    read_models.catch_up()
    exported = io.StringIO()
    written = export_events(services, exported)
    assert written == services.registry.recorder.max_notification_id()

    exported.seek(0)
    assert restore_events(empty, exported).events == written
    original = services.registry.recorder.select_notifications(1, 100_000)
    restored = empty.registry.recorder.select_notifications(1, 100_000)
    assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in restored] == [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in original
    ]
    restored_models = open_read_models(empty)
    try:
        restored_models.catch_up()
        assert tables(empty, restored_models) == tables(services, read_models)
    finally:
        restored_models.close()
    # The transparency log hashes the stored records: the restored log has the same tree, leaf for leaf.
    logs = [open_transparency_log(s) for s in (services, empty)]
    try:
        for log in logs:
            log.catch_up()
        assert logs[0].size() == logs[1].size() == written
        assert logs[0].root() == logs[1].root()
    finally:
        for log in logs:
            log.close()
    # The restored registry carries on where the original stopped.
    empty.registry.register_agency(OPERATOR, name="After the restore", country="NL")
    assert empty.registry.recorder.max_notification_id() == written + 1
    exported.seek(0)
    with pytest.raises(RestoreRefused, match="not empty"):
        restore_events(empty, exported)


def test_a_restored_registry_keeps_its_logs_origin_and_keys(
    services: Services, new_registry: Callable[..., Services]
) -> None:
    world = World(services.registry)
    log = open_transparency_log(services)
    try:
        issue_many(world, 8)
        log.catch_up(page_size=3)
        saved = log.checkpoint()  # signed by the first key, kept by an auditor
        rotate_log_key(services)
        issue_many(world, 8)
        log.catch_up(page_size=3)
        root = log.root()
    finally:
        log.close()
    exported = io.StringIO()
    export_events(services, exported)

    # Served elsewhere, the restored registry would take another origin, and a process with another KEK.
    elsewhere = new_registry(public_url="https://restored.example")
    exported.seek(0)
    restored = restore_events(elsewhere, exported)
    assert restored.log_origin == services.identity.log_origin != elsewhere.identity.log_origin
    assert elsewhere.log_keys.all_keys() == services.log_keys.all_keys()
    again = bootstrap(elsewhere.settings)  # the restored registry's next start
    try:
        assert again.identity.log_origin == services.identity.log_origin
        log = open_transparency_log(again)
        try:
            log.catch_up()
            assert log.root() == root
            assert [k.key for k in log.announced()] == [k.key for k in open_announced(services)]
        finally:
            log.close()
        report = audit_log(again, against=saved.encode())  # what the auditor saved checks against the restored log
        assert report.ok, report.findings
        assert report.keys == 2
    finally:
        again.close()

    stranger = new_registry(key_encryption_key=SecretStr(base64.b64encode(os.urandom(32)).decode()))
    exported.seek(0)
    with pytest.raises(RestoreRefused, match=r"log's keys in this export cannot be restored: .*sealed under KEK"):
        restore_events(stranger, exported)
    assert not stranger.registry.recorder.max_notification_id()
    assert stranger.log_keys.all_keys() == []


def open_announced(services: Services) -> list[Any]:
    log = open_transparency_log(services)
    try:
        return log.announced()
    finally:
        log.close()


def test_a_damaged_export_is_refused_and_loads_nothing(services: Services, empty: Services) -> None:
    for text in ("", '{"format": "something else"}\n', '{"format": "mcreg-event-log", "version": 1, "head": 2}\n{"pos'):
        with pytest.raises(RestoreRefused):
            restore_events(empty, io.StringIO(text))
    assert not empty.registry.recorder.max_notification_id()


EXPORTS = data_path("exports")


def test_an_export_made_before_the_layout_moved_restores_with_the_same_log_root_and_read_models(
    empty: Services,
) -> None:
    expected = json.loads((EXPORTS / "before-one-house.json").read_text())
    with (EXPORTS / "before-one-house.jsonl").open(encoding="utf-8") as lines:
        restored = restore_events(empty, lines)
    assert restored == Restored(expected["events"], None)  # an export from before carries no log keys
    log = open_transparency_log(empty)
    try:
        log.catch_up()
        assert (log.size(), log.root().hex()) == (expected["events"], expected["log_root"])
    finally:
        log.close()
    read_models = open_read_models(empty)
    try:
        read_models.catch_up()
        schema = empty.settings.postgres_schema
        with psycopg.connect(empty.database.conninfo) as conn:
            counts = {
                table: conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
                for name in read_models.names
                for table in read_models[name].view.tables
            }
        assert {table: counts[table] for table in expected["rows"]} == expected["rows"]
        # A read model added since holds what those events say of it: credentials then carried no identifiers.
        assert {table: counts[table] for table in counts.keys() - expected["rows"].keys()} == {
            "credential_identifiers": 0
        }
    finally:
        read_models.close()
    # Free text written before it was sealed reads as it was written.
    revoked = uuid.UUID("3b9b9d3a-49dc-42b9-988e-2233a63206aa")
    (revocation,) = [e for e in empty.registry.repository.event_store.get(revoked) if type(e).__name__ == "Revoked"]
    assert empty.registry.open_text(revocation.note, revoked, "note") == (
        "Impersonation at the final assessment established by the examination board"
    )
    # A specification written before its later optional elements existed loads with them unset.
    microcredential = empty.registry.get(MicroCredential, uuid.UUID("751c89bb-c761-4b65-bb32-6f9147f7a725"))
    assert microcredential.specifications[0].nqf_level is None
    # Events written today carry the same stored names as those written then.
    empty.registry.register_agency(OPERATOR, name="After the move", country="NL")
    (latest,) = empty.registry.recorder.select_notifications(expected["events"] + 1, 1)
    assert latest.topic == "registry.agency:Agency.Registered"


def test_the_restore_command_says_the_log_keeps_its_keys(
    services: Services, new_registry: Callable[..., Services], tmp_path: Any
) -> None:
    issue_many(World(services.registry), 3)
    rotate_log_key(services)
    target = new_registry(public_url="https://restored.example")

    def mcreg(registry: Services, *args: str) -> Any:
        env = {
            "MCREG_DATABASE_URL": registry.database.conninfo,
            "POSTGRES_SCHEMA": registry.settings.postgres_schema,
            "MCREG_DATA_DIR": str(registry.settings.data_dir),
            "MCREG_LOG_FORMAT": "json",
            "COLUMNS": "200",
        }
        logging = structlog.get_config()
        try:
            return CliRunner().invoke(app, list(args), prog_name="mcreg", env=env)
        finally:
            structlog.configure(**logging)

    backup = tmp_path / "backup.jsonl"
    exported = mcreg(services, "export", "-o", str(backup))
    assert exported.exit_code == 0, exported.output
    restored = mcreg(target, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert f"the transparency log {services.identity.log_origin} keeps its keys" in restored.output
    assert target.log_keys.all_keys() == services.log_keys.all_keys()
