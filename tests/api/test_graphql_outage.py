"""GraphQL over a database it cannot reach: an error coded ``DATABASE_UNAVAILABLE``, even where errors are masked."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from mcreg.api.graphql.context import GraphQLContext
from mcreg.api.graphql.schema import create_schema
from mcreg.bootstrap import Services, open_read_models


@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
def test_a_resolver_that_cannot_reach_the_database_answers_a_retryable_error(services: Services, production: bool):
    read_models = open_read_models(services)
    read_models.close()  # its connections are gone, as when the server is
    context = GraphQLContext(registry=services.registry, read_models=read_models)
    query = "query($id: ID!) { credential(id: $id) { id } }"

    result = asyncio.run(
        create_schema(production=production).execute(query, variable_values={"id": str(uuid4())}, context_value=context)
    )

    assert result.data == {"credential": None}
    (error,) = result.errors or []
    assert error.extensions == {"code": "DATABASE_UNAVAILABLE"}
    assert error.message == "the registry's database does not answer; retry later"
    assert error.path == ["credential"]
