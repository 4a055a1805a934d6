"""Where a read is served from: the primary's read models, or a replica's, and read-your-writes between them.

With ``MCREG_READ_DATABASE_URL`` set, the read models, the transparency log,
exports, verification and proofs are read from a streaming replica (decision 77).
A replica is a copy of the primary's tables that may lag it, so:

- every write that succeeds answers ``MCREG-Position``: the event log's head after it;
- a read that presents ``MCREG-Position`` waits, up to ``read_wait`` seconds, until the read models it is
  served from have applied that position; else it is served by the primary's if they have, else refused
  (``503 position-not-reached`` with ``Retry-After``);
- a read without it is served by the replica unless its read models lag the primary's by more than
  ``read_lag_limit`` events, in which case the primary serves it;
- every read answers ``MCREG-Read-From`` (``primary`` or ``replica``), ``MCREG-Position`` (how far the read
  models it was served from had got, when they were looked at: with a replica or a presented position) and,
  with a replica, ``MCREG-Replica-Lag`` (events).

Without a replica the primary serves everything, and a presented position is still waited for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import anyio
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcreg.api.problems import ProblemError
from mcreg.database import UNAVAILABLE_ERRORS
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.services.exports import CredentialExports
from mcreg.services.verification import CredentialVerifier

POSITION_HEADER = "MCREG-Position"
POLL = 0.05
"""Seconds between two looks at a replica's position while a read waits for it."""
LAG_TTL = 1.0
"""Seconds a measured replica lag is reused for reads that present no position."""
READ_POSTS = re.compile(r"^/(graphql|v1/verify|credentials/verify|presentations/verify)/?$")
"""POSTs that only read (queries, verifications); every other POST, PUT, PATCH and DELETE writes."""


def reads(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") or (method == "POST" and READ_POSTS.match(path) is not None)


@dataclass(frozen=True)
class ReadSide:
    """What reads are served from on one database: read models, transparency log, exports and verification."""

    name: str
    """``primary`` or ``replica``."""
    read_models: ReadModels
    log: TransparencyLog
    exports: CredentialExports
    verifier: CredentialVerifier

    def position(self) -> int:
        """How far every read model and the transparency log have got."""
        return min(self.read_models.position(), self.log.tracked_position())


@dataclass
class Served:
    """The side one read is served from, and what its answer tells the client."""

    side: ReadSide
    position: int | None = None
    """How far the side's read models had got, when it was looked at."""
    lag: int | None = None


class ReadRouter:
    """Chooses, for each read, the side that serves it (see the module's description)."""

    def __init__(self, primary: ReadSide, replica: ReadSide | None, *, wait: float, lag_limit: int) -> None:
        self.primary = primary
        self.replica = replica
        self.wait = wait
        self.lag_limit = lag_limit
        self._lag: tuple[float, int, int, int] | None = None  # measured at, lag, primary's and replica's position

    async def choose(self, request: Request) -> Served:
        if not reads(request.method, request.url.path):
            return Served(self.primary)  # a write decides on the primary, never on a copy
        wanted = presented_position(request)
        if wanted is None and self.replica is None:
            return Served(self.primary)  # nothing to look up: the handler alone meets the database
        if self.replica is None:
            return await self._reached(self.primary, wanted) or self._refuse(wanted)
        try:
            _, lag, primary_at, replica_at = await self._measure()
        except UNAVAILABLE_ERRORS:
            return Served(self.primary)  # a database is away: the handler answers for it as it would alone
        if wanted is not None:
            served = await self._reached(self.replica, wanted)
            if served is None:
                served = await self._reached(self.primary, wanted, wait=False) or self._refuse(wanted)
            served.lag = lag
            return served
        if lag > self.lag_limit:
            return Served(self.primary, primary_at, lag)
        return Served(self.replica, replica_at, lag)

    async def _reached(self, side: ReadSide, wanted: int | None, *, wait: bool = True) -> Served | None:
        """``side`` once its read models have ``wanted`` (waiting up to ``self.wait`` seconds), else None."""
        deadline = time.monotonic() + (self.wait if wait else 0)
        while True:
            at = await run_in_threadpool(side.position)
            if wanted is None or at >= wanted:
                return Served(side, at)
            if time.monotonic() >= deadline:
                return None
            await anyio.sleep(POLL)

    async def _measure(self) -> tuple[float, int, int, int]:
        """The replica's lag behind the primary in events, measured at most every ``LAG_TTL`` seconds."""
        assert self.replica is not None
        now = time.monotonic()
        if self._lag is None or now - self._lag[0] > LAG_TTL:
            replica_at = await run_in_threadpool(self.replica.position)  # first: the primary is at least as far
            primary_at = await run_in_threadpool(self.primary.position)
            self._lag = (now, max(0, primary_at - replica_at), primary_at, replica_at)
        return self._lag

    def _refuse(self, wanted: int | None) -> NoReturn:
        raise ProblemError(
            "position-not-reached",
            f"the read models have not applied position {wanted} within {self.wait:g} s; retry later",
            headers={"Retry-After": "1"},
        )


def presented_position(request: Request) -> int | None:
    """The ``MCREG-Position`` a read presents; a 400 problem naming the header when it is no position."""
    value = request.headers.get(POSITION_HEADER)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ProblemError(
            "invalid-input",
            f"{POSITION_HEADER}: must be a position in the event log (a whole number), as a write answered it",
            field=POSITION_HEADER,
            rule="position",
        )
    return int(value)


class PositionHeaders:
    """Tells every answer where it stands: a write that succeeded its position, a read where it was served from."""

    def __init__(self, app: ASGIApp, *, head: Callable[[], int]) -> None:
        self.app = app
        self.head = head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        writes = not reads(scope["method"], scope["path"])

        async def with_position(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = []
                served: Served | None = scope.get("state", {}).get("served")
                if writes and 200 <= message["status"] < 300:
                    extra.append((b"mcreg-position", str(await run_in_threadpool(self.head)).encode()))
                elif served is not None:
                    extra.append((b"mcreg-read-from", served.side.name.encode()))
                    if served.position is not None:
                        extra.append((b"mcreg-position", str(served.position).encode()))
                    if served.lag is not None:
                        extra.append((b"mcreg-replica-lag", str(served.lag).encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_position)
