"""The writer URL names every member of the cluster (libpq multi-host) with ``target_session_attrs=read-write``:
whatever order the members are named in, the registry, its read models and its leases write on the primary
(``mcreg/stores/datastore.py`` passes the choice on to the library's pools, decision 77). A lease taken on a
standby would lock nothing a primary's session can see, so two workers could both follow."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mcreg.bootstrap import Services, bootstrap, open_leases, open_read_models
from mcreg.settings import Settings
from tests.reliability.failover_drill import HaCluster
from tests.world import World

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]


def standby_first(cluster: HaCluster) -> str:
    """The writer URL with the members reordered: the replicas first, the primary last."""
    params = conninfo_to_dict(cluster.writer)
    ports = [cluster.member_port(m) for m in (*cluster.replicas(), cluster.primary())]
    assert len(ports) == 3, "a primary and two replicas"
    return make_conninfo("", **params | {"host": ",".join(["127.0.0.1"] * 3), "port": ",".join(map(str, ports))})


def in_recovery(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


@pytest.fixture
def reordered(ha_cluster: HaCluster, tmp_path: Path) -> Iterator[Services]:
    """A registry on a schema of its own, opened with the replica-first writer URL."""
    url = standby_first(ha_cluster)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    services = bootstrap(Settings(database_url=url, postgres_schema=schema, data_dir=tmp_path))
    yield services
    services.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_writer_url_naming_a_replica_first_writes_on_the_primary(reordered: Services) -> None:
    anyone = conninfo_to_dict(reordered.database.conninfo)
    del anyone["target_session_attrs"]
    with psycopg.connect(make_conninfo("", **anyone)) as conn:
        assert in_recovery(conn), "without target_session_attrs the first member named, a standby, answers"

    world = World(reordered.registry)  # the registry's own pool writes: an agency, a provider, a micro-credential
    with reordered.pool.connection() as conn:
        assert not in_recovery(conn)
    read_models = open_read_models(reordered)
    try:
        read_models.catch_up()  # the views' pools write their rows and tracking
        head = reordered.registry.recorder.max_notification_id()
        assert head and read_models.position() == head
    finally:
        read_models.close()
    leases = open_leases(reordered)
    try:
        assert leases.lease("credential_status").acquire()
        assert leases.execute("SELECT pg_is_in_recovery()") is False, "the lease is taken on the primary"
    finally:
        leases.close()
    assert world.issue()
