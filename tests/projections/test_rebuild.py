"""Rebuilds and checks: a fresh build from position 0 replaces the live tables in one step, or is compared with them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
import structlog
from typer.testing import CliRunner

from mcreg.bootstrap import Services, open_transparency_log
from mcreg.cli import app as cli
from mcreg.database import Database
from mcreg.projections.credential_status import CredentialChanges, State
from mcreg.projections.engine import catch_up
from mcreg.projections.log_tree import LEAVES
from mcreg.projections.read_models import ReadModels
from mcreg.projections.rebuild import scratch_copies, swap
from mcreg.registry.vocabulary import CredentialStatus
from tests.projections.conftest import issue_many, snapshot
from tests.world import World


def test_readers_keep_reading_the_live_tables_during_a_rebuild_and_the_rebuilt_ones_after(
    world: World, read_models: ReadModels
):
    credentials = issue_many(world, 30)
    world.registry.revoke_credential(world.provider, credentials[0], reason="fraud", effective=date(2024, 5, 1))
    read_models.catch_up()
    before = snapshot(read_models)
    status = read_models.credential_status
    done, seen, failures = threading.Event(), [], []

    def read_all_the_time() -> None:
        while not done.is_set():
            try:
                seen.append(status.get(credentials[0]))
            except Exception as error:
                failures.append(error)

    def during_the_rebuild(position: int, head: int) -> None:
        assert len(status.rows("credential_status")) == 30
        seen.append(status.get(credentials[0]))

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        read_models.rebuild(page_size=5, progress=during_the_rebuild)
        seen.append(status.get(credentials[0]))
    finally:
        done.set()
        reader.join()

    assert failures == []
    assert len(seen) > 2
    assert all(row is not None and row.status == "revoked" for row in seen)
    assert snapshot(read_models) == before


def test_a_rebuild_takes_in_what_the_live_worker_applied_while_it_ran(
    services: Services, world: World, read_models: ReadModels
):
    app = services.registry
    issue_many(world, 10)
    live = read_models["credential_status"]
    with scratch_copies(app, [live], read_models.env) as (rebuilt,):
        catch_up(app, [rebuilt], page_size=4)
        late = issue_many(world, 5)  # recorded after the rebuild read the log...
        world.registry.suspend_credential(world.provider, late[0], reason="appeal", effective=date(2024, 4, 2))
        read_models.catch_up(["credential_status"])  # ...and applied by the live worker
        assert rebuilt.position < live.view.position(app.name)

        swap(live, rebuilt)

    assert live.view.get(late[0]).status == "suspended"
    assert len(live.view.rows("credential_status")) == 15
    assert read_models.lag(["credential_status"]) == {"credential_status": 0}
    assert read_models.check(["credential_status"]).equal


def test_a_rebuild_moves_a_view_that_was_behind_to_the_head(world: World, read_models: ReadModels):
    issue_many(world, 3)
    read_models.catch_up()
    issue_many(world, 4)

    read_models.rebuild()

    assert set(read_models.lag().values()) == {0}
    assert len(read_models.credential_status.rows("credential_status")) == 7
    assert read_models.catch_up() == 0


def test_a_check_compares_at_the_live_position_and_changes_nothing(
    database: Database, schema: str, world: World, read_models: ReadModels
):
    issue_many(world, 5)
    read_models.catch_up()
    issue_many(world, 5)  # not projected yet: the check must not count it as a difference
    before = snapshot(read_models)

    result = read_models.check()

    assert result.equal
    assert {c.projection: c.position for c in result.comparisons} == before["positions"]
    assert snapshot(read_models) == before
    with psycopg.connect(database.conninfo) as conn:
        scratch = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [f"{schema}_rebuild_%"])
        assert scratch.fetchall() == []


def tamper(read_models: ReadModels, credential_id) -> None:
    """A row changed behind the projection's back, as a bug or a stray UPDATE would."""
    view = read_models.credential_status
    changes = CredentialChanges(
        states={credential_id: State(CredentialStatus.REVOKED, date(2024, 5, 1), "fraud", None, 1)}
    )
    with view.datastore.transaction(commit=True) as curs:
        view.write(curs, changes)


def test_a_check_finds_a_row_that_differs_and_leaves_it_for_a_rebuild_to_repair(world: World, read_models: ReadModels):
    credentials = issue_many(world, 5)
    read_models.catch_up()
    tamper(read_models, credentials[2])

    result = read_models.check()

    status, *others = sorted(result.comparisons, key=lambda c: c.projection != "credential_status")
    assert not result.equal
    assert (status.only_live, status.only_rebuilt) == ({"credential_status": 1}, {"credential_status": 1})
    assert all(other.equal for other in others)
    assert read_models.credential_status.get(credentials[2]).status == "revoked"

    read_models.rebuild(["credential_status"])

    assert read_models.credential_status.get(credentials[2]).status == "active"
    assert read_models.check().equal


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    """Runs commands in this process; their logging set-up, bound to the runner's streams, is undone afterwards."""
    logging = structlog.get_config()
    yield CliRunner()
    structlog.configure(**logging)


def test_the_rebuild_command_checks_and_rebuilds(
    runner: CliRunner, database: Database, schema: str, world: World, read_models: ReadModels
):
    credentials = issue_many(world, 5)
    read_models.catch_up()
    env = {"MCREG_DATABASE_URL": database.conninfo, "POSTGRES_SCHEMA": schema, "MCREG_LOG_FORMAT": "json"}

    checked = runner.invoke(cli, ["rebuild", "--check"], env=env)
    assert checked.exit_code == 0, checked.output
    assert "credential_status: equal" in checked.output
    assert "audit_timeline: equal" in checked.output
    assert "events/s" in checked.output

    tamper(read_models, credentials[0])
    different = runner.invoke(cli, ["rebuild", "credential_status", "--check"], env=env)
    assert different.exit_code == 1
    assert "credential_status: different" in different.output

    rebuilt = runner.invoke(cli, ["rebuild", "credential_status"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(cli, ["rebuild", "--check"], env=env).exit_code == 0

    unknown = runner.invoke(cli, ["rebuild", "learner_names"], env=env)
    assert unknown.exit_code == 2


def test_the_rebuild_command_checks_and_rebuilds_the_transparency_log_keeping_its_checkpoints(
    runner: CliRunner, database: Database, schema: str, services: Services, world: World
):
    issue_many(world, 3)
    log = open_transparency_log(services)
    try:
        log.catch_up()
        size, root, checkpoint = log.size(), log.root(), log.checkpoint()
        env = {"MCREG_DATABASE_URL": database.conninfo, "POSTGRES_SCHEMA": schema, "MCREG_LOG_FORMAT": "json"}
        env["MCREG_DATA_DIR"] = str(services.settings.data_dir)  # its KEK opens the log's key
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"UPDATE {schema}.{LEAVES.name} SET hash = %s WHERE idx = 1", [bytes(32)])

        different = runner.invoke(cli, ["rebuild", "transparency_log", "--check"], env=env)
        assert different.exit_code == 1, different.output
        assert "transparency_log: different" in different.output

        rebuilt = runner.invoke(cli, ["rebuild", "transparency_log"], env=env)
        assert rebuilt.exit_code == 0, rebuilt.output
        everything = runner.invoke(cli, ["rebuild", "--check"], env=env)
        assert everything.exit_code == 0, everything.output
        assert "transparency_log: equal" in everything.output
        assert (log.size(), log.root(), log.checkpoint()) == (size, root, checkpoint)
    finally:
        log.close()


@pytest.fixture
def roles(admin_conninfo: str, database: Database, schema: str) -> Iterator[list[str]]:
    """Two roles a DBA made, a reporting role and a table owner that the registry's own role may act as (so it
    can still rebuild what it no longer owns), dropped with what they hold afterwards."""
    names = [f"reporting_{uuid.uuid4().hex[:8]}", f"owner_{uuid.uuid4().hex[:8]}"]
    with psycopg.connect(database.conninfo) as conn:
        app_role = conn.execute("SELECT current_user").fetchone()[0]
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE ROLE {name}")
        conn.execute(f"GRANT {names[1]} TO {app_role}")
        conn.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {names[1]}")
    yield names
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP OWNED BY {name}")
            conn.execute(f"DROP ROLE {name}")


def test_grants_and_the_owner_a_dba_gave_on_read_tables_survive_a_rebuild(
    database: Database, schema: str, services: Services, world: World, read_models: ReadModels, roles: list[str]
):
    reporting, owner = roles
    issue_many(world, 3)
    read_models.catch_up()
    log = open_transparency_log(services)
    log.catch_up()
    status, leaves = f"{schema}.credential_status", f"{schema}.{LEAVES.name}"
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {reporting}")
        conn.execute(f"GRANT SELECT ON {status} TO {reporting} WITH GRANT OPTION")
        conn.execute(f"GRANT UPDATE (status) ON {status} TO {reporting}")
        conn.execute(f"GRANT SELECT ON {leaves} TO PUBLIC")
        conn.execute(f"ALTER TABLE {leaves} OWNER TO {owner}")

    read_models.rebuild()
    log.rebuild()
    log.close()

    with psycopg.connect(database.conninfo) as conn:
        held = conn.execute(
            "SELECT has_table_privilege(%(r)s, %(s)s, 'SELECT WITH GRANT OPTION'),"
            " has_column_privilege(%(r)s, %(s)s, 'status', 'UPDATE'), has_table_privilege(%(r)s, %(s)s, 'UPDATE'),"
            " has_table_privilege(%(r)s, %(l)s, 'SELECT'), pg_get_userbyid(relowner)"
            " FROM pg_class WHERE oid = %(l)s::regclass",
            {"r": reporting, "s": status, "l": leaves},
        ).fetchone()
    assert held == (True, True, False, True, owner)
    assert len(read_models.credential_status.rows("credential_status")) == 3
