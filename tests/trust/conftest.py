"""What the trust tests share: a world, its provider's key, and the public."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.world import World


@pytest.fixture
def world(services: Services) -> World:
    return World(services.registry)


@pytest.fixture
def provider(services: Services, client: TestClient, world: World) -> As:
    return caller(services, client, Role.PROVIDER, world.provider_id)


@pytest.fixture
def public(client: TestClient) -> As:
    return As(client, None)
