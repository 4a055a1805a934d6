"""Two ``mcreg project`` processes on one registry: the owner of every lease is killed with SIGKILL in the middle of
its catch-up, the other takes every projection over, and the read models and the log end equal to a rebuild (no
event applied twice, none skipped).

Each ``mcreg project`` keeps at most 18 connections (decision 81), so two of them and the test's own fit in the 100
a fresh PostgreSQL allows, which is what the embedded server keeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from mcreg.bootstrap import Services, open_transparency_log
from mcreg.database import Database
from mcreg.projections.read_models import ReadModels
from tests.projections.conftest import issue_many
from tests.world import World

pytestmark = pytest.mark.cluster  # a cluster changes it: .ci/run's cluster step runs it there too

LEASES_HELD = """
SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)
WHERE locktype = 'advisory' AND granted AND application_name LIKE %s
"""


def project(database: Database, schema: str, services: Services, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "MCREG_DATABASE_URL": database.conninfo,
        "POSTGRES_SCHEMA": schema,
        "MCREG_DATA_DIR": str(services.settings.data_dir),  # its KEK opens the log's key
        "MCREG_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "mcreg", "project", "--page-size", "10"]
    with log.open("a") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out)


def leases_held(database: Database, worker: subprocess.Popen[bytes]) -> int:
    """How many leases the process holds (its lease session is named after its pid)."""
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        row = conn.execute(LEASES_HELD, [f"mcreg leases pid {worker.pid} on %"]).fetchone()
    return int(row[0]) if row else 0


def tries_for_leases(database: Database, worker: subprocess.Popen[bytes]) -> bool:
    """Whether the process has opened its lease session (it does to try for its first lease)."""
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
            [f"mcreg leases pid {worker.pid} on %"],
        ).fetchone()
    return bool(row and row[0])


def wait_for(condition: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> float:
    """Poll ``condition`` until true; the seconds it took."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < timeout, f"{what}:\n{log.read_text()}"
        time.sleep(0.05)
    return time.monotonic() - began


def test_a_killed_owner_is_taken_over_by_the_other_process_with_every_event_applied_once(
    database: Database, schema: str, services: Services, world: World, read_models: ReadModels, tmp_path: Path
) -> None:
    app = services.registry
    issue_many(world, 50)
    log = tmp_path / "project.log"
    every = len(read_models.names) + 2  # and the transparency log and the webhook outbox
    owner = project(database, schema, services, log)
    other: subprocess.Popen[bytes] | None = None
    writing = threading.Event()
    writing.set()

    def write() -> None:  # the registry goes on recording while its owner dies and the other takes over
        while writing.is_set():
            issue_many(world, 10)
            time.sleep(0.05)

    writer = threading.Thread(target=write)
    try:
        wait_for(lambda: leases_held(database, owner) == every, "the first process never held every lease", log)
        other = project(database, schema, services, log)
        wait_for(lambda: tries_for_leases(database, other), "the second process never tried for a lease", log)
        before = app.recorder.max_notification_id() or 0
        for _ in range(6):
            issue_many(world, 250)  # a burst the owner takes a while to catch up with, a page of 10 at a time
        writer.start()
        busy = lambda: min(p.view.position(app.name) for p in read_models.select()) > before  # noqa: E731
        wait_for(busy, "the owner never started on the burst", log)
        head = app.recorder.max_notification_id() or 0
        reached = min(p.view.position(app.name) for p in read_models.select())
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        takeover = wait_for(lambda: leases_held(database, other) == every, "no takeover", log, timeout=30)
        print(f"takeover after SIGKILL of the owner: {takeover:.2f} s (owner killed at position {reached} of {head})")
        writing.clear()
        writer.join()
        log_tree = open_transparency_log(services)
        try:
            caught_up = lambda: set(read_models.lag().values()) == {0} and log_tree.lag() == 0  # noqa: E731
            wait_for(caught_up, "no catch-up after the takeover", log, timeout=120)
            assert log_tree.check().equal, "the log's tree differs from a rebuild: a leaf missing or twice"
        finally:
            log_tree.close()
    finally:
        writing.clear()
        if writer.is_alive():
            writer.join()
        for worker in (owner, other):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(60)
    check = read_models.check()
    assert check.equal, check.comparisons
