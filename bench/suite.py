"""Every figure mcreg claims, in one run, each beside the limit it is measured against.

    python bench/suite.py [--scale small|medium|large] [--output bench-results.json]
    mcreg bench [--scale ...]                  (the same, from a source checkout)

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL)
and measures, on fresh schemas:

- limit: single-row INSERT + COMMIT, COPY, and paged reads of a bare table
  shaped like the event store: what this machine's PostgreSQL can do at all;
- store: mcreg's recorder, 2,000 events per transaction (COPY); the library's own save rate, 1 and 100 events per
  transaction (its baseline);
- commands: `POST /v1/credentials` (one per request, 16 concurrent clients, and 4) and
  `POST /v1/credentials:batch` against `mcreg serve` in another process; the
  statements one such POST sends, and `GET /healthz` in process with and
  without the middleware (bench/request_path.py);
- projections: catch-up of every read model from position 0; lag from commit
  to read model under a steady write rate;
- reads: GraphQL dashboard and `credential(id)`, and `GET .../verify`, at a
  fixed request rate from this process against the server;
- pages: `GET /dashboard` (every indicator of the whole registry) the same way,
  and its size with its stylesheet;
- trust: Data Integrity signing and verification with each cryptosuite
  (bench/cryptosuites.py), inclusion proofs over HTTP, `audit` of the
  transparency log;
- growth: command and read latency, and peak RSS of `mcreg rebuild`, at each
  registry size of the scale (10k; 10k and 100k; 10k, 100k and 1M credentials).

Medians of repeated samples; every figure has its baseline and the ratio to it.
Writes the JSON and prints a Markdown table. Timings are never asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from cryptosuites import median_rates
from eventsourcing.persistence import StoredEvent
from live_lag import measure_lag
from request_path import access_log_discarded, issuing, layer_costs
from rest_issuance import hammer, percentile, serve
from scaffold import CREDENTIAL_ISSUED, ISSUED_ON, accredited_issuer, fresh_schema, process_env, settings

from mcreg.api.app import create_app
from mcreg.bootstrap import Services, bootstrap, open_read_models, open_transparency_log
from mcreg.database import open_database
from mcreg.demo import build_demo
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.trust.data_integrity import Cryptosuite
from mcreg.settings import Settings

SCALES = {"small": (10_000,), "medium": (10_000, 100_000), "large": (10_000, 100_000, 1_000_000)}
BARE = (
    "CREATE TABLE bare_events (originator_id uuid, originator_version integer, topic text, state bytea, "
    "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
)
STATE = (
    b'{"stamp": ["00000000-0000-0000-0000-000000000000", "provider", "key", null], "payload": "' + b"x" * 400 + b'"}'
)


@dataclass
class Figure:
    group: str
    figure: str
    value: float
    unit: str
    baseline: str | None = None
    ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None


class Results:
    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}

    def add(self, key: str, figure: Figure, baseline: str | None = None) -> Figure:
        if baseline is not None:
            base = self.figures[baseline]
            figure.baseline = base.figure
            lower_is_better = figure.unit in ("ms", "µs")
            figure.ratio = (base.value / figure.value) if lower_is_better else (figure.value / base.value)
        self.figures[key] = figure
        print(f"  {figure.group:<11} {figure.figure:<62} {figure.value:>12,.1f} {figure.unit}", flush=True)
        return figure


def median_of(repeats: int, sample: Callable[[], float]) -> float:
    return statistics.median(sample() for _ in range(repeats))


# limit -----------------------------------------------------------------------------------------------


def limits(settings: Settings, results: Results, repeats: int) -> None:
    def insert_commit() -> float:
        with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
            conn.execute(f"SET search_path TO {settings.postgres_schema}")
            conn.execute("DROP TABLE IF EXISTS bare_events")
            conn.execute(BARE)
            began = time.perf_counter()
            for _ in range(2000):
                conn.execute(
                    "INSERT INTO bare_events (originator_id, originator_version, topic, state) VALUES (%s, 1, %s, %s)",
                    [uuid.uuid4(), CREDENTIAL_ISSUED, STATE],
                )
            return 2000 / (time.perf_counter() - began)

    def copy() -> float:
        rows = [(uuid.uuid4(), 1, CREDENTIAL_ISSUED, STATE) for _ in range(100_000)]
        with psycopg.connect(str(settings.database_url)) as conn:
            conn.execute(f"SET search_path TO {settings.postgres_schema}")
            conn.execute("DROP TABLE IF EXISTS bare_events")
            conn.execute(BARE)
            conn.commit()
            began = time.perf_counter()
            with conn.cursor().copy(
                "COPY bare_events (originator_id, originator_version, topic, state) FROM STDIN"
            ) as writer:
                for row in rows:
                    writer.write_row(row)
            conn.commit()
            return len(rows) / (time.perf_counter() - began)

    def read() -> float:
        with psycopg.connect(str(settings.database_url)) as conn:
            conn.execute(f"SET search_path TO {settings.postgres_schema}")
            began, after, read = time.perf_counter(), 0, 0
            while rows := conn.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM bare_events"
                " WHERE notification_id > %s ORDER BY notification_id LIMIT 2000",
                [after],
            ).fetchall():
                read += len(rows)
                after = rows[-1][0]
            return read / (time.perf_counter() - began)

    results.add(
        "limit.insert", Figure("limit", "single-row INSERT + COMMIT", median_of(repeats, insert_commit), "rows/s")
    )
    results.add("limit.copy", Figure("limit", "COPY into an events-shaped table", median_of(repeats, copy), "rows/s"))
    results.add(
        "limit.read", Figure("limit", "paged reads of that table (2,000 a page)", median_of(repeats, read), "rows/s")
    )


def store(settings: Settings, results: Results, repeats: int) -> None:
    from issuance import baseline_rate

    one, hundred = baseline_rate(2000, 1), baseline_rate(20_000, 100)
    saved_in_bulk = baseline_rate(20_000, 2000, recorder=None)
    rate1 = median_of(repeats, lambda: in_schema(settings, one))
    rate100 = median_of(repeats, lambda: in_schema(settings, hundred))
    rate_bulk = median_of(repeats, lambda: in_schema(settings, recorder_rate(100_000, 2000)))
    rate_saved_in_bulk = median_of(repeats, lambda: in_schema(settings, saved_in_bulk))
    results.add("store.1", Figure("store", "library save, 1 event per transaction", rate1, "events/s"), "limit.insert")
    results.add(
        "store.100", Figure("store", "library save, 100 events per transaction", rate100, "events/s"), "limit.copy"
    )
    results.add(
        "store.bulk",
        Figure("store", "mcreg's recorder, 2,000 stored events per transaction (COPY)", rate_bulk, "events/s"),
        "limit.copy",
    )
    results.add(
        "store.bulk.save",
        Figure(
            "store",
            "library save through mcreg's recorder, 2,000 events per transaction",
            rate_saved_in_bulk,
            "events/s",
        ),
        "store.100",
    )


def recorder_rate(n: int, per_transaction: int) -> Callable[[Settings], float]:
    """Events/s of the registry's recorder writing the rows ``limit.copy`` writes, ``per_transaction`` at a time:
    no aggregates built, no events encoded."""

    def measure(settings: Settings) -> float:
        from issuance import Baseline

        app = Baseline({**open_database(settings).library_env, "POSTGRES_SCHEMA": settings.postgres_schema})
        saves = [
            [StoredEvent(uuid.uuid4(), 1, CREDENTIAL_ISSUED, STATE) for _ in range(per_transaction)]
            for _ in range(n // per_transaction)
        ]
        began = time.perf_counter()
        for events in saves:
            app.recorder.insert_events(events)
        seconds = time.perf_counter() - began
        app.close()
        return n / seconds

    return measure


def in_schema(base: Settings, measure: Callable[[Settings], float]) -> float:
    with fresh_schema(base) as schema_settings:
        return measure(schema_settings)


# commands --------------------------------------------------------------------------------------------


SECOND_CLIENTS = 4
"""The second figure of single commands, with as many clients as before group commit (``commands.single.4``)."""


def commands(base: Settings, results: Results, clients: int) -> None:
    with fresh_schema(base) as run_settings:
        services = bootstrap(run_settings)
        provider, microcredential = accredited_issuer(services.registry)
        token = services.keys.create(provider.org, provider.role, name="bench").token
        services.close()
        auth = {"Authorization": f"Bearer {token}"}
        row = {"microcredential_id": str(microcredential), "issued_on": str(ISSUED_ON)}

        def post(tag: str) -> Callable[[httpx.Client, int], httpx.Response]:
            return lambda c, i: c.post(
                "/v1/credentials",
                json=row | {"learner": {"name": f"Single {tag}{i}"}},
                headers=auth | {"Idempotency-Key": f"single-{tag}{i}"},
            )

        server, url = serve(run_settings)
        try:
            hammer(url, clients, 200, lambda c, i: c.get("/healthz"))
            single = hammer(url, clients, 1500, post("a"))
            fewer = hammer(url, SECOND_CLIENTS, 600, post("b"))
            batch_rows = [row | {"learner": {"name": f"Batch {i}"}} for i in range(2000)]
            began = time.perf_counter()
            with httpx.Client(base_url=url, timeout=300) as http:
                for _ in range(5):
                    answer = http.post("/v1/credentials:batch", json={"rows": batch_rows}, headers=auth)
                    assert answer.status_code == 201, answer.text
            batch = 5 * len(batch_rows) / (time.perf_counter() - began)
        finally:
            server.terminate()
            server.wait(timeout=30)
    for key, n, figure in (
        ("commands.single", clients, single),
        (f"commands.single.{SECOND_CLIENTS}", SECOND_CLIENTS, fewer),
    ):
        results.add(
            key,
            Figure(
                "commands",
                f"POST /v1/credentials, {n} clients",
                figure["rate"],
                "requests/s",
                p50_ms=figure["p50"],
                p99_ms=figure["p99"],
            ),
            "store.1",
        )
    results.add(
        "commands.batch",
        Figure("commands", "POST /v1/credentials:batch, 2,000 rows", batch, "credentials/s"),
        "store.100",
    )


# a registry of N credentials, served ---------------------------------------------------------------------------------


@contextmanager
def demo_registry(base: Settings, credentials: int) -> Iterator[tuple[Settings, Services, int]]:
    with fresh_schema(base) as run_settings:
        services = bootstrap(run_settings)
        began = time.perf_counter()
        build_demo(services.registry, credentials=credentials, seed=1, batch_size=1000)
        events = services.registry.recorder.max_notification_id() or 0
        print(f"  (demo of {credentials:,} credentials: {events:,} events in {time.perf_counter() - began:.0f} s)")
        try:
            yield run_settings, services, events
        finally:
            services.close()


def projections(services: Services, events: int, results: Results, suffix: str) -> None:
    read_models = open_read_models(services)
    try:
        began = time.perf_counter()
        read_models.catch_up()
        rate = events / (time.perf_counter() - began)
    finally:
        read_models.close()
    results.add(
        f"projections.catch_up{suffix}",
        Figure("projections", f"catch-up of every read model from 0, {events:,} events", rate, "events/s"),
        "limit.read",
    )


def lag(base: Settings, results: Results, writes: int = 300, rate: float = 50.0) -> None:
    with fresh_schema(base) as run_settings:
        visible, projected = measure_lag(run_settings, writes, rate)
    results.add(
        "projections.visible",
        Figure(
            "projections",
            "commit → another connection sees it (p50)",
            statistics.median(visible),
            "ms",
            p50_ms=statistics.median(visible),
            p99_ms=percentile(visible, 0.99),
        ),
    )
    results.add(
        "projections.lag",
        Figure(
            "projections",
            f"commit → every read model of credentials has it, {rate:g} writes/s (p50)",
            statistics.median(projected),
            "ms",
            p50_ms=statistics.median(projected),
            p99_ms=percentile(projected, 0.99),
        ),
        "projections.visible",
    )


def paced(url: str, rate: float, n: int, request: Callable[[httpx.Client, int], httpx.Response]) -> list[float]:
    """``n`` requests at a fixed rate, one connection: latencies (ms)."""
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(n):
            began = time.perf_counter()
            response = request(http, i)
            assert response.status_code == 200, response.text
            latencies.append((time.perf_counter() - began) * 1000)
            time.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))
    return latencies


def reads(
    run_settings: Settings, services: Services, results: Results, suffix: str, credentials: int, n: int = 200
) -> None:
    from graphql_latency import CREDENTIAL, DASHBOARD

    with psycopg.connect(services.database.conninfo) as conn:
        ids = [
            str(r[0])
            for r in conn.execute(
                f"SELECT originator_id FROM {run_settings.postgres_schema}.registry_events WHERE topic = %s LIMIT 200",
                [CREDENTIAL_ISSUED],
            )
        ]
    server, url = serve(run_settings)
    try:
        while any(httpx.get(f"{url}/readyz").json()["lag"].values()):
            time.sleep(0.5)  # every read model and the log of the server have caught up: reads are measured alone
        floor = paced(url, 50, n, lambda c, i: c.get("/healthz"))
        dashboard = paced(
            url, 20, n, lambda c, i: c.post("/graphql", json={"query": DASHBOARD, "variables": {"country": "NL"}})
        )
        credential = paced(
            url,
            50,
            n,
            lambda c, i: c.post("/graphql", json={"query": CREDENTIAL, "variables": {"id": ids[i % len(ids)]}}),
        )
        verify = paced(url, 50, n, lambda c, i: c.get(f"/v1/credentials/{ids[i % len(ids)]}/verify"))
        page = paced(url, 10, n, lambda c, i: c.get("/dashboard"))
        page_bytes = len(httpx.get(f"{url}/dashboard").content) + len(
            httpx.get(f"{url}/static/mcreg/mcreg.css").content
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    def latency(key: str, name: str, samples: list[float], baseline: str | None) -> None:
        p50 = statistics.median(samples)
        name = f"{name}, {credentials:,} credentials (p50)"
        figure = Figure(key.split(".")[0], name, p50, "ms", p50_ms=p50, p99_ms=percentile(samples, 0.99))
        results.add(f"{key}{suffix}", figure, baseline)

    latency("reads.healthz", "GET /healthz at 50/s", floor, None)
    latency("reads.dashboard", "GraphQL dashboard(country: NL) at 20/s", dashboard, f"reads.healthz{suffix}")
    latency("reads.credential", "GraphQL credential(id) at 50/s", credential, f"reads.healthz{suffix}")
    latency("reads.verify", "GET /v1/credentials/{id}/verify at 50/s", verify, f"reads.healthz{suffix}")
    latency(
        "pages.dashboard",
        "GET /dashboard (the whole registry, every indicator) at 10/s",
        page,
        f"reads.healthz{suffix}",
    )
    size = Figure("pages", f"/dashboard with its stylesheet, {credentials:,} credentials", page_bytes / 1024, "KiB")
    results.add(f"pages.dashboard.size{suffix}", size)


# request path ----------------------------------------------------------------------------------------


def request_path(base: Settings, results: Results) -> None:
    """What the application itself costs a request, in process (bench/request_path.py): ``GET /healthz`` through
    the whole application and through its handler alone, and the statements one ``POST /v1/credentials`` sends."""
    with fresh_schema(base) as run_settings, access_log_discarded(run_settings):
        services = bootstrap(run_settings)
        read_models = open_read_models(services)
        provider, microcredential = accredited_issuer(services.registry)
        token = services.keys.create(provider.org, provider.role, name="bench").token
        try:
            medians = layer_costs(lambda: create_app(services, read_models), 2000)
            statements = [len(t) for t in issuing(create_app(services, read_models), token, microcredential, 21)]
        finally:
            read_models.close()
            services.close()
    bare, whole = medians["no middleware"], medians["the whole application"]
    results.add("trust.healthz.bare", Figure("trust", "GET /healthz in process, no middleware (median)", bare, "µs"))
    results.add(
        "trust.healthz.app",
        Figure("trust", "GET /healthz in process, every middleware (median)", whole, "µs"),
        "trust.healthz.bare",
    )
    results.add(
        "commands.single.statements",
        Figure("commands", "one POST /v1/credentials (median)", statistics.median(statements[1:]), "statements"),
    )


# trust -----------------------------------------------------------------------------------------------


def trust(run_settings: Settings, services: Services, events: int, results: Results) -> None:
    for suite in Cryptosuite:
        sign_rate, verify_rate = median_rates(suite, credentials=300, repeats=3)
        results.add(
            f"trust.sign.{suite}", Figure("trust", f"Data Integrity {suite} signing", sign_rate, "credentials/s")
        )
        results.add(
            f"trust.verify.{suite}",
            Figure("trust", f"Data Integrity {suite} verification", verify_rate, "credentials/s"),
        )

    log = open_transparency_log(services)
    try:
        began = time.perf_counter()
        log.catch_up()
        append = events / (time.perf_counter() - began)
        began = time.perf_counter()
        report = log.audit()
        audit = events / (time.perf_counter() - began)
        assert report.ok, report
    finally:
        log.close()
    results.add(
        "trust.append", Figure("trust", f"transparency log append, {events:,} events", append, "events/s"), "limit.read"
    )
    results.add(
        "trust.audit",
        Figure("trust", f"audit of the transparency log, {events:,} events", audit, "events/s"),
        "limit.read",
    )
    server, url = serve(run_settings)
    try:
        size = httpx.get(f"{url}/v1/log/checkpoint").text.splitlines()[1]
        floor = paced(url, 50, 200, lambda c, i: c.get("/healthz"))
        proofs = paced(
            url,
            50,
            200,
            lambda c, i: c.get("/v1/log/proof/inclusion", params={"index": (i * 7919) % int(size), "size": size}),
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    p50 = statistics.median(floor)
    results.add(
        "trust.healthz",
        Figure(
            "trust", "GET /healthz, same server, at 50/s (p50)", p50, "ms", p50_ms=p50, p99_ms=percentile(floor, 0.99)
        ),
    )
    p50 = statistics.median(proofs)
    results.add(
        "trust.inclusion",
        Figure(
            "trust",
            f"GET inclusion proof, tree of {int(size):,} (p50)",
            p50,
            "ms",
            p50_ms=p50,
            p99_ms=percentile(proofs, 0.99),
        ),
        "trust.healthz",
    )


# growth ----------------------------------------------------------------------------------------------


def rebuild_rss(run_settings: Settings) -> float:
    """Peak RSS (MB) of `mcreg rebuild` as a process of its own."""
    env = process_env(run_settings)
    mcreg = str(Path(sys.executable).with_name("mcreg"))
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([mcreg, "rebuild"], env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        errors.seek(0)
        assert status == 0, f"mcreg rebuild failed:\n{errors.read().decode(errors='replace')[-3000:]}"
    return usage.ru_maxrss / 1024


def growth(run_settings: Settings, services: Services, credentials: int, results: Results) -> None:
    provider, microcredential = accredited_issuer(services.registry)
    latencies = []
    for n in range(200):
        began = time.perf_counter()
        services.registry.issue_credential(
            provider, microcredential_id=microcredential, learner=PersonalData(f"G{n}"), issued_on=ISSUED_ON
        )
        latencies.append((time.perf_counter() - began) * 1000)
    p50 = statistics.median(latencies)
    results.add(
        f"growth.issue.{credentials}",
        Figure(
            "growth",
            f"issue one credential at {credentials:,} (p50)",
            p50,
            "ms",
            p50_ms=p50,
            p99_ms=percentile(latencies, 0.99),
        ),
        "growth.issue.10000" if credentials != 10_000 else None,
    )
    rss = rebuild_rss(run_settings)
    results.add(
        f"growth.rss.{credentials}",
        Figure("growth", f"peak RSS of mcreg rebuild at {credentials:,}", rss, "MB"),
        "growth.rss.10000" if credentials != 10_000 else None,
    )


# the run ---------------------------------------------------------------------------------------------


def markdown(results: Results, cores: int) -> str:
    lines = [
        f"Measured on {cores} cores ({platform.machine()}), {datetime.now(UTC):%Y-%m-%d}. "
        "Ratio: the figure over its baseline (for latencies, the baseline over the figure): 1 is the baseline's speed.",
        "",
        "| group | figure | value | unit | p50 / p99 ms | baseline | ratio |",
        "| --- | --- | ---: | --- | --- | --- | ---: |",
    ]
    for f in results.figures.values():
        spread = f"{f.p50_ms:.1f} / {f.p99_ms:.1f}" if f.p50_ms is not None else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        lines.append(
            f"| {f.group} | {f.figure} | {f.value:,.1f} | {f.unit} | {spread} | {f.baseline or ''} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of `commands.single`")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    base = settings()
    results = Results()
    started = time.perf_counter()
    print(f"mcreg bench --scale {args.scale} on {cores} cores")
    with fresh_schema(base) as schema_settings:
        limits(schema_settings, results, args.repeats)
    store(base, results, args.repeats)
    commands(base, results, args.clients)
    request_path(base, results)
    lag(base, results)
    for index, credentials in enumerate(SCALES[args.scale]):
        suffix = "" if index == 0 else f".{credentials}"
        with demo_registry(base, credentials) as (run_settings, services, events):
            projections(services, events, results, suffix)
            if index == 0:  # before any server runs: the log is appended here, from empty
                trust(run_settings, services, events, results)
            reads(run_settings, services, results, suffix, credentials)
            growth(run_settings, services, credentials, results)
    elapsed = time.perf_counter() - started
    document = {
        "scale": args.scale,
        "cores": cores,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "seconds": round(elapsed, 1),
        "figures": {key: asdict(figure) for key, figure in results.figures.items()},
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    table = markdown(results, cores)
    args.output.with_suffix(".md").write_text(table + "\n")
    print()
    print(table)
    print(
        f"\n{len(results.figures)} figures in {elapsed / 60:.1f} min: {args.output}, {args.output.with_suffix('.md')}"
    )


if __name__ == "__main__":
    main()
