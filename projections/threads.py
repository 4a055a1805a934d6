"""Threads that run one worker's loops until it is stopped: started, stopped and joined together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self


class WorkerThreads:
    """The threads of a long-lived worker and the event that asks them to stop.

    Each thread runs its loop while ``stopping`` is not set; ``stop`` asks them to finish what they have in hand.
    """

    def __init__(self, loops: Sequence[tuple[str, Callable[[], None]]], *, stop: threading.Event | None, daemon: bool):
        self.stopping = stop or threading.Event()
        self._threads = [threading.Thread(target=loop, name=name, daemon=daemon) for name, loop in loops]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Ask every thread to finish what it has in hand and stop."""
        self.stopping.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self.join()
