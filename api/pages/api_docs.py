"""The API explorers: Swagger UI at ``/docs``, ReDoc at ``/redoc`` and GraphiQL at ``/graphql``, on local assets.

FastAPI's and strawberry's own pages load their scripts from public CDNs, so in a closed network they stay
blank; these are the same pages pointed at the bundles under ``/static`` (see ``mcreg.api.pages.assets``).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter

from mcreg.api.pages.assets import EXPLORERS_CSS, EXPLORERS_JS, GRAPHIQL, SWAGGER_UI, templates

DOCS = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
REDOC = "/redoc"
CLOSED_NETWORK = {"Content-Security-Policy": "img-src 'self' data:"}
"""ReDoc's side menu shows Redocly's logo from cdn.redoc.ly, whatever its options say: the browser must not even try."""


def install_api_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve Swagger UI and ReDoc as FastAPI would (made with ``docs_url=None, redoc_url=None``), on local assets."""

    async def swagger_ui(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "swagger_ui.html",
            {
                "title": f"{app.title} - Swagger UI",
                "assets": SWAGGER_UI,
                "explorers_css": EXPLORERS_CSS,
                "explorers_js": EXPLORERS_JS,
                "openapi_url": openapi_url,
                "oauth2_redirect_url": OAUTH2_REDIRECT,
            },
        )

    async def swagger_ui_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        context = {
            "title": f"{app.title} - ReDoc",
            "assets": SWAGGER_UI,
            "explorers_css": EXPLORERS_CSS,
            "explorers_js": EXPLORERS_JS,
            "openapi_url": openapi_url,
        }
        return templates.TemplateResponse(request, "redoc.html", context, headers=CLOSED_NETWORK)

    app.add_route(DOCS, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT, swagger_ui_redirect, include_in_schema=False)
    app.add_route(REDOC, redoc, include_in_schema=False)


class LocalGraphiQLRouter(GraphQLRouter[Any, Any]):
    """strawberry's GraphQL router, whose GraphiQL page loads GraphiQL, React and the explorer from here, and whose
    answers orjson renders."""

    def encode_json(self, data: object) -> bytes:
        """Answers rendered by orjson (strawberry's own is ``json.dumps``)."""
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        context = {"assets": GRAPHIQL, "explorers_css": EXPLORERS_CSS, "explorers_js": EXPLORERS_JS}
        return templates.TemplateResponse(request, "graphiql.html", context)
