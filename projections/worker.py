"""A long-lived worker that keeps projections up to date, one thread each."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import structlog

from mcreg.projections.engine import IDLE, PAGE_SIZE, Projector
from mcreg.projections.quarantine import PoisonEvent

log = structlog.get_logger(__name__)

OUTAGE_PAUSE = 1.0
"""Seconds a projection whose database is away waits before it tries again."""

HELD_PAUSE = 2.0
"""Seconds a projection stopped before a poison event waits before it looks again whether an operator acted."""


class ProjectionWorker:
    """Runs ``Projector.follow`` for each projector in its own thread until stopped.

    One failing projection stops them all: the process should end and be
    restarted by its supervisor, which is safe because every page is applied
    exactly once. ``errors`` says what failed. An error that ``outage`` says
    means the database is away is no failure: that projection waits and
    follows again, as a restarted process would, until the database is back.
    Nor is an event the projection cannot apply: it stops that projection
    alone, before the event, until an operator has it skipped or retried
    (``mcreg project --skip`` / ``--retry``, from any process).
    """

    def __init__(
        self,
        projectors: Sequence[Projector[Any]],
        *,
        stop: threading.Event | None = None,
        page_size: int = PAGE_SIZE,
        idle: float = IDLE,
        outage: Callable[[BaseException], bool] = lambda error: False,
    ) -> None:
        self.stopping = stop or threading.Event()
        self.outage = outage
        self.errors: dict[str, BaseException] = {}
        self._threads = [
            threading.Thread(target=self._run, args=(p, page_size, idle), name=f"project-{p.name}") for p in projectors
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Ask every projection to finish the batch in hand and stop."""
        self.stopping.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _run(self, projector: Projector[Any], page_size: int, idle: float) -> None:
        said = 0  # the position of the poison event last logged
        while not self.stopping.is_set():
            try:
                projector.refresh()  # after an outage: a page whose commit went unanswered may be in already
                projector.follow(self.stopping, page_size=page_size, idle=idle)
            except PoisonEvent as poison:
                [held] = poison.held
                if held.position != said:
                    log.error("projection.stopped", projection=projector.name, position=held.position)
                    said = held.position
                self.stopping.wait(HELD_PAUSE)
            except BaseException as error:
                if self.outage(error):
                    log.warning("projection.waiting", projection=projector.name, error=str(error))
                    self.stopping.wait(OUTAGE_PAUSE)
                    continue
                self.errors[projector.name] = error
                log.exception("projection.failed", projection=projector.name)
                self.stopping.set()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self.join()
