"""Read-your-writes on a real streaming replica (decision 77): the replica's read models and log are the primary's
tables as the WAL brings them, so a read presenting a write's position is served by the replica once it has
replayed them, and a replica whose replay stops leaves reads to the primary, saying how far behind it is
(tests/api/test_read_sides.py runs the same routing with a copy the test keeps in the same server)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from mcreg.api.app import create_app
from mcreg.bootstrap import Services, open_read_models, open_transparency_log
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from tests.api.rest import As, caller
from tests.api.test_read_sides import issue
from tests.cluster.conftest import replayed
from tests.reliability.failover_drill import HaCluster
from tests.world import World

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]


@dataclass
class Sides:
    """The API on the cluster, its primary's read models and log (kept by the test), and a provider calling it."""

    client: TestClient
    read_models: ReadModels
    log: TransparencyLog
    provider: As
    world: World

    def catch_up(self) -> None:
        self.read_models.catch_up()
        self.log.catch_up()

    def verify(self, credential: str, position: int | None = None) -> httpx.Response:
        """Verify the credential, presenting ``position`` if given."""
        headers = {"MCREG-Position": str(position)} if position is not None else {}
        return self.client.get(f"/v1/credentials/{credential}/verify", headers=headers)


@pytest.fixture
def sides(on_cluster: Services, ha_cluster: HaCluster) -> Iterator[Sides]:
    """Reads wait 1 s for a presented position, and a replica lagging by any event leaves reads to the primary."""
    services = dataclasses.replace(
        on_cluster, settings=on_cluster.settings.model_copy(update={"read_wait": 1.0, "read_lag_limit": 0})
    )
    with ExitStack() as opened:
        read_models = opened.enter_context(closing(open_read_models(services)))
        log = opened.enter_context(closing(open_transparency_log(services)))
        replayed(ha_cluster)  # the replica has the tables the primary just made
        replica = (
            opened.enter_context(closing(open_read_models(services, replica=True))),
            opened.enter_context(closing(open_transparency_log(services, replica=True))),
        )
        client = opened.enter_context(TestClient(create_app(services, read_models, log, replica=replica)))
        world = World(services.registry)
        provider = caller(services, client, world.provider.role, world.provider_id)
        yield Sides(client, read_models, log, provider, world)


def test_the_reader_url_reaches_a_streaming_replica(ha_cluster: HaCluster) -> None:
    with psycopg.connect(ha_cluster.reader) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    assert row == (True,), "prefer-standby must pick a standby while one is up"


def test_a_read_presenting_a_writes_position_is_served_by_the_replica_once_it_has_replayed_it(sides: Sides) -> None:
    credential, position = issue(sides.provider, sides.world)

    early = sides.verify(credential, position)
    assert early.status_code == 503, "no read model has the write: no stale answer as current"
    assert early.json()["type"].endswith("/problems/position-not-reached")

    sides.catch_up()  # on the primary: the replica gets the rows by replaying the WAL
    late = sides.verify(credential, position)
    assert (late.status_code, late.json()["status"]) == (200, "active")
    assert late.headers["MCREG-Read-From"] == "replica"
    assert int(late.headers["MCREG-Position"]) >= position


@pytest.fixture
def replay_paused(ha_cluster: HaCluster) -> Iterator[None]:
    """Every replica stops replaying the WAL (it still receives and flushes it: synchronous commits go on), with
    Patroni in maintenance mode, which otherwise resumes a paused replay within its loop."""
    replicas = ha_cluster.replicas()
    ha_cluster.maintenance(True)
    try:
        for member in replicas:
            with psycopg.connect(ha_cluster.superuser(member), autocommit=True) as conn:
                conn.execute("SELECT pg_wal_replay_pause()")
                deadline = time.monotonic() + 30
                while conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
                    assert time.monotonic() < deadline, f"pg{member} did not pause its replay"
                    time.sleep(0.05)
        yield
    finally:
        for member in replicas:
            with psycopg.connect(ha_cluster.superuser(member), autocommit=True) as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
        ha_cluster.maintenance(False)


def test_a_replica_that_stopped_replaying_leaves_reads_to_the_primary_and_says_how_far_behind_it_is(
    sides: Sides, ha_cluster: HaCluster, request: pytest.FixtureRequest
) -> None:
    sides.catch_up()
    replayed(ha_cluster)
    request.getfixturevalue("replay_paused")
    credential, position = issue(sides.provider, sides.world)
    sides.catch_up()

    plain = sides.verify(credential)
    assert (plain.status_code, plain.json()["status"]) == (200, "active")
    assert plain.headers["MCREG-Read-From"] == "primary"
    assert int(plain.headers["MCREG-Replica-Lag"]) > 0

    presented = sides.verify(credential, position)
    assert presented.json()["status"] == "active"
    assert presented.headers["MCREG-Read-From"] == "primary", "the replica lacks the write: the primary has it"
