"""The worker: catches up, then applies events as they are recorded, until it is stopped."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import date

from mcreg.bootstrap import Services
from mcreg.database import Database
from mcreg.projections.read_models import ReadModels
from tests.projections.conftest import PowerCut, crashing_after, issue_many
from tests.world import World, learner

WAIT = 10.0
"""Seconds a test waits for the worker before failing; a pass takes a fraction of one."""


def wait_until_projected(read_models: ReadModels, services: Services) -> int:
    head = services.registry.recorder.max_notification_id()
    for projector in read_models.select():
        projector.view.wait(services.registry.name, head, timeout=WAIT)
    return head


def test_the_worker_catches_up_then_applies_a_new_event_as_it_is_recorded(
    services: Services, world: World, read_models: ReadModels
):
    issue_many(world, 5)
    with read_models.worker(idle=0.1) as worker:
        wait_until_projected(read_models, services)
        credential_id = world.issue(date(2024, 3, 2), learner=learner("Grace Hopper"))
        head = wait_until_projected(read_models, services)

        row = read_models.credential_status.get(credential_id)
        assert row is not None and row.status == "active" and row.updated_at_position == head
        assert [r.event_type for r in read_models.audit_timeline.of_aggregate(credential_id)] == ["Issued"]

    assert not worker.running
    assert worker.errors == {}


def test_lag_comes_down_to_zero_even_when_the_newest_events_are_of_topics_a_projection_skips(
    services: Services, world: World, read_models: ReadModels
):
    issue_many(world, 2)
    with read_models.worker(idle=0.1):
        world.register_provider("BE", "Hogeschool Voorbeeld")  # nothing the credential status needs
        wait_until_projected(read_models, services)

        assert set(read_models.lag().values()) == {0}


def test_a_failing_projection_stops_the_worker_and_says_why(services: Services, world: World, read_models: ReadModels):
    issue_many(world, 5)
    crashing = ReadModels(services.registry, read_models.env, [crashing_after(pages=0)])
    try:
        worker = crashing.worker(idle=0.1)
        worker.start()
        worker.join(timeout=WAIT)

        assert not worker.running
        assert isinstance(worker.errors["credential_status"], PowerCut)
    finally:
        crashing.close()


def test_the_project_command_follows_until_sigterm(database: Database, schema: str, world: World):
    settings = {"MCREG_DATABASE_URL": database.conninfo, "POSTGRES_SCHEMA": schema, "MCREG_LOG_FORMAT": "json"}
    env = os.environ | settings | {"PYTHONFAULTHANDLER": "1"}  # SIGABRT then dumps every thread's stack
    command = [sys.executable, "-c", "from mcreg.cli import app; app()", "project"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            started = "".join(iter_until(process.stdout, "following new events"))
            assert "on start" in started and "caught up" in started, started
            process.send_signal(signal.SIGTERM)
            stopped, _ = process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            raise AssertionError(process.communicate()[1]) from None
        finally:
            process.kill()
    assert process.returncode == 0
    assert "on stop" in stopped


def iter_until(lines: Iterable[str], text: str) -> Iterator[str]:
    """Lines up to the first that holds ``text``, or all of them."""
    for line in lines:
        yield line
        if text in line:
            return


def test_an_idle_follower_at_the_head_leaves_no_garbage_for_the_collector(
    services: Services, world: World, read_models: ReadModels
):
    # A follower asks twice a second whether there is news; in `mcreg serve` the cyclic garbage of each asking
    # was what the collector's full passes, a request's tail, had to find.
    issue_many(world, 3)
    read_models.catch_up()
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            assert read_models.catch_up() == 0
        assert gc.collect() == 0
    finally:
        gc.enable()
