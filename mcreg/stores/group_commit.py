"""Coalesced commits: the event store's recorder, gathering concurrent small saves into one shared transaction.

An API process runs each command in its own thread; alone, each save is a transaction of its own that takes the
events table's lock, so concurrent commands queue on that lock and commit one by one. Once ``coalesce`` starts its
writer, a save of at most ``MAX_EVENTS`` events is handed to that one thread instead, which takes up to ``size``
waiting saves (waiting at most ``wait`` seconds for more), and writes them in one transaction, each under a
SAVEPOINT of its own: a save the store refuses (a version or idempotency receipt taken, a relied-on aggregate
changed, decision 25) is rolled back alone and answered with its own error; the others commit together. Every save
returns only after that shared COMMIT, so an acknowledged command is a stored one. Saves are written in the order
they arrived, after the table lock, so notification ids still commit in order.

A larger save (a batch) goes its own way, as before; so does every save of a process that never calls ``coalesce``.
More than ``queue`` saves waiting is an overload: the save is refused at once with ``WriterBusy``, a database
that cannot take more just now (HTTP 503 with ``Retry-After``), rather than a wait without end.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import get_topic, retry

from mcreg.stores.event_store import ReadCheckingRecorder

MAX_EVENTS = 64
"""The largest save that is coalesced: a command's events and its receipt, not a batch."""


class WriterBusy(psycopg.OperationalError):
    """More saves wait for the shared writer than it queues: the database cannot take more just now."""


@dataclass
class PendingSave:
    """One save handed to the writer, and what it is answered with once the shared transaction ends."""

    events: Sequence[StoredEvent]
    options: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    ids: Sequence[int] | None = None
    error: BaseException | None = None

    def answer(self) -> Sequence[int] | None:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.ids


_TRANSLATED: tuple[tuple[type[psycopg.Error], type[persistence.PersistenceError]], ...] = (
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.Error, persistence.DatabaseError),
)


def _as_library_error(error: psycopg.Error) -> persistence.PersistenceError:
    """A save's own database error as the library raises it when the save is alone (its datastore translates)."""
    kind = next(ours for theirs, ours in _TRANSLATED if isinstance(error, theirs))
    translated = kind(str(error))
    translated.__cause__ = error
    return translated


class GroupCommitRecorder(ReadCheckingRecorder):
    """``ReadCheckingRecorder`` whose small saves, once ``coalesce`` is called, share transactions."""

    _writer: threading.Thread | None = None
    _waiting: queue.Queue[PendingSave | None]
    _size: int
    _wait: float
    commits = 0
    """Shared transactions the writer committed."""
    committed = 0
    """Saves written in them: over ``commits``, how many commands a commit carried on average."""

    def coalesce(self, size: int, wait: float, queued: int) -> None:
        """Start the writer: up to ``size`` saves per transaction, waiting up to ``wait`` seconds for more after the
        first; a save finding ``queued`` others waiting is refused with ``WriterBusy``."""
        self._size, self._wait = size, wait
        self._waiting = queue.Queue(maxsize=queued)
        self._writer = threading.Thread(target=self._write, name="mcreg-group-commit", daemon=True)
        self._writer.start()

    def stop_coalescing(self) -> None:
        """Let the writer finish the saves handed to it, then stop it; saves go their own way again."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self._waiting.put(None)
            writer.join()
            while not self._waiting.empty():  # a save handed over as the writer stopped is written alone
                if (late := self._waiting.get_nowait()) is not None:
                    self._commit([late])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self._writer is None or not stored_events or len(stored_events) > MAX_EVENTS:
            return super().insert_events(stored_events, **kwargs)
        pending = PendingSave(stored_events, kwargs)
        try:
            self._waiting.put_nowait(pending)
        except queue.Full:
            raise WriterBusy(f"{self._waiting.maxsize} saves already wait for the database") from None
        return pending.answer()

    def _write(self) -> None:
        while (first := self._waiting.get()) is not None:
            group = [first]
            deadline = time.monotonic() + self._wait
            stopping = False
            while len(group) < self._size:
                try:
                    pending = self._waiting.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if pending is None:
                    stopping = True
                    break
                group.append(pending)
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[PendingSave]) -> None:
        """Write the group in one transaction, each save under its own SAVEPOINT; answer every save after COMMIT."""
        try:
            with self.datastore.transaction(commit=True) as curs:
                self._lock_table(curs)  # before the first savepoint: a save rolled back does not release it
                self._notify_channel(curs)
                for pending in group:
                    try:
                        with curs.connection.transaction():
                            self._insert_events(curs, pending.events, **pending.options)
                            self._insert_stored_events(curs, pending.events, **pending.options)
                            pending.ids = self._fetch_ids_after_insert_events(curs, pending.events, **pending.options)
                    except persistence.IntegrityError as refused:  # a relied-on aggregate changed (decision 25)
                        pending.error = refused
                    except psycopg.Error as refused:
                        if curs.connection.broken or refused.sqlstate is None:
                            raise  # the connection failed, not this save: the whole group did
                        pending.error = _as_library_error(refused)
            self.commits += 1
            self.committed += sum(1 for pending in group if pending.error is None)
        except Exception as failed:  # nothing of the group was committed
            for pending in group:
                pending.error, pending.ids = _own_copy(failed), None
        finally:
            for pending in group:
                pending.done.set()


def _own_copy(error: Exception) -> Exception:
    # Each waiting thread raises an error of its own: one object raised in many threads at once mixes tracebacks.
    mine = copy.copy(error)
    mine.__cause__ = error
    return mine


RECORDER_TOPIC = get_topic(GroupCommitRecorder)
