"""Read-your-writes: a write answers its position, a read presenting it waits for read models that have it, and a
replica whose read models lag too far leaves the read to the primary (api/read_sides.py, decision 77).

The "replica" here is a second set of read models in a schema of their own: the same routing a streaming replica
gets, with a lag the test controls (tests/reliability/failover_drill.py runs a real cluster).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mcreg.api.app import create_app
from mcreg.bootstrap import Services, open_read_models, open_transparency_log, view_env
from mcreg.database import Database
from mcreg.projections import quarantine
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from tests.api.rest import As, caller
from tests.world import World, learner


def issue(provider: As, world: World) -> tuple[str, int]:
    """A credential issued over REST: its id, and the position its answer gave."""
    body = {"microcredential_id": str(world.microcredential_id), "learner": {"name": learner().name}}
    answer = provider.post("/v1/credentials", body | {"issued_on": "2024-03-01"}, key=uuid.uuid4().hex)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], int(answer.headers["MCREG-Position"])


@pytest.fixture
def quick(services: Services) -> Services:
    """The registry with a read that waits 0.3 s for a position, and a replica lag limit of 0 events."""
    return dataclasses.replace(
        services, settings=services.settings.model_copy(update={"read_wait": 0.3, "read_lag_limit": 0})
    )


@pytest.fixture
def log(services: Services) -> Iterator[TransparencyLog]:
    log = open_transparency_log(services)
    yield log
    log.close()


@pytest.fixture
def replica_models(services: Services) -> Iterator[ReadModels]:
    """Read models in a schema of their own, that follow the registry only when the test catches them up."""
    schema = f"{services.settings.postgres_schema}_copy"
    with psycopg.connect(services.database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    models = ReadModels(services.registry, view_env(services) | {"POSTGRES_SCHEMA": schema})
    yield models
    models.close()
    with psycopg.connect(services.database.conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_read_presenting_a_writes_position_sees_it_once_the_read_models_have_it(
    quick: Services, read_models: ReadModels, log: TransparencyLog, world: World
) -> None:
    with TestClient(create_app(quick, read_models, log)) as client:
        provider = caller(quick, client, world.provider.role, world.provider_id)
        credential, position = issue(provider, world)
        wanted = {"MCREG-Position": str(position)}

        early = client.get(f"/v1/credentials/{credential}/verify", headers=wanted)
        assert early.status_code == 503, "the read models have not applied the write: no stale answer as current"
        assert early.json()["type"].endswith("/problems/position-not-reached")
        assert early.headers["Retry-After"] == "1"

        read_models.catch_up()
        log.catch_up()
        late = client.get(f"/v1/credentials/{credential}/verify", headers=wanted)
        assert late.status_code == 200
        assert late.json()["status"] == "active"
        assert late.headers["MCREG-Read-From"] == "primary"
        assert int(late.headers["MCREG-Position"]) >= position


def test_a_position_that_is_no_number_is_refused_naming_the_header(
    quick: Services, read_models: ReadModels, log: TransparencyLog, world: World
) -> None:
    with TestClient(create_app(quick, read_models, log)) as client:
        refused = client.get(f"/v1/credentials/{world.issue()}/verify", headers={"MCREG-Position": "-1"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "MCREG-Position"


def test_a_lagging_replica_leaves_reads_to_the_primary_and_says_how_far_behind_it_is(
    quick: Services, read_models: ReadModels, log: TransparencyLog, replica_models: ReadModels, world: World
) -> None:
    with TestClient(create_app(quick, read_models, log, replica=(replica_models, log))) as client:
        provider = caller(quick, client, world.provider.role, world.provider_id)
        credential, position = issue(provider, world)
        read_models.catch_up()
        log.catch_up()

        behind = client.get(f"/v1/credentials/{credential}/verify")
        assert behind.status_code == 200
        assert behind.headers["MCREG-Read-From"] == "primary"
        assert int(behind.headers["MCREG-Replica-Lag"]) >= position - replica_models.position() > 0

        presented = client.get(f"/v1/credentials/{credential}/verify", headers={"MCREG-Position": str(position)})
        assert presented.headers["MCREG-Read-From"] == "primary", "the replica lacks the write: the primary has it"
        assert presented.json()["status"] == "active"

        replica_models.catch_up()
        caught_up = client.get(f"/v1/credentials/{credential}/verify", headers={"MCREG-Position": str(position)})
        assert caught_up.headers["MCREG-Read-From"] == "replica"
        assert caught_up.json()["status"] == "active"


@pytest.fixture
def read_only_url(admin_conninfo: str, database: Database, services: Services) -> Iterator[str]:
    """A URL of the test's database whose sessions are read-only, as a streaming replica's are."""
    role, schema = f"reader_{uuid.uuid4().hex[:8]}", services.settings.postgres_schema
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'reader'")
        conn.execute(f"ALTER ROLE {role} SET default_transaction_read_only = on")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    params = conninfo_to_dict(database.conninfo) | {"user": role, "password": "reader"}
    yield make_conninfo("", **params)
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_serve_opens_its_read_models_on_a_read_only_replica_and_reads_them(
    services: Services, read_models: ReadModels, log: TransparencyLog, world: World, read_only_url: str
) -> None:
    schema = services.settings.postgres_schema
    with psycopg.connect(services.database.conninfo, autocommit=True) as conn:  # the tables came with the WAL
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {conninfo_to_dict(read_only_url)['user']}")
    world.issue()
    read_models.catch_up()
    log.catch_up()
    replicated = dataclasses.replace(services, read_database=Database(read_only_url, "replica"))
    replica_models = open_read_models(replicated, replica=True)
    replica_log = open_transparency_log(replicated, replica=True)
    try:
        assert replica_models.position() == read_models.position() > 0
        assert replica_log.checkpoint() == log.checkpoint()
    finally:
        replica_models.close()
        replica_log.close()


def test_a_read_database_without_the_read_models_tables_is_named_as_not_a_replica_yet(
    services: Services, read_only_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The read database names a schema the primary never made (as a replica that has not replayed it yet, or one of
    # another database): serve waits for it a while, then says so, rather than try to create it there.
    monkeypatch.setattr(quarantine, "REPLICA_WAIT", 0.5)
    replicated = dataclasses.replace(
        services,
        read_database=Database(read_only_url, "replica"),
        settings=services.settings.model_copy(update={"postgres_schema": f"never_{uuid.uuid4().hex[:8]}"}),
    )
    with pytest.raises(quarantine.NotReplicated, match="not \\(yet\\) a replica"):
        open_read_models(replicated, replica=True)
