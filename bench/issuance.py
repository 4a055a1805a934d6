"""Issuance rates, single and bulk, beside the event store's own rates measured in the same run.

    python bench/issuance.py [--credentials N] [--repeats R]

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL),
runs each figure R times on an empty schema and prints the median, and the
ratio of each mcreg figure to the library baseline with the same number of
events per transaction.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from scaffold import ISSUED_ON, accredited_issuer, fresh_schema, settings

from mcreg.bootstrap import bootstrap
from mcreg.database import open_database
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import IssueRow
from mcreg.settings import Settings
from mcreg.stores.event_store import BulkSafeApplicationRecorder


class Counter(Aggregate):
    """The smallest aggregate: the library's baseline pays only for storing events."""

    @event("Created")
    def __init__(self) -> None:
        self.count = 0


class Baseline(Application[uuid.UUID]):
    pass


class LibraryInsert(BulkSafeApplicationRecorder):
    """The library's own statements for a save of any size (mcreg's recorder copies a large one in)."""

    bulk_from = sys.maxsize


LIBRARY_INSERT = get_topic(LibraryInsert)


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def in_fresh_schema(base: Settings, measure: Callable[[Settings], float]) -> float:
    with fresh_schema(base) as settings:
        return measure(settings)


def baseline_rate(n: int, per_transaction: int, recorder: str | None = LIBRARY_INSERT) -> Callable[[Settings], float]:
    """Events/s of the smallest aggregates saved ``per_transaction`` at a time, by the library's insert, or by
    another ``recorder`` (None: the one the registry uses)."""

    def measure(settings: Settings) -> float:
        database = open_database(settings)
        env = database.library_env | ({"APPLICATION_RECORDER_TOPIC": recorder} if recorder else {})
        app = Baseline({**env, "POSTGRES_SCHEMA": settings.postgres_schema})
        seconds = timed(
            lambda: [app.save(*(Counter() for _ in range(per_transaction))) for _ in range(n // per_transaction)]
        )
        app.close()
        return n / seconds

    return measure


def issuance_rate(n: int, per_transaction: int) -> Callable[[Settings], float]:
    def measure(settings: Settings) -> float:
        services = bootstrap(settings)
        registry = services.registry
        provider, microcredential_id = accredited_issuer(registry)
        rows = [
            IssueRow(microcredential_id, PersonalData(f"Learner {i}", email=f"l{i}@example.org"), ISSUED_ON)
            for i in range(n)
        ]

        def issue() -> None:
            for start in range(0, n, per_transaction):
                registry.issue_credentials(provider, rows[start : start + per_transaction])

        seconds = timed(issue)
        services.close()
        return n / seconds

    return measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = settings()
    n = args.credentials
    figures = {
        "library save, 1 event per transaction": baseline_rate(n, 1),
        "mcreg issuance, 1 credential per transaction": issuance_rate(n, 1),
        "library save, 1,000 events per transaction": baseline_rate(n * 5, 1000),
        "mcreg bulk issuance, 1,000 credentials per transaction": issuance_rate(n * 5, 1000),
    }
    medians = {
        name: statistics.median(in_fresh_schema(base, measure) for _ in range(args.repeats))
        for name, measure in figures.items()
    }
    names = list(medians)
    print(f"| figure | median (events/s, {args.repeats} runs) | ratio to the library |")
    print("| --- | --- | --- |")
    for index, name in enumerate(names):
        baseline = medians[names[index - 1]] if index % 2 else None
        ratio = f"{medians[name] / baseline:.2f}" if baseline else "1 (baseline)"
        print(f"| {name} | {medians[name]:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
