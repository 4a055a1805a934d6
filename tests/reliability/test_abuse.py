"""Abuse: documents and requests built to exhaust the registry are refused before they cost anything."""

from __future__ import annotations

import secrets
import time
from uuid import uuid4

from fastapi.testclient import TestClient
from limits import parse as parse_rate

from mcreg.api.throttle import FailedAuthentications
from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.vocabulary import Role
from tests.api.test_graphql_standing import statements_sent


def graphql(client: TestClient, document: object) -> dict:
    response = client.post("/graphql", json=document)
    assert response.status_code in (200, 400), response.text
    return response.json()


def test_abusive_graphql_is_refused_at_validation_and_runs_no_sql(
    services: Services, read_models: ReadModels, client: TestClient, monkeypatch
) -> None:
    nested = "query { credential(id: 1) { " + "qaBasis { " * 50 + "id" + " }" * 50 + " } }"
    aliases = "query { " + " ".join(f"a{i}: credential(id: 1) {{ id }}" for i in range(1000)) + " }"
    tokens = "query { " + " ".join(f"c{i}: __typename" for i in range(50_000)) + " }"
    giant_page = (
        '{ credentials(providerId: "00000000-0000-0000-0000-000000000001", first: 100000000) { edges { cursor } } }'
    )
    batch = [{"query": "{ credential(id: 1) { id } }"}] * 100
    with statements_sent(monkeypatch) as sent:
        for document in (nested, aliases, tokens):
            body = graphql(client, {"query": document})
            assert body.get("data") is None and body["errors"]
        refused = graphql(client, {"query": giant_page})
        assert refused["errors"][0]["message"] == "first: must be from 1 to 100"
        batched = client.post("/graphql", json=batch)
        assert batched.status_code == 400 or "errors" in batched.json()
    assert sent == [], sent[:3]


def test_guessing_api_keys_costs_one_lookup_each_until_the_address_is_refused_without_any(
    services: Services, client: TestClient, monkeypatch
) -> None:
    limit = parse_rate(services.settings.auth_failure_limit).amount
    valid = {"Authorization": f"Bearer {services.keys.create(uuid4(), Role.AUDITOR, name='auditor').token}"}
    with statements_sent(monkeypatch) as sent:
        for _ in range(limit):
            guess = f"mcreg_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
            response = client.get("/v1/events", headers={"Authorization": f"Bearer {guess}"})
            assert response.status_code == 401
        # Beside the lookups, only the pool's liveness check of the connection it hands out: an empty statement.
        lookups = [statement for statement in sent if statement]
        assert len(lookups) == limit and all("WHERE prefix = " in statement for statement in lookups)
        for _ in range(50):  # the guesser is refused before any lookup, even with a real key
            response = client.get("/v1/events", headers=valid)
            assert response.status_code == 429
        assert len([statement for statement in sent if statement]) == limit
    assert response.json()["type"].endswith("/problems/too-many-failed-authentications")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/v1/log/checkpoint").status_code == 200  # without a key, it is the public
    elsewhere = TestClient(client.app, client=("192.0.2.7", 50000))
    assert elsewhere.get("/v1/events", headers=valid).status_code == 200


def test_not_shaped_like_a_key_costs_no_lookup(services: Services, client: TestClient, monkeypatch) -> None:
    with statements_sent(monkeypatch) as sent:
        for _ in range(20):
            assert client.get("/v1/events", headers={"Authorization": "Bearer x" * 5}).status_code == 401
    assert sent == []


def test_an_address_may_present_keys_again_once_the_window_has_room() -> None:
    failures = FailedAuthentications("2/second")
    failures.failed("192.0.2.1")
    assert failures.retry_after("192.0.2.1") is None
    failures.failed("192.0.2.1")
    assert failures.retry_after("192.0.2.1") == 1
    assert failures.retry_after("192.0.2.2") is None
    time.sleep(1.05)
    assert failures.retry_after("192.0.2.1") is None


def test_a_flood_of_bodies_over_the_limit_is_refused_without_being_read_whole(
    services: Services, client: TestClient
) -> None:
    limit = services.settings.max_body_bytes
    huge = b"[" + b"1," * limit + b"1]"
    response = client.post("/v1/agencies", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
