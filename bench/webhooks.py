"""Webhook delivery: lag from commit to a receiver under a steady write load, and deliveries one worker sustains.

    python bench/webhooks.py [--writes 300] [--rate 50] [--burst 3000] [--subscriptions 4]

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL) on a fresh schema, runs
`mcreg project` (every read model, the outbox and the delivery worker, default settings: 4 delivery threads) as a
separate process, and receives on a local HTTP server that verifies every signature with `standardwebhooks`.

1. Lag: one subscription to Credential.Issued; credentials issued one per transaction at ``--rate``/s; for each,
   the time from its commit until the receiver has it. p50 and p99.
2. Throughput: ``--subscriptions`` subscriptions to every event; ``--burst`` credentials issued in one bulk
   transaction; deliveries per second from that commit until every subscription has every event, for one
   subscription alone (order per subscription makes it sequential) and for all of them together.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

from scaffold import ISSUED_ON, accredited_issuer, fresh_schema, process_env, settings
from standardwebhooks import Webhook

from mcreg.bootstrap import bootstrap, open_webhooks
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application.issuance import IssueRow
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Receiver:
    """Arrival times by (path, position), every body verified with its subscription's secret."""

    def __init__(self) -> None:
        self.secrets: dict[str, Webhook] = {}
        self.arrived: dict[tuple[str, int], float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection, as a production receiver does

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                event = receiver.secrets[self.path].verify(body, dict(self.headers.items()))
                with receiver.lock:
                    receiver.arrived.setdefault((self.path, event["data"]["position"]), time.perf_counter())
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.arrived if p == path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second")
    parser.add_argument("--burst", type=int, default=3000, help="credentials issued at once for the throughput")
    parser.add_argument("--subscriptions", type=int, default=4)
    args = parser.parse_args()
    base = settings()
    with fresh_schema(base) as schema_settings:
        lag, rates = measure(schema_settings, args.writes, args.rate, args.burst, args.subscriptions)
    print(f"| webhook delivery ({args.writes} writes at {args.rate:g}/s) | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    print(f"| commit → receiver has it | {statistics.median(lag):.1f} | {percentile(lag, 0.99):.1f} |")
    print()
    print(f"| deliveries/s, one worker ({args.burst} events at once) | per subscription | all together |")
    print("| --- | --- | --- |")
    print(f"| {args.subscriptions} subscriptions | {rates[0]:,.0f} | {rates[1]:,.0f} |")
    print(
        json.dumps(
            {
                "lag_p50_ms": statistics.median(lag),
                "lag_p99_ms": percentile(lag, 0.99),
                "deliveries_per_s_one_subscription": rates[0],
                "deliveries_per_s_all": rates[1],
            }
        )
    )


def measure(
    settings: Settings, writes: int, rate: float, burst: int, subscriptions: int
) -> tuple[list[float], tuple[float, float]]:
    services = bootstrap(settings)
    registry = services.registry
    webhooks = open_webhooks(services)
    provider, microcredential = accredited_issuer(registry)
    receiver = Receiver()
    auditor = Actor(uuid4(), Role.AUDITOR)
    made = webhooks.subscribe(auditor, f"{receiver.url}/lag", ["Credential.Issued"])
    receiver.secrets["/lag"] = Webhook(made.secret)
    env = process_env(settings, MCREG_LOG_FORMAT="json")
    command = [sys.executable, "-c", "from mcreg.cli import app; app()", "project"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        registry.issue_credential(
            provider, microcredential_id=microcredential, learner=PersonalData("W"), issued_on=ISSUED_ON
        )
        while receiver.count("/lag") < 1:  # the worker has started, caught up and delivered
            time.sleep(0.05)
        lag = []
        for n in range(writes):
            began = time.perf_counter()
            registry.issue_credential(
                provider, microcredential_id=microcredential, learner=PersonalData(f"L{n}"), issued_on=ISSUED_ON
            )
            committed = time.perf_counter()
            position = registry.recorder.max_notification_id() or 0
            lag.append((committed, position))
            time.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))
        deadline = time.monotonic() + 120
        while receiver.count("/lag") < writes + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        lags = [(receiver.arrived[("/lag", p)] - c) * 1000 for c, p in lag]
        paths = [f"/all{i}" for i in range(subscriptions)]
        for path in paths:
            receiver.secrets[path] = Webhook(webhooks.subscribe(auditor, f"{receiver.url}{path}", []).secret)
        rows = [IssueRow(microcredential, PersonalData(f"B{n}"), ISSUED_ON) for n in range(burst)]
        registry.issue_credentials(provider, rows)
        committed = time.perf_counter()
        deadline = time.monotonic() + 600
        while min(receiver.count(p) for p in paths) < burst and time.monotonic() < deadline:
            time.sleep(0.01)
        ends = [max(t for (p, _), t in receiver.arrived.items() if p == path) for path in paths]
        counts = [receiver.count(p) for p in paths]
        one = statistics.median(c / (e - committed) for c, e in zip(counts, ends, strict=True))
        together = sum(counts) / (max(ends) - committed)
        return lags, (one, together)
    finally:
        worker.terminate()
        worker.wait(60)
        webhooks.view.close()
        services.close()


if __name__ == "__main__":
    main()
