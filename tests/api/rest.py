"""Callers of the REST API in tests: an API key per organisation, made the way an operator makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from httpx2 import Response  # what starlette's TestClient answers with

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role


@dataclass(frozen=True)
class As:
    """One organisation calling the API with its own key."""

    client: TestClient
    token: str | None
    org: UUID | None = None

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path: str, body: Any = None, *, key: str | None = None) -> Response:
        return self.client.post(path, json=body, headers=self.headers(key))

    def delete(self, path: str) -> Response:
        return self.client.delete(path, headers=self.headers())

    def get(self, path: str, **params: Any) -> Response:
        return self.client.get(path, params=params, headers=self.headers())


def caller(services: Services, client: TestClient, role: Role, org: UUID, country: str | None = None) -> As:
    made = services.keys.create(org, role, name=f"test {role.value}", country=country)
    return As(client, made.token, org)
