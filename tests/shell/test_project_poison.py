"""``mcreg project``, run as an operator runs it, with a read model stopped before a poison event: it shows it,
``--skip`` steps over it once with an audit event, ``--retry`` tries it again, and ``mcreg rebuild --check`` names
the skip (decision 55)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mcreg.bootstrap import Services
from mcreg.projections.quarantine import State
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.read_model_log import ReadModelLog
from tests.projections.conftest import WANTING_REVOCATIONS, issue_many, poison
from tests.projections.test_follow import iter_until
from tests.world import World

WAIT = 20.0


@dataclass
class Ran:
    exit_code: int
    output: str


@pytest.fixture
def run(services: Services) -> Callable[..., Ran]:
    """Runs ``mcreg`` on the test's schema, in a process of its own as an operator does (in this one, the
    command's logging set-up would outlive it in loggers it used first)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCREG_", "POSTGRES_"))} | {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_LOG_FORMAT": "json",
        "COLUMNS": "250",
    }

    def mcreg(*args: str) -> Ran:
        done = subprocess.run(
            [sys.executable, "-c", "from mcreg.cli import app; app()", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Ran(done.returncode, done.stdout + done.stderr)

    return mcreg


@pytest.fixture
def stopped(services: Services, read_models: ReadModels) -> int:
    """A registry whose read models met a revocation that cannot be decoded; its position."""
    world = World(services.registry)
    issue_many(world, 3)
    position = poison(services)
    issue_many(world, 2)
    read_models.catch_up()
    return position


def head(services: Services) -> int:
    return services.registry.recorder.max_notification_id() or 0


def test_skip_of_an_event_not_held_is_refused_naming_it_and_writes_nothing(
    run, services: Services, read_models: ReadModels, stopped: int
):
    before = head(services), read_models.quarantine.entries()

    refused = run("project", "--skip", str(stopped + 1))
    assert refused.exit_code == 2
    assert f"no read model holds the event at position {stopped + 1} in quarantine" in refused.output
    wrong_model = run("project", "--skip", str(stopped), "--read-model", "catalogue")
    assert wrong_model.exit_code == 2
    assert f"the read model catalogue does not hold the event at position {stopped}" in wrong_model.output
    unknown = run("project", "--skip", str(stopped), "--read-model", "learner_names")
    assert unknown.exit_code == 2 and "must be one of" in unknown.output
    assert run("project", "--skip", str(stopped), "--retry").exit_code == 2
    assert (head(services), read_models.quarantine.entries()) == before


def test_skip_steps_over_the_event_once_with_an_audit_event_and_check_names_it(
    run, services: Services, read_models: ReadModels, stopped: int
):
    skipped = run("project", "--skip", str(stopped), "--read-model", "credential_status")
    assert skipped.exit_code == 0, skipped.output
    assert f"credential_status: steps over the event at position {stopped}" in skipped.output
    status = read_models["credential_status"]
    status.refresh()
    assert status.position == head(services)  # past the poison, and caught up to the audit event it ignores
    log = services.registry.get(ReadModelLog, ReadModelLog.create_id("credential_status"))
    assert log.read_model == "credential_status" and log.skipped == [stopped]
    events = list(services.registry.events.get(log.id))
    assert [type(e).__name__ for e in events] == ["Opened", "EventSkipped"]

    again = run("project", "--skip", str(stopped), "--read-model", "credential_status")
    assert again.exit_code == 2 and f"position {stopped}" in again.output
    assert len(list(services.registry.events.get(log.id))) == 2  # no second audit event

    everywhere = run("project", "--skip", str(stopped))  # every read model still holding it
    assert everywhere.exit_code == 0, everywhere.output
    assert read_models.stopped() == {}
    checked = run("rebuild", "--check")
    assert checked.exit_code == 0, checked.output
    [line] = [line for line in checked.output.splitlines() if line.startswith("credential_status: ")]
    assert "equal at position" in line and line.endswith(f"both stepping over skipped events [{stopped}]")
    assert {e.read_model: e.state for e in read_models.quarantine.entries()} == dict.fromkeys(
        WANTING_REVOCATIONS, State.SKIPPED
    )


def test_retry_tries_again_and_says_it_is_still_stopped(run, services: Services, read_models: ReadModels, stopped: int):
    retried = run("project", "--retry", "--read-model", "dashboard")
    assert retried.exit_code == 1, retried.output  # the stored event is as unreadable as before
    assert f"dashboard: tries the event at position {stopped} again" in retried.output
    assert "stopped before" in retried.output and "MapperDeserialisationError" in retried.output
    log = services.registry.get(ReadModelLog, ReadModelLog.create_id("dashboard"))
    assert [type(e).__name__ for e in services.registry.events.get(log.id)] == ["Opened", "EventRetried"]
    assert read_models.stopped()["dashboard"] == stopped  # held again


def test_project_shows_the_stopped_read_models_and_follows_the_others(
    services: Services, database: object, read_models: ReadModels, stopped: int
):
    settings = {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_LOG_FORMAT": "json",
        "COLUMNS": "250",
    }
    env = os.environ | settings | {"PYTHONFAULTHANDLER": "1"}
    command = [sys.executable, "-c", "from mcreg.cli import app; app()", "project"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            started = "".join(iter_until(process.stdout, "following new events"))
            process.send_signal(signal.SIGTERM)
            stopped_output, _ = process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            raise AssertionError(process.communicate()[1]) from None
        finally:
            process.kill()
    assert process.returncode == 0, stopped_output
    assert "stopped before" in started and f"the event at position {stopped}" in started
    assert "credential_status stopped before the event at position" in started
    assert "mcreg project --skip or --retry" in started
    assert "on stop" in stopped_output and "stopped before" in stopped_output
    # How webhook deliveries fare, beside the read models (no webhook here: nothing owed, nothing in trouble; the
    # outbox may not have followed the log yet when the worker was stopped).
    assert re.search(r"webhooks: outbox lag [\d,]+ events; 0 deliveries owed, 0 events behind\n", stopped_output)
