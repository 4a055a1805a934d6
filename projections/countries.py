"""Providers' countries, which several read models join into their rows as they project them.

Each read model keeps the countries in a table of its own: a projection never
reads another projection's tables, which may be rebuilt, and so be empty or
behind, at any time.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.tables import Rows, Table, TableWriter


def countries_table(name: str) -> Table:
    """A table of providers' countries (no provider changes country)."""
    return Table(name, columns=(("provider_id", "uuid"), ("country", "text NOT NULL")), key=("provider_id",))


class ProviderCountries:
    """One read model's table of providers' countries: written a page at a time, looked up many at once."""

    def __init__(self, schema: Identifier, table: Table) -> None:
        self.writer = TableWriter(schema, table)
        self.create_statement = table.create_statement(schema)
        self.select_statement = SQL("SELECT provider_id, country FROM {0}.{1} WHERE provider_id = ANY(%s)").format(
            schema, Identifier(table.name)
        )

    def write(self, curs: Cursor[DictRow], rows: Rows) -> None:
        self.writer.write(curs, rows)

    def of(self, curs: Cursor[DictRow], provider_ids: Iterable[UUID]) -> dict[UUID, str]:
        """The countries of these providers, as written so far in ``curs``'s transaction (this page's included)."""
        ids = list(set(provider_ids))
        if not ids:
            return {}
        curs.execute(self.select_statement, [ids], prepare=True)
        return {row["provider_id"]: row["country"] for row in curs.fetchall()}
