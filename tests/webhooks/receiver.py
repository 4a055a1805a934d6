"""A real webhook receiver for the tests: an HTTP server on a thread of its own that verifies every delivery with
the ``standardwebhooks`` library, as a subscriber's would, and remembers what it was sent.

The verification is the one a receiver writes (README, "Webhooks")::

    from standardwebhooks import Webhook
    event = Webhook(secret).verify(body, headers)   # raises WebhookVerificationError unless signed with the secret
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Delivery:
    webhook_id: str
    position: int
    type: str
    event: dict[str, Any]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    """As received, for a test to verify again (with another secret)."""


@dataclass
class Receiver:
    """What the server was sent; ``secret`` is set once the subscription is made; ``behaviour`` is ``ok``, ``fail``
    (answers 500), ``hang`` (answers nothing for a minute) or ``slow`` (takes 50 ms per event)."""

    url: str = ""
    secret: str | None = None
    behaviour: str = "ok"
    deliveries: list[Delivery] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Why requests that did not verify were refused."""
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def positions(self) -> list[int]:
        with self.lock:
            return [d.position for d in self.deliveries]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[int]:
        """The distinct positions delivered, once there are ``count`` (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(set(self.positions)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return sorted(set(self.positions))

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.attempts += 1
        if self.behaviour == "hang":
            time.sleep(60)
            return 200
        if self.behaviour == "fail":
            return 500
        if self.behaviour == "slow":
            time.sleep(0.05)
        assert self.secret is not None
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as error:
            with self.lock:
                self.refused.append(str(error))
            return 400
        data = payload["data"]
        with self.lock:
            self.deliveries.append(Delivery(headers["webhook-id"], data["position"], data["type"], data, body, headers))
        return 204


@contextmanager
def receiving(behaviour: str = "ok") -> Iterator[Receiver]:
    """A receiver listening on a loopback port for as long as the block runs."""
    receiver = Receiver(behaviour=behaviour)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = receiver.take(body, {k.lower(): v for k, v in self.headers.items()})
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
