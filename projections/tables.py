"""Read tables written set-based: a page's new rows by one binary COPY, its later changes by one UPDATE per table.

A projection folds a page into one ``Rows`` per table: the rows its events
create, and the columns its events set on rows created by earlier pages,
the latest value of each column winning. Every such change sets a value
outright (a date, a status, a reason), never relative to the old one, so
the page can be written without reading the rows first. ``TableWriter``
writes a ``Rows`` in at most two statements however many events it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal
from psycopg.types.json import Jsonb

CREATE_IN_TURN = SQL("SELECT pg_advisory_xact_lock(hashtextextended('mcreg.create', 0))")
"""Taken first by every transaction that creates mcreg's tables, so that processes starting at once on a fresh
database (two workers and an API, as a deployment starts them) create them one after another: PostgreSQL's
``CREATE … IF NOT EXISTS`` is no guard against a twin running at the same moment, which fails on the catalogue's
unique index. One lock for the whole database: tables are created only as processes start (decision 85)."""


def table_exists(schema: str, table: str) -> Composed:
    """A query of one row, ``found``: whether ``schema.table`` exists (as this transaction sees the catalogue)."""
    return SQL("SELECT to_regclass({0}) IS NOT NULL AS found").format(
        Literal(SQL("{0}.{1}").format(Identifier(schema), Identifier(table)).as_string())
    )


Column = tuple[str, str]
"""A column's name and its definition as ``CREATE TABLE`` takes it: its PostgreSQL type, as binary COPY and typed
arrays name it (``uuid``, ``int4``, ``text[]``…), then its constraints (``NOT NULL``)."""


@dataclass(frozen=True, slots=True)
class Table:
    """A read table's columns in COPY order, its primary key, and the columns later events may set.

    The one place a table's columns are listed: its ``CREATE TABLE``, its COPY and its UPDATE are derived from it.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    settable: tuple[str, ...] = ()
    computed: tuple[Column, ...] = ()
    """Columns PostgreSQL computes from the others (``GENERATED ALWAYS AS``): created, never written."""
    primary: bool = True
    """Whether ``key`` is the primary key; if not, a unique index created apart (one where NULLs are equal)."""

    def __post_init__(self) -> None:
        names = {name for name, _ in self.columns}
        if not {*self.key, *self.settable} <= names:
            raise ValueError(f"{self.name}: key and settable columns must be columns")
        if set(self.key) & set(self.settable):
            raise ValueError(f"{self.name}: a key column cannot be set")

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(name for name, _ in self.columns)

    @property
    def types(self) -> dict[str, str]:
        """Each column's PostgreSQL type, without its constraints."""
        return {name: definition.split()[0] for name, definition in self.columns}

    def create_statement(self, schema: Identifier) -> Composed:
        """``CREATE TABLE IF NOT EXISTS`` of this table in ``schema``."""
        definitions = [
            SQL("{0} {1}").format(Identifier(name), SQL(definition))
            for name, definition in (*self.columns, *self.computed)
        ]
        if self.primary:
            definitions.append(SQL("PRIMARY KEY ({0})").format(SQL(", ").join(map(Identifier, self.key))))
        return SQL("CREATE TABLE IF NOT EXISTS {0}.{1} ({2})").format(
            schema, Identifier(self.name), SQL(", ").join(definitions)
        )

    def add_statement(self, schema: Identifier, counts: tuple[str, ...]) -> Composed:
        """An ``INSERT`` of rows (a typed array per column, in column order) that, where a row with the same key
        is there already, adds their ``counts`` columns to its own instead: for tables of counters."""
        types = self.types
        return SQL(
            "INSERT INTO {0}.{1} AS t ({2}) SELECT * FROM unnest({3}) ON CONFLICT ({4}) DO UPDATE SET {5}"
        ).format(
            schema,
            Identifier(self.name),
            SQL(", ").join(map(Identifier, self.names)),
            SQL(", ").join(SQL("%s::{0}[]").format(SQL(types[name])) for name in self.names),
            SQL(", ").join(map(Identifier, self.key)),
            SQL(", ").join(SQL("{0} = t.{0} + excluded.{0}").format(Identifier(name)) for name in counts),
        )

    def changes(self) -> Rows:
        """An empty page's changes to this table."""
        return Rows(self.key)


@dataclass
class Rows:
    """One page's changes to a table: whole rows created, and columns set on rows created before the page."""

    key: tuple[str, ...]
    created: dict[Any, dict[str, Any]] = field(default_factory=dict)
    updated: dict[Any, dict[str, Any]] = field(default_factory=dict)

    def create(self, **row: Any) -> None:
        """A new row; columns left out are NULL."""
        key = row[self.key[0]] if len(self.key) == 1 else tuple(row[k] for k in self.key)
        self.created[key] = row

    def set(self, key: Any, **columns: Any) -> None:
        """Set columns of the row with this key (a tuple for a key of several columns), wherever it was created."""
        if (row := self.created.get(key)) is not None:
            row.update(columns)
        else:
            self.updated.setdefault(key, {}).update(columns)

    def get(self, key: Any) -> dict[str, Any] | None:
        """The row as created in this page, if it was."""
        return self.created.get(key)


class TableWriter:
    """Writes pages' ``Rows`` to one table of a view's schema."""

    def __init__(self, schema: Identifier, table: Table) -> None:
        self.table = table
        self.names = table.names
        types = table.types
        self.copy_types = [types[name] for name in self.names]
        qualified = SQL("{0}.{1}").format(schema, Identifier(table.name))
        self.copy_statement = SQL("COPY {0} ({1}) FROM STDIN (FORMAT BINARY)").format(
            qualified, SQL(", ").join(map(Identifier, self.names))
        )
        # One row of arrays per updated row: its key, a bit mask of the columns the page set, and their values.
        # A column whose bit is clear keeps its value, so a row can be set a column at a time by different events.
        unnested = [*table.key, "set_mask", *table.settable]
        array_types = [types[name] for name in table.key] + ["int8"] + [types[name] for name in table.settable]
        self.json_settable = frozenset(name for name in table.settable if types[name] == "jsonb")
        self.update_statement = (
            SQL("UPDATE {0} AS t SET {1} FROM unnest({2}) AS s({3}) WHERE {4}").format(
                qualified,
                SQL(", ").join(
                    SQL("{0} = CASE WHEN s.set_mask & {1} = 0 THEN t.{0} ELSE s.{0} END").format(
                        Identifier(name), Literal(1 << bit)
                    )
                    for bit, name in enumerate(table.settable)
                ),
                SQL(", ").join(SQL("%s::{0}[]").format(SQL(pg_type)) for pg_type in array_types),
                SQL(", ").join(map(Identifier, unnested)),
                SQL(" AND ").join(SQL("t.{0} = s.{0}").format(Identifier(name)) for name in table.key),
            )
            if table.settable
            else None
        )

    def write(self, curs: Cursor[DictRow], rows: Rows) -> None:
        """Create the page's new rows, then set the columns its events set on older ones."""
        if rows.created:
            self.create(curs, rows.created.values())
        if rows.updated:
            self.update(curs, rows.updated)

    def create(self, curs: Cursor[DictRow], rows: Iterable[dict[str, Any]]) -> None:
        """Insert whole rows (dicts by column name; a missing column is NULL) in one COPY."""
        names, known = self.names, frozenset(self.names)

        def ordered(row: dict[str, Any]) -> list[Any]:
            if not row.keys() <= known:
                raise ValueError(f"{self.table.name} has no column {sorted(row.keys() - known)}")
            return [row.get(name) for name in names]

        self.copy(curs, map(ordered, rows))

    def copy(self, curs: Cursor[DictRow], rows: Iterable[Sequence[Any]]) -> None:
        """Insert whole rows, each a sequence of values in the table's column order, in one COPY (for the tables
        that get a row per credential, where building a dict per row would cost more than the COPY)."""
        with curs.copy(self.copy_statement) as copy:
            copy.set_types(self.copy_types)
            for row in rows:
                copy.write_row(row)

    def update(self, curs: Cursor[DictRow], updated: dict[Any, dict[str, Any]]) -> None:
        """Set, on existing rows, the columns each dict names, in one statement."""
        if self.update_statement is None:
            raise ValueError(f"{self.table.name} has no columns to set")
        settable = self.table.settable
        unknown = set().union(*updated.values()) - set(settable)
        if unknown:
            raise ValueError(f"{self.table.name}: cannot set {sorted(unknown)}")
        if len(self.table.key) == 1:
            key_arrays = [list(updated)]
        else:
            key_arrays = [list(column) for column in zip(*updated, strict=True)]
        masks = [sum(1 << bit for bit, name in enumerate(settable) if name in columns) for columns in updated.values()]
        values = [[columns.get(name) for columns in updated.values()] for name in settable]
        for index, name in enumerate(settable):
            if name in self.json_settable:  # a query parameter, unlike a COPY field, is not JSON unless wrapped
                values[index] = [None if value is None else Jsonb(value) for value in values[index]]
        curs.execute(self.update_statement, [*key_arrays, masks, *values])
