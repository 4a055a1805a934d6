"""The Patroni cluster the ``cluster`` tests run on, and a registry of each test's own on it.

The cluster is one ``deploy/ha/cluster.sh start DIR`` started, named by ``MCREG_TEST_CLUSTER=DIR``: the tests
read its writer and reader URLs from it (``cluster.sh urls``), and reach each member as its superuser over the
member's own socket, to pause a replica's replay or to kill a primary. Without it these tests are skipped,
saying how to run them, except under ``CI=true`` (``.ci/run``'s cluster step gives one), where they fail.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mcreg.bootstrap import Services, bootstrap
from mcreg.settings import Settings
from tests.reliability.failover_drill import HaCluster

HOW = (
    "the cluster tests need a Patroni cluster: deploy/ha/cluster.sh start DIR, then"
    " MCREG_TEST_CLUSTER=DIR DATABASE_URL=<its MCREG_DATABASE_URL> pytest -m cluster"
)


@pytest.fixture(scope="session")
def ha_cluster() -> HaCluster:
    folder = os.environ.get("MCREG_TEST_CLUSTER")
    if not folder:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MCREG_TEST_CLUSTER is not set: {HOW}")
        pytest.skip(HOW)
    if not (Path(folder) / "cluster.env").is_file():
        pytest.fail(f"MCREG_TEST_CLUSTER={folder} holds no cluster: {HOW}")
    return HaCluster.running(Path(folder))


@pytest.fixture
def on_cluster(ha_cluster: HaCluster, tmp_path: Path) -> Iterator[Services]:
    """A registry on the cluster's writer, in a schema of its own, reading from its reader (a streaming replica)."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ha_cluster.writer, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    settings = Settings(
        database_url=ha_cluster.writer,
        read_database_url=ha_cluster.reader,
        postgres_schema=schema,
        data_dir=tmp_path,
    )
    services = bootstrap(settings)
    yield services
    services.close()
    with psycopg.connect(ha_cluster.writer, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def replayed(cluster: HaCluster, timeout: float = 60) -> None:
    """Until every replica has replayed all the primary has written so far."""
    with psycopg.connect(cluster.writer, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    deadline = time.monotonic() + timeout
    for member in cluster.replicas():
        with psycopg.connect(cluster.superuser(member), autocommit=True) as conn:
            while True:
                caught = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [row[0]]).fetchone()
                if caught and caught[0]:
                    break
                assert time.monotonic() < deadline, f"pg{member} did not replay up to {row[0]} in {timeout:.0f} s"
                time.sleep(0.05)
