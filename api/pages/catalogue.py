"""The catalogue page, ``/catalogue``: micro-credentials or providers, narrowed filter by filter with facet counts.

A plain GET form and links: every filter is a query parameter, so a list can be bookmarked and works without
JavaScript. Values are checked by the registry's own vocabulary rules; a value that breaks one is a 400 page
naming the filter. The lists and counts come from ``mcreg.projections.browsing``, which REST and GraphQL read too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mcreg.api.deps import ReadSide, Visitor
from mcreg.api.pages.assets import templates, wording
from mcreg.api.pages.errors import PageError
from mcreg.projections.browsing import (
    ECTS_BANDS,
    MicroCredentialFilters,
    MicroCredentialQA,
    ProviderFilters,
    ProviderQA,
)
from mcreg.projections.read_models import ReadModels
from mcreg.registry import validate as v
from mcreg.registry.errors import InvalidInput
from mcreg.registry.vocabulary import ProviderType

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
TEXT_MAX = 200


class Listing(StrEnum):
    MICROCREDENTIALS = "microcredentials"
    PROVIDERS = "providers"


FILTERS = {
    Listing.MICROCREDENTIALS: ("q", "country", "eqf", "isced", "ects_min", "ects_below", "language", "qa", "retired"),
    Listing.PROVIDERS: ("q", "country", "type", "qa"),
}
"""The query parameters of each listing, in the order the page shows them."""


class Retired(StrEnum):
    """Which micro-credentials to list besides those still offered (absent: none)."""

    ONLY = "only"  # the retired ones alone
    INCLUDE = "include"  # every one


def eqf(field: str, value: str) -> int:
    """A level from 1 to 8: one digit (longer text never reaches ``int``, which refuses thousands of digits)."""
    level = v.eqf_level(field, int(value) if value.isdigit() and len(value) == 1 else value, required=True)
    assert level is not None
    return level


def retired(field: str, value: str) -> bool | None:
    """The catalogue's ``retired`` filter: True for the retired ones alone, None for every one."""
    return v.choice(field, value, Retired) == Retired.ONLY or None


def text(field: str, value: str) -> str:
    return v.text(field, value, max_length=TEXT_MAX)


def uuid(field: str, value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(field, "must be a UUID") from None


def enum(kind: type[StrEnum]) -> Callable[[str, str], StrEnum]:
    return lambda field, value: v.choice(field, value, kind)


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "q": text,
    "country": v.country,
    "eqf": eqf,
    "isced": v.isced_field,
    "ects_min": v.ects,
    "ects_below": v.ects,
    "language": v.language,
    "qa": enum(MicroCredentialQA),
    "retired": retired,
    "type": enum(ProviderType),
    "after": uuid,
}


def parsed(request: Request) -> dict[str, Any]:
    """The filters given (an empty value is no filter), checked; ``PageError`` 400 naming the first bad one."""
    query = request.query_params
    listing = Listing.PROVIDERS if query.get("listing") == Listing.PROVIDERS else Listing.MICROCREDENTIALS
    parsers = PARSERS | ({"qa": enum(ProviderQA)} if listing == Listing.PROVIDERS else {})
    values: dict[str, Any] = {"listing": listing}
    for name in (*FILTERS[listing], "after"):
        raw = query.get(name, "").strip()
        if not raw:
            continue
        try:
            values[name] = parsers[name](name, raw)
        except InvalidInput:
            errors = wording(request, "catalogue_errors.html")
            raise PageError(400, errors.title(), errors.detail(name, raw[:50])) from None
    return values


def microcredential_filters(values: Mapping[str, Any]) -> MicroCredentialFilters:
    return MicroCredentialFilters(
        text=values.get("q"),
        country=values.get("country"),
        eqf_level=values.get("eqf"),
        isced_field=values.get("isced"),
        ects_min=values.get("ects_min"),
        ects_below=values.get("ects_below"),
        language=values.get("language"),
        qa_status=values.get("qa"),
        retired=values.get("retired", False),
    )


def provider_filters(values: Mapping[str, Any]) -> ProviderFilters:
    return ProviderFilters(
        text=values.get("q"),
        country=values.get("country"),
        provider_type=values.get("type"),
        qa_status=values.get("qa"),
    )


def browse(read_models: ReadModels, values: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: the facets' counts and one page of entries, as things stand today."""
    browsing, today, after = read_models.browsing, datetime.now(UTC).date(), values.get("after")
    if values["listing"] == Listing.PROVIDERS:
        chosen = provider_filters(values)
        return {
            "facets": browsing.provider_facets(chosen, today),
            "entries": browsing.providers(chosen, today, after=after, limit=PAGE_SIZE),
        }
    filters = microcredential_filters(values)
    return {
        "facets": browsing.microcredential_facets(filters, today),
        "entries": browsing.microcredentials(filters, today, after=after, limit=PAGE_SIZE),
    }


def link_maker(values: Mapping[str, Any]) -> Callable[..., str]:
    """``link(name=value, ...)``: this list's address with those filters changed (None drops one), from its first
    page."""
    current = {name: str(value) for name, value in values.items() if name != "after"}
    if values["listing"] == Listing.MICROCREDENTIALS:
        del current["listing"]  # the default
    if values.get("retired", False) is not False:
        current["retired"] = "only" if values["retired"] else "include"

    def link(**changes: Any) -> str:
        merged = {**current, **{name: str(value) for name, value in changes.items() if value is not None}}
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
        return f"/catalogue?{urlencode(merged)}" if merged else "/catalogue"

    return link


@router.get("/catalogue", response_class=HTMLResponse)
async def catalogue(request: Request, _: Visitor, read_models: ReadSide) -> HTMLResponse:
    """Micro-credentials (or providers) filtered by country, EQF level, ISCED field, ECTS, language and QA status,
    with how many entries each filter's values would leave; a page of entries at a time, each linking its history."""
    values = parsed(request)
    shown = await run_in_threadpool(browse, read_models, values)
    context = {
        **shown,
        "values": values,
        "listing": values["listing"],
        "link": link_maker(values),
        "ects_bands": {str(low): str(high) if high is not None else None for low, high in ECTS_BANDS},
        "ects_band": ects_band(values),
    }
    return templates.TemplateResponse(request, "catalogue.html", context)


def ects_band(values: Mapping[str, Any]) -> str | None:
    """The band's first value when the ECTS range chosen is exactly one band (so the page marks it)."""
    for low, high in ECTS_BANDS:
        if values.get("ects_min") == low and values.get("ects_below") == high and low is not None:
            return str(low)
    return None
