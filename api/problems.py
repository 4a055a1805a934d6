"""Errors over HTTP: RFC 9457 ``application/problem+json``, with a stable ``type`` per kind of error.

Every refusal the API gives is one of the problems listed in ``PROBLEMS``; its
``type`` is ``{public_url}/problems/{slug}``, which serves the description
below, so a client can branch on the type and a person can read what it means.
Validation problems name the field and the rule, as the registry's own errors do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from mcreg.database import UNAVAILABLE_ERRORS, unavailable
from mcreg.registry import errors
from mcreg.registry.application import BatchRejected
from mcreg.services.csv_issuance import CsvFileRefused, CsvTooManyRows
from mcreg.services.vc_api import VcApiRequestInvalid

MEDIA_TYPE = "application/problem+json"

RETRY_AFTER = 5


class ProblemResponse(JSONResponse):
    """A problem document, rendered by orjson."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


"""Seconds a client waits before retrying a request the database's absence refused."""

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str
    status: int
    description: str


def _kind(error: type[errors.DomainError], description: str) -> Kind:
    return Kind(error.type, error.title, error.status, description)


PROBLEMS: dict[str, Kind] = {
    k.slug: k
    for k in (
        _kind(errors.InvalidInput, "A field breaks a rule: `field` names it, `rule` says what it must be."),
        _kind(BatchRejected, "Some rows of a batch are invalid and the batch was not partial: nothing was written."),
        _kind(errors.NotFound, "The request names something the registry does not hold."),
        _kind(errors.Forbidden, "The caller's organisation or role may not do this to this object (`rule` says why)."),
        _kind(errors.StateConflict, "The object's current state does not allow this (e.g. revoking twice)."),
        _kind(errors.ConcurrentUpdate, "Someone changed the same object first; read it again and retry."),
        _kind(errors.IdempotencyKeyReused, "This organisation already used the Idempotency-Key for another request."),
        _kind(
            VcApiRequestInvalid,
            "The body is not the request the W3C VC-API defines for the endpoint, or the credential cannot be signed "
            "through it (`detail` says why).",
        ),
        _kind(
            CsvFileRefused,
            "A CSV import cannot be read as a whole (`rule`: encoding, syntax, columns, header or rows; `unknown` "
            "and `missing` name columns): nothing was written.",
        ),
        _kind(CsvTooManyRows, "A CSV import holds more rows than `max_rows`: nothing was written."),
        Kind(
            "csv-formula-cell",
            "Formula in a CSV cell",
            422,
            "A cell of a CSV import's row starts with `=`, `+`, `-` or `@`, which a spreadsheet opening the data "
            "would run as a formula: the row is refused (a plain number in a numeric column is not a formula).",
        ),
        _kind(errors.NoQualityAssurance, "No accreditation or positive review covers the issuance on its issue date."),
        Kind("malformed-request", "Malformed request", 400, "The body is not well-formed JSON (or NDJSON)."),
        Kind("unauthenticated", "Unauthenticated", 401, "No valid API key or bearer token was presented."),
        Kind(
            "too-many-failed-authentications",
            "Too many failed authentications",
            429,
            "Too many API keys or tokens from this address were refused lately; no key is looked at until the "
            "Retry-After seconds have passed.",
        ),
        Kind(
            "position-beyond-head",
            "Position beyond the head of the log",
            416,
            "The feed was asked to resume after a position the log has not reached (`head` is how far it has). "
            "Positions are never too old: the log keeps every event from position 1.",
        ),
        Kind("method-not-allowed", "Method not allowed", 405, "The resource exists but does not take this method."),
        Kind("payload-too-large", "Payload too large", 413, "The body is larger than this endpoint accepts."),
        Kind("unsupported-media-type", "Unsupported media type", 415, "The body's Content-Type is not accepted here."),
        Kind("not-ready", "Not ready", 503, "The registry cannot serve yet (its database does not answer)."),
        Kind(
            "position-not-reached",
            "Position not reached",
            503,
            "The read presented an `MCREG-Position` that the read models (a replica's, and the primary's) had not "
            "applied within the wait; retry after Retry-After seconds.",
        ),
        Kind(
            "database-unavailable",
            "Database unavailable",
            503,
            "The registry's database is down, restarting or out of reach; nothing is wrong with the request. Retry "
            "it after Retry-After seconds with the same Idempotency-Key: a write applies once, however often sent.",
        ),
        Kind("internal-error", "Internal error", 500, "A fault in the registry; the request id finds it in the logs."),
    )
}


CLIENT_CLOSED_REQUEST = 499
"""The status logged for a request its client abandoned (nginx's convention; no client ever sees it)."""


class Problem(BaseModel):
    """An RFC 9457 problem document; extension members depend on the ``type``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://registry.example/problems/invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["ects: must be a number between 0.5 and 60"])
    instance: str | None = Field(default=None, description="The request id: quote it when reporting a problem.")


class ProblemError(Exception):
    """A refusal that no registry rule raises: authentication, media types, sizes, readiness."""

    def __init__(self, slug: str, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.kind = PROBLEMS[slug]
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request, kind: Kind, detail: str, extensions: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    base = request.app.state.public_url
    body = {
        "type": f"{base}/problems/{kind.slug}",
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": f"urn:request:{request.state.request_id}" if hasattr(request.state, "request_id") else None,
        **extensions,
    }
    log.info("request.refused", problem=kind.slug, status=kind.status, detail=detail, **_loggable(extensions))
    return ProblemResponse(body, status_code=kind.status, headers=headers)


def _loggable(extensions: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extensions.items() if k in ("field", "rule", "kind", "id")}


def field_path(loc: Sequence[str | int]) -> str:
    """``("body", "learner", "name")`` → ``learner.name``; ``("body", "rows", 3, "x")`` → ``rows[3].x``."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or str(loc[0] if loc else "body")


RULES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "uuid_parsing": "must be a UUID",
    "uuid_type": "must be a UUID",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_type": "must be a date (YYYY-MM-DD)",
}


def _rule(error: dict[str, Any]) -> str:
    return RULES.get(error["type"], str(error["msg"]).rstrip(".").lower())


def install(app: FastAPI, public_url: str) -> None:
    """Make every error the app can raise a problem document."""
    app.state.public_url = public_url.rstrip("/")

    @app.exception_handler(errors.DomainError)
    def domain_error(request: Request, error: errors.DomainError) -> JSONResponse:
        kind = PROBLEMS.get(error.type) or Kind(error.type, error.title, error.status, "")
        return problem_response(request, kind, error.detail, dict(error.extensions))

    @app.exception_handler(ProblemError)
    def problem_error(request: Request, error: ProblemError) -> JSONResponse:
        return problem_response(request, error.kind, error.detail, error.extensions, error.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        found = list(error.errors())
        if any(e["type"] == "json_invalid" for e in found):
            return problem_response(request, PROBLEMS["malformed-request"], "the body is not valid JSON", {})
        fields = [{"field": field_path(e["loc"]), "rule": _rule(e)} for e in found]
        first = fields[0]
        extensions = {"field": first["field"], "rule": first["rule"], "errors": fields}
        return problem_response(request, PROBLEMS["invalid-input"], f"{first['field']}: {first['rule']}", extensions)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> JSONResponse:
        slug = {
            400: "malformed-request",  # e.g. a body that is not UTF-8, which FastAPI refuses before JSON parsing
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
            415: "unsupported-media-type",
        }
        kind = PROBLEMS.get(slug.get(error.status_code, ""))
        if kind is None:
            kind = Kind("http-error", "HTTP error", error.status_code, "")
        detail = "no such resource" if error.status_code == 404 and error.detail == "Not Found" else str(error.detail)
        return problem_response(request, kind, detail, {}, dict(error.headers or {}))

    @app.exception_handler(ClientDisconnect)
    def abandoned(request: Request, error: ClientDisconnect) -> Response:
        # The client left before its body was read (it gave up while the database was away, say): nothing failed
        # here and no one reads the answer, which is logged and counted as 499, not as a 500.
        log.info("request.abandoned")
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(Exception)
    def internal_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("request.failed", error=type(error).__name__)
        return problem_response(request, PROBLEMS["internal-error"], "the registry failed; quote the instance", {})

    def database_error(request: Request, error: Exception) -> JSONResponse:
        if not unavailable(error):
            return internal_error(request, error)
        log.warning("database.unavailable", error=type(error).__name__, reason=str(error))
        kind, retry = PROBLEMS["database-unavailable"], {"Retry-After": str(RETRY_AFTER)}
        return problem_response(request, kind, "the registry's database does not answer; retry later", {}, retry)

    for error_type in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_type, database_error)
