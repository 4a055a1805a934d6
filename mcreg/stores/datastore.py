"""The library's PostgreSQL factory, with a pool that is full before it is used, on the server the URL asks for.

The eventsourcing library connects with a host, a port, a user, a password and a
database name only. A URL naming the members of a cluster (libpq multi-host:
``host1:port1,host2:port2``) also says which of them will do
(``target_session_attrs``: ``read-write`` for the primary, ``prefer-standby``
for a replica); without it, the library's pools would write to whichever member
answers first. ``ReadyFactory`` passes that choice on to the pool the
library builds (decision 77, "Beyond one machine").

The library opens its pool without waiting for it to fill, so the first query
(registering the row types as a registry is built) waits for the first
connection only as long as any query waits for a free one: one second
(``CONNECTION_WAIT``), so that a client hears of an outage quickly. On a busy
machine, a connection slower than that to make, or one failed attempt (the pool
tries again only after a second), failed the start of a registry, a server or
a worker. ``ReadyFactory`` fills the pool first, waiting up to ``FILL_WAIT``
seconds; a database that is not there still fails the start, with the library's
own error (decision 78).
"""

from __future__ import annotations

from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, get_topic
from psycopg_pool import PoolTimeout

from mcreg.stores.event_store import CreatedInTurn

TARGET_SESSION_ATTRS = "POSTGRES_TARGET_SESSION_ATTRS"
"""The library setting (ours) that carries libpq's ``target_session_attrs``."""

FILL_WAIT = 15.0
"""Seconds a new pool may take to make its first connections, however slow the machine."""


class ReadyFactory(PostgresFactory):
    """The library's factory, whose pool is full when it is handed over, of the kind of server
    ``POSTGRES_TARGET_SESSION_ATTRS`` names; its snapshots' tables made in turn with other processes'."""

    aggregate_recorder_class = CreatedInTurn

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        attrs = self.env.get(TARGET_SESSION_ATTRS)
        if attrs:
            kwargs = pool.kwargs
            if not isinstance(kwargs, dict):
                raise TypeError(f"the library's pool takes {type(kwargs).__name__} keywords, not a dict")
            # The pool is built closed, and passes these keywords to every connection it makes.
            kwargs["target_session_attrs"] = attrs
        try:
            pool.open(wait=True, timeout=FILL_WAIT)
        except PoolTimeout as e:
            raise OperationalError(f"no connection to PostgreSQL within {FILL_WAIT:g} s: {e}") from e


FACTORY_TOPIC = get_topic(ReadyFactory)
