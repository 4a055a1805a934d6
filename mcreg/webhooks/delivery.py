"""The delivery worker: POSTs what the outbox owes each subscription, signed as Standard Webhooks say, in order.

Each of ``concurrency`` threads holds one database session. It picks a subscription that is owed events and may
be tried now, takes the subscription's lease (a session advisory lock: one worker at a time per subscription,
whatever the number of processes; a worker that dies, even by kill -9, drops it with its connection), and delivers
the events owed in log order: an event is removed from the outbox only after its receiver answered 2xx, so a
crash re-delivers at most the event in flight (at least once; receivers deduplicate on ``webhook-id``, which is
the same for every attempt). The first failure stops that subscription's batch, so order by position is kept;
the next attempt waits an exponential backoff with jitter. After ``MAX_FAILURES`` failures in a row the
subscription is disabled, the reason kept for ``GET /v1/webhooks``; a replay enables it again.

A request has a bounded time (``Settings.webhook_timeout`` to connect and for each read): a receiver that hangs
holds one thread that long, never the worker. Before each request the URL is checked again, and the request goes
to the address checked (``mcreg.webhooks.urls``).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import structlog
from psycopg import Cursor
from psycopg.rows import DictRow
from standardwebhooks import Webhook

from mcreg.projections.threads import WorkerThreads
from mcreg.projections.webhook_outbox import OutboxView, Subscription
from mcreg.registry.errors import DomainError
from mcreg.stores.event_store import records_at
from mcreg.stores.issuer_keys import KeyUnavailable
from mcreg.webhooks.event_documents import event_document, recorded_at
from mcreg.webhooks.urls import UrlPolicy

log = structlog.get_logger(__name__)

MAX_FAILURES = 10
"""Failed attempts in a row after which a subscription is disabled (after 4 to 8.5 minutes of backoff in all)."""

BACKOFF_FIRST = 1.0
"""Seconds before the second attempt; each further one waits twice as long, with jitter, up to ``BACKOFF_MOST``."""
BACKOFF_MOST = 3600.0

BATCH = 100
"""Events delivered for one subscription before its lease is given up for others' turn."""

IDLE = 0.5
"""Seconds an idle thread waits for the outbox's notification before it looks for work again (retries fall due
without one)."""

SYNCHRONOUS_COMMIT_OFF = "SET synchronous_commit = off"

OUTAGE_PAUSE = 1.0
"""Seconds a thread waits after it lost the database."""


def backoff(failures: int, draw: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: exponential, capped, with equal jitter (half
    fixed, half random), so that receivers coming back are not met by every sender at once."""
    ceiling = min(BACKOFF_MOST, BACKOFF_FIRST * 2 ** (failures - 1))
    return ceiling / 2 + ceiling / 2 * draw()


def message_id(subscription: UUID, position: int) -> str:
    """``webhook-id``: the same for every attempt of one event to one subscription."""
    return f"msg_{uuid.uuid5(subscription, str(position)).hex}"


class DeliveryWorker(WorkerThreads):
    """Delivers the outbox on ``concurrency`` threads until stopped.

    ``view`` is the outbox's own (its pool must hold a connection per thread); ``recorder`` the event store's;
    ``secrets`` opens the secrets a subscription's deliveries are signed with (two while a rotation overlaps).
    """

    def __init__(
        self,
        view: OutboxView,
        recorder: Any,
        secrets: Callable[[Subscription], list[bytes]],
        policy: UrlPolicy,
        *,
        concurrency: int = 4,
        timeout: float = 10.0,
        max_failures: int = MAX_FAILURES,
        stop: threading.Event | None = None,
        outage: Callable[[BaseException], bool] = lambda error: False,
    ) -> None:
        self.view = view
        self.recorder = recorder
        self.secrets = secrets
        self.policy = policy
        self.timeout = httpx.Timeout(timeout)
        self.max_failures = max_failures
        self.outage = outage
        self.errors: list[BaseException] = []
        self.concurrency = concurrency
        super().__init__([(f"webhook-delivery-{n}", self._run) for n in range(concurrency)], stop=stop, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            while not self.stopping.is_set():
                try:
                    with self.view.datastore.get_connection() as conn, conn.cursor() as curs:
                        # An acknowledgement lost with a crash of the database only means that event is sent again
                        # (at least once): not waiting for each to be flushed to disk is safe, and many times faster.
                        curs.execute(SYNCHRONOUS_COMMIT_OFF)
                        curs.execute(self.view.listen_statement)
                        while not self.stopping.is_set():
                            if not self.deliver_one_subscription(curs, client):
                                for _ in conn.notifies(timeout=IDLE, stop_after=1):
                                    pass  # news: look again at once
                except BaseException as error:
                    if not self.outage(error):
                        self.errors.append(error)
                        log.exception("webhooks.worker_failed")
                    else:
                        log.warning("webhooks.waiting", error=str(error))
                    self.stopping.wait(OUTAGE_PAUSE)

    def deliver_one_subscription(self, curs: Cursor[DictRow], client: httpx.Client) -> bool:
        """Lease a subscription that is owed events and deliver a batch; whether there was one to lease."""
        for id in self.view.due(curs, limit=self.concurrency * 2):
            if self.view.lease(curs, id):
                try:
                    self.deliver(curs, client, id)
                finally:
                    self.view.release(curs, id)
                return True
        return False

    def deliver(self, curs: Cursor[DictRow], client: httpx.Client, id: UUID) -> None:
        """Deliver what the subscription is owed, in log order, until one fails or the batch is done."""
        subscription = self.view.subscription(id)
        if subscription is None or subscription.disabled_at is not None:
            return  # deleted or disabled since it was found due
        positions = self.view.owed(curs, id, BATCH)
        if not positions:
            return
        try:
            signers = [Webhook(secret) for secret in self.secrets(subscription)]
        except KeyUnavailable as unopened:  # sealed under another KEK: no attempt can succeed until an operator acts
            self.view.failed(curs, id, str(unopened), 0, 1, f"its secret does not open: {unopened}")
            log.error("webhooks.disabled", subscription=str(id), reason=str(unopened))
            return
        failures = subscription.failures
        for record in records_at(self.recorder, positions):
            if self.stopping.is_set():
                return
            document = event_document(record)
            error = self.post(client, subscription, signers, document)
            if error is None:
                self.view.delivered(curs, id, record.position)
                failures = 0
                continue
            failures += 1
            reason = f"{failures} failed attempts in a row; the last: {error}"
            disabled = self.view.failed(curs, id, error[:500], backoff(failures), self.max_failures, reason[:500])
            log.warning("webhooks.failed", subscription=str(id), position=record.position, error=error)
            if disabled:
                log.error("webhooks.disabled", subscription=str(id), reason=reason)
            return

    def post(
        self, client: httpx.Client, subscription: Subscription, signers: list[Webhook], document: dict[str, Any]
    ) -> str | None:
        """POST one event, signed by each of ``signers`` (Standard Webhooks: signatures separated by spaces, any one
        verifying); None if the receiver took it (2xx), else what went wrong."""
        try:
            destination = self.policy.check(subscription.url)
        except DomainError as refused:
            return f"url refused: {refused}"
        body = json.dumps(
            {"type": document["type"], "timestamp": recorded_at(document), "data": document},
            separators=(",", ":"),
        ).encode()
        msg_id = message_id(subscription.id, document["position"])
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "mcreg-webhooks",
            "host": httpx.URL(destination.url).netloc.decode(),
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signer.sign(msg_id, now, body) for signer in signers),
        }
        try:
            with client.stream(
                "POST",
                destination.pinned_url,
                content=body,
                headers=headers,
                extensions={"sni_hostname": destination.host},
            ) as response:
                if 200 <= response.status_code < 300:
                    return None
                return f"the receiver answered {response.status_code}"
        except httpx.TimeoutException:
            return f"no answer within {self.timeout.read} s"
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
