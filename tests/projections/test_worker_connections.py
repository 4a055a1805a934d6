"""How many connections one ``mcreg project`` holds while it follows every projection: few enough that two workers
and an API fit in the 100 a fresh PostgreSQL (the embedded server) allows (decision 81)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psycopg

from mcreg.bootstrap import WORKER_CONNECTIONS, Services
from mcreg.database import Database
from mcreg.projections.read_models import ReadModels
from tests.projections.conftest import issue_many
from tests.projections.test_lease_takeover import leases_held, project, wait_for
from tests.world import World

SESSIONS = "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s"


def sessions(database: Database, pid: int) -> int:
    """The sessions of the process ``pid``: each names it (``mcreg project pid N on …``, ``mcreg leases pid N …``)."""
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        row = conn.execute(SESSIONS, [f"mcreg % pid {pid} on %"]).fetchone()
    return int(row[0]) if row else 0


def test_a_worker_following_every_projection_keeps_within_its_bound_of_connections(
    database: Database, schema: str, services: Services, world: World, read_models: ReadModels, tmp_path: Path
) -> None:
    issue_many(world, 20)
    log = tmp_path / "project.log"
    every = len(read_models.names) + 2  # and the transparency log and the webhook outbox
    bound = WORKER_CONNECTIONS + services.settings.webhook_concurrency
    worker = project(database, schema, services, log)
    most = 0
    try:
        wait_for(lambda: leases_held(database, worker) == every, "the worker never held every lease", log)
        for _ in range(20):  # while it follows a stream of writes, pages of 10 applied side by side
            issue_many(world, 25)
            most = max(most, sessions(database, worker.pid))
            time.sleep(0.1)
        wait_for(lambda: set(read_models.lag().values()) == {0}, "the worker never caught up", log)
        most = max(most, sessions(database, worker.pid))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    print(f"one mcreg project, following: at most {most} connections (bound {bound})")
    assert 0 < most <= bound, log.read_text()
