"""`mcreg serve` on an empty embedded database, and the lifecycle script played against it over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import MCREG, data_folder, free_port, fresh_machine, no_postmaster_left, serve

# `mcreg serve` starts an embedded PostgreSQL of its own, which no fixture shows, whatever DATABASE_URL says.
pytestmark = [pytest.mark.postgres, pytest.mark.embedded]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data() -> Iterator[Path]:
    """The data folder of a fresh machine."""
    with data_folder() as folder:
        yield folder


def test_the_lifecycle_plays_over_http_against_mcreg_serve(data: Path, tmp_path: Path) -> None:
    embedded_env = fresh_machine(data)
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
    server = serve(embedded_env, port, tmp_path / "serve.log")
    try:
        url = f"http://127.0.0.1:{port}"
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
    assert no_postmaster_left(data), "the served registry's PostgreSQL outlived it"
