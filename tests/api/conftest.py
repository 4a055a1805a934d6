"""An HTTP client on the application, with its read models on the test's own schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Services
from projections.read_models import ReadModels


@pytest.fixture
def client(services: Services, read_models: ReadModels) -> Iterator[TestClient]:
    with TestClient(create_app(services, read_models)) as client:
        yield client
