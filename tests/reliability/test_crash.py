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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest
from eventsourcing.utils import get_topic

from mcreg.bootstrap import bootstrap, open_read_models, open_transparency_log
from mcreg.registry.aggregates.credential import Credential
from mcreg.settings import Settings
from mcreg.stores.issuer_keys import KEK_FILE
from tests.reliability.ledger import (
    Ledger,
    client,
    duplicates,
    issued_by_key,
    lost_before_settling,
    lost_by_settling,
    settle,
)
from tests.reliability.servers import MCREG, Api, Cluster, mcreg_env
from tests.world import World

# The test makes, kills and restarts a PostgreSQL cluster of its own, which no fixture shows.
pytestmark = [pytest.mark.postgres, pytest.mark.drill]

CYCLES = int(os.environ.get("MCREG_CRASH_CYCLES", "50"))
CLIENTS = 3


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
                pool.submit(client, api.url, token, microcredential, ledger, cycle * CLIENTS + n, stop)
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
    lost = lost_before_settling(ledger, stored)
    landed = {key for key in ledger.unknown if key in stored}

    # Settle every request: a replay of its key answers the first result, or does it now.
    api.start()
    try:
        settled = settle(api.url, token, world.microcredential_id, ledger)
    finally:
        api.kill()
    lost |= lost_by_settling(ledger, settled)
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
        "duplicates": duplicates(ledger, stored, settled),
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
