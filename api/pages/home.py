"""The home page, ``/``: what the registry is, its figures at a glance, and where to go next."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mcreg.api.deps import ReadSide, Visitor
from mcreg.api.pages.assets import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, _: Visitor, read_models: ReadSide) -> HTMLResponse:
    """What the registry is, how many credentials it has issued, and links to every page and API it serves."""
    issued = read_models.dashboard.dashboard().volumes.total
    return templates.TemplateResponse(request, "home.html", {"issued": issued})
