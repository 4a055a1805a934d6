"""A projection worker killed with SIGKILL at random moments, restarted each time, ends equal to a rebuild."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

from mcreg.bootstrap import Services
from mcreg.database import Database
from mcreg.projections.read_models import ReadModels
from tests.projections.conftest import issue_many
from tests.world import World

KILLS = 20
PROGRESS_WAIT = 120
"""Seconds a worker has to move the read model furthest behind: generous, for a loaded machine."""


def moved(read_models: ReadModels, beyond: int) -> None:
    """Wait until every read model is past ``beyond``: the worker has applied a page to the one furthest behind."""
    deadline = time.monotonic() + PROGRESS_WAIT
    while read_models.position() <= beyond:
        behind = f"the worker did not move the read model furthest behind past {beyond} in {PROGRESS_WAIT} s"
        assert time.monotonic() < deadline, behind
        time.sleep(0.05)


def test_killing_the_worker_at_random_points_converges_to_a_rebuild(
    database: Database, schema: str, services: Services, world: World, read_models: ReadModels
):
    settings = {"MCREG_DATABASE_URL": database.conninfo, "POSTGRES_SCHEMA": schema, "MCREG_LOG_FORMAT": "json"}
    settings["MCREG_DATA_DIR"] = str(services.settings.data_dir)  # its KEK opens the log's key
    env = os.environ | settings
    command = [sys.executable, "-c", "from mcreg.cli import app; app()", "project", "--page-size", "50"]
    chance = random.Random(2026)
    writing = threading.Event()
    writing.set()

    def write() -> None:  # the registry goes on recording while the worker dies and comes back
        while writing.is_set():
            issue_many(world, chance.randint(1, 40))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for kill in range(KILLS):
            behind = read_models.position()
            with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as worker:
                if kill % 2:  # wherever it is: start-up, catch-up or following
                    time.sleep(chance.uniform(0.3, 2.0))
                else:  # soon after a page, however long its start-up took on a loaded machine
                    moved(read_models, behind)
                    time.sleep(chance.uniform(0, 0.5))
                worker.send_signal(signal.SIGKILL)
            assert worker.returncode == -signal.SIGKILL
    finally:
        writing.clear()
        writer.join()

    # The killed workers did real work between kills, so the kills hit them mid-way.
    assert read_models.position() > 0
    read_models.catch_up()
    check = read_models.check()
    assert check.equal, check.comparisons
    head = services.registry.recorder.max_notification_id()
    assert all(projector.view.position(services.registry.name) == head for projector in read_models.select())
