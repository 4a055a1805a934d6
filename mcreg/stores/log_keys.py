"""The transparency log's signing keys, sealed under the key-encryption key, and their rotation.

``log_keys`` holds one row per key the log has had, numbered from 1, beside
the event store (never in it): the public key, the private key sealed with
AES-256-GCM under the KEK (``mcreg.stores.issuer_keys.KeyEncryptionKey``, the
associated data binding it to its purpose and public key) and, from key 2
on, the rotation note its predecessor signed (``registry.trust.key_rotation``).
The highest number signs the log's checkpoints.

* The first key is made by the first process that signs (the log's first
  checkpoint), in that transaction: a process that only reads never needs the KEK.
* A registry from before keys were sealed kept its key unsealed in
  ``registry_secrets`` (``signing-key-ed25519``): the first start seals it as
  key 1 and deletes the plaintext row, in one transaction.
* A key that does not open (no KEK, the wrong one) is an error naming the KEK
  it was sealed under: the log never falls back to a new key.
* ``rotate`` runs in a transaction holding the log's page lock, so every
  checkpoint above the size it hands over at is signed by the new key.
* A backup carries every row as it is stored, sealed (``exported``), and a
  restore puts them back (``adopt``): the restored log keeps its origin and keys.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import Connection, Cursor, sql
from psycopg.errors import UndefinedTable
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from mcreg.projections.log_tree import CHECKPOINTS
from mcreg.projections.tables import CREATE_IN_TURN
from mcreg.registry.trust.key_rotation import AnnouncedKey, LogKeyChain, Rotation, sign_rotation
from mcreg.registry.trust.signed_note import Signer, Verifier
from mcreg.stores.issuer_keys import KeyEncryptionKey, KeyUnavailable
from mcreg.stores.signing import ORIGIN_NAME
from mcreg.stores.tables import qualified

UNSEALED_KEY = "signing-key-ed25519"
"""The ``registry_secrets`` row where registries from before kept the log key unsealed."""
_AAD = b"mcreg/log-key/v1\x00"


def _aad(public_key: bytes) -> bytes:
    return _AAD + public_key


@dataclass(frozen=True)
class LogKey:
    """A key the log has had: its number (1 for the first), public key and the note that announced it."""

    number: int
    public_key: bytes
    announcement: str | None


class LogKeys:
    """The log's keys in ``log_keys``, named by the log's ``origin``; ``kek`` gives the KEK when a key is opened."""

    def __init__(self, pool: ConnectionPool, schema: str, origin: str, kek: Callable[[], KeyEncryptionKey]) -> None:
        self.pool = pool
        self.origin = origin
        self.table = qualified(schema, "log_keys")
        self.secrets = qualified(schema, "registry_secrets")
        self.checkpoints = qualified(schema, CHECKPOINTS.name)
        self._kek = kek
        self._opened: dict[bytes, Signer] = {}
        self._lock = threading.Lock()
        self._select_keys = sql.SQL("SELECT number, public_key, announcement FROM {} ORDER BY number").format(
            self.table
        )
        self._select_latest = sql.SQL(
            "SELECT number, public_key, kek_id, nonce, sealed FROM {} ORDER BY number DESC LIMIT 1"
        ).format(self.table)
        self._select_any_checkpoint = sql.SQL("SELECT 1 FROM {} LIMIT 1").format(self.checkpoints)
        self._insert = sql.SQL(
            "INSERT INTO {} (number, public_key, kek_id, nonce, sealed, announcement) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (number) DO NOTHING"
        ).format(self.table)

    def create_table(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(CREATE_IN_TURN)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    " number int PRIMARY KEY CHECK (number >= 1),"
                    " public_key bytea NOT NULL UNIQUE,"  # the raw 32-byte Ed25519 public key
                    " kek_id text NOT NULL,"
                    " nonce bytea NOT NULL,"
                    " sealed bytea NOT NULL,"  # AES-256-GCM of the 32-byte seed
                    " announcement text,"  # the rotation note signed by the key before; none for key 1
                    " created_at timestamptz NOT NULL DEFAULT now(),"
                    " CHECK ((number = 1) = (announcement IS NULL)))"
                ).format(self.table)
            )

    def seal_unsealed_key(self) -> bool:
        """Seal a key kept unsealed by a registry from before as key 1, and delete it; whether there was one."""
        select = sql.SQL("SELECT value FROM {} WHERE name = %s FOR UPDATE").format(self.secrets)
        delete = sql.SQL("DELETE FROM {} WHERE name = %s").format(self.secrets)
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(select, [UNSEALED_KEY]).fetchone()
            if row is None:
                return False
            self._store(conn.cursor(), 1, Ed25519PrivateKey.from_private_bytes(bytes(row[0])), None)
            conn.execute(delete, [UNSEALED_KEY])
        return True

    # Reading

    def all_keys(self) -> list[LogKey]:
        """Every key the log has had, oldest first (none before the log signed its first checkpoint)."""
        with self.pool.connection() as conn:
            return self._keys(conn.cursor())

    def _keys(self, curs: Cursor[TupleRow]) -> list[LogKey]:
        return [LogKey(int(n), bytes(k), a) for n, k, a in curs.execute(self._select_keys).fetchall()]

    def announced(self, curs: Cursor[TupleRow]) -> list[AnnouncedKey]:
        """The keys as ``curs`` sees them, as signed-note verifiers with their announcements, to follow as a chain."""
        return [AnnouncedKey(Verifier(self.origin, k.public_key), k.announcement) for k in self._keys(curs)]

    # Signing

    def signer(self, curs: Cursor[TupleRow]) -> Signer:
        """The key in force as ``curs`` sees it, opened; made (key 1) in ``curs``'s transaction if the log has none
        and has signed nothing (a log that signed checkpoints and lost its keys stops, rather than take a new one)."""
        row = curs.execute(self._select_latest).fetchone()
        if row is None:
            if curs.execute(self._select_any_checkpoint).fetchone() is not None:
                raise KeyUnavailable("the log has signed checkpoints but holds no key: restore log_keys from a backup")
            self._store(curs, 1, Ed25519PrivateKey.generate(), None)
            row = curs.execute(self._select_latest).fetchone()
            assert row is not None
        number, public_key, kek_id, nonce, sealed = row
        public_key = bytes(public_key)
        with self._lock:
            opened = self._opened.get(public_key)
        if opened is None:
            opened = Signer(self.origin, self._open(int(number), public_key, kek_id, bytes(nonce), bytes(sealed)))
            with self._lock:
                self._opened[public_key] = opened
        return opened

    def rotate(self, curs: Cursor[TupleRow], size: int) -> LogKey:
        """Make the next key, announced by a note the key in force signs: it signs no checkpoint above ``size``.

        ``curs`` must hold the log's page lock (``TransparencyLog.rotating``), so ``size`` is the log's.
        """
        old = self.signer(curs)  # opened first: with no KEK or the wrong one, nothing is written
        new = Ed25519PrivateKey.generate()
        new_public = new.public_key().public_bytes_raw()
        row = curs.execute(self._select_latest).fetchone()
        assert row is not None
        number = int(row[0]) + 1
        note = sign_rotation(Rotation(self.origin, size, Verifier(self.origin, new_public)), old)
        self._store(curs, number, new, note)
        return LogKey(number, new_public, note)

    def _store(self, curs: Cursor[Any], number: int, private_key: Ed25519PrivateKey, announcement: str | None) -> None:
        kek = self._kek()
        public_key = private_key.public_key().public_bytes_raw()
        nonce, sealed = kek.seal_secret(private_key.private_bytes_raw(), _aad(public_key))
        curs.execute(self._insert, [number, public_key, kek.id, nonce, sealed, announcement])

    def _open(self, number: int, public_key: bytes, kek_id: str, nonce: bytes, sealed: bytes) -> Ed25519PrivateKey:
        kek = self._kek()
        if kek_id != kek.id:
            raise KeyUnavailable(f"log key {number} is sealed under KEK {kek_id}, this process has {kek.id}")
        seed = kek.open_secret(nonce, sealed, _aad(public_key), f"log key {number}")
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
        if private_key.public_key().public_bytes_raw() != public_key:
            raise KeyUnavailable(f"the sealed log key {number} is not its public key")
        return private_key

    # Backup

    def exported(self) -> dict[str, Any]:
        """The log's origin and every key as stored, sealed, for a backup (useless without the KEK)."""
        select = sql.SQL("SELECT number, public_key, kek_id, nonce, sealed, announcement FROM {} ORDER BY number")
        with self.pool.connection() as conn:
            rows = conn.execute(select.format(self.table)).fetchall()
        b64 = base64.b64encode
        return {
            "origin": self.origin,
            "keys": [
                {
                    "number": n,
                    "public_key": b64(k).decode(),
                    "kek_id": kek_id,
                    "nonce": b64(nonce).decode(),
                    "sealed": b64(sealed).decode(),
                    "announcement": announcement,
                }
                for n, k, kek_id, nonce, sealed, announcement in rows
            ],
        }

    def adopt(self, exported: dict[str, Any]) -> str:
        """Make the log of a backup this registry's, in place of any key made here: its origin and keys; the origin.

        The chain must follow and its key in force must open under this process's KEK, or nothing is written
        (``KeyUnavailable``, ``KeyChainError``). Only for a registry whose log signed nothing but the empty tree.
        """
        origin = str(exported["origin"])
        rows = [
            (
                int(k["number"]),
                base64.b64decode(k["public_key"], validate=True),
                str(k["kek_id"]),
                base64.b64decode(k["nonce"], validate=True),
                base64.b64decode(k["sealed"], validate=True),
                k["announcement"],
            )
            for k in exported["keys"]
        ]
        if rows:  # none when the log had signed nothing: its first key is made here, under the same origin
            LogKeyChain.follow([AnnouncedKey(Verifier(origin, row[1]), row[5]) for row in rows])
            self._open(*rows[-1][:5])
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(sql.SQL("DELETE FROM {}").format(self.table))
            for row in rows:
                conn.execute(self._insert, list(row))
            upsert = "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            conn.execute(sql.SQL(upsert).format(self.secrets), [ORIGIN_NAME, origin.encode()])
            _forget_empty_checkpoint(conn, self.checkpoints)
        return origin


def _forget_empty_checkpoint(conn: Connection[Any], checkpoints: sql.Identifier) -> None:
    """Drop the empty tree's checkpoint a log signed with a key it then gave up for a backup's; signed again later."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("DELETE FROM {} WHERE size = 0").format(checkpoints))
    except UndefinedTable:  # the log was never opened
        pass
