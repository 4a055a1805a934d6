"""The transparency log's name is fixed when its key is made: a registry served under another URL keeps its log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import structlog
from psycopg import sql
from typer.testing import CliRunner

from mcreg.bootstrap import Services, bootstrap, open_transparency_log
from mcreg.cli import app
from mcreg.database import Database
from mcreg.registry.trust.signed_note import Checkpoint, parse_note
from mcreg.services.audit import audit_log
from mcreg.settings import Settings
from mcreg.stores.signing import did_web
from tests.projections.conftest import issue_many
from tests.world import World

FIRST_URL = "https://registry.example"
MOVED_URL = "https://credentials.example.org/registry"
ORIGIN = "registry.example/log"


@pytest.fixture
def serve_under(database: Database, schema: str, tmp_path: Path) -> Iterator[Callable[[str], Services]]:
    """Start the test's registry under a public URL; closes what it started."""
    started: list[Services] = []

    def start(public_url: str) -> Services:
        settings = Settings(
            database_url=database.conninfo, postgres_schema=schema, data_dir=tmp_path, public_url=public_url
        )
        started.append(bootstrap(settings))
        return started[-1]

    yield start
    for services in started:
        services.close()


def log_events(services: Services, world: World, count: int) -> None:
    issue_many(world, count)
    log = open_transparency_log(services)
    try:
        log.catch_up(page_size=7)
    finally:
        log.close()


def checkpoint_origins(services: Services) -> set[str]:
    table = sql.Identifier(services.settings.postgres_schema, "tlog_checkpoints")
    with psycopg.connect(services.database.conninfo) as conn:
        notes = [row[0] for row in conn.execute(sql.SQL("SELECT note FROM {}").format(table))]
    return {Checkpoint.parse(parse_note(note)[0]).origin for note in notes}


def forget_stored_origin(services: Services) -> None:
    """What a database made before the origin was stored holds: the log key alone."""
    table = sql.Identifier(services.settings.postgres_schema, "registry_secrets")
    with psycopg.connect(services.database.conninfo) as conn:
        conn.execute(sql.SQL("DELETE FROM {} WHERE name = 'log-origin'").format(table))


def audit_verify_cli(services: Services, public_url: str) -> tuple[int, str]:
    env = {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_PUBLIC_URL": public_url,
        "MCREG_LOG_FORMAT": "json",
        "COLUMNS": "200",
    }
    logging = structlog.get_config()
    try:
        result = CliRunner().invoke(app, ["audit", "verify"], prog_name="mcreg", env=env)
    finally:
        structlog.configure(**logging)
    return result.exit_code, result.output


def test_a_registry_served_under_a_new_url_keeps_its_log(serve_under: Callable[[str], Services]):
    first = serve_under(FIRST_URL)
    world = World(first.registry)
    log_events(first, world, 20)
    assert checkpoint_origins(first) == {ORIGIN}
    first.close()

    moved = serve_under(MOVED_URL)
    assert moved.identity.log_origin == ORIGIN  # the log's identity stays
    assert moved.identity.did == did_web(MOVED_URL)  # links follow the new address
    world.registry = moved.registry
    log_events(moved, world, 15)
    assert checkpoint_origins(moved) == {ORIGIN}

    report = audit_log(moved)
    assert report.ok, report.findings
    assert report.origin == ORIGIN and report.checkpoints > 3 and report.consistency_proofs > 2
    exit_code, output = audit_verify_cli(moved, MOVED_URL)
    assert exit_code == 0, output
    assert "verified" in output


def test_an_older_registry_keeps_the_origin_its_checkpoints_were_signed_under(
    serve_under: Callable[[str], Services],
):
    first = serve_under(FIRST_URL)
    world = World(first.registry)
    log_events(first, world, 10)
    forget_stored_origin(first)
    first.close()

    moved = serve_under(MOVED_URL)
    assert moved.identity.log_origin == ORIGIN  # read from the latest signed checkpoint, and stored
    world.registry = moved.registry
    log_events(moved, world, 5)
    assert checkpoint_origins(moved) == {ORIGIN}
    report = audit_log(moved)
    assert report.ok, report.findings
    assert serve_under("https://yet-another.example").identity.log_origin == ORIGIN
