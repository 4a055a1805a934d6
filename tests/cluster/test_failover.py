"""The failover drill, run once (``drill``) on the cluster of the ``cluster`` tests: its primary killed 3 times, and
the one of two leased ``mcreg project`` processes that holds the leases killed 3 times, while clients issue
credentials; nothing acknowledged is lost or written twice, and the transparency log does not fork
(tests/reliability/failover_drill.py; ``deploy/ha/drill.sh`` runs it on a cluster of its own).

It runs on the cluster ``MCREG_TEST_CLUSTER`` names (tests/cluster/conftest.py; ``.ci/run``'s cluster step runs it
last, as it leaves the cluster failed over). Its figures go to ``MCREG_FAILOVER_REPORT`` if set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.reliability.failover_drill import HaCluster, drill

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.cluster]


def test_killing_the_primary_and_the_lease_owner_loses_nothing_and_forks_no_log(ha_cluster: HaCluster) -> None:
    # Not pytest's tmp_path: its files are the drill's, kept apart from the cluster's.
    folder = Path(tempfile.mkdtemp(prefix="mcreg-failover-"))
    try:
        figures = drill(ha_cluster, folder)
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
    assert len(figures.takeover_leases) == figures.worker_kills, "the other worker took every lease each time"
