"""Lists read from read tables: filters that apply only when given, and keyset pages with a hard size cap.

A list is ordered by a stable key and read a page at a time after the key of
the previous page's last row, so a page costs an index range scan however
deep it lies, and rows added meanwhile neither repeat nor go missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from psycopg.sql import SQL, Composable

R = TypeVar("R")

MAX_PAGE_SIZE = 500
"""No list returns more rows at once than this, whatever the caller asks."""

DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """Rows in the order of their key; ``after`` is the key to ask the next page after, None on the last page;
    ``keys``, when the reader gives them, each row's key (a connection's cursor per edge)."""

    rows: tuple[R, ...]
    after: Any = None
    keys: tuple[Any, ...] = ()

    @property
    def has_next(self) -> bool:
        return self.after is not None


def fetch_size(limit: int) -> int:
    """The rows to fetch for a page of ``limit`` rows (1 to ``MAX_PAGE_SIZE``): one more, to learn if more follow."""
    return max(1, min(limit, MAX_PAGE_SIZE)) + 1


def page(rows: Sequence[R], limit: int, key: Callable[[R], Any]) -> Page[R]:
    """The page of ``rows`` fetched with ``fetch_size(limit)``: all but the extra row, and the key to go on after."""
    size = fetch_size(limit) - 1
    if len(rows) > size:
        return Page(tuple(rows[:size]), key(rows[size - 1]))
    return Page(tuple(rows))


def where(
    conditions: Mapping[str, Composable], params: Mapping[str, Any], always: Iterable[Composable] = ()
) -> Composable:
    """A WHERE clause of the conditions whose parameter is given (not None) and those that ``always`` apply, or
    nothing.

    Only the conditions asked for are in the statement, so that the planner
    picks an index for each combination rather than one plan for all.
    """
    chosen = [*always, *(condition for name, condition in conditions.items() if params.get(name) is not None)]
    return SQL(" WHERE ") + SQL(" AND ").join(chosen) if chosen else SQL("")
