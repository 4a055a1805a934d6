"""Where the pages' templates and assets come from, and the static mounts that serve the assets.

Nothing a page loads comes from another host: a ministry's closed network has none. The API explorers'
bundles come from packages the registry depends on: Swagger UI and ReDoc from ``fastapi-offline``, GraphiQL
(with React and its explorer plugin) from ``graphene-django-graphiql-static``, whose files are read, never
imported as Django code.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
OWN = "/static/mcreg"
SWAGGER_UI = "/static/swagger-ui"
GRAPHIQL = "/static/graphiql"

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(stylesheet=f"{OWN}/mcreg.css", lang="en")


def package_folder(package: str, *parts: str) -> Path:
    """A folder shipped inside an installed package (a wheel installs as files, so it is a real path)."""
    return Path(str(files(package).joinpath(*parts)))


def mount_assets(app: FastAPI) -> None:
    """Serve the pages' own stylesheet and the API explorers' bundles under ``/static``."""
    app.mount(OWN, StaticFiles(directory=HERE / "static"), name="mcreg-static")
    app.mount(SWAGGER_UI, StaticFiles(directory=package_folder("fastapi_offline", "static")), name="swagger-ui")
    graphiql = package_folder("graphene_django_graphiql_static", "static", "graphene_django_graphiql_static")
    app.mount(GRAPHIQL, StaticFiles(directory=graphiql), name="graphiql")
