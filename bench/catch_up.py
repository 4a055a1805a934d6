"""Projection rates: catching the read models up from an empty start, and rebuilding them all from position 0.

    python bench/catch_up.py [--credentials N] [--runs R] [--page-size P]

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL),
records the demo registry with N credentials (``api.demo.build_demo``) in a
fresh schema, catches the read models up once, then rebuilds all of them R
times and prints the median rate, in events of the log read per second.
"""

from __future__ import annotations

import argparse
import statistics
import time

from scaffold import fresh_schema, settings

from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.demo import build_demo
from mcreg.projections.engine import PAGE_SIZE
from mcreg.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    args = parser.parse_args()
    with fresh_schema(settings()) as schema_settings:
        measure(schema_settings, args.credentials, args.runs, args.page_size)


def measure(settings: Settings, credentials: int, runs: int, page_size: int) -> None:
    services = bootstrap(settings)
    read_models = open_read_models(services)
    try:
        print(f"recording the demo registry with {credentials:,} credentials on {services.database.kind} PostgreSQL …")
        build_demo(services.registry, credentials=credentials)
        events = services.registry.recorder.max_notification_id() or 0

        began = time.perf_counter()
        read_models.catch_up(page_size=page_size)
        seconds = time.perf_counter() - began
        print(
            f"catch-up of {', '.join(read_models.names)} from empty: {events:,} events in {seconds:.2f} s, "
            f"{events / seconds:,.0f} events/s"
        )

        rates = []
        for run in range(1, runs + 1):
            began = time.perf_counter()
            read = read_models.rebuild(page_size=page_size)
            seconds = time.perf_counter() - began
            rates.append(read / seconds)
            print(f"rebuild {run}: {read:,} events in {seconds:.2f} s, {read / seconds:,.0f} events/s")
        print(
            f"rebuild of all read models, median of {runs}: {statistics.median(rates):,.0f} events/s "
            f"(page size {page_size:,})"
        )
    finally:
        read_models.close()
        services.close()


if __name__ == "__main__":
    main()
