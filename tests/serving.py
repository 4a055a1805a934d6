"""`mcreg serve` run as a person runs it: a subprocess on a fresh machine, and the PostgreSQL it leaves behind."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

MCREG = str(Path(sys.executable).with_name("mcreg"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def data_folder() -> Iterator[Path]:
    """A data folder of its own, outside pytest's temporary folders, removed afterwards.

    Run as root, the embedded server runs as another user, who must reach the folder; a pytest starting
    meanwhile (another run on the machine) makes its own temporary folders private to root again.
    """
    folder = Path(tempfile.mkdtemp(prefix="mcreg-served-"))
    try:
        yield folder / "data"
    finally:
        for leftover in postmasters(folder / "data"):  # a failed test's: its own assertions say so
            leftover.kill()
        shutil.rmtree(folder, ignore_errors=True)


def fresh_machine(data_dir: Path, **variables: str) -> dict[str, str]:
    """The environment of a fresh machine: no database configured, so mcreg runs its own embedded one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCREG_", "POSTGRES_")) and k != "DATABASE_URL"}
    return env | {"MCREG_DATA_DIR": str(data_dir), "MCREG_LOG_FORMAT": "json"} | variables


def serve(
    env: dict[str, str],
    port: int,
    log: Path,
    host: str = "127.0.0.1",
    options: tuple[str, ...] = (),
    within: float = 60,
) -> subprocess.Popen[bytes]:
    """`mcreg serve --host HOST --port PORT [OPTIONS]`, its output in ``log``, answering /healthz when this
    returns (failing if it does not within ``within`` seconds)."""
    with log.open("a") as out:
        command = [MCREG, "serve", "--host", host, "--port", str(port), *options]
        server = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            raise AssertionError(f"mcreg serve did not come up:\n{log.read_text()}")
        time.sleep(0.2)


def postmasters(data_dir: Path) -> list[psutil.Process]:
    """The PostgreSQL servers running on the embedded data folder in ``data_dir``."""
    pgdata = str((data_dir / "pgdata").resolve())
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and pgdata in (process.info["cmdline"] or []):
            found.append(process)
    return found


def no_postmaster_left(data_dir: Path, within: float = 0.0) -> bool:
    """Whether no PostgreSQL server runs on ``data_dir`` (waiting up to ``within`` seconds for the last to stop)."""
    deadline = time.monotonic() + within
    while postmasters(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not postmasters(data_dir)
