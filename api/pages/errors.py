"""Errors on pages: a page that cannot answer says so as a page, in words, with the right HTTP status.

The API answers ``application/problem+json``; a person gets ``error.html`` instead, never a stack trace.
A page handler raises ``PageError`` (``status``, a short ``title`` and a sentence of ``detail``, both already
translated by the caller: ``PageLanguage``'s ``gettext``); ``install_page_errors`` renders it, and answers a
browser asking for an address the registry does not serve with ``not_found.html`` (an API client still gets the
problem document).
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from mcreg.api.pages.assets import templates


class PageError(Exception):
    """A page refuses a request: what went wrong, in words a person reads, and the HTTP status that says it."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


def wants_a_page(request: Request) -> bool:
    """Whether the client is a browser, which asks for HTML when it navigates; API clients ask for JSON."""
    return "text/html" in request.headers.get("accept", "")


def install_page_errors(app: FastAPI) -> None:
    """Render every ``PageError`` as ``error.html`` with its status, and an unknown address as a 404 page.

    Call after the problem handlers are installed: an error that is not a browser's unknown address goes to them.
    """
    problem = app.exception_handlers[HTTPException]

    async def unknown_address(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        unrouted = error.status_code == 404 and error.detail == "Not Found"  # the router's own, not a handler's
        if unrouted and wants_a_page(request):
            return templates.TemplateResponse(request, "not_found.html", {"path": request.url.path}, status_code=404)
        response = problem(request, error)
        return await response if inspect.isawaitable(response) else response

    async def page_error(request: Request, error: Exception) -> HTMLResponse:
        assert isinstance(error, PageError)
        return templates.TemplateResponse(
            request, "error.html", {"title": error.title, "detail": error.detail}, status_code=error.status
        )

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(HTTPException, unknown_address)
