"""Fixtures: a registry in memory and on PostgreSQL, an empty schema per test; the ``postgres`` marker.

PostgreSQL is the server named by ``DATABASE_URL`` when set (CI runs the suite
once that way), else an embedded server started once for the session. Every test
that reaches it through these fixtures is marked ``postgres``, so
``pytest -m "not postgres"`` runs the in-memory tests alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from mcreg.api.app import create_app
from mcreg.bootstrap import Services, bootstrap, open_read_models
from mcreg.database import Database, open_database
from mcreg.projections.read_models import ReadModels
from mcreg.registry.application import Registry
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings
from tests.api.rest import As, caller
from tests.world import World

# The library ends a session left idle in a transaction for 5 s (its default, which mcreg keeps in service). On
# CI's 2 cores a test process can stall that long between two statements of its own (a full collection of a large
# heap, other processes), and the test then errs for the machine's sake, not the registry's (decision 84). The
# tests, and the servers and workers they start, allow a minute.
os.environ.setdefault("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "60")

# A test that asks for any of these, directly or through another fixture, runs on PostgreSQL.
POSTGRES_FIXTURES = frozenset({"database", "schema", "services"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``postgres`` each test that uses the server: through a fixture, or as the registry's postgres case."""
    for item in items:
        fixtures = POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if fixtures or (callspec is not None and callspec.params.get("registry") == "postgres"):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return open_database(Settings(data_dir=tmp_path_factory.mktemp("mcreg-data")))


@pytest.fixture(scope="session")
def admin_conninfo(database: Database) -> str:
    """A superuser connection to the test server, for what only a DBA does (roles, ownership): the embedded
    server's own, or ``MCREG_TEST_ADMIN_URL`` beside a configured server (``.ci/run`` sets it)."""
    if database.kind == "embedded":
        return database.conninfo
    admin = os.environ.get("MCREG_TEST_ADMIN_URL")
    if not admin:
        pytest.fail("MCREG_TEST_ADMIN_URL must name a superuser connection to the server DATABASE_URL names")
    return admin


@pytest.fixture
def schema(database: Database) -> Iterator[str]:
    """An empty schema of its own for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def services(database: Database, schema: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    settings = Settings(
        database_url=database.conninfo,
        postgres_schema=schema,
        data_dir=tmp_path_factory.getbasetemp(),
    )
    services = bootstrap(settings)
    yield services
    services.close()


@pytest.fixture
def read_models(services: Services) -> Iterator[ReadModels]:
    """The read models beside the test's registry, on its own schema."""
    read_models = open_read_models(services)
    yield read_models
    read_models.close()


@pytest.fixture
def client(services: Services, read_models: ReadModels) -> Iterator[TestClient]:
    """An HTTP client on the application, with its read models on the test's own schema."""
    with TestClient(create_app(services, read_models)) as client:
        yield client


@pytest.fixture(params=["memory", "postgres"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """The registry on both persistence modules: every rule runs in memory and on PostgreSQL."""
    if request.param == "memory":
        return Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return request.getfixturevalue("services").registry


@pytest.fixture
def world(services: Services) -> World:
    """A registry's usual cast (tests/world.py): an agency, a provider accredited and reviewed, a micro-credential."""
    return World(services.registry)


@pytest.fixture
def provider(services: Services, client: TestClient, world: World) -> As:
    """The world's provider, calling the API with a key of its own."""
    return caller(services, client, Role.PROVIDER, world.provider_id)


@pytest.fixture
def public(client: TestClient) -> As:
    """Anyone, calling the API without a key."""
    return As(client, None)
