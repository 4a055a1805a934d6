"""A GraphQL document is validated once per distinct text, and what its validation refused stays refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import strawberry.schema.schema
from graphql import validate

from tests.world import World


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operation names of the documents graphql-core validates meanwhile, one per validation."""
    validated: list[str] = []

    def counted(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        validated.append(document.definitions[0].name.value)
        return validate(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry.schema.schema, "validate", counted)
    return validated


def ask(client, query: str, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_same_query_asked_twice_is_validated_once(services, read_models, client, validations):
    world = World(services.registry)
    first, second = world.issue(date(2024, 3, 1)), world.issue(date(2024, 4, 1))
    read_models.catch_up()
    query = "query ValidatedOnce($id: ID!) { credential(id: $id) { id issuedOn } }"

    answers = [ask(client, query, id=str(credential))["data"]["credential"] for credential in (first, second)]

    assert answers == [{"id": str(first), "issuedOn": "2024-03-01"}, {"id": str(second), "issuedOn": "2024-04-01"}]
    assert validations == ["ValidatedOnce"]


def test_a_document_over_a_limit_is_refused_each_time_it_is_sent(client, validations):
    nested = "query TooDeep { credential(id: 1) { " + "qaBasis { " * 50 + "id" + " }" * 50 + " } }"
    aliased = "query TooManyAliases { " + " ".join(f"a{i}: credential(id: 1) {{ id }}" for i in range(100)) + " }"
    refusals = {
        nested: "'TooDeep' exceeds maximum operation depth of 10",
        aliased: "100 aliases found. Allowed: 30",
    }

    for document, refusal in refusals.items():
        for _ in range(2):
            body = ask(client, document)
            assert body.get("data") is None
            assert refusal in [error["message"] for error in body["errors"]]

    assert validations == ["TooDeep", "TooManyAliases"]
