"""The ``cluster`` fixture: a private PostgreSQL cluster per test, stopped and removed after it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.servers import Cluster, free_port


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Not pytest's tmp_path: when run as root the server runs as another user, who must reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="mcreg-crash-"))
    folder.chmod(0o755)
    cluster = Cluster(folder, free_port())
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)
