"""Input checks and keyset paging shared by every query: clear errors, hard page caps, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import date
from typing import Any, Generic, TypeVar
from uuid import UUID

import strawberry
from graphql import GraphQLError

from mcreg.projections.listing import Page
from mcreg.registry.errors import InvalidInput

MAX_PAGE = 100
"""The most nodes one connection returns: strawberry is slow on large lists, and dashboards need few."""
MAX_SEARCH = 200
"""The longest catalogue search text."""

N = TypeVar("N")
R = TypeVar("R")
T = TypeVar("T")


class BadInput(GraphQLError):
    """A client error: shown to the caller with ``extensions.code`` even when errors are masked."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message, extensions={"code": code})


def parse_id(value: strawberry.ID, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(f"{field}: must be a UUID") from None


def page_size(first: int | None) -> int:
    if first is None:
        return 20
    if not 1 <= first <= MAX_PAGE:
        raise BadInput(f"first: must be from 1 to {MAX_PAGE}")
    return first


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode("|".join(map(str, key)).encode()).decode()


def decode_cursor(cursor: str | None, parts: int) -> list[str] | None:
    if cursor is None:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (binascii.Error, UnicodeDecodeError):
        key = []
    if len(key) != parts:
        raise BadInput("after: is not a cursor this query gave")
    return key


def after_id(cursor: str | None) -> UUID | None:
    """The id a cursor of an id-ordered list holds."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    try:
        return UUID(key[0])
    except ValueError:
        raise BadInput("after: is not a cursor this query gave") from None


def after_issue(cursor: str | None) -> tuple[date, UUID] | None:
    """The (issue date, id) a cursor of a list in issue order holds."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    try:
        return date.fromisoformat(key[0]), UUID(key[1])
    except ValueError:
        raise BadInput("after: is not a cursor this query gave") from None


def after_position(cursor: str | None) -> int | None:
    """The position a cursor of a list in the order of the log holds."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not key[0].isdigit():
        raise BadInput("after: is not a cursor this query gave")
    return int(key[0])


def connection(page: Page[R], node: Callable[[R], N], key: Callable[[R], Any]) -> Connection[N]:
    """A connection of a read model's keyset page, each edge's cursor holding its row's key."""
    edges = [Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in page.rows]
    return Connection(
        edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None)
    )


def checked(check: Callable[[str, Any], T], field: str, value: Any) -> T | None:
    """A filter checked by the registry's own vocabulary rule, None when not given."""
    if value is None:
        return None
    try:
        return check(field, value)
    except InvalidInput as error:
        raise BadInput(error.detail) from None


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    if not MONTH.fullmatch(value):
        raise BadInput(f"{field}: must be a month as YYYY-MM, e.g. 2024-03")
    return date(int(value[:4]), int(value[5:]), 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
