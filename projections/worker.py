"""A long-lived worker that keeps projections up to date, one thread each, each under its lease if given."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import structlog
from eventsourcing.postgres import PostgresApplicationRecorder

from mcreg.projections.engine import IDLE, PAGE_SIZE, Projector
from mcreg.projections.lease import LEASE_POLL, LeaseLost, Leases
from mcreg.projections.news import News
from mcreg.projections.quarantine import PoisonEvent
from mcreg.projections.threads import WorkerThreads

log = structlog.get_logger(__name__)

OUTAGE_PAUSE = 1.0
"""Seconds a projection whose database is away waits before it tries again."""

HELD_PAUSE = 2.0
"""Seconds a projection stopped before a poison event waits before it looks again whether an operator acted."""


class ProjectionWorker(WorkerThreads):
    """Runs ``Projector.follow`` for each projector in its own thread until stopped, all woken by one LISTEN
    session (``projections.news``) on a thread of its own.

    One failing projection stops them all: the process should end and be
    restarted by its supervisor, which is safe because every page is applied
    exactly once. ``errors`` says what failed. An error that ``outage`` says
    means the database is away is no failure: that projection waits and
    follows again, as a restarted process would, until the database is back.
    Nor is an event the projection cannot apply: it stops that projection
    alone, before the event, until an operator has it skipped or retried
    (``mcreg project --skip`` / ``--retry``, from any process).

    With ``leases``, a projection is followed only while this process holds its lease (``projections.lease``):
    its thread tries for it every ``LEASE_POLL`` seconds, follows while it holds it, and lets go when it is lost.
    """

    def __init__(
        self,
        projectors: Sequence[Projector[Any]],
        *,
        stop: threading.Event | None = None,
        page_size: int = PAGE_SIZE,
        idle: float = IDLE,
        outage: Callable[[BaseException], bool] = lambda error: False,
        leases: Leases | None = None,
    ) -> None:
        self.outage = outage
        self.leases = leases
        self.errors: dict[str, BaseException] = {}
        self.news: dict[int, News] = {}
        """One LISTEN session per event store followed (in practice one: the registry's), waking every projection."""
        loops = [(f"project-{p.name}", self._loop(p, self._news(p), page_size, idle)) for p in projectors]
        loops += [(f"project-news-{n}", self._listen(news)) for n, news in enumerate(self.news.values())]
        super().__init__(loops, stop=stop, daemon=False)

    def _listen(self, news: News) -> Callable[[], None]:
        return lambda: news.run(self.stopping)

    def _news(self, projector: Projector[Any]) -> News:
        recorder = cast(PostgresApplicationRecorder, projector.app.recorder)
        return self.news.setdefault(id(recorder), News(recorder))

    def _loop(self, projector: Projector[Any], news: News, page_size: int, idle: float) -> Callable[[], None]:
        if self.leases is None:
            return lambda: self._follow(projector, news, self.stopping, page_size, idle)
        lease = self.leases.lease(projector.name)
        projector.view.guard = lease.confirm

        def leased() -> None:
            while not self.stopping.is_set():
                if not lease.acquire():
                    self.stopping.wait(LEASE_POLL)
                    continue
                log.info("projection.leased", projection=projector.name)
                with lease.holding(self.stopping) as letgo:
                    self._follow(projector, news, letgo, page_size, idle)

        return leased

    def _follow(
        self, projector: Projector[Any], news: News, stop: threading.Event, page_size: int, idle: float
    ) -> None:
        """Follow the log until ``stop`` is set; a failure that is neither an outage nor a poison event stops the
        whole worker."""
        said = 0  # the position of the poison event last logged
        while not stop.is_set():
            try:
                projector.refresh()  # after an outage: a page whose commit went unanswered may be in already
                projector.follow(stop, news, page_size=page_size, idle=idle)
            except PoisonEvent as poison:
                [held] = poison.held
                if held.position != said:
                    log.error("projection.stopped", projection=projector.name, position=held.position)
                    said = held.position
                stop.wait(HELD_PAUSE)
            except LeaseLost:
                log.warning("projection.lease_lost", projection=projector.name)
                return
            except BaseException as error:
                if self.outage(error):
                    log.warning("projection.waiting", projection=projector.name, error=str(error))
                    stop.wait(OUTAGE_PAUSE)
                    continue
                self.errors[projector.name] = error
                log.exception("projection.failed", projection=projector.name)
                self.stopping.set()
                return
