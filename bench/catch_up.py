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
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from api.bootstrap import bootstrap
from api.database import open_database
from api.demo import build_demo
from api.read_side import open_read_models
from api.settings import Settings
from projections.engine import PAGE_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="mcreg-bench-")))
    database = open_database(settings)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    services = bootstrap(settings.model_copy(update={"database_url": database.conninfo, "postgres_schema": schema}))
    read_models = open_read_models(services)
    try:
        print(f"recording the demo registry with {args.credentials:,} credentials on {database.kind} PostgreSQL …")
        build_demo(services.registry, credentials=args.credentials)
        events = services.registry.recorder.max_notification_id() or 0

        began = time.perf_counter()
        read_models.catch_up(page_size=args.page_size)
        seconds = time.perf_counter() - began
        print(
            f"catch-up of {', '.join(read_models.names)} from empty: {events:,} events in {seconds:.2f} s, "
            f"{events / seconds:,.0f} events/s"
        )

        rates = []
        for run in range(1, args.runs + 1):
            began = time.perf_counter()
            read = read_models.rebuild(page_size=args.page_size)
            seconds = time.perf_counter() - began
            rates.append(read / seconds)
            print(f"rebuild {run}: {read:,} events in {seconds:.2f} s, {read / seconds:,.0f} events/s")
        print(
            f"rebuild of all read models, median of {args.runs}: {statistics.median(rates):,.0f} events/s "
            f"(page size {args.page_size:,})"
        )
    finally:
        read_models.close()
        services.close()
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
