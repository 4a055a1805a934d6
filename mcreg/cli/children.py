"""The processes ``mcreg serve`` runs beside itself: ``mcreg project`` as its child, and API processes that end
with it.

A child asks the kernel for SIGTERM when its parent ends (``die_with_parent``, Linux's ``PR_SET_PDEATHSIG``), so a
``serve`` killed with SIGKILL leaves no ``mcreg project`` or API process behind; each child then leaves as it
does on SIGTERM, releasing its leases and its hold on the embedded server (decision 42).
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
import threading

import structlog

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1

RESTART_PAUSE = 1.0
"""Seconds before a ``mcreg project`` child that ended on its own is started again."""

STOP_WAIT = 60.0
"""Seconds a child has to finish its page in hand and leave on SIGTERM before it is killed."""


def die_with_parent(parent: int | None = None) -> None:
    """Have this process sent SIGTERM when its parent ends (on Linux; elsewhere nothing). ``parent`` is the pid
    the parent had when it started this process: if that parent has already ended, this process ends now."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


class ProjectChild:
    """``mcreg project`` as a child of this process: started, started again when it ends on its own (as a
    supervisor would: every page is applied exactly once), and stopped with SIGTERM, waiting for it to leave."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name="project-child", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        with self._lock:
            if not self.stopping.is_set():
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "mcreg", "project"],
                    env=self.env,
                    preexec_fn=functools.partial(die_with_parent, os.getpid()),
                )

    def _watch(self) -> None:
        while self.process is not None:
            code = self.process.wait()
            if self.stopping.is_set():
                return
            log.warning("projections.child_ended", code=code, restart_in=RESTART_PAUSE)
            if self.stopping.wait(RESTART_PAUSE):
                return
            self._spawn()

    def stop(self) -> None:
        """Stop the child with SIGTERM and wait until it has left (killing it after ``STOP_WAIT`` seconds)."""
        with self._lock:
            self.stopping.set()
            process = self.process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._watcher.join()
