"""Faceted lists, each declared once: its rows, its filters, its facets and its key; counted and paged by one engine.

A faceted list answers three things from one set of filters: the entries
matching all of them (a keyset page), how many match in all, and, for each
filter, how many would match each of its values given the *other* filters
(the counts a person picks the next filter by). The counts are one statement
and one pass: the rows that fail at most one filter are scanned once, every
facet is a grouping set of one GROUP BY, and each facet's count keeps the rows
that pass the filters other than its own (``count(*) FILTER (WHERE ...)``).

A ``FacetedList`` is a declaration: a ``base`` statement (a ``WITH`` ending in
``base AS (...)``) with the ``shared`` filters inside it, the faceted
``conditions`` on ``base``'s columns outside it, the ``facets`` and the unique
``key`` a page is ordered by. Filters are named parameters: a filter applies
when its parameter is given (not None), so each combination gets a plan of its
own. ``FacetedQueries`` runs any declaration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Composable, Composed, Identifier, Literal

from mcreg.projections.listing import DEFAULT_PAGE_SIZE, Page, fetch_size, page, where

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class FacetCount:
    """One value of a facet (``None``: the entries without one) and the entries it would list."""

    value: str | None
    count: int


@dataclass(frozen=True, slots=True)
class Facets:
    """How many entries match every filter, and per facet how many match each value given the other filters."""

    total: int
    counts: Mapping[str, tuple[FacetCount, ...]]


@dataclass(frozen=True, slots=True)
class Facet:
    """A facet: the SQL value it groups by, and the filters (named as in the conditions) that choosing it sets."""

    name: str
    value: Composable
    filters: tuple[str, ...]
    array: bool = False  # the value is an array: an entry counts once under each of its elements


def facet(name: str, array: bool = False) -> Facet:
    """The facet of a column of ``base`` that the filter of the same name narrows."""
    return Facet(name, Identifier(name), (name,), array)


@dataclass(frozen=True, slots=True)
class FacetedList(Generic[R]):
    """One list, declared: see the module's docstring. ``row`` makes an entry of a fetched row."""

    base: str
    shared: Mapping[str, Composable]
    conditions: Mapping[str, Composable]
    facets: tuple[Facet, ...]
    key: str
    row: Callable[[dict[str, Any]], R]
    select: str = "SELECT * FROM base"
    page_base: str | None = None  # ``base`` as a page reads it, when that differs from counting every entry
    key_type: Callable[[str], Any] = UUID  # what a cursor's text is turned back into


FACETS_WORK_MEM = SQL("SET LOCAL work_mem = '64MB'")
"""For the counting statement's transaction alone: its grouping sets hash in memory rather than sort to disk."""


class FacetedQueries:
    """Counts and pages of any ``FacetedList`` over the read tables of one schema."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self.schema = Identifier(datastore.schema)

    def facets(self, listing: FacetedList[Any], params: Mapping[str, Any]) -> Facets:
        """One pass over the entries that fail at most one filter: each facet is a grouping set, counted with the
        filters other than its own; an array facet groups by whole arrays, which are then split here."""
        conditions, facets = listing.conditions, listing.facets
        given = [name for name in conditions if params.get(name) is not None]
        flags = {name: SQL("({0})").format(conditions[name]) for name in given}
        failing = SQL(" + ").join(SQL("{0}::int").format(flag) for flag in flags.values())

        def holding(names: Sequence[str]) -> Composable:
            kept = [flags[name] for name in names]
            return SQL("count(*) FILTER (WHERE {0})").format(SQL(" AND ").join(kept)) if kept else SQL("count(*)")

        columns = [
            SQL("{0} AS {1}, GROUPING({0}) AS {2}, {3} AS {4}").format(
                f.value,
                Identifier(f"v_{f.name}"),
                Identifier(f"g_{f.name}"),
                holding([name for name in given if name not in f.filters]),
                Identifier(f"n_{f.name}"),
            )
            for f in facets
        ]
        template = SQL("{base} SELECT {columns}, {total} AS n FROM base{where} GROUP BY GROUPING SETS ((), {sets})")
        statement = template.format(
            base=self._base(listing.base, listing.shared, params),
            columns=SQL(", ").join(columns),
            total=holding(given),
            where=SQL(" WHERE {0} >= {1}").format(failing, Literal(len(given) - 1)) if len(given) > 1 else SQL(""),
            sets=SQL(", ").join(SQL("({0})").format(f.value) for f in facets),
        )
        total = 0
        found: dict[str, Counter[str | None]] = {f.name: Counter() for f in facets}
        with self.datastore.transaction() as curs:
            # Every grouping set's hash table at once, in memory: the default 4 MB sorts them to disk at 100k entries.
            curs.execute(FACETS_WORK_MEM)
            curs.execute(statement, params)
            for row in curs.fetchall():
                grouped = next((f for f in facets if row[f"g_{f.name}"] == 0), None)
                if grouped is None:
                    total = row["n"]
                    continue
                count, value = row[f"n_{grouped.name}"], row[f"v_{grouped.name}"]
                for element in (value or [None]) if grouped.array else [value]:
                    found[grouped.name][None if element is None else str(element)] += count
        return Facets(total, {name: counted(counts) for name, counts in found.items()})

    def page(
        self, listing: FacetedList[R], params: Mapping[str, Any], *, after: Any = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[R]:
        """The entries matching ``params`` in the order of the list's key, after ``after``: ``limit`` at most."""
        with self.datastore.transaction() as curs:
            statement = self.page_statement(listing, params, after=after is not None)
            curs.execute(statement, {**params, "after": after, "limit": fetch_size(limit)})
            fetched = [(listing.row(row), row[listing.key]) for row in curs.fetchall()]
        paged = page(fetched, limit, lambda entry: entry[1])
        return Page(tuple(entry for entry, _ in paged.rows), paged.after, tuple(key for _, key in paged.rows))

    def page_statement(self, listing: FacetedList[Any], params: Mapping[str, Any], *, after: bool = False) -> Composed:
        """The statement of a page of ``listing`` for ``params`` (after a key, if ``after``), ``%(limit)s`` rows."""
        chosen = [c for name, c in listing.conditions.items() if params.get(name) is not None]
        if after:
            chosen.append(SQL("{0} > %(after)s").format(Identifier(listing.key)))
        return SQL("{base} {select}{where} ORDER BY {key} LIMIT %(limit)s").format(
            base=self._base(listing.page_base or listing.base, listing.shared, params),
            select=SQL(listing.select).format(schema=self.schema),
            where=SQL(" WHERE ") + SQL(" AND ").join(chosen) if chosen else SQL(""),
            key=Identifier(listing.key),
        )

    def _base(self, base: str, shared: Mapping[str, Composable], params: Mapping[str, Any]) -> Composable:
        """The ``base`` statement of entries passing the ``shared`` filters given."""
        chosen = [condition for name, condition in shared.items() if params.get(name) is not None]
        return SQL(base).format(
            schema=self.schema,
            where=where(shared, params),
            and_where=SQL("").join(SQL(" AND ") + condition for condition in chosen),
        )


def counted(counts: Counter[str | None]) -> tuple[FacetCount, ...]:
    """A facet's values that some entry has, most entries first."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))
    return tuple(FacetCount(value, n) for value, n in ordered if n)


@dataclass(frozen=True, slots=True)
class Listed(Generic[R]):
    """A read model's row as a list shows it, with what the list works out beside it (a status on a date, the
    provider's country), by column name."""

    row: R
    facts: Mapping[str, Any]


def listed(make: Callable[[dict[str, Any]], R], *facts: str) -> Callable[[dict[str, Any]], Listed[R]]:
    """A list's ``row``: the read model's row made of the fetched columns but ``facts``, and the facts beside it."""

    def build(row: dict[str, Any]) -> Listed[R]:
        worked_out = {name: row.pop(name) for name in facts}
        return Listed(make(row), worked_out)

    return build


def of_columns(cls: Callable[..., R], names: tuple[str, ...]) -> Callable[[dict[str, Any]], R]:
    """A ``cls`` made of the fetched columns named ``names`` (its fields), ignoring the others."""
    return lambda row: cls(**{name: row[name] for name in names})
