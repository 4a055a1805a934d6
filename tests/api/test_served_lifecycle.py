"""`mcreg serve` on an empty embedded database, and the lifecycle script played against it over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

# `mcreg serve` starts an embedded PostgreSQL of its own, which no fixture shows.
pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
MCREG = str(Path(sys.executable).with_name("mcreg"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh machine: no database configured, so mcreg runs its own embedded one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCREG_", "POSTGRES_")) and k != "DATABASE_URL"}
    return env | {"MCREG_DATA_DIR": str(tmp_path / "data"), "MCREG_LOG_FORMAT": "json"}


def test_the_lifecycle_plays_over_http_against_mcreg_serve(embedded_env: dict[str, str], tmp_path: Path) -> None:
    made = subprocess.run(
        [MCREG, "keys", "create", "--role", "operator", "--name", "lifecycle"],
        env=embedded_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    token = next(word for word in made.stdout.split() if word.startswith("mcreg_"))
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([MCREG, "serve", "--port", str(port)], env=embedded_env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        played = subprocess.run(
            [sys.executable, str(ROOT / "deploy" / "lifecycle.py"), "--url", url, "--operator-key", token],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert played.returncode == 0, played.stdout + played.stderr
        assert "verify shows revoked" in played.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
