"""Where the pages' templates and assets come from, and the static mounts that serve the assets.

Nothing a page loads comes from another host: a ministry's closed network has none. The API explorers'
bundles come from packages the registry depends on: Swagger UI and ReDoc from ``fastapi-offline``, GraphiQL
(with React and its explorer plugin) from ``graphene-django-graphiql-static``, whose files are read, never
imported as Django code.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from mcreg.api.pages.languages import SOURCE, install_filters, page_context

HERE = Path(__file__).parent
OWN = "/static/mcreg"
SWAGGER_UI = "/static/swagger-ui"
GRAPHIQL = "/static/graphiql"
EXPLORERS_CSS = f"{OWN}/explorers.css"
"""The API explorers' colours where theirs fall short of WCAG 2.2 AA contrast."""
EXPLORERS_JS = f"{OWN}/explorers.js"
"""Names for the few form controls the API explorers render without one."""

templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]),
    context_processors=[page_context],  # each page's language, and the gettext functions into it
)
templates.env.globals.update(stylesheet=f"{OWN}/mcreg.css", lang=SOURCE)
# A {% trans %} block's text is one line however the template wraps it: the catalogues' texts are (babel.cfg).
templates.env.policies["ext.i18n.trimmed"] = True
# English when a template renders outside a request (the language lives in each page's context, never here).
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # the i18n extension adds it
install_filters(templates.env)


def package_folder(package: str, *parts: str) -> Path:
    """A folder shipped inside an installed package (a wheel installs as files, so it is a real path)."""
    return Path(str(files(package).joinpath(*parts)))


def mount_assets(app: FastAPI) -> None:
    """Serve the pages' own stylesheet and the API explorers' bundles under ``/static``."""
    app.mount(OWN, StaticFiles(directory=HERE / "static"), name="mcreg-static")
    app.mount(SWAGGER_UI, StaticFiles(directory=package_folder("fastapi_offline", "static")), name="swagger-ui")
    graphiql = package_folder("graphene_django_graphiql_static", "static", "graphene_django_graphiql_static")
    app.mount(GRAPHIQL, StaticFiles(directory=graphiql), name="graphiql")


def wording(request: Request, template: str) -> Any:
    """The macros of ``template`` as attributes, worded in ``request``'s language: how a handler words what it
    says itself (a refusal's title and detail), kept in a template beside the page's other texts."""
    return templates.env.get_template(template).make_module(page_context(request))
