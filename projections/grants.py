"""What a DBA gave on a live read table (grants, and its owner), carried over to the rebuilt table that replaces it.

A rebuild swaps in new tables (``projections/rebuild.py``), which are born with
no grants and owned by whoever rebuilt them; the swap calls ``carry_over`` for
each table, inside its transaction, before the live table is dropped, and
``keep_owner`` once the rebuilt table stands in its place.
Privileges on the table and on its columns are granted again, to the same
roles (``PUBLIC`` included), with the grant option where it was given; the
owner's own privileges come with ownership, which moves last (decision 11).
"""

from __future__ import annotations

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Identifier

# One row per privilege granted to someone other than the owner: on the table (column NULL) or on one column.
SELECT_GRANTS = SQL(
    "SELECT a.privilege_type AS privilege, NULL::name AS column_name, a.grantee = 0 AS public,"
    " pg_get_userbyid(a.grantee) AS grantee, a.is_grantable AS grantable"
    " FROM pg_class AS c CROSS JOIN aclexplode(c.relacl) AS a"
    " WHERE c.oid = %(table)s::regclass AND a.grantee <> c.relowner"
    " UNION ALL"
    " SELECT a.privilege_type, att.attname, a.grantee = 0, pg_get_userbyid(a.grantee), a.is_grantable"
    " FROM pg_attribute AS att JOIN pg_class AS c ON c.oid = att.attrelid CROSS JOIN aclexplode(att.attacl) AS a"
    " WHERE att.attrelid = %(table)s::regclass AND NOT att.attisdropped AND a.grantee <> c.relowner"
)
SELECT_OWNER = SQL("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = %s::regclass")
GRANT = SQL("GRANT {privilege}{columns} ON {table} TO {grantee}{option}")
ALTER_OWNER = SQL("ALTER TABLE {table} OWNER TO {owner}")


def carry_over(curs: Cursor[DictRow], live: Identifier, rebuilt: Identifier) -> str:
    """Grant on ``rebuilt`` what was granted on ``live``; ``live``'s owner, for ``keep_owner`` once the rebuilt
    table has taken its place (the owner may create in the live schema, not necessarily in the scratch one)."""
    curs.execute(SELECT_GRANTS, {"table": live.as_string(curs)})
    for row in curs.fetchall():
        curs.execute(
            GRANT.format(
                privilege=SQL(row["privilege"]),  # a keyword PostgreSQL itself reported (SELECT, UPDATE, …)
                columns=SQL(" ({0})").format(Identifier(row["column_name"])) if row["column_name"] else SQL(""),
                table=rebuilt,
                grantee=grantee(row),
                option=SQL(" WITH GRANT OPTION") if row["grantable"] else SQL(""),
            )
        )
    return owner_of(curs, live)


def keep_owner(curs: Cursor[DictRow], table: Identifier, owner: str) -> None:
    """Give ``table`` back to ``owner`` if the rebuild made it someone else's."""
    if owner_of(curs, table) != owner:
        curs.execute(ALTER_OWNER.format(table=table, owner=Identifier(owner)))


def grantee(row: DictRow) -> Composable:
    return SQL("PUBLIC") if row["public"] else Identifier(row["grantee"])


def owner_of(curs: Cursor[DictRow], table: Identifier) -> str:
    curs.execute(SELECT_OWNER, [table.as_string(curs)])
    row = curs.fetchone()
    assert row is not None
    return str(row["owner"])
