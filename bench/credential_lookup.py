"""Credentials by course and student number: what the ``credential_identifiers`` read model costs to keep, and a lookup.

    python bench/credential_lookup.py [--credentials N] [--runs R]

Issues N credentials (in batches of 1,000) to learners with a student number each, 50 to a course, then rebuilds
``credential_status`` alone and ``credential_identifiers`` alone R times (the latter opens every learner's sealed
data to hash the student number) and prints their median rates and the ratio; then times 300 lookups by student
number as ``POST /v1/lookup/credentials`` makes them (hash, index, the vault's check), beside 300 reads of one
credential's status row, the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from scaffold import ISSUED_ON, accredited_issuer, fresh_schema, settings

from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.projections.credential_identifiers import CredentialIdentifiersProjection
from mcreg.projections.credential_status import CredentialStatusProjection
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import IssueRow
from mcreg.settings import Settings

BATCH = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with fresh_schema(settings()) as schema_settings:
        measure(schema_settings, args.credentials, args.runs)


def timed(calls: int, call: Callable[[int], object]) -> tuple[float, float]:
    """p50 and p99 in ms of ``calls`` calls."""
    times = []
    for n in range(calls):
        began = time.perf_counter()
        call(n)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def measure(settings: Settings, credentials: int, runs: int) -> None:
    services = bootstrap(settings)
    registry = services.registry
    read_models = open_read_models(services)
    try:
        provider, microcredential = accredited_issuer(registry)
        print(f"issuing {credentials:,} credentials with student numbers and course ids …")
        for start in range(0, credentials, BATCH):
            rows = [
                IssueRow(
                    microcredential,
                    PersonalData(f"Learner {n}", student_id=f"s{n:07d}"),
                    ISSUED_ON,
                    course_id=f"COURSE-{n // 50}",
                )
                for n in range(start, min(start + BATCH, credentials))
            ]
            registry.issue_credentials(provider, rows)
        events = registry.recorder.max_notification_id() or 0
        rates: dict[str, float] = {}
        for projection in (CredentialStatusProjection, CredentialIdentifiersProjection):
            measured = []
            for _ in range(runs):
                began = time.perf_counter()
                read_models.rebuild([projection.name])
                measured.append(events / (time.perf_counter() - began))
            rates[projection.name] = statistics.median(measured)
            print(f"rebuild of {projection.name} alone, {events:,} events: {rates[projection.name]:,.0f} events/s")
        ratio = rates["credential_identifiers"] / rates["credential_status"]
        print(f"credential_identifiers / credential_status: {ratio:.2f}")

        view, status = read_models.credential_identifiers, read_models.credential_status
        ids = [row["credential_id"] for row in view.rows("credential_identifiers")[:300]]

        def by_student(n: int) -> None:
            number = f"s{(n * 7919) % credentials:07d}"
            found = view.find(provider.org, "student_digest", registry.student_digest(provider.org, number))
            assert len(found) == 1
            registry.learners_remembered(c.learner_id for c in found)

        base = timed(300, lambda n: status.get(ids[n % len(ids)]))
        lookup = timed(300, by_student)
        print(f"credential_status row by id: p50 {base[0]:.2f} ms, p99 {base[1]:.2f} ms (baseline)")
        print(
            f"lookup by student number: p50 {lookup[0]:.2f} ms, p99 {lookup[1]:.2f} ms "
            f"({lookup[0] / base[0]:.1f}x the baseline's p50)"
        )
    finally:
        read_models.close()
        services.close()


if __name__ == "__main__":
    main()
