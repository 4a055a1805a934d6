"""What REST routers share: request and response bases, references, the idempotency key, codes, QA standing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import Header, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from mcreg.api.problems import MEDIA_TYPE, Problem
from mcreg.registry import validate


class Input(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """A representation read off an aggregate's attributes."""

    model_config = ConfigDict(from_attributes=True)


class Ref(BaseModel):
    """The object a command created or changed, and where to read it."""

    id: UUID
    href: str


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe writes: the same key with the same body gives the same answer and writes nothing "
        "more; the same key with another body is a 409. Keys are per organisation.",
    ),
]


CountryCode = Annotated[
    str,
    Field(description="ISO 3166-1 alpha-2", examples=["NL"], json_schema_extra={"enum": sorted(validate.COUNTRIES)}),
]
LanguageCode = Annotated[
    str, Field(description="ISO 639-1", examples=["en"], json_schema_extra={"enum": sorted(validate.LANGUAGES)})
]
Ects = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(validate.ECTS_MAX)},
                {"type": "string", "pattern": r"^[0-9]{1,3}(\.[0-9]{1,2})?$"},
            ],
            "description": f"ECTS credits: 0 to {validate.ECTS_MAX}, at most 2 decimals; a string keeps them exact",
            "examples": ["5"],
        }
    ),
]
"""Codes and amounts as the registry accepts them, described in the OpenAPI description so clients (and
generated requests) can meet them; the registry's own rules check them, so a bad one gets the same problem over
every route."""


def created(response: Response, collection: str, id: UUID) -> Ref:
    """A 201's body, with the new object's address in ``Location``."""
    href = f"/v1/{collection}/{id}"
    response.headers["Location"] = href
    return Ref(id=id, href=href)


def ref(collection: str, id: UUID) -> Ref:
    return Ref(id=id, href=f"/v1/{collection}/{id}")


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    """A problem response. ``model`` puts Problem among the components (and, as FastAPI does for every model,
    under application/json); the schema is named under application/problem+json too, the media type every
    problem is served as, so clients and schema checks validate problem documents against it."""
    return {"model": Problem, "description": description, "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed request body"),
    401: _problem("No valid API key or token"),
    403: _problem("The caller may not do this to this object"),
    404: _problem("Not found"),
    409: _problem("Conflicts with the current state, a concurrent change, or a reused idempotency key"),
    413: _problem("Body too large"),
    415: _problem("Unsupported media type"),
    422: _problem("A field breaks a rule"),
    429: _problem("Too many refused keys or tokens from this address lately; see Retry-After"),
    503: _problem("The database is down or restarting; retry after Retry-After, with the same Idempotency-Key"),
}
"""Problems any /v1 route may answer, documented once for the OpenAPI description."""


class Reasoned(Input):
    """A change that must say why: suspensions, withdrawals, revocations."""

    reason: str
    effective: date | None = Field(default=None, description="The business date it takes effect; today if not given")


class Dated(Input):
    """A change that needs no more than the date it takes effect."""

    effective: date | None = Field(default=None, description="The business date it takes effect; today if not given")


class NewAppeal(Input):  # against a review's decision or a recognition's
    grounds: str
    effective: date | None = None


class BasisOut(Output):
    kind: str
    id: UUID
    version: int


class StandingOut(Output):  # where a credential's QA basis stood on a date
    basis: BasisOut | None
    standing: str
