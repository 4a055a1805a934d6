"""A CSV import of 100k rows: rows per second and the peak memory (RSS) of the importing process.

    python bench/csv_import.py [--rows N] [--bad-every K] [--all-or-nothing]

Writes a file of N rows (every K-th with an email that is not one) as a student-information system exports it
(a BOM, `;`, CRLF), then imports it as `POST /v1/credentials:import` and `mcreg issue --csv` do, on an empty schema
of its own database (an embedded PostgreSQL, or MCREG_DATABASE_URL's). Prints the time, rows per second, the
outcome counts, and the process's peak RSS before and after the import.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from scaffold import ISSUED_ON, accredited_issuer, fresh_schema, settings

from mcreg.bootstrap import bootstrap
from mcreg.services.csv_issuance import CsvOptions, RowReport, import_csv


def write_file(path: Path, rows: int, bad_every: int, microcredential_id: object) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("row_key;microcredential_id;learner_name;learner_email;issued_on;grade\r\n")
        for i in range(rows):
            email = "not-an-email" if bad_every and i % bad_every == bad_every - 1 else f"l{i}@example.org"
            out.write(f"bench/{i};{microcredential_id};Learner {i};{email};{ISSUED_ON};8/10\r\n")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad-every", type=int, default=100, help="every K-th row refused (0: none)")
    parser.add_argument("--all-or-nothing", action="store_true", help="check every row first (then, bad rows: none)")
    args = parser.parse_args()
    with fresh_schema(settings()) as schema_settings:
        services = bootstrap(schema_settings)
        try:
            provider, microcredential_id = accredited_issuer(services.registry)
            path = Path(tempfile.mkdtemp(prefix="mcreg-csv-")) / "cohort.csv"
            write_file(path, args.rows, args.bad_every, microcredential_id)
            before = peak_rss_mib()
            options = CsvOptions(all_or_nothing=args.all_or_nothing, max_rows=max(args.rows, CsvOptions().max_rows))

            def sink(row: RowReport) -> None:
                """The report goes where the API spools it: out of memory."""

            began = time.perf_counter()
            with path.open("rb") as source:
                summary = import_csv(services.registry, provider, source, options, sink)
            seconds = time.perf_counter() - began
        finally:
            services.close()
    counts = ", ".join(f"{n} {status.value}" for status, n in summary.counts.items() if n)
    print(
        f"{args.rows} rows ({path.stat().st_size / 2**20:.1f} MiB) in {seconds:.1f} s: {args.rows / seconds:.0f} rows/s"
    )
    print(f"outcomes: {counts}")
    print(f"peak RSS: {before:.0f} MiB before the import, {peak_rss_mib():.0f} MiB after")


if __name__ == "__main__":
    main()
