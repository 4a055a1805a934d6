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
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from api.bootstrap import bootstrap
from api.database import open_database
from api.settings import Settings
from registry.application import IssueRow
from registry.learners import PersonalData
from registry.stamp import Actor
from registry.vocabulary import Role

OPERATOR = Actor(uuid.uuid4(), Role.OPERATOR, key_id="bench")
SPEC = {
    "title": {"en": "Benchmarking"},
    "learning_outcomes": [{"text": "Measure before claiming"}],
    "ects": "3",
    "eqf_level": 6,
    "isced_field": "0613",
    "assessment": "exam",
    "participation": "online",
    "qa_type": "internal",
    "languages": ["en"],
}


class Counter(Aggregate):
    """The smallest aggregate: the library's baseline pays only for storing events."""

    @event("Created")
    def __init__(self) -> None:
        self.count = 0


class Baseline(Application[uuid.UUID]):
    pass


def timed(run: Callable[[], None]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def in_fresh_schema(settings: Settings, measure: Callable[[Settings], float]) -> float:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    database = open_database(settings)
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        return measure(settings.model_copy(update={"database_url": database.conninfo, "postgres_schema": schema}))
    finally:
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def baseline_rate(n: int, per_transaction: int) -> Callable[[Settings], float]:
    def measure(settings: Settings) -> float:
        database = open_database(settings)
        app = Baseline({**database.library_env, "POSTGRES_SCHEMA": settings.postgres_schema})
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
        agency_id = registry.register_agency(OPERATOR, name="Bench QA", country="NL", registered_on=date(2015, 1, 1))
        provider_id = registry.register_provider(
            OPERATOR, names={"en": "Bench University"}, country="NL", registered_on=date(2015, 1, 1)
        )
        registry.grant_accreditation(
            Actor(agency_id, Role.QA_AGENCY), provider_id=provider_id, outcome="positive", valid_from=date(2021, 1, 1)
        )
        provider = Actor(provider_id, Role.PROVIDER)
        microcredential_id = registry.specify_microcredential(
            provider, provider_id=provider_id, specified_on=date(2021, 1, 1), **SPEC
        )
        rows = [
            IssueRow(microcredential_id, PersonalData(f"Learner {i}", email=f"l{i}@example.org"), date(2024, 3, 1))
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
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="mcreg-bench-")))
    n = args.credentials
    figures = {
        "library save, 1 event per transaction": baseline_rate(n, 1),
        "mcreg issuance, 1 credential per transaction": issuance_rate(n, 1),
        "library save, 1,000 events per transaction": baseline_rate(n * 5, 1000),
        "mcreg bulk issuance, 1,000 credentials per transaction": issuance_rate(n * 5, 1000),
    }
    medians = {
        name: statistics.median(in_fresh_schema(settings, measure) for _ in range(args.repeats))
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
