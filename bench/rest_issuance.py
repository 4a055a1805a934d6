"""Issuance over HTTP: single-credential POSTs and batches against `mcreg serve`, beside the floors measured in the
same run (GET /healthz through the same server, and the same batches issued in-process).

    python bench/rest_issuance.py [--requests N] [--clients C] [--batches B] [--batch-size S] [--repeats R]
        [--followers child,in-process,none] [--no-projections]

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL), an
empty schema per repeat, and `mcreg serve` on it as a separate process, with the
read models kept up to date as `--followers` says: by serve's child `mcreg project`
(`child`, serve's default), in serve's own process (`in-process`, `serve --in-process`)
or nowhere (`none`, `serve --no-projections`, as beside `mcreg project` elsewhere);
several, comma-separated, are measured one after the other in each repeat, and each
against the first. Prints medians over the repeats: requests/s with p50/p99 latency,
and credentials/s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from scaffold import ISSUED_ON, accredited_issuer, fresh_schema, process_env, settings

from mcreg.bootstrap import bootstrap
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import IssueRow
from mcreg.settings import Settings

MCREG = str(Path(sys.executable).with_name("mcreg"))
FOLLOWERS = {"child": [], "in-process": ["--in-process"], "none": ["--no-projections"]}
"""serve's options for each place the read models may be kept up to date in."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(settings: Settings, followers: str = "child") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = process_env(settings, MCREG_LOG_LEVEL="warning")
    command = [MCREG, "serve", "--port", str(port), *FOLLOWERS[followers]]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("mcreg serve did not come up")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hammer(url: str, clients: int, n: int, request: Callable[[httpx.Client, int], httpx.Response]) -> dict[str, float]:
    """``n`` requests from ``clients`` concurrent connections: rate, p50 and p99 latency (ms)."""
    latencies: list[float] = []

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(offset, n, clients):
                began = time.perf_counter()
                response = request(client, i)
                latencies.append(time.perf_counter() - began)
                if response.status_code >= 400:
                    raise RuntimeError(f"{response.status_code}: {response.text}")

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    seconds = time.perf_counter() - began
    return {"rate": n / seconds, "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000}


def one_run(base: Settings, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    with fresh_schema(base) as run_settings:
        services = bootstrap(run_settings)
        provider, microcredential_id = accredited_issuer(services.registry)
        token = services.keys.create(provider.org, provider.role, name="bench").token
        auth = {"Authorization": f"Bearer {token}"}
        row = {"microcredential_id": str(microcredential_id), "issued_on": str(ISSUED_ON)}
        rows: list[dict[str, Any]] = [
            row | {"learner": {"name": f"Learner {i}", "email": f"l{i}@example.org"}} for i in range(args.batch_size)
        ]
        figures: dict[str, dict[str, float]] = {}
        for followers in args.followers:
            tag = f" (followers: {followers})" if len(args.followers) > 1 else ""
            server, url = serve(run_settings, followers)
            try:
                hammer(url, args.clients, 200, lambda c, i: c.get("/healthz"))  # warm up both sides
                figures[f"GET /healthz (the HTTP floor){tag}"] = hammer(
                    url, args.clients, args.requests, lambda c, i: c.get("/healthz")
                )
                figures[f"POST /v1/credentials{tag}"] = hammer(
                    url,
                    args.clients,
                    args.requests,
                    lambda c, i, followers=followers: c.post(
                        "/v1/credentials",
                        json=row | {"learner": {"name": f"Single {i}"}},
                        headers=auth | {"Idempotency-Key": f"single-{followers}-{i}"},
                    ),
                )
                began = time.perf_counter()
                for b in range(args.batches):
                    with httpx.Client(base_url=url, timeout=300) as client:
                        response = client.post(
                            "/v1/credentials:batch",
                            json={"rows": rows},
                            headers=auth | {"Idempotency-Key": f"batch-{followers}-{b}"},
                        )
                        assert response.status_code == 201, response.text
                seconds = time.perf_counter() - began
                figures[f"POST /v1/credentials:batch{tag}"] = {"rate": args.batches * args.batch_size / seconds}
            finally:
                server.terminate()
                server.wait(timeout=60)
        issue_rows = [
            IssueRow(microcredential_id, PersonalData(r["learner"]["name"], email=r["learner"]["email"]), ISSUED_ON)
            for r in rows
        ]
        began = time.perf_counter()
        for _ in range(args.batches):
            services.registry.issue_credentials(provider, issue_rows)
        seconds = time.perf_counter() - began
        figures["the same batches in-process (no HTTP)"] = {"rate": args.batches * args.batch_size / seconds}
        services.close()
        return figures


def median_of(runs: list[dict[str, dict[str, float]]], name: str, key: str) -> float | None:
    values = [run[name][key] for run in runs if key in run[name]]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--followers",
        type=lambda text: text.split(","),
        default=["child"],
        help="Where serve keeps the read models: child, in-process or none; several, comma-separated, each measured",
    )
    parser.add_argument("--no-projections", action="store_true", help="The same as --followers none")
    args = parser.parse_args()
    if args.no_projections:
        args.followers = ["none"]
    if unknown := set(args.followers) - set(FOLLOWERS):
        parser.error(f"--followers: not one of {', '.join(FOLLOWERS)}: {', '.join(sorted(unknown))}")
    base = settings()
    runs = [one_run(base, args) for _ in range(args.repeats)]
    names = list(runs[0])
    rate: dict[str, Any] = {name: median_of(runs, name, "rate") for name in names}
    print(f"| figure ({args.clients} clients, medians of {args.repeats} runs) | rate /s | p50 ms | p99 ms | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        p50, p99 = median_of(runs, name, "p50"), median_of(runs, name, "p99")
        floor = floor_of(name, names)
        ratio = f"{rate[name] / rate[floor]:.2f} of {floor}" if floor else "baseline"
        cells = [f"{rate[name]:,.0f}", f"{p50:.1f}" if p50 else "", f"{p99:.1f}" if p99 else "", ratio]
        print(f"| {name} | " + " | ".join(cells) + " |")


def floor_of(name: str, names: list[str]) -> str | None:
    """What a figure is compared with: for the followers measured after the first, the same figure with the
    first; else the HTTP floor of the same server for a single POST, and the same batches in-process for a batch."""
    request, _, tag = name.partition(" (followers: ")
    if tag:
        first = next(n for n in names if n.startswith(f"{request} (followers: "))
        if first != name:
            return first
    if request == "POST /v1/credentials":
        return next(n for n in names if n.startswith("GET /healthz") and n.endswith(name[len(request) :]))
    if request == "POST /v1/credentials:batch":
        return "the same batches in-process (no HTTP)"
    return None


if __name__ == "__main__":
    main()
