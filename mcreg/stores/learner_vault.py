"""Learner keys in PostgreSQL, in a table of their own beside (not inside) the event store.

Deleting a row erases that learner's personal data from every event that
holds it (crypto-shredding). Backups of this table must follow the same
retention as erasure requests: a restored key resurrects the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql
from psycopg_pool import ConnectionPool

from mcreg.projections.tables import CREATE_IN_TURN
from mcreg.stores.tables import qualified


class PostgresLearnerVault:
    def __init__(self, pool: ConnectionPool, schema: str = "") -> None:
        self.pool = pool
        self.table = qualified(schema, "learner_keys")
        self.secrets = qualified(schema, "registry_secrets")
        self._fingerprint_key: bytes | None = None

    def create_table(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(CREATE_IN_TURN)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    " learner_id uuid PRIMARY KEY,"
                    " key bytea NOT NULL,"
                    " created_at timestamptz NOT NULL DEFAULT now())"
                ).format(self.table)
            )
            conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, value bytea NOT NULL)").format(
                    self.secrets
                )
            )

    def fingerprint_key(self) -> bytes:
        if self._fingerprint_key is None:
            with self.pool.connection() as conn:
                conn.execute(
                    sql.SQL("INSERT INTO {} VALUES ('fingerprint', %s) ON CONFLICT (name) DO NOTHING").format(
                        self.secrets
                    ),
                    [AESGCM.generate_key(256)],
                )
                row = conn.execute(
                    sql.SQL("SELECT value FROM {} WHERE name = 'fingerprint'").format(self.secrets)
                ).fetchone()
            assert row is not None
            self._fingerprint_key = bytes(row[0])
        return self._fingerprint_key

    def create_keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        ids = list(learner_ids)
        if not ids:
            return {}
        fresh = [AESGCM.generate_key(256) for _ in ids]
        with self.pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (learner_id, key) SELECT * FROM unnest(%s::uuid[], %s::bytea[])"
                    " ON CONFLICT (learner_id) DO NOTHING"
                ).format(self.table),
                [ids, fresh],
            )
        return self.keys(ids)

    def key(self, learner_id: UUID) -> bytes | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT key FROM {} WHERE learner_id = %s").format(self.table), [learner_id]
            ).fetchone()
        return bytes(row[0]) if row else None

    def keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        ids = list(learner_ids)
        if not ids:
            return {}
        with self.pool.connection() as conn:
            rows = conn.execute(
                sql.SQL("SELECT learner_id, key FROM {} WHERE learner_id = ANY(%s)").format(self.table), [ids]
            ).fetchall()
        return {learner_id: bytes(key) for learner_id, key in rows}

    def destroy(self, learner_id: UUID) -> bool:
        with self.pool.connection() as conn:
            deleted = conn.execute(
                sql.SQL("DELETE FROM {} WHERE learner_id = %s").format(self.table), [learner_id]
            ).rowcount
        return deleted > 0
