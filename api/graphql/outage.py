"""A resolver that finds the database away answers an error coded ``DATABASE_UNAVAILABLE``, not a fault."""

from __future__ import annotations

from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from mcreg.database import unavailable

CODE = "DATABASE_UNAVAILABLE"


class DatabaseOutage(SchemaExtension):
    """Turns each error caused by an unreachable database into one the client may retry, like REST's 503."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [retryable(error) for error in result.errors]


def retryable(error: GraphQLError) -> GraphQLError:
    if error.original_error is None or not unavailable(error.original_error):
        return error
    return GraphQLError(
        "the registry's database does not answer; retry later",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": CODE},
    )
