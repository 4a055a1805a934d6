"""Every request: an id, a size limit, one access-log line, and its place in the metrics.

A plain ASGI middleware (it must see streamed bodies and the final status).
The request id comes from a sane ``X-Request-ID`` header or is made here; it
is returned in the same header, bound to every log line of the request, and
quoted as the ``instance`` of problem documents.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
BULK_PATHS = re.compile(r".*:batch$|.*:import$|^/v1/import/")

log = structlog.get_logger("api.access")


class Metrics:
    """The app's own Prometheus registry: request counts and latencies, events appended, projection lag, and the
    read models stopped before a poison event."""

    def __init__(
        self, events: Callable[[], int], lag: Callable[[], dict[str, int]], stopped: Callable[[], dict[str, int]]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mcreg_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "mcreg_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(events, lag, stopped))
        self._series: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency (each series' children kept: ``labels()`` takes a lock and
        builds them anew on every call)."""
        series = self._series.get((method, route, str(status)))
        if series is None:
            series = self.requests.labels(method, route, str(status)), self.latency.labels(method, route)
            self._series[(method, route, str(status))] = series
        series[0].inc()
        series[1].observe(seconds)


class _StoreCollector(Collector):
    """Read at scrape time from the database, so every process reports the same figures."""

    def __init__(
        self, events: Callable[[], int], lag: Callable[[], dict[str, int]], stopped: Callable[[], dict[str, int]]
    ) -> None:
        self.events = events
        self.lag = lag
        self.stopped = stopped

    def collect(self) -> Iterable[Any]:
        yield CounterMetricFamily("mcreg_events_appended", "Events in the event store", value=self.events())
        lag = GaugeMetricFamily(
            "mcreg_projection_lag_events", "Events stored but not yet in a read model", labels=["projection"]
        )
        lags = self.lag()
        for name, behind in lags.items():
            lag.add_metric([name], behind)
        yield lag
        quarantined = GaugeMetricFamily(
            "mcreg_read_model_quarantined",
            "The position of the event a read model is stopped before, held in quarantine; 0 when it is not stopped",
            labels=["read_model"],
        )
        stopped = self.stopped()
        for name in sorted(lags.keys() | stopped.keys()):
            quarantined.add_metric([name], stopped.get(name, 0))
        yield quarantined


class BodyTooLarge(HTTPException):
    """An HTTP error, because FastAPI turns anything else raised while it reads a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body: int, max_bulk_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.max_bulk_body = max_bulk_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        limit = self.max_bulk_body if BULK_PATHS.match(scope["path"]) else self.max_body
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, _limited(receive, limit, headers), send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.answered(method, route, status, elapsed)
            actor = scope.get("state", {}).get("actor")
            log.info(
                "request",
                method=method,
                path=scope["path"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 2),
                org=str(actor.org) if actor else None,
                role=actor.role.value if actor else "public",
            )


def _limited(receive: Receive, limit: int, headers: dict[bytes, bytes]) -> Receive:
    """``receive`` that refuses a body over ``limit`` bytes, announced or streamed."""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:

        async def refuse() -> Message:
            raise BodyTooLarge(limit)

        return refuse
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted
