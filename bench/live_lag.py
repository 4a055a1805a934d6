"""Live projection lag: how long after a write commits its event is in every read model.

    python bench/live_lag.py [--writes 300] [--rate 50]

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL)
on a fresh schema, runs `mcreg project` as a separate process, issues
credentials one per transaction at a steady rate from this process, and
measures, for each write, the time from its commit until every read model has
that keeps credentials has tracked its notification (polled every millisecond). Prints p50 and p99, beside
the baseline of the same wait with no projection work: the time for a second
connection to see the committed notification id.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import psycopg
from scaffold import CREDENTIAL_ISSUED, ISSUED_ON, accredited_issuer, fresh_schema, process_env, settings

from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.settings import Settings


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second")
    args = parser.parse_args()
    with fresh_schema(settings()) as schema_settings:
        visible, projected = measure_lag(schema_settings, args.writes, args.rate)
    print(f"| from commit until … ({args.writes} writes at {args.rate:g}/s) | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    figures = (("another connection sees it (baseline)", visible), ("each read model of credentials has it", projected))
    for name, samples in figures:
        print(f"| {name} | {statistics.median(samples):.1f} | {percentile(samples, 0.99):.1f} |")


def measure_lag(settings: Settings, writes: int, rate: float) -> tuple[list[float], list[float]]:
    """Milliseconds from each commit until another connection sees it, and until every read model has it."""
    services = bootstrap(settings)
    registry = services.registry
    read_models = open_read_models(services)
    provider, microcredential = accredited_issuer(registry)
    conninfo, schema = services.database.conninfo, settings.postgres_schema
    env = process_env(settings, MCREG_LOG_FORMAT="json")
    command = [sys.executable, "-c", "from mcreg.cli import app; app()", "project"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Read models that skip an event's topic move past it only when idle (every 0.5 s); they are not stale.
    views = [p.view for p in read_models.select() if CREDENTIAL_ISSUED in p.wanted]
    visible, projected = [], []
    try:
        while min(v.position(registry.name) for v in views) < (registry.recorder.max_notification_id() or 0):
            time.sleep(0.05)  # the worker has started and caught up
        head = f"SELECT max(notification_id) FROM {schema}.registry_events"
        with psycopg.connect(conninfo, autocommit=True) as observer:
            for n in range(writes):
                began = time.perf_counter()
                registry.issue_credential(
                    provider,
                    microcredential_id=microcredential,
                    learner=PersonalData(f"L{n}"),
                    issued_on=ISSUED_ON,
                )
                committed = time.perf_counter()
                position = registry.recorder.max_notification_id() or 0
                while (observer.execute(head).fetchone() or (0,))[0] < position:
                    time.sleep(0.001)
                visible.append((time.perf_counter() - committed) * 1000)
                while min(v.position(registry.name) for v in views) < position:
                    time.sleep(0.001)
                projected.append((time.perf_counter() - committed) * 1000)
                time.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))
    finally:
        worker.terminate()
        worker.wait()
        read_models.close()
        services.close()
    return visible, projected


if __name__ == "__main__":
    main()
