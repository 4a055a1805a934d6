"""The failover drill, run once (``drill``): a Patroni cluster's primary killed 3 times, and ``mcreg project``
killed 3 times, while clients issue credentials; nothing acknowledged is lost or written twice, and the
transparency log does not fork (tests/reliability/failover_drill.py, ``deploy/ha/drill.sh``).

Without the Debian packages patroni, etcd-server and haproxy the drill is skipped, saying so, except under
``CI=true`` (``.ci/run`` installs them), where it fails. Its figures go to ``MCREG_FAILOVER_REPORT`` if set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.reliability.failover_drill import drill

MISSING = [tool for tool in ("patroni", "etcd", "haproxy") if shutil.which(tool) is None]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.drill,
    pytest.mark.skipif(
        bool(MISSING) and os.environ.get("CI") != "true",
        reason=f"apt-get install patroni etcd-server haproxy for the failover drill ({', '.join(MISSING)} missing)",
    ),
]


def test_killing_the_primary_and_the_worker_loses_nothing_and_forks_no_log() -> None:
    # Not pytest's tmp_path: when run as root the cluster runs as postgres, who must reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="mcreg-failover-"))
    folder.chmod(0o755)
    try:
        figures = drill(folder, int(os.environ.get("MCREG_FAILOVER_BASE_PORT", "26500")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = "\n".join(figures.lines())
    print(lines)
    if report := os.environ.get("MCREG_FAILOVER_REPORT"):
        Path(report).write_text(lines + "\n")
    assert figures.primary_kills >= 3 and figures.worker_kills >= 3
    assert figures.acked_lost == 0
    assert figures.duplicates == 0
    assert figures.log_forks == 0
    assert figures.rebuild_check == "passed"
