"""The FastAPI application: health, and the GraphQL read API mounted at ``/graphql``."""

from __future__ import annotations

from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from api.bootstrap import Services
from api.graphql.context import Context
from api.graphql.schema import create_schema
from projections.read_models import ReadModels


def create_app(services: Services, read_models: ReadModels) -> FastAPI:
    """The HTTP API over one registry and its read models (the composition root builds both)."""
    production = services.settings.env == "production"
    app = FastAPI(title="mcreg", summary="The micro-credential QA and recognition registry", version="0.1.0")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up and answers."""
        return {"status": "ok"}

    def context() -> Context:
        return Context(registry=services.registry, read_models=read_models)

    app.include_router(
        GraphQLRouter(
            create_schema(production=production), context_getter=context, graphql_ide=None if production else "graphiql"
        ),
        prefix="/graphql",
    )
    return app
