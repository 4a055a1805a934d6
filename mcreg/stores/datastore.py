"""The library's PostgreSQL factory, told which server of a multi-host URL to use.

The eventsourcing library connects with a host, a port, a user, a password and a
database name only. A URL naming the members of a cluster (libpq multi-host:
``host1:port1,host2:port2``) also says which of them will do
(``target_session_attrs``: ``read-write`` for the primary, ``prefer-standby``
for a replica); without it, the library's pools would write to whichever member
answers first. ``SessionAttrsFactory`` passes that choice on to the pool the
library builds (decision 77, "Beyond one machine").
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, get_topic

TARGET_SESSION_ATTRS = "POSTGRES_TARGET_SESSION_ATTRS"
"""The library setting (ours) that carries libpq's ``target_session_attrs``."""


class SessionAttrsFactory(PostgresFactory):
    """The library's factory, whose connections ask for the kind of server ``POSTGRES_TARGET_SESSION_ATTRS`` names."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        attrs = self.env.get(TARGET_SESSION_ATTRS)
        if attrs:
            kwargs = self.datastore.pool.kwargs
            if not isinstance(kwargs, dict):
                raise TypeError(f"the library's pool takes {type(kwargs).__name__} keywords, not a dict")
            # The pool is built closed, and passes these keywords to every connection it makes.
            kwargs["target_session_attrs"] = attrs


FACTORY_TOPIC = get_topic(SessionAttrsFactory)
