"""Replicas: how far a streaming replica lags the primary under write load, and reads one replica serves.

    set -a; eval "$(deploy/ha/cluster.sh start /tmp/mcreg-ha)"; set +a
    python bench/replicas.py [--seconds 20] [--writers 3] [--readers 3]

Runs on the cluster that MCREG_DATABASE_URL (the writer) and MCREG_READ_DATABASE_URL (a replica) name, in a
fresh schema, with `mcreg project` keeping the read models. While writers issue credentials from this process (one
per transaction, as fast as they can), it samples every 100 ms, on the replica: the time since the last commit it
replayed (`now() - pg_last_xact_replay_timestamp()`, WAL replay lag) and how many events its read models are
behind the primary's (the lag `MCREG-Replica-Lag` reports). Then readers look credentials up by id (20 a call,
the credential-status read model that verification reads) first on the primary's read models, then on the
replica's, with no writes: calls per second each, and the ratio. Also the bytes stored per credential (every
table of the schema, with its indexes and TOAST). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from uuid import UUID

import psycopg
from scaffold import ISSUED_ON, accredited_issuer, fresh_schema, process_env, settings

from mcreg.bootstrap import Services, bootstrap, open_read_models
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.learners import PersonalData

SAMPLE_EVERY = 0.1
BATCH = 20


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of write load, and of reads per side")
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--readers", type=int, default=3, help="threads; a read model's pool has 3 connections")
    args = parser.parse_args()
    base = settings()
    if not base.database_url or not base.read_database_url:
        sys.exit("set MCREG_DATABASE_URL and MCREG_READ_DATABASE_URL (deploy/ha/cluster.sh start prints them)")
    with fresh_schema(base) as schema_settings:
        services = bootstrap(schema_settings)
        worker = subprocess.Popen(
            [sys.executable, "-c", "from mcreg.cli import app; app()", "project"],
            env=process_env(schema_settings, MCREG_LOG_FORMAT="json"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        primary = open_read_models(services)
        try:
            replica = wait_for_replica(services)
            try:
                writes, replay_ms, behind, ids = load(services, primary, replica, args.seconds, args.writers)
                stored = schema_bytes(services)
                primary_rate = reads_per_second(primary, ids, args.seconds, args.readers)
                replica_rate = reads_per_second(replica, ids, args.seconds, args.readers)
            finally:
                replica.close()
        finally:
            worker.terminate()
            worker.wait()
            primary.close()
            services.close()
    print(
        f"| replicas ({args.writers} writers, {writes / args.seconds:.0f} credentials/s, {args.seconds:g} s) "
        "| p50 | p99 |"
    )
    print("| --- | --- | --- |")
    replay = (statistics.median(replay_ms), percentile(replay_ms, 0.99))
    print(f"| WAL replay lag on the replica, ms | {replay[0]:.1f} | {replay[1]:.1f} |")
    print(
        f"| replica's read models behind the primary's, events | {statistics.median(behind):.0f} "
        f"| {percentile(behind, 0.99):.0f} |"
    )
    print(f"| bytes stored per credential, the schema's tables and indexes | {stored / writes:,.0f} | |")
    print()
    print(f"| reads: {BATCH} credentials by id, {args.readers} threads | calls/s | ratio |")
    print("| --- | --- | --- |")
    print(f"| primary's read models (baseline) | {primary_rate:.0f} | 1.00 |")
    print(f"| one replica's read models | {replica_rate:.0f} | {replica_rate / primary_rate:.2f} |")


def wait_for_replica(services: Services) -> ReadModels:
    """The replica's read models, once the primary's worker has made their tables and they have replicated."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return open_read_models(services, replica=True)
        except Exception:  # the tables are not on the replica yet: any error opening them says so
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def load(
    services: Services, primary: ReadModels, replica: ReadModels, seconds: float, writers: int
) -> tuple[int, list[float], list[float], list[UUID]]:
    """Write for ``seconds``: credentials written, replay lag samples (ms), read-model lag samples, their ids."""
    registry = services.registry
    provider, microcredential = accredited_issuer(registry)
    ids: list[UUID] = []
    stop = threading.Event()

    def write(n: int) -> None:
        while not stop.is_set():
            ids.append(
                registry.issue_credential(
                    provider, microcredential_id=microcredential, learner=PersonalData(f"L{n}"), issued_on=ISSUED_ON
                )
            )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    replay_ms: list[float] = []
    behind: list[float] = []
    assert services.read_database is not None
    with psycopg.connect(services.read_database.conninfo, autocommit=True) as standby:
        ended = time.monotonic() + seconds
        while time.monotonic() < ended:
            row = standby.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())").fetchone()
            if row and row[0] is not None:
                replay_ms.append(max(0.0, float(row[0]) * 1000))
            replica_at = replica.position()  # first: the primary is at least as far
            behind.append(max(0, primary.position() - replica_at))
            time.sleep(SAMPLE_EVERY)
    stop.set()
    for thread in threads:
        thread.join()
    return len(ids), replay_ms, behind, ids


def schema_bytes(services: Services) -> int:
    """Bytes of every table and index in the bench's schema (the event store, the read models, the log)."""
    with psycopg.connect(services.database.conninfo) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            [services.settings.postgres_schema],
        ).fetchone()
    return int(row[0]) if row else 0


def reads_per_second(read_models: ReadModels, ids: list[UUID], seconds: float, readers: int) -> float:
    """Calls per second of ``readers`` threads each looking up ``BATCH`` random credentials at a time."""
    view = read_models.credential_status
    calls = [0] * readers
    ended = time.monotonic() + seconds

    def read(n: int, pick: Callable[[list[UUID], int], list[UUID]]) -> None:
        while time.monotonic() < ended:
            view.get_many(pick(ids, BATCH))
            calls[n] += 1

    threads = [threading.Thread(target=read, args=(n, random.Random(n).sample)) for n in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(calls) / seconds


if __name__ == "__main__":
    main()
