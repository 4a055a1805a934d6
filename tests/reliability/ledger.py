"""What the drills' clients sent and were told, and how acknowledged-but-lost and duplicates are counted.

Shared by the crash drill (``test_crash.py``) and the failover drill (``failover_drill.py``), so both count
the same way (decision 53): from the stored ``Credential.Issued`` events, each stamped with its request's
Idempotency-Key, never from the read models or from the API's answers alone.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.utils import get_topic

from mcreg.bootstrap import Services
from mcreg.registry.aggregates.credential import Credential

BATCH_SHARE = 1 / 3
"""The share of requests that are batches, of 2 to 5 rows."""


def new_credential(microcredential: UUID, name: str) -> dict[str, Any]:
    learner = {"name": f"Learner {name}"}
    return {"microcredential_id": str(microcredential), "learner": learner, "issued_on": "2024-03-01"}


@dataclass(frozen=True)
class Request:
    """One write, sent again with the same key (and body) to settle it."""

    key: str
    rows: int
    """0 for a single credential, else the rows of a batch."""

    @property
    def credentials(self) -> int:
        return self.rows or 1

    def send(self, http: httpx.Client, microcredential: UUID) -> httpx.Response:
        headers = {"Idempotency-Key": self.key}
        if not self.rows:
            return http.post("/v1/credentials", json=new_credential(microcredential, self.key), headers=headers)
        rows = [new_credential(microcredential, f"{self.key}/{n}") for n in range(self.rows)]
        return http.post("/v1/credentials:batch", json={"rows": rows}, headers=headers)

    def issued(self, response: httpx.Response) -> tuple[UUID, ...]:
        """The credentials an acknowledgement names."""
        answer = response.json()
        if not self.rows:
            return (UUID(answer["id"]),)
        return tuple(UUID(row["id"]) for row in answer["results"] if row.get("id"))


@dataclass
class Ledger:
    """Every request sent, and what its client was told (and when, on the monotonic clock)."""

    requests: dict[str, Request] = field(default_factory=dict)
    acked: dict[str, tuple[UUID, ...]] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    sent_at: dict[str, float] = field(default_factory=dict)
    acked_at: dict[str, float] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    """How many answers had each status, 0 for none."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_request(self, rng: random.Random) -> Request:
        rows = rng.randint(2, 5) if rng.random() < BATCH_SHARE else 0
        with self.lock:
            request = Request(f"crash-{len(self.requests) + 1}", rows)
            self.requests[request.key] = request
            self.sent_at[request.key] = time.monotonic()
        return request

    def record(self, request: Request, response: httpx.Response | None) -> None:
        with self.lock:
            self.statuses[response.status_code if response is not None else 0] += 1
        if response is not None and response.status_code == 201:
            self.acked[request.key] = request.issued(response)
            self.acked_at[request.key] = time.monotonic()
        elif response is not None and 400 <= response.status_code < 500 and response.status_code != 409:
            self.refused.add(request.key)
        else:  # no answer, a 5xx while the database is away, or a 409 concurrent update: not decided
            self.unknown.add(request.key)

    def first_ack_sent_after(self, moment: float) -> float | None:
        """When the first request sent after ``moment`` was acknowledged."""
        times = [at for key, at in list(self.acked_at.items()) if self.sent_at[key] >= moment]
        return min(times, default=None)


def client(url: str, token: str, microcredential: UUID, ledger: Ledger, seed: int, stop: threading.Event) -> None:
    """Issue credentials at ``url`` until ``stop``, singly and in batches, recording every answer."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=3, headers={"Authorization": f"Bearer {token}"}) as http:
        while not stop.is_set():
            request = ledger.new_request(rng)
            try:
                response: httpx.Response | None = request.send(http, microcredential)
            except httpx.HTTPError:
                response = None
            ledger.record(request, response)
            if request.key in ledger.unknown:
                time.sleep(0.05)  # the server is away: do not hammer the wreck


def issued_by_key(services: Services) -> dict[str | None, list[UUID]]:
    """The credentials in the event store, by the idempotency key stamped on their Issued event."""
    registry = services.registry
    topics = [get_topic(Credential.Issued)]
    found: dict[str | None, list[UUID]] = defaultdict(list)
    start = 1
    while notifications := registry.recorder.select_notifications(start, 1000, topics=topics):
        for notification in notifications:
            issued = registry.mapper.to_domain_event(notification)
            found[issued.stamp.idempotency_key].append(issued.originator_id)
        start = notifications[-1].id + 1
    return found


def settle(url: str, token: str, microcredential: UUID, ledger: Ledger) -> dict[str, tuple[UUID, ...]]:
    """Every acknowledged or unknown request sent again with its key, by 4 clients: the credentials each answers."""

    def replay(http: httpx.Client, key: str) -> tuple[UUID, ...]:
        request = ledger.requests[key]
        response = request.send(http, microcredential)
        assert response.status_code == 201, response.text
        return request.issued(response)

    keys = sorted(ledger.acked.keys() | ledger.unknown)
    with (
        httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http,
        ThreadPoolExecutor(4) as pool,
    ):
        return dict(zip(keys, pool.map(lambda key: replay(http, key), keys), strict=True))


def lost_before_settling(ledger: Ledger, stored: dict[str | None, list[UUID]]) -> set[str]:
    """Acknowledged requests whose credentials are not all stored (read before any replay could write them
    again), or that were acknowledged with fewer credentials than they asked for."""
    lost = {key for key, ids in ledger.acked.items() if not set(ids) <= set(stored.get(key, ()))}
    return lost | {key for key, ids in ledger.acked.items() if len(set(ids)) != ledger.requests[key].credentials}


def lost_by_settling(ledger: Ledger, settled: dict[str, tuple[UUID, ...]]) -> set[str]:
    """Acknowledged requests whose replay names other credentials than their acknowledgement did."""
    return {key for key, ids in ledger.acked.items() if settled[key] != ids}


def duplicates(ledger: Ledger, stored: dict[str | None, list[UUID]], settled: dict[str, tuple[UUID, ...]]) -> int:
    """Credentials beyond the number their key's request asked for (a refused or never-settled key asks for none)."""
    expected = {key: request.credentials if key in settled else 0 for key, request in ledger.requests.items()}
    return sum(max(0, len(ids) - expected.get(key or "", 0)) for key, ids in stored.items())
