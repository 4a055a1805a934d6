"""The delivery worker killed with SIGKILL in the middle of delivering, then started again: no event skipped.

``mcreg project`` (the outbox's follower and the delivery worker) runs as its own process, as in production, on the
test's schema; the receiver is slow, so the kill lands while requests are in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from mcreg.stores.event_store import select_feed
from tests.api.rest import caller
from tests.serving import MCREG
from tests.webhooks.receiver import receiving
from tests.world import World

pytestmark = pytest.mark.cluster  # a cluster changes it: .ci/run's cluster step runs it there too


def project(services: Services, log: Path) -> subprocess.Popen[bytes]:
    """``mcreg project`` on the test's database and schema, with its key-encryption key (the same data folder)."""
    settings = services.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCREG_", "POSTGRES_"))} | {
        "MCREG_DATABASE_URL": str(settings.database_url),
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "MCREG_DATA_DIR": str(settings.data_dir),
        "MCREG_LOG_FORMAT": "json",
        "MCREG_WEBHOOK_CONCURRENCY": "2",
    }
    with log.open("a") as out:
        return subprocess.Popen([MCREG, "project"], env=env, stdout=out, stderr=out)


def test_deliveries_resume_after_the_worker_is_killed_with_none_skipped(
    services: Services, client: TestClient, world: World, tmp_path: Path
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with receiving("slow") as receiver:
        made = auditor.post("/v1/webhooks", {"url": receiver.url, "types": []}).json()
        receiver.secret = made["secret"]
        for _ in range(40):
            world.issue()
        worker = project(services, tmp_path / "project.log")
        try:
            deadline = time.monotonic() + 60
            while len(receiver.positions) < 15:
                assert time.monotonic() < deadline, (tmp_path / "project.log").read_text()
                time.sleep(0.02)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            delivered_before = len(set(receiver.positions))
            for _ in range(20):
                world.issue()  # recorded while no worker runs
            expected = [
                r.position
                for r in select_feed(services.registry.recorder, made["starts_after"], 10_000, None, []).records
            ]
            assert delivered_before < len(expected)
            worker = project(services, tmp_path / "project.log")
            assert receiver.wait_for(len(expected), timeout=90) == expected
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
    assert not receiver.refused
    duplicates = len(receiver.positions) - len(expected)
    assert 0 <= duplicates <= 2  # at least once: at most the events in flight (one per thread) come twice
    assert auditor.get(f"/v1/webhooks/{made['id']}").json()["pending"] == 0
