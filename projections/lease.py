"""Leases: which process writes a projection, through a PostgreSQL session advisory lock.

Any number of ``mcreg project`` processes may run, on any machines; each projection (a read model, the
transparency log, the webhook outbox) is written only by the process holding its lease. A lease is a session
advisory lock, and a process takes all of its leases on one session of its own (``Leases``): the locks live
exactly as long as that session, so a holder killed with SIGKILL drops them with its connection, and one whose
machine vanishes within a few seconds (the session asks the server for TCP keepalives), with no lease timeout
to wait out. The others try every ``LEASE_POLL`` seconds. The holder pings its session every ``HEARTBEAT``
seconds and lets its work go (``Lease.holding``) when the session is lost or the worker stops.

A lost session may be noticed only after a page's work began, so a leased view confirms in the page's own
transaction, under the view's tracking lock, that the lease's session still holds the lock
(``Lease.confirm``): a page written after the lease was lost is refused with ``LeaseLost`` before anything is
written, and one confirmed before the loss commits before the next holder's first page can take the tracking
lock. A writer that lost its lease therefore stops writing before another starts (decision 76).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
import structlog
from psycopg import Cursor
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow

log = structlog.get_logger(__name__)

LEASE_POLL = 1.0
"""Seconds between a process's tries for a lease another holds: a killed holder's lease is taken over within it."""

HEARTBEAT = 1.0
"""Seconds between the holder's pings of its lease session (and looks at whether its worker stops)."""

KEEPALIVE = {
    # The server's side: a holder whose machine vanished has its session, and its locks, dropped within ~4 s.
    "options": "-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=2",
    # The holder's side: a session whose server vanished fails its ping within ~4 s rather than hanging.
    "keepalives": "1",
    "keepalives_idle": "2",
    "keepalives_interval": "1",
    "keepalives_count": "2",
    "connect_timeout": "2",
}

TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"
PING = "SELECT 1"
HOLDS = """
SELECT EXISTS (
    SELECT FROM pg_locks, (SELECT hashtextextended(%(key)s, 0) AS k) AS lease
    WHERE locktype = 'advisory' AND granted AND pid = %(pid)s AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = oid((lease.k >> 32) & 4294967295) AND objid = oid(lease.k & 4294967295)
) AS holds
"""


class LeaseLost(Exception):
    """The lease's session no longer holds its lock: another process may be writing the projection now."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the lease of {name} is not held")
        self.name = name


def holder_name(pid: int) -> str:
    """The ``application_name`` of the lease session of process ``pid`` on this machine, as ``pg_stat_activity``
    shows it: the pid first, since the server keeps 63 bytes and a container's host name can be long."""
    return f"mcreg leases pid {pid} on {socket.gethostname()}"[:63]


def lease_key(scope: str, name: str) -> str:
    """What a projection's advisory lock is taken on: its name within its schema (``scope``)."""
    return f"mcreg.lease:{scope}:{name}"


class Leases:
    """The leases of one process, on one database session of its own, kept alive by a heartbeat thread."""

    def __init__(self, conninfo: str, scope: str, *, heartbeat: float = HEARTBEAT) -> None:
        self.conninfo = conninfo
        self.scope = scope
        self.heartbeat = heartbeat
        self.holder = holder_name(os.getpid())
        """The session's ``application_name``: who holds a lease, as ``pg_stat_activity`` shows it."""
        self._leases: dict[str, Lease] = {}
        self._session: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._keeper: threading.Thread | None = None

    def lease(self, name: str) -> Lease:
        """The lease of the projection ``name`` (one object per name, held or not)."""
        return self._leases.setdefault(name, Lease(self, name))

    @property
    def pid(self) -> int | None:
        """The server process of the lease session, which holds the locks; None while there is none."""
        session = self._session
        return None if session is None or session.closed else session.info.backend_pid

    def execute(self, statement: str, params: list[object] | None = None) -> object:
        """Run ``statement`` on the lease session (opened if need be); its one value. A failure loses every lease."""
        with self._lock:
            try:
                if self._session is None or self._session.closed:
                    conninfo = make_conninfo(self.conninfo, application_name=self.holder, **KEEPALIVE)
                    self._session = psycopg.connect(conninfo, autocommit=True)
                row = self._session.execute(statement, params).fetchone()
            except psycopg.Error:
                self._lose()
                raise
            return row[0] if row else None

    def _lose(self) -> None:
        """The session is gone, and every lock with it: each holder lets go."""
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = None
            for lease in list(self._leases.values()):
                if lease.held:
                    log.warning("lease.lost", lease=lease.name)
                lease.lose()

    def watch(self) -> None:
        """Start the heartbeat, if it is not running."""
        with self._lock:
            if self._keeper is None:
                self._keeper = threading.Thread(target=self._keep, name="lease-heartbeat", daemon=True)
                self._keeper.start()

    def _keep(self) -> None:
        while not self._closed.wait(self.heartbeat):
            for lease in list(self._leases.values()):
                lease.let_go_if_stopped()
            if any(lease.held for lease in list(self._leases.values())):
                with suppress(psycopg.Error):  # lost: every holder was told
                    self.execute(PING)

    def close(self) -> None:
        """Stop the heartbeat and close the session, which drops every lease still held."""
        self._closed.set()
        if self._keeper is not None:
            self._keeper.join()
        for lease in list(self._leases.values()):
            lease.lose()  # given up, not lost: no warning
        self._lose()


class Lease:
    """The lease of one projection: at most one session, in any process, holds it at a time."""

    def __init__(self, leases: Leases, name: str) -> None:
        self.leases = leases
        self.name = name
        self.key = lease_key(leases.scope, name)
        self.held = False
        self._letgo: threading.Event | None = None
        self._stop: threading.Event | None = None

    def acquire(self) -> bool:
        """Take the lease if no session holds it; whether this process holds it now (False if the database is
        away)."""
        try:
            if self.held:
                self.leases.execute(PING)  # the session that holds it may be gone
            if not self.held:
                self.held = bool(self.leases.execute(TRY_LOCK, [self.key]))
        except psycopg.Error as error:
            log.warning("lease.unavailable", lease=self.name, error=str(error))
        return self.held

    @contextmanager
    def holding(self, stop: threading.Event) -> Iterator[threading.Event]:
        """Work under the lease, which must be held: an event set when the work must let go (the lease was lost,
        or ``stop`` was set); the lease is released at the end."""
        letgo = threading.Event()
        self._letgo, self._stop = letgo, stop
        if not self.held:
            letgo.set()
        self.leases.watch()
        try:
            yield letgo
        finally:
            letgo.set()
            self._letgo = self._stop = None
            self.release()

    def let_go_if_stopped(self) -> None:
        if self._letgo is not None and self._stop is not None and self._stop.is_set():
            self._letgo.set()

    def lose(self) -> None:
        """The session holding the lock is gone."""
        self.held = False
        if self._letgo is not None:
            self._letgo.set()

    def release(self) -> None:
        """Give the lease up for another process to take."""
        if self.held:
            self.held = False
            with suppress(psycopg.Error):  # the session is gone, and the lock with it
                self.leases.execute(UNLOCK, [self.key])

    def confirm(self, curs: Cursor[DictRow]) -> None:
        """Raise ``LeaseLost`` unless the lease session still holds the lock, checked in ``curs``'s transaction."""
        pid = self.leases.pid
        if not self.held or pid is None:
            raise LeaseLost(self.name)
        curs.execute(HOLDS, {"key": self.key, "pid": pid})
        row = curs.fetchone()
        if not (row and row["holds"]):
            raise LeaseLost(self.name)
