"""Abuse: documents and requests built to exhaust the registry are refused before they cost anything."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from api.bootstrap import Services
from projections.read_models import ReadModels
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


def test_guessing_api_keys_costs_one_indexed_lookup_each_and_never_lets_anyone_in(
    services: Services, client: TestClient, monkeypatch
) -> None:
    with statements_sent(monkeypatch) as sent:
        for _ in range(200):
            guess = f"mcreg_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
            response = client.get("/v1/events", headers={"Authorization": f"Bearer {guess}"})
            assert response.status_code == 401
        for _ in range(50):  # not even shaped like a key: no lookup at all
            assert client.get("/v1/events", headers={"Authorization": "Bearer x" * 5}).status_code == 401
    assert len(sent) == 200
    assert all("WHERE prefix = " in statement for statement in sent)


def test_a_flood_of_bodies_over_the_limit_is_refused_without_being_read_whole(
    services: Services, client: TestClient
) -> None:
    limit = services.settings.max_body_bytes
    huge = b"[" + b"1," * limit + b"1]"
    response = client.post("/v1/agencies", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
