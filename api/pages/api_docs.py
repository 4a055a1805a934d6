"""The API explorers: Swagger UI at ``/docs``, ReDoc at ``/redoc`` and GraphiQL at ``/graphql``, on local assets.

FastAPI's and strawberry's own pages load their scripts from public CDNs, so in a closed network they stay
blank; these are the same pages pointed at the bundles under ``/static`` (see ``mcreg.api.pages.assets``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter

from mcreg.api.pages.assets import GRAPHIQL, SWAGGER_UI, templates

DOCS = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
REDOC = "/redoc"


def install_api_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve Swagger UI and ReDoc as FastAPI would (made with ``docs_url=None, redoc_url=None``), on local assets."""
    favicon = f"{SWAGGER_UI}/favicon.png"

    async def swagger_ui(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=favicon,
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )

    async def swagger_ui_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(_: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{SWAGGER_UI}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )

    app.add_route(DOCS, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT, swagger_ui_redirect, include_in_schema=False)
    app.add_route(REDOC, redoc, include_in_schema=False)


class LocalGraphiQLRouter(GraphQLRouter[Any, Any]):
    """strawberry's GraphQL router, whose GraphiQL page loads GraphiQL, React and the explorer from here."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "graphiql.html", {"assets": GRAPHIQL})
