"""API keys: one organisation acting in one role, shown once, stored hashed, revocable.

A key reads ``mcreg_<prefix>_<secret>``. The prefix is public (it names the
key in lists, logs and events, as ``key_id``); the secret is 32 random bytes
and only its SHA-256 is stored, so a stolen table lets no one in. The keys
live in a table beside the event store, not in it: they are credentials of
callers, revoked and expired in place, and never part of the registry's history.

A key found valid is trusted for ``FRESH_FOR`` (one second) in the process that found it, so a busy client costs
one lookup a second rather than one a request: a key revoked elsewhere (the CLI, another API process) is refused
within that second, and at once in the process that revoked it. Expiry is checked on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from mcreg.projections.tables import CREATE_IN_TURN
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.stores.tables import qualified

PREFIX_BYTES = 6
SECRET_BYTES = 32
FRESH_FOR = 1.0
"""Seconds a key found valid is trusted in this process before it is looked up again."""
KNOWN_KEYS = 10_000
"""The most keys a process remembers at once (past it, it forgets them all and looks each up again)."""


class KeyRefused(Exception):
    """The presented key does not let anyone in; the message says why (for the log, not the caller)."""


@dataclass(frozen=True)
class ApiKey:
    prefix: str
    org: UUID
    role: Role
    country: str | None
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))

    @property
    def actor(self) -> Actor:
        return Actor(self.org, self.role, key_id=self.prefix, country=self.country)


@dataclass(frozen=True)
class MadeApiKey:
    """A key just made: the only time its token is ever shown."""

    key: ApiKey
    token: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _prefix_of(token: str) -> str | None:
    parts = token.split("_", 2)  # the secret is URL-safe base64 and may hold "_" itself
    if len(parts) != 3 or parts[0] != "mcreg" or not parts[1] or not parts[2]:
        return None
    return parts[1]


class ApiKeys:
    """The key table of one registry."""

    columns = "prefix, org, role, country, name, created_at, expires_at, revoked_at"

    def __init__(self, pool: ConnectionPool, schema: str = "", *, fresh_for: float = FRESH_FOR) -> None:
        self.pool = pool
        self.table = qualified(schema, "api_keys")
        self.fresh_for = fresh_for
        self._known: dict[bytes, tuple[float, ApiKey]] = {}  # by the token's digest: when it was found valid, the key

    def create_table(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(CREATE_IN_TURN)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    " prefix text PRIMARY KEY,"
                    " digest bytea NOT NULL,"
                    " org uuid NOT NULL,"
                    " role text NOT NULL,"
                    " country text,"
                    " name text NOT NULL,"
                    " created_at timestamptz NOT NULL DEFAULT now(),"
                    " expires_at timestamptz,"
                    " revoked_at timestamptz)"
                ).format(self.table)
            )

    def create(
        self, org: UUID, role: Role, *, name: str, country: str | None = None, expires_at: datetime | None = None
    ) -> MadeApiKey:
        prefix = secrets.token_hex(PREFIX_BYTES)
        token = f"mcreg_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(ApiKey)) as cur:
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} (prefix, digest, org, role, country, name, expires_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING " + self.columns
                ).format(self.table),
                [prefix, _digest(token), org, Role(role).value, country, name, expires_at],
            )
            key = cur.fetchone()
        assert key is not None
        return MadeApiKey(key, token)

    def authenticate(self, token: str, now: datetime) -> ApiKey:
        """The key behind ``token``, or KeyRefused saying why it lets no one in (looked up unless this process
        found it valid less than ``fresh_for`` seconds ago)."""
        digest = _digest(token)
        key = self.known(token, now, digest)
        if key is None:
            key = self._look_up(token, digest)
            if len(self._known) >= KNOWN_KEYS:
                self._known.clear()
            self._known[digest] = (time.monotonic(), key)
            _check_expiry(key, now)
        return key

    def known(self, token: str, now: datetime, digest: bytes | None = None) -> ApiKey | None:
        """The key behind ``token`` if this process found it valid less than ``fresh_for`` seconds ago (no lookup);
        KeyRefused if it has expired since; None if it must be looked up."""
        found = self._known.get(digest or _digest(token))
        if found is None or time.monotonic() - found[0] >= self.fresh_for:
            return None
        _check_expiry(found[1], now)
        return found[1]

    def _look_up(self, token: str, digest: bytes) -> ApiKey:
        prefix = _prefix_of(token)
        if prefix is None:
            raise KeyRefused("not an mcreg API key")
        with self.pool.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT digest, " + self.columns + " FROM {} WHERE prefix = %s").format(self.table), [prefix]
            ).fetchone()
        if row is None or not hmac.compare_digest(bytes(row[0]), digest):
            raise KeyRefused(f"unknown API key {prefix}")
        key = ApiKey(*row[1:])
        if key.revoked_at is not None:
            raise KeyRefused(f"API key {prefix} was revoked")
        return key

    def get(self, prefix: str) -> ApiKey | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(ApiKey)) as cur:
            cur.execute(sql.SQL("SELECT " + self.columns + " FROM {} WHERE prefix = %s").format(self.table), [prefix])
            return cur.fetchone()

    def list(self, org: UUID | None = None) -> list[ApiKey]:
        with self.pool.connection() as conn, conn.cursor(row_factory=class_row(ApiKey)) as cur:
            where = sql.SQL("WHERE org = %s") if org else sql.SQL("")
            cur.execute(
                sql.SQL("SELECT " + self.columns + " FROM {} {} ORDER BY created_at").format(self.table, where),
                [org] if org else [],
            )
            return cur.fetchall()

    def revoke(self, prefix: str) -> bool:
        """Revoke the key now; False if there is no such key or it was already revoked."""
        with self.pool.connection() as conn:
            revoked = conn.execute(
                sql.SQL("UPDATE {} SET revoked_at = now() WHERE prefix = %s AND revoked_at IS NULL").format(self.table),
                [prefix],
            ).rowcount
        for digest, (_, key) in list(self._known.items()):  # refused at once here; elsewhere within fresh_for
            if key.prefix == prefix:
                self._known.pop(digest, None)
        return revoked > 0


def _check_expiry(key: ApiKey, now: datetime) -> None:
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyRefused(f"API key {key.prefix} expired")
