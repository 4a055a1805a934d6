"""Crashes, counted: the API process and the PostgreSQL server are killed (SIGKILL) while clients issue credentials.

Three clients issue credentials singly (``POST /v1/credentials``) and in batches
(``POST /v1/credentials:batch``), every request with its own Idempotency-Key, and record what
they were told: acknowledged (201), refused (4xx) or unknown (the connection died, a 5xx, a 409).
Each cycle kills the API, the database or both with SIGKILL and starts again what it killed: an
API that outlived its database must serve again once the database is back. Afterwards every
acknowledged or unknown request is sent again with its key, which answers the first result or
does the write now: that settles it.

Counted from the stored ``Credential.Issued`` events, each stamped with its request's key: an
acknowledged credential missing before the settling (or a replay answering another one) is lost,
a key with more credentials than its request asked for is a duplicate; both must be 0, and every
settled request holds exactly the credentials its replay named. Every aggregate's versions run
1..n with no gap; the read models equal a rebuild; ``mcreg export`` loaded by ``mcreg restore``
into a fresh database gives the same transparency log (size and Merkle root), and ``mcreg audit
verify`` passes on both.

The figures are printed (``pytest -s``) and written as JSON to ``MCREG_CRASH_REPORT`` (else
``crash-report.json`` in the test's folder). ``MCREG_CRASH_CYCLES`` sets the number of cycles.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import psycopg
import pytest
from eventsourcing.utils import get_topic

from mcreg.bootstrap import Services, bootstrap, open_read_models, open_transparency_log
from mcreg.registry.aggregates.credential import Credential
from mcreg.settings import Settings
from mcreg.stores.issuer_keys import KEK_FILE
from tests.reliability.servers import MCREG, Api, Cluster, mcreg_env
from tests.world import World

# The test makes, kills and restarts a PostgreSQL cluster of its own, which no fixture shows.
pytestmark = pytest.mark.postgres

CYCLES = int(os.environ.get("MCREG_CRASH_CYCLES", "50"))
CLIENTS = 3
BATCH_SHARE = 1 / 3
"""The share of requests that are batches, of 2 to 5 rows."""


def new_credential(microcredential: UUID, name: str) -> dict[str, Any]:
    learner = {"name": f"Learner {name}"}
    return {"microcredential_id": str(microcredential), "learner": learner, "issued_on": "2024-03-01"}


@dataclass(frozen=True)
class Request:
    """One write, sent again with the same key (and body) to settle it."""

    key: str
    rows: int
    """0 for a single credential, else the rows of a batch."""

    @property
    def credentials(self) -> int:
        return self.rows or 1

    def send(self, http: httpx.Client, microcredential: UUID) -> httpx.Response:
        headers = {"Idempotency-Key": self.key}
        if not self.rows:
            return http.post("/v1/credentials", json=new_credential(microcredential, self.key), headers=headers)
        rows = [new_credential(microcredential, f"{self.key}/{n}") for n in range(self.rows)]
        return http.post("/v1/credentials:batch", json={"rows": rows}, headers=headers)

    def issued(self, response: httpx.Response) -> tuple[UUID, ...]:
        """The credentials an acknowledgement names."""
        answer = response.json()
        if not self.rows:
            return (UUID(answer["id"]),)
        return tuple(UUID(row["id"]) for row in answer["results"] if row.get("id"))


@dataclass
class Ledger:
    """Every request sent, and what its client was told."""

    requests: dict[str, Request] = field(default_factory=dict)
    acked: dict[str, tuple[UUID, ...]] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_request(self, rng: random.Random) -> Request:
        rows = rng.randint(2, 5) if rng.random() < BATCH_SHARE else 0
        with self.lock:
            request = Request(f"crash-{len(self.requests) + 1}", rows)
            self.requests[request.key] = request
        return request

    def record(self, request: Request, response: httpx.Response | None) -> None:
        if response is not None and response.status_code == 201:
            self.acked[request.key] = request.issued(response)
        elif response is not None and 400 <= response.status_code < 500 and response.status_code != 409:
            self.refused.add(request.key)
        else:  # no answer, a 5xx while the database is away, or a 409 concurrent update: not decided
            self.unknown.add(request.key)


def client(api: Api, token: str, microcredential: UUID, ledger: Ledger, seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=api.url, timeout=3, headers={"Authorization": f"Bearer {token}"}) as http:
        while not stop.is_set():
            request = ledger.new_request(rng)
            try:
                response: httpx.Response | None = request.send(http, microcredential)
            except httpx.HTTPError:
                response = None
            ledger.record(request, response)
            if request.key in ledger.unknown:
                time.sleep(0.05)  # the server is away: do not hammer the wreck


def issued_by_key(services: Services) -> dict[str | None, list[UUID]]:
    """The credentials in the event store, by the idempotency key stamped on their Issued event."""
    registry = services.registry
    topics = [get_topic(Credential.Issued)]
    found: dict[str | None, list[UUID]] = defaultdict(list)
    start = 1
    while notifications := registry.recorder.select_notifications(start, 1000, topics=topics):
        for notification in notifications:
            issued = registry.mapper.to_domain_event(notification)
            found[issued.stamp.idempotency_key].append(issued.originator_id)
        start = notifications[-1].id + 1
    return found


def log_head(settings: Settings) -> tuple[int, str]:
    """The transparency log's tree size and Merkle root, caught up with the event store."""
    services = bootstrap(settings)
    log = open_transparency_log(services)
    try:
        log.catch_up()
        return log.size(), log.root().hex()
    finally:
        log.close()
        services.close()


def mcreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MCREG, *args], env=env, capture_output=True, text=True, timeout=600)


def crash_cycles(api: Api, cluster: Cluster, token: str, microcredential: UUID, ledger: Ledger) -> Counter[str]:
    """Run the cycles, each killing a victim chosen at random while the clients write; the victims, counted."""
    rng = random.Random(20261122)
    victims: Counter[str] = Counter()
    for cycle in range(CYCLES):
        if api.process is None:
            api.start()
        else:  # the API outlived the database: it must come back to it by itself
            api.wait_ready()
        stop = threading.Event()
        with ThreadPoolExecutor(CLIENTS) as pool:
            clients = [
                pool.submit(client, api, token, microcredential, ledger, cycle * CLIENTS + n, stop)
                for n in range(CLIENTS)
            ]
            time.sleep(rng.uniform(0.3, 1.2))
            victim = rng.choice(("api", "database", "both"))
            victims[victim] += 1
            if victim in ("database", "both"):
                cluster.kill()
            if victim in ("api", "both"):
                api.kill()
            time.sleep(rng.uniform(0.1, 0.4))  # clients keep trying against the wreck
            stop.set()
            for done in clients:
                done.result()
        if victim != "api":
            cluster.start()
    return victims


def settle(api: Api, token: str, microcredential: UUID, ledger: Ledger) -> dict[str, tuple[UUID, ...]]:
    """Every acknowledged or unknown request sent again with its key: the credentials each answers."""
    settled: dict[str, tuple[UUID, ...]] = {}
    with httpx.Client(base_url=api.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        for key in sorted(ledger.acked.keys() | ledger.unknown):
            request = ledger.requests[key]
            response = request.send(http, microcredential)
            assert response.status_code == 201, response.text
            settled[key] = request.issued(response)
    return settled


def test_killing_the_api_and_the_database_loses_nothing_acknowledged(cluster: Cluster, tmp_path: Path) -> None:
    began = time.monotonic()
    settings = Settings(database_url=cluster.url, data_dir=tmp_path)
    services = bootstrap(settings)
    world = World(services.registry)
    token = services.keys.create(world.provider_id, world.provider.role, name="crash").token
    services.close()

    api = Api("", cluster.url, tmp_path, tmp_path / "serve.log")
    ledger = Ledger()
    try:
        victims = crash_cycles(api, cluster, token, world.microcredential_id, ledger)
    finally:
        api.kill()
    crashed = time.monotonic()
    assert len(ledger.acked) > 5 * CYCLES, "clients got enough acknowledgements to mean something"

    # Before any replay could write them again: is every acknowledged credential stored?
    services = bootstrap(settings)
    try:
        stored = issued_by_key(services)
    finally:
        services.close()
    lost = {key for key, ids in ledger.acked.items() if not set(ids) <= set(stored.get(key, ()))}
    lost |= {key for key, ids in ledger.acked.items() if len(set(ids)) != ledger.requests[key].credentials}
    landed = {key for key in ledger.unknown if key in stored}

    # Settle every request: a replay of its key answers the first result, or does it now.
    api.start()
    try:
        settled = settle(api, token, world.microcredential_id, ledger)
    finally:
        api.kill()
    lost |= {key for key, ids in ledger.acked.items() if settled[key] != ids}
    services = bootstrap(settings)
    try:
        stored = issued_by_key(services)
        recorder = services.registry.recorder
        table = f"{recorder.datastore.schema or 'public'}.{recorder.events_table_name}"
        with psycopg.connect(cluster.url) as conn:
            (issued_events,) = conn.execute(
                f"SELECT count(*) FROM {table} WHERE topic = %s", [get_topic(Credential.Issued)]
            ).fetchone()
            gaps = conn.execute(
                f"SELECT originator_id FROM {table} GROUP BY originator_id HAVING max(originator_version) <> count(*)"
            ).fetchall()
        read_models = open_read_models(services)
        try:
            read_models.catch_up()
            read_models_equal = read_models.check().equal
        finally:
            read_models.close()
    finally:
        services.close()
    expected = {key: request.credentials if key in settled else 0 for key, request in ledger.requests.items()}
    duplicates = sum(max(0, len(ids) - expected.get(key or "", 0)) for key, ids in stored.items())
    settled_as_stored = all(sorted(stored.get(key, ())) == sorted(ids) for key, ids in settled.items())

    # The registry's backup, restored on a fresh database, is the same log.
    export = tmp_path / "export.jsonl"
    exported = mcreg(mcreg_env(cluster.url, tmp_path), "export", "--output", str(export))
    assert exported.returncode == 0, exported.stderr
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE restored")
    restored_url = urlsplit(cluster.url)._replace(path="/restored").geturl()
    # The operator brings the key-encryption key to the new server: the export's log keys are sealed under it.
    (tmp_path / "restored").mkdir()
    shutil.copy(tmp_path / KEK_FILE, tmp_path / "restored" / KEK_FILE)
    restored_env = mcreg_env(restored_url, tmp_path / "restored")
    restored = mcreg(restored_env, "restore", str(export))
    assert restored.returncode == 0, restored.stderr
    original_log = log_head(settings)
    restored_log = log_head(Settings(database_url=restored_url, data_dir=tmp_path / "restored"))
    audits = {
        "original": mcreg(mcreg_env(cluster.url, tmp_path), "audit", "verify"),
        "restored": mcreg(restored_env, "audit", "verify"),
    }

    report = {
        "cycles": CYCLES,
        "victims": dict(victims),
        "requests": {
            "sent": len(ledger.requests),
            "single": sum(1 for r in ledger.requests.values() if not r.rows),
            "batch": sum(1 for r in ledger.requests.values() if r.rows),
            "batch_rows": sum(r.rows for r in ledger.requests.values()),
        },
        "acknowledged": len(ledger.acked),
        "acknowledged_credentials": sum(len(ids) for ids in ledger.acked.values()),
        "refused": len(ledger.refused),
        "unknown_then_settled": len(ledger.unknown),
        "unknown_had_landed": len(landed),
        "acked_but_lost": len(lost),
        "duplicates": duplicates,
        "issued_events": issued_events,
        "log": {"size": original_log[0], "root": original_log[1]},
        "restored_log": {"size": restored_log[0], "root": restored_log[1]},
        "seconds": {"cycles": round(crashed - began), "total": round(time.monotonic() - began)},
    }
    path = Path(os.environ.get("MCREG_CRASH_REPORT") or tmp_path / "crash-report.json")
    path.write_text(json.dumps(report, indent=2) + "\n")
    print("crash drill:", json.dumps(report, indent=2))

    assert report["acked_but_lost"] == 0, sorted(lost)[:20]
    assert report["duplicates"] == 0
    assert not ledger.refused & stored.keys(), "nothing refused was written"
    assert settled_as_stored, "every settled request holds exactly the credentials its replay named"
    assert report["issued_events"] == sum(len(ids) for ids in settled.values())
    assert gaps == []
    assert read_models_equal, "the read models kept through the crashes equal a rebuild"
    assert restored_log == original_log, "the restored registry's transparency log is the same tree"
    for name, audit in audits.items():
        assert audit.returncode == 0, f"{name}: {audit.stdout}{audit.stderr}"
