"""The FastAPI application: the REST API under ``/v1``, GraphQL at ``/graphql``, operations endpoints, and the pages
for people (the home page, the API explorers) with the assets they load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from mcreg.api.auth import Authenticator
from mcreg.api.deps import ServedFrom, Visitor
from mcreg.api.graphql.context import GraphQLContext
from mcreg.api.graphql.schema import create_schema
from mcreg.api.observability import Metrics, RequestMiddleware
from mcreg.api.pages import PAGES
from mcreg.api.pages.api_docs import LocalGraphiQLRouter, install_api_docs
from mcreg.api.pages.assets import mount_assets
from mcreg.api.pages.errors import install_page_errors
from mcreg.api.pages.languages import LanguageCookie
from mcreg.api.problems import install as install_problems
from mcreg.api.read_sides import PositionHeaders, ReadRouter, ReadSide
from mcreg.api.rest import (
    accreditations,
    agencies,
    contexts,
    credentials,
    credentials_csv,
    events,
    export,
    imports,
    keys,
    lookup,
    microcredentials,
    operations,
    providers,
    recognitions,
    reviews,
    status_lists,
    transparency,
    vc_api,
    verify,
    webhooks,
)
from mcreg.api.rest.links import link_created_objects
from mcreg.api.throttle import FailedAuthentications
from mcreg.bootstrap import Services, open_transparency_log, open_webhooks
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.projections.webhook_outbox import OutboxProjection
from mcreg.services.exports import CredentialExports
from mcreg.services.verification import CredentialVerifier
from mcreg.webhooks.subscriptions import Webhooks

ROUTERS = (
    operations,
    agencies,
    providers,
    accreditations,
    reviews,
    microcredentials,
    credentials,
    credentials_csv,
    recognitions,
    events,
    export,
    verify,
    imports,
    lookup,
    keys,
    status_lists,
    contexts,
    transparency,
    vc_api,
    webhooks,
)

DESCRIPTION = """The micro-credential QA and recognition registry.

QA agencies log reviews and accreditations, providers issue and revoke credentials, institutions record
recognition decisions; everyone may verify a credential. Authenticate with an API key (or an OAuth2 access
token) as `Authorization: Bearer …`. Every POST takes an `Idempotency-Key`. Errors are RFC 9457 problem
documents whose `type` names the rule broken.
"""


def create_app(
    services: Services,
    read_models: ReadModels,
    transparency_log: TransparencyLog | None = None,
    webhooks: Webhooks | None = None,
    replica: tuple[ReadModels, TransparencyLog] | None = None,
) -> FastAPI:
    """The HTTP API over one registry, its read models, its transparency log and its webhook subscriptions (the
    last two opened here if not given); reads are served from ``replica``'s read models and log when given."""
    settings = services.settings
    owned_log = transparency_log is None
    log = transparency_log or open_transparency_log(services)
    owned_webhooks = webhooks is None
    hooks = webhooks or open_webhooks(services)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned_log:
            log.close()
        if owned_webhooks:
            hooks.view.close()

    production = settings.env == "production"
    app = FastAPI(
        title="mcreg",
        summary="The micro-credential QA and recognition registry",
        description=DESCRIPTION,
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url=None,  # served by install_api_docs on local assets
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,  # operationId: the handler's name, as `revoke_credential`
    )
    app.state.services = services
    app.state.read_models = read_models
    app.state.transparency_log = log
    app.state.webhooks = hooks

    def side(name: str, models: ReadModels, tree: TransparencyLog) -> ReadSide:
        exports = CredentialExports(services.registry, services.issuer_keys, models, settings.public_url)
        return ReadSide(name, models, tree, exports, CredentialVerifier(exports, tree))

    primary = side("primary", read_models, log)
    app.state.read_router = ReadRouter(
        primary,
        side("replica", *replica) if replica else None,
        wait=settings.read_wait,
        lag_limit=settings.read_lag_limit,
    )
    app.state.authenticator = Authenticator.from_settings(settings, services.keys, services.registry.clock)
    app.state.failed_authentications = FailedAuthentications(settings.auth_failure_limit)
    app.state.metrics = Metrics(
        lambda: services.registry.recorder.max_notification_id() or 0,
        lambda: read_models.lag() | {log.name: log.lag(), OutboxProjection.name: hooks.lag()},
        read_models.stopped,
    )
    install_problems(app, settings.public_url)
    install_page_errors(app)
    for module in ROUTERS:
        app.include_router(module.router)
    for page in PAGES:
        app.include_router(page.router)
    install_api_docs(app, "/openapi.json")
    mount_assets(app)

    async def context(actor: Visitor, served: ServedFrom) -> GraphQLContext:  # async: no hop to a worker thread
        return GraphQLContext(registry=services.registry, read_models=served.side.read_models, actor=actor)

    app.include_router(
        LocalGraphiQLRouter(
            create_schema(production=production), context_getter=context, graphql_ide=None if production else "graphiql"
        ),
        prefix="/graphql",
    )
    describe = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            link_created_objects(describe())
        return app.openapi_schema  # type: ignore[return-value]  # set by describe()

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(LanguageCookie)
    app.add_middleware(PositionHeaders, head=lambda: services.registry.recorder.max_notification_id() or 0)
    app.add_middleware(
        RequestMiddleware,
        metrics=app.state.metrics,
        max_body=settings.max_body_bytes,
        max_bulk_body=settings.max_batch_bytes,
    )
    return app
