"""Crashes: the API process and the PostgreSQL server are killed (SIGKILL) while clients issue credentials.

Clients record each request as acknowledged (201), refused (4xx) or unknown
(the connection died, or a 5xx). After every crash cycle the registry must
hold every acknowledged credential exactly once, nothing refused, and every
unknown one either way (retrying its idempotency key settles which); every
aggregate's versions run 1..n with no gap; the read models equal a rebuild.

The server is a private cluster (``tests/reliability/servers.py``), so it can
be killed and restarted on the same port. ``MCREG_CRASH_CYCLES`` sets the
number of cycles.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx
import psycopg
import pytest

from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.registry.aggregates.receipt import Receipt
from mcreg.settings import Settings
from tests.reliability.servers import Api, Cluster
from tests.world import World

# The test makes, kills and restarts a PostgreSQL cluster of its own, which no fixture shows.
pytestmark = pytest.mark.postgres

CYCLES = int(os.environ.get("MCREG_CRASH_CYCLES", "20"))


@dataclass
class Ledger:
    """What each client saw of each key."""

    acked: dict[str, UUID] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def next_key(self) -> str:
        with self.lock:
            self.counter += 1
            return f"crash-{self.counter}"


def body(world_mc: UUID, key: str) -> dict:
    return {"microcredential_id": str(world_mc), "learner": {"name": f"Learner {key}"}, "issued_on": "2024-03-01"}


def client(api: Api, token: str, microcredential: UUID, ledger: Ledger, stop: threading.Event) -> None:
    with httpx.Client(timeout=3) as http:
        while not stop.is_set():
            key = ledger.next_key()
            try:
                response = http.post(
                    f"{api.url}/v1/credentials",
                    json=body(microcredential, key),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                ledger.unknown.add(key)
                time.sleep(0.05)
                continue
            if response.status_code == 201:
                ledger.acked[key] = UUID(response.json()["id"])
            elif 400 <= response.status_code < 500 and response.status_code != 409:
                ledger.refused.add(key)
            else:  # 5xx while the database is away, or a 409 concurrent update: not decided
                ledger.unknown.add(key)


def test_killing_the_api_and_the_database_loses_nothing_acknowledged(cluster: Cluster, tmp_path: Path) -> None:
    settings = Settings(database_url=cluster.url, data_dir=tmp_path)
    services = bootstrap(settings)
    world = World(services.registry)
    token = services.keys.create(world.provider_id, world.provider.role, name="crash").token
    services.close()

    api = Api("", cluster.url, tmp_path / "serve.log")
    ledger = Ledger()
    rng = random.Random(20261122)
    for _ in range(CYCLES):
        api.start()
        stop = threading.Event()
        clients = [
            threading.Thread(target=client, args=(api, token, world.microcredential_id, ledger, stop)) for _ in range(3)
        ]
        [c.start() for c in clients]
        time.sleep(rng.uniform(0.3, 1.2))
        victim = rng.choice(("api", "database", "both"))
        if victim in ("database", "both"):
            cluster.kill()
        if victim in ("api", "both"):
            api.kill()
        time.sleep(rng.uniform(0.1, 0.4))  # clients keep trying against the wreck
        stop.set()
        [c.join() for c in clients]
        api.kill()
        if victim != "api":
            cluster.start()

    assert len(ledger.acked) > 20 * CYCLES // 4, "clients got enough acknowledgements to mean something"
    # Settle every request: a replay of its key answers the first result, or does it now.
    api.start()
    try:
        with httpx.Client(timeout=30) as http:
            settled: dict[str, UUID] = {}
            for key in sorted(ledger.acked.keys() | ledger.unknown):
                response = http.post(
                    f"{api.url}/v1/credentials",
                    json=body(world.microcredential_id, key),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                )
                assert response.status_code == 201, response.text
                settled[key] = UUID(response.json()["id"])
    finally:
        api.kill()
    for key, credential_id in ledger.acked.items():
        assert settled[key] == credential_id, f"acknowledged {key} answered another credential on replay"

    services = bootstrap(settings)
    try:
        registry = services.registry
        for key in ledger.refused:
            assert Receipt.create_id(world.provider_id, key) not in registry.repository
        recorder = registry.recorder
        table = f"{recorder.datastore.schema or 'public'}.{recorder.events_table_name}"
        with psycopg.connect(cluster.url) as conn:
            issued = conn.execute(
                f"SELECT count(*), count(DISTINCT originator_id) FROM {table} WHERE topic LIKE %s",
                ["%:Credential.Issued"],
            ).fetchone()
            gaps = conn.execute(
                f"SELECT originator_id FROM {table} GROUP BY originator_id HAVING max(originator_version) <> count(*)"
            ).fetchall()
        assert issued == (len(settled), len(settled)), "every settled key issued exactly one credential"
        assert len(set(settled.values())) == len(settled), "no two keys share a credential"
        assert gaps == []
        read_models = open_read_models(services)
        try:
            read_models.catch_up()
            assert read_models.check().equal, "the read models kept through the crashes equal a rebuild"
        finally:
            read_models.close()
    finally:
        services.close()
