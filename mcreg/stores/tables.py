"""Names of mcreg's own tables beside the event store, in the configured schema."""

from __future__ import annotations

from psycopg import sql


def qualified(schema: str, table: str) -> sql.Identifier:
    """``schema.table``, or the bare table on the search path when no schema is configured."""
    return sql.Identifier(schema, table) if schema else sql.Identifier(table)
