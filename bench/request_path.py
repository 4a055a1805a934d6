"""What one request costs on its way through the application: each middleware layer, the statements a command
sends to the database, and where a read's time goes.

    python bench/request_path.py [--calls 3000] [--posts 50] [--reads 1000]

Builds the application in this process on an empty schema of its own database and calls it as an ASGI app, with
no network and no server between (so a layer's cost is not lost in the HTTP stack's noise):

- ``GET /healthz`` through the whole application (its access log in JSON, as ``mcreg serve`` writes it, to
  /dev/null), then with each middleware layer taken out in turn, then with
  none: the median µs of each, and what each layer adds;
- ``POST /v1/credentials``: the statements it sends to PostgreSQL, counted by a trace of psycopg's cursors
  (``execute``, ``executemany``, ``copy``), the first request and the median of the later ones;
- the reads ``GET /v1/credentials/{id}/verify`` and GraphQL ``credential(id)``, over the credentials issued: ms per
  call (median and p99) and CPU ms per call, then a profile of as many calls again with FastAPI's thread-pool hops
  made inline (so the profile sees the handlers), its time summed by package (a C function's time goes to the
  package that called it, so psycopg's share includes waiting for PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio.to_thread
import httpx
import orjson
import psycopg
import structlog
from fastapi import FastAPI
from graphql_latency import CREDENTIAL
from scaffold import CREDENTIAL_ISSUED, ISSUED_ON, accredited_issuer, fresh_schema, settings

from mcreg.api.app import create_app
from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.logs import configure_logging
from mcreg.settings import Settings

HEALTHZ = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"127.0.0.1")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}


def request(method: str, path: str, body: bytes = b"") -> tuple[dict[str, Any], bytes]:
    """An ASGI scope and body for ``method path`` (a JSON body if any)."""
    headers = [(b"host", b"127.0.0.1")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = HEALTHZ | {"method": method, "path": path, "raw_path": path.encode(), "headers": headers}
    return scope, body


def asgi_calls(app: Any, requests: list[tuple[dict[str, Any], bytes]], calls: int, warm_up: int = 200) -> list[float]:
    """µs per call of ``app``, ``calls`` times one after another (after ``warm_up`` calls), taking ``requests`` in
    turn; each must answer 200."""

    def caller(scope: dict[str, Any], body: bytes) -> Callable[[], Awaitable[None]]:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise RuntimeError(f"{scope['method']} {scope['path']} answered {message['status']}")

        return lambda: app(dict(scope, state={}), receive, send)

    callers = [caller(scope, body) for scope, body in requests]

    async def run() -> list[float]:
        samples = []
        for i in range(calls + warm_up):
            began = time.perf_counter()
            await callers[i % len(callers)]()
            if i >= warm_up:
                samples.append((time.perf_counter() - began) * 1e6)
        return samples

    return asyncio.run(run())


def without(app: FastAPI, names: set[str]) -> FastAPI:
    """``app`` rebuilt without the middleware whose classes are ``names``."""
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in names]  # type: ignore[attr-defined]
    app.middleware_stack = None
    return app


@contextmanager
def statement_trace() -> Iterator[list[str]]:
    """Every statement psycopg sends meanwhile, in order."""
    sent: list[str] = []
    originals: dict[str, Callable[..., Any]] = {}
    for name in ("execute", "executemany", "copy"):
        original = getattr(psycopg.Cursor, name)
        originals[name] = original

        def traced(cursor: Any, query: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            sent.append(query.as_string(cursor) if hasattr(query, "as_string") else str(query))
            return _original(cursor, query, *args, **kwargs)

        setattr(psycopg.Cursor, name, traced)
    try:
        yield sent
    finally:
        for name, original in originals.items():
            setattr(psycopg.Cursor, name, original)


@contextmanager
def access_log_discarded(settings: Settings) -> Iterator[None]:
    """Log as ``mcreg serve`` does (JSON lines: rendering and writing them is part of what a request costs), to
    /dev/null; structlog's defaults again afterwards."""
    with open(os.devnull, "w") as discarded:
        stderr, sys.stderr = sys.stderr, discarded  # the stream the logger writes to is taken when it is configured
        try:
            configure_logging(settings.model_copy(update={"log_format": "json"}))
        finally:
            sys.stderr = stderr
        try:
            yield
        finally:
            structlog.reset_defaults()


def layer_costs(app: Callable[[], FastAPI], calls: int) -> dict[str, float]:
    """Median µs of ``GET /healthz`` through ``app()`` whole, without each middleware layer, and with none."""
    layers = [m.cls.__name__ for m in app().user_middleware]  # type: ignore[attr-defined]
    variants = {"the whole application": app()}
    for layer in layers:
        variants[f"without {layer}"] = without(app(), {layer})
    variants["no middleware"] = without(app(), set(layers))
    return {name: statistics.median(asgi_calls(variant, [(HEALTHZ, b"")], calls)) for name, variant in variants.items()}


@contextmanager
def thread_pool_inline() -> Iterator[None]:
    """FastAPI's and the resolvers' hops to a worker thread (all through ``anyio.to_thread.run_sync``) run in the
    calling thread meanwhile, so that a profile sees what they run."""

    async def inline(function: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return function(*args)

    original = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


REPOSITORY = Path(__file__).resolve().parent.parent
JSON = {"content-type": "application/json"}
PACKAGES = {"psycopg_binary": "psycopg", "psycopg_pool": "psycopg", "pydantic_core": "pydantic"}
"""Packages counted as another: their compiled halves and pools."""


def package_of(filename: str) -> str:
    """The package whose code ``filename`` is: the top-level name under site-packages, mcreg, this benchmark, or
    the standard library."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        name = parts[parts.index("site-packages") + 1].removesuffix(".py")
        return PACKAGES.get(name, name)
    if Path(filename).is_relative_to(REPOSITORY / "bench"):
        return "bench"
    return "mcreg" if Path(filename).is_relative_to(REPOSITORY) else "python"


def by_package(profile: cProfile.Profile) -> dict[str, float]:
    """Seconds spent in each package's own code; a built-in function's time is its callers' packages'."""
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, own, _cumulative, callers) in stats.items():
        if filename != "~":
            totals[package_of(filename)] += own
            continue
        called = sum(caller[2] for caller in callers.values()) or 1.0
        for (caller_file, _, _), caller in callers.items():
            totals[package_of(caller_file) if caller_file != "~" else "python"] += own * caller[2] / called
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


@dataclass(frozen=True)
class ReadCost:
    """ms per call of a read: its median and p99, the CPU this process spent, and each package's in a profile."""

    median: float
    p99: float
    cpu: float
    packages: dict[str, float]


def read_cost(app: FastAPI, requests: list[tuple[dict[str, Any], bytes]], calls: int) -> ReadCost:
    """What ``calls`` of the read ``requests`` (taken in turn) cost, timed, then profiled with the thread pool
    inline."""
    cpu = time.process_time()
    samples = sorted(asgi_calls(app, requests, calls, warm_up=50))
    cpu_ms = (time.process_time() - cpu) * 1000 / (calls + 50)
    profile = cProfile.Profile()
    with thread_pool_inline():
        profile.enable()
        asgi_calls(app, requests, calls, warm_up=0)
        profile.disable()
    return ReadCost(
        median=statistics.median(samples) / 1000,
        p99=samples[round(0.99 * (len(samples) - 1))] / 1000,
        cpu=cpu_ms,
        packages={name: seconds * 1000 / calls for name, seconds in by_package(profile).items()},
    )


def traced(app: FastAPI, method: str, path: str, expected: int, **options: Any) -> list[str]:
    """The statements one request to ``app`` sends to the database."""

    async def call() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as client:
            with statement_trace() as sent:
                response = await client.request(method, path, **options)
            if response.status_code != expected:
                raise RuntimeError(f"{method} {path}: {response.status_code}: {response.text}")
            return sent

    return asyncio.run(call())


def issuing(app: FastAPI, token: str, microcredential_id: UUID, posts: int) -> list[list[str]]:
    """The statements of each of ``posts`` single issuances, one after another, with an idempotency key each."""
    body = {"microcredential_id": str(microcredential_id), "issued_on": str(ISSUED_ON)}
    return [
        traced(
            app,
            "POST",
            "/v1/credentials",
            201,
            json=body | {"learner": {"name": f"Learner {i}"}},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"trace-{i}"},
        )
        for i in range(posts)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--reads", type=int, default=1000, help="calls of each read, timed and then profiled")
    args = parser.parse_args()
    with fresh_schema(settings()) as run_settings, access_log_discarded(run_settings):
        services = bootstrap(run_settings)
        read_models = open_read_models(services)
        provider, microcredential_id = accredited_issuer(services.registry)
        token = services.keys.create(provider.org, provider.role, name="bench").token
        medians = layer_costs(lambda: create_app(services, read_models), args.calls)
        whole = medians["the whole application"]
        print(f"| GET /healthz, in process, {args.calls} calls | median µs | what the layer costs µs |")
        print("| --- | ---: | ---: |")
        for name, median in medians.items():
            cost = whole - median if name.startswith("without") else None
            print(f"| {name} | {median:.0f} | {'' if cost is None else f'{cost:.0f}'} |")

        app = create_app(services, read_models)
        traces = issuing(app, token, microcredential_id, args.posts)
        ids = [
            n.originator_id
            for n in services.registry.recorder.select_notifications(1, 10_000, topics=[CREDENTIAL_ISSUED])
        ]
        read_models.catch_up()  # the credential(id) resolver reads the read models
        app.state.transparency_log.catch_up()  # so that verify proves each issuance's inclusion in the log
        reads = {
            "GET /v1/credentials/{id}/verify": [request("GET", f"/v1/credentials/{i}/verify") for i in ids],
            "GraphQL credential(id)": [
                request("POST", "/graphql", orjson.dumps({"query": CREDENTIAL, "variables": {"id": str(i)}}))
                for i in ids
            ],
        }
        runs = {"POST /v1/credentials": traces} | {
            name: [
                traced(app, scope["method"], scope["path"], 200, content=body, headers=JSON if body else None)
                for scope, body in requests
            ]
            for name, requests in reads.items()
        }
        print("\n| request | statements the first time | median after |")
        print("| --- | ---: | ---: |")
        for name, run in runs.items():
            print(f"| {name} | {len(run[0])} | {statistics.median(len(t) for t in run[1:])} |")
        for name, run in runs.items():
            print(f"\n{name}, the last one:")
            for statement in run[-1]:
                print("   ", " ".join(statement.split())[:150])
        costs = {name: read_cost(app, requests, args.reads) for name, requests in reads.items()}
        print(f"\n| read, in process, {args.reads} calls | median ms | p99 ms | CPU ms per call |")
        print("| --- | ---: | ---: | ---: |")
        for name, read in costs.items():
            print(f"| {name} | {read.median:.2f} | {read.p99:.2f} | {read.cpu:.2f} |")
        for name, read in costs.items():
            print(f"\n| {name}, profiled, thread pool inline | ms per call |")
            print("| --- | ---: |")
            for package, ms in read.packages.items():
                if ms >= 0.005:
                    print(f"| {package} | {ms:.3f} |")
        services.close()


if __name__ == "__main__":
    main()
