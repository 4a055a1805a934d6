"""News of new events: one LISTEN session per process wakes every follower of that process.

The event store NOTIFYs its channel in every transaction that records events. Rather than a session per
follower (the library's subscriptions), a worker keeps one: ``News`` listens on it, reads the head of the log
once per notification on the same session, and wakes each follower, which then reads the events it wants up to
that head. A follower also looks on a timer of its own, so a notification missed (the session lost, the server
restarted) delays it by that timer at most, and never stalls it (decision 81).
"""

from __future__ import annotations

import threading

import structlog
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

log = structlog.get_logger(__name__)

LISTENING = 0.5
"""Seconds the session waits for a notification before it looks whether the worker stops."""

OUTAGE_PAUSE = 1.0
"""Seconds between tries for a session after it was lost."""


class News:
    """The notifications of one application's event store, for the followers of one process.

    ``head`` is the log's head as last read after a notification; ``listener`` gives a follower the event that
    is set when there is news.
    """

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.recorder = recorder
        self.head = 0
        self._listeners: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def listener(self, name: str) -> threading.Event:
        """The event set when news arrives, for the follower ``name`` (one per name, however often it asks)."""
        with self._lock:
            return self._listeners.setdefault(name, threading.Event())

    def run(self, stopping: threading.Event) -> None:
        """Listen until ``stopping`` is set, on a session of the event store's pool; when the session is lost,
        wake every follower (news may have been missed) and try again."""
        listen = SQL("LISTEN {0}").format(Identifier(self.recorder.channel_name))
        while not stopping.is_set():
            try:
                with self.recorder.datastore.get_connection() as conn:
                    conn.execute(listen)
                    try:
                        self._listen(conn, stopping)
                    finally:
                        conn.execute("UNLISTEN *")  # the session goes back to the pool
            except Exception as error:
                log.warning("news.lost", error=str(error))
                self._announce(None)
                stopping.wait(OUTAGE_PAUSE)
        self._announce(None)  # the followers see at once that they stop

    def _listen(self, conn: Connection[DictRow], stopping: threading.Event) -> None:
        self._announce(conn)  # what was recorded before the session listened
        while not stopping.is_set():
            # Read the head once the generator has let the session go: a query inside it would wait for it.
            if any(True for _ in conn.notifies(timeout=LISTENING, stop_after=1)):
                self._announce(conn)

    def _announce(self, conn: Connection[DictRow] | None) -> None:
        """Read the head on ``conn`` (if given), then wake every follower."""
        if conn is not None:
            row = conn.execute(self.recorder.max_notification_id_statement).fetchone()
            self.head = max(self.head, int(next(iter(row.values())) or 0) if row else 0)
        with self._lock:
            listeners = list(self._listeners.values())
        for listener in listeners:
            listener.set()
