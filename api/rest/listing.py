"""What the REST list routes share: the query every list takes, the answer every list gives, and serving one.

A list answers a page of items (``limit``, at most ``MAX_PAGE_SIZE``), the
total matching every filter, per facet how many would match each value given
the other filters, and the cursor and address of the next page (keyset: an
entry added meanwhile neither repeats nor hides another). The filters are
those of ``mcreg.api.lists``, checked there, so REST and GraphQL refuse the
same values with the same words.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.concurrency import run_in_threadpool

from mcreg.api import lists
from mcreg.api.lists import Browse, Codes, Filter
from mcreg.projections.faceted import FacetCount, Facets
from mcreg.projections.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from mcreg.projections.read_models import ReadModels
from mcreg.registry import validate

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class ListQuery(BaseModel):
    """The query of a list: its filters (given as query parameters), the cursor to go on after, and the page size.
    An unknown parameter is refused, not ignored: a misspelt filter would otherwise list everything."""

    model_config = ConfigDict(extra="forbid")

    after: str | None = Field(
        default=None, max_length=200, description="The `next` cursor of the page before; the first page if not given"
    )
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page")


def code_list(codes: Any, description: str, example: str) -> Any:
    """A filter taking one code of a closed list, the list shown in the OpenAPI description."""
    return Field(default=None, description=description, examples=[example], json_schema_extra={"enum": sorted(codes)})


COUNTRY = code_list(validate.COUNTRIES, "ISO 3166-1 alpha-2", "NL")
Country = Annotated[str | None, COUNTRY]
EqfLevel = Annotated[
    str | None, Field(default=None, pattern=r"^[1-8]$", description="EQF level, 1 to 8", examples=["6"])
]
IscedField = Annotated[
    str | None,
    Field(default=None, description="An ISCED-F code or its start (2, 3 or 4 digits)", examples=["06"], max_length=4),
]
EctsAmount = Annotated[
    str | None,
    Field(
        default=None,
        pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$",
        description="ECTS credits, inclusive, at most 2 decimals",
        examples=["5"],
    ),
]
SearchText = Annotated[str | None, Field(default=None, max_length=200, description="Words to look for")]

PARAMETERS: dict[Any, tuple[Any, Any]] = {
    lists.uuid: (UUID | None, None),
    lists.day: (date | None, None),
    lists.revoked_hidden: (bool, False),
    validate.country: (Country, None),
    validate.ects: (EctsAmount, None),
    lists.eqf: (EqfLevel, None),
    lists.isced_prefix: (IscedField, None),
    lists.words: (SearchText, None),
    lists.name_part: (SearchText, None),
}
"""The query parameter a filter is, by its check: its type, and its default when not given."""


def parameter(f: Filter) -> tuple[Any, Any]:
    """A filter as a query parameter: its type and its default, with the filter's description."""
    if isinstance(f.check, Codes):
        return str | None, code_list(f.check.codes, f.description or "", f.example or "")
    kind, default = PARAMETERS[f.check]
    return kind, Field(default=default, description=f.description) if f.description else default


def list_query(browse: Browse) -> Any:
    """The FastAPI dependency reading ``browse``'s query: ``after``, ``limit`` and its filters, in their order."""
    filters: dict[str, Any] = {f.name: parameter(f) for f in browse.filters}
    model = create_model("ListQuery", __base__=ListQuery, __module__=__name__, **filters)

    def read(query: ListQuery) -> ListQuery:
        return query

    # The model is made here, so the signature FastAPI reads names it as an object, not as text to look up.
    query = inspect.Parameter("query", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[model, Query()])
    setattr(read, "__signature__", inspect.Signature([query]))  # noqa: B010 (mypy refuses the attribute)
    return Depends(read)


class FacetValue(BaseModel):
    value: str | None = Field(description="The value; null for the entries without one")
    count: int = Field(description="The entries this value would list, given the other filters")


class ListOut(BaseModel, Generic[T]):
    """A page of a list, with its counts."""

    items: list[T]
    total: int = Field(description="Entries matching every filter given")
    facets: dict[str, list[FacetValue]] = Field(
        description="Per facet, each value's entries given the filters other than the facet's own, most first",
        examples=[{"country": [{"value": "NL", "count": 12}, {"value": "BE", "count": 3}]}],
    )
    next: str | None = Field(description="The cursor of the next page (`after`); null on the last page")
    next_href: str | None = Field(description="The address of the next page; null on the last page")


def facet_values(counts: tuple[FacetCount, ...]) -> list[FacetValue]:
    return [FacetValue(value=c.value, count=c.count) for c in counts]


async def served(
    request: Request,
    read_models: ReadModels,
    browse: Browse,
    query: ListQuery,
    item: Callable[[Any], T],
    scope: Mapping[str, Any] | None = None,
) -> ListOut[T]:
    """A page of ``browse``'s list for ``query`` (and the caller's ``scope``), with its total and facets."""
    params = browse.params(query.model_dump(exclude={"after", "limit"}), datetime.now(UTC).date()) | dict(scope or {})
    after = browse.after(query.after)
    queries = read_models.browsing

    def read() -> tuple[Facets, Page[Any]]:
        return queries.facets(browse.listing, params), queries.page(
            browse.listing, params, after=after, limit=query.limit
        )

    facets, page = await run_in_threadpool(read)
    cursor = browse.cursor(page.after) if page.has_next else None
    return ListOut(
        items=[item(entry) for entry in page.rows],
        total=facets.total,
        facets={name: facet_values(counts) for name, counts in facets.counts.items()},
        next=cursor,
        next_href=next_href(request, cursor) if cursor else None,
    )


def next_href(request: Request, cursor: str) -> str:
    """This list's address with the same filters, after ``cursor``."""
    url = request.url.include_query_params(after=cursor)
    return f"{url.path}?{url.query}"


def item(model: type[M], row: Any, **more: Any) -> M:
    """An item of a list: ``model`` read off a read model's row (a dataclass), with ``more`` beside it."""
    return model.model_validate({**{f.name: getattr(row, f.name) for f in fields(row)}, **more})
