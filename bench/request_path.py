"""What one request costs on its way through the application: each middleware layer, and the statements a command
sends to the database.

    python bench/request_path.py [--calls 3000] [--posts 50]

Builds the application in this process on an empty schema of its own database and calls it as an ASGI app, with
no network and no server between (so a layer's cost is not lost in the HTTP stack's noise):

- ``GET /healthz`` through the whole application (its access log in JSON, as ``mcreg serve`` writes it, to
  /dev/null), then with each middleware layer taken out in turn, then with
  none: the median µs of each, and what each layer adds;
- ``POST /v1/credentials``: the statements it sends to PostgreSQL, counted by a trace of psycopg's cursors
  (``execute``, ``executemany``, ``copy``), the first request and the median of the later ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
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


def asgi_calls(app: Any, scope: dict[str, Any], calls: int) -> list[float]:
    """µs per call of ``app`` on ``scope``, ``calls`` times one after another (after a warm-up)."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"GET /healthz answered {message['status']}")

    async def run() -> list[float]:
        samples = []
        for i in range(calls + 200):
            began = time.perf_counter()
            await app(dict(scope, state={}), receive, send)
            if i >= 200:
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
    return {name: statistics.median(asgi_calls(variant, HEALTHZ, calls)) for name, variant in variants.items()}


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
        runs = {
            "POST /v1/credentials": traces,
            "GET /v1/credentials/{id}/verify": [traced(app, "GET", f"/v1/credentials/{i}/verify", 200) for i in ids],
            "GraphQL credential(id)": [
                traced(app, "POST", "/graphql", 200, json={"query": CREDENTIAL, "variables": {"id": str(i)}})
                for i in ids
            ],
        }
        print("\n| request | statements the first time | median after |")
        print("| --- | ---: | ---: |")
        for name, run in runs.items():
            print(f"| {name} | {len(run[0])} | {statistics.median(len(t) for t in run[1:])} |")
        for name, run in runs.items():
            print(f"\n{name}, the last one:")
            for statement in run[-1]:
                print("   ", " ".join(statement.split())[:150])
        services.close()


if __name__ == "__main__":
    main()
