"""Events a read model could not apply: the quarantine table, one for every read model of a schema.

A read model that cannot apply an event (its handler raises, or the database refuses what it wrote, for that
event alone) applies every event before it, records it here as ``held`` and stops there: it never skips an
event by itself, so it stays exactly what a rebuild makes (decision 55). An operator then either has it step
over the event (``skipped``: a rebuild steps over it too, so the two stay equal) or, after a fix, try it again
(``retried``). The rows stay, as the history of what each read model left out; a rebuild never replaces them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.tables import CREATE_IN_TURN, table_exists

TABLE = "read_model_quarantine"
REPLICA_WAIT = 10.0
"""Seconds a replica may take to replay the creation of the read side's tables on its primary."""
MESSAGE_LENGTH = 2000
"""Characters of an error's message kept."""


class State(StrEnum):
    HELD = "held"
    """The read model stops before the event until an operator acts."""
    SKIPPED = "skipped"
    """The read model, and every rebuild of it, steps over the event."""
    RETRIED = "retried"
    """The read model tries the event again; if it fails again, it is held again."""


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An event one read model could not apply, and what was done about it."""

    read_model: str
    position: int
    error_class: str
    error_message: str
    quarantined_at: datetime
    state: State
    resolved_at: datetime | None


class PoisonEvent(Exception):
    """Read models stopped before events they cannot apply, which are held in quarantine."""

    def __init__(self, *held: Quarantined) -> None:
        super().__init__(
            "; ".join(
                f"{h.read_model} stopped at the event at position {h.position}: {h.error_class}: {h.error_message}"
                for h in held
            )
        )
        self.held = held


class NotQuarantined(LookupError):
    """An operator named an event that the read model does not hold in quarantine."""

    def __init__(self, read_model: str, position: int) -> None:
        super().__init__(f"{read_model} holds no event at position {position} in quarantine")
        self.read_model = read_model
        self.position = position


class NotReplicated(LookupError):
    """A read-only database (a replica) still had no table of the read side after ``REPLICA_WAIT`` seconds."""

    def __init__(self, table: str) -> None:
        super().__init__(
            f"the read database has no table {table} after {REPLICA_WAIT:g} s: it is not (yet) a replica of the"
            " primary's database, where mcreg project or mcreg serve makes the read models' tables"
        )


class Quarantine:
    """The quarantine table of the schema ``datastore`` works in, created if missing; without ``create`` (a
    read-only replica, which has the primary's tables once it has replayed them), waited for up to
    ``REPLICA_WAIT`` seconds, then ``NotReplicated``."""

    def __init__(self, datastore: PostgresDatastore, *, create: bool = True) -> None:
        self.datastore = datastore
        table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(TABLE))
        self.create_statement = SQL(
            "CREATE TABLE IF NOT EXISTS {0} (read_model text NOT NULL, position bigint NOT NULL,"
            " error_class text NOT NULL, error_message text NOT NULL, quarantined_at timestamptz NOT NULL,"
            " state text NOT NULL CHECK (state IN ('held', 'skipped', 'retried')), resolved_at timestamptz,"
            " PRIMARY KEY (read_model, position))"
        ).format(table)
        self.hold_statement = SQL(
            "INSERT INTO {0} VALUES (%s, %s, %s, %s, now(), 'held', NULL) ON CONFLICT (read_model, position)"
            " DO UPDATE SET error_class = excluded.error_class, error_message = excluded.error_message,"
            " quarantined_at = excluded.quarantined_at, state = 'held', resolved_at = NULL"
        ).format(table)
        self.resolve_statement = SQL(
            "UPDATE {0} SET state = %s, resolved_at = now() WHERE read_model = %s AND position = %s"
            " AND state = 'held' RETURNING *"
        ).format(table)
        self.select_statement = SQL("SELECT * FROM {0} ORDER BY read_model, position").format(table)
        self.select_read_model_statement = SQL("SELECT * FROM {0} WHERE read_model = %s ORDER BY position").format(
            table
        )
        exists = table_exists(datastore.schema, TABLE)
        waited_until = time.monotonic() + REPLICA_WAIT
        while True:
            with datastore.transaction(commit=True) as curs:
                found = curs.execute(exists).fetchone()
                if found and found["found"]:
                    return
                if create:
                    curs.execute(CREATE_IN_TURN)
                    curs.execute(self.create_statement)
                    return
            # A replica has the primary's tables once it has replayed their creation: wait for it, for a while.
            if time.monotonic() > waited_until:
                raise NotReplicated(f"{datastore.schema}.{TABLE}")
            time.sleep(0.2)

    def hold(self, read_model: str, position: int, error: BaseException) -> Quarantined:
        """Record that ``read_model`` cannot apply the event at ``position``, and stops before it."""
        message = str(error)[:MESSAGE_LENGTH]
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.hold_statement, [read_model, position, type(error).__name__, message])
            curs.execute(self.select_read_model_statement, [read_model])
            return next(e for e in map(_entry, curs.fetchall()) if e.position == position)

    def resolve(self, curs: Cursor[DictRow], read_model: str, position: int, state: State) -> Quarantined:
        """Mark the held event at ``position`` skipped or retried, in the caller's transaction; NotQuarantined if
        ``read_model`` holds no event there."""
        curs.execute(self.resolve_statement, [state.value, read_model, position])
        row = curs.fetchone()
        if row is None:
            raise NotQuarantined(read_model, position)
        return _entry(row)

    def entries(self, read_model: str | None = None) -> list[Quarantined]:
        """Every event quarantined, held or resolved; of one read model if given."""
        with self.datastore.transaction() as curs:
            if read_model is None:
                curs.execute(self.select_statement)
            else:
                curs.execute(self.select_read_model_statement, [read_model])
            return [_entry(row) for row in curs.fetchall()]

    def held(self) -> dict[str, Quarantined]:
        """The event each stopped read model is held at (its first, should it hold more)."""
        held: dict[str, Quarantined] = {}
        for entry in self.entries():
            if entry.state is State.HELD:
                held.setdefault(entry.read_model, entry)
        return held


class NotTheEvents(Exception):
    """A failure of what the read side runs on, not of the event it was applying: a key that cannot be opened,
    a setting missing. Raising one stops the work and says so; the event is never held for it."""


def operational(error: BaseException) -> bool:
    """Whether the database's state or the read side's surroundings, not what was written, made ``error``: the
    connection, a timeout, a deadlock, a key that will not open (``NotTheEvents``). Such a failure is no
    event's; the library wraps psycopg's error, so its cause chain is followed."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OperationalError | InterfaceError | NotTheEvents):
            return True
        cause = cause.__cause__
    return False


def _entry(row: DictRow) -> Quarantined:
    return Quarantined(**{**row, "state": State(row["state"])})
