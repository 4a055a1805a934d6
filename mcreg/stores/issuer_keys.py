"""Issuers' private signing keys: sealed with AES-256-GCM under a key-encryption key, beside the event store.

The registry signs each provider's credentials and status lists with that
provider's own Ed25519 key, as the issuer ``did:web:{host}:issuers:{id}``. The
public half of every key is a fact in the event log (``registry.issuer_keys``);
the private half lives here, in ``issuer_private_keys``, sealed under the
key-encryption key (KEK): a copy of the database alone signs nothing.

* The KEK is 32 random bytes, given base64-encoded in
  ``MCREG_KEY_ENCRYPTION_KEY``. Production must set it (from a secret store or
  a KMS-unwrapped file, the same value for every process that signs: ``mcreg
  serve``); a process that never signs does not read it. In development, when
  it is unset, a KEK file is made in the data directory on first use (mode
  0600). The KEK is never written to the database. Each sealed key names the
  KEK that sealed it (``kek_id``, a hash of it), so a process with the wrong
  KEK says so instead of signing with garbage.
* The associated data binds each sealed key to its issuer and public key, so a
  sealed key copied onto another row does not open.
* Keys are made by commands, never by a read: a provider's first key when it
  is accredited, or at the latest with its first credential, in that command's
  transaction (``SealedIssuerKeys`` is the registry's ``IssuerKeyVault``); a
  replacement with the report of a compromise; a new key on rotation; and, for
  registries from before, ``mcreg keys issuers``.
* A key made for a command with an idempotency key is kept under that key: a
  retried rotation finds the same key pair, so the command replays instead of
  refusing the retry as a different request.
* Private keys, once opened, stay in the process's memory (the process holds
  the KEK anyway).

Backups of ``issuer_private_keys`` are useless without the KEK, and the KEK must
outlive them: losing it means every issuer needs a new key (old credentials
still verify: their public keys are in the log and the DID documents).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from psycopg import sql
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from mcreg.projections.quarantine import NotTheEvents
from mcreg.projections.tables import CREATE_IN_TURN
from mcreg.registry.aggregates.issuer_keys import REGISTRY_ISSUER_ID, IssuerKey, IssuerKeys
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import Registry
from mcreg.registry.errors import IdempotencyKeyReused, NotFound, StateConflict
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import encode_public_multikey
from mcreg.settings import Settings
from mcreg.stores.signing import did_document, issuer_did, issuer_of_did
from mcreg.stores.tables import qualified

KEK_FILE = "key-encryption-key"

_AAD = b"mcreg/issuer-key/v1\x00"


class KeyUnavailable(NotTheEvents, RuntimeError):
    """A signing key cannot be opened: no KEK, the wrong KEK, or a private key missing from the store (a fault of
    the process's surroundings: the transparency log stops on it rather than hold an event)."""


class NoSigningKey(StateConflict):
    """The issuer has no key valid now: it was never accredited nor issued, or the registry predates keys made
    by commands (``mcreg keys issuers`` makes them)."""

    def __init__(self, issuer_id: UUID) -> None:
        super().__init__(
            f"issuer {issuer_id} has no signing key valid now: rotate with POST /v1/issuers/{issuer_id}/keys"
        )


@dataclass(frozen=True, repr=False)
class KeyEncryptionKey:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise KeyUnavailable("the key-encryption key must be 32 bytes (base64 of 32 random bytes)")

    @property
    def id(self) -> str:
        """Names the KEK without revealing it: which KEK sealed a row."""
        return hashlib.sha256(b"mcreg/kek-id\x00" + self.key).hexdigest()[:16]

    def derive(self, purpose: bytes) -> bytes:
        """A key for ``purpose`` (HKDF-SHA256's ``info``), derived from the KEK: it changes with the KEK, and no key
        derived for another purpose tells anything about it."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self.key)

    def seal_secret(self, secret: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """``secret`` sealed with AES-256-GCM under a fresh nonce, bound to ``aad``: (nonce, sealed)."""
        nonce = os.urandom(12)
        return nonce, AESGCM(self.key).encrypt(nonce, secret, aad)

    def open_secret(self, nonce: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
        """The secret sealed under this KEK with ``aad``; ``KeyUnavailable`` naming ``what`` when it does not open."""
        try:
            return AESGCM(self.key).decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise KeyUnavailable(f"{what} does not open under KEK {self.id}") from None

    def seal(self, issuer_id: UUID, public_key: str, private_key: Ed25519PrivateKey) -> tuple[bytes, bytes]:
        return self.seal_secret(private_key.private_bytes_raw(), _aad(issuer_id, public_key))

    def open(self, issuer_id: UUID, public_key: str, nonce: bytes, sealed: bytes) -> Ed25519PrivateKey:
        what = f"the sealed key {public_key} of issuer {issuer_id}"
        private_key = Ed25519PrivateKey.from_private_bytes(
            self.open_secret(nonce, sealed, _aad(issuer_id, public_key), what)
        )
        if encode_public_multikey(private_key.public_key()) != public_key:
            raise KeyUnavailable(f"the sealed key of {issuer_id} is not the key {public_key}")
        return private_key


def _aad(issuer_id: UUID, public_key: str) -> bytes:
    return _AAD + issuer_id.bytes + public_key.encode("ascii")


def load_kek(settings: Settings, configured: SecretStr | None) -> KeyEncryptionKey:
    """The KEK: ``configured`` (``MCREG_KEY_ENCRYPTION_KEY``), or in development the data directory's KEK file."""
    if configured is not None:
        try:
            return KeyEncryptionKey(base64.b64decode(configured.get_secret_value(), validate=True))
        except (binascii.Error, ValueError):
            raise KeyUnavailable("MCREG_KEY_ENCRYPTION_KEY must be base64 of 32 random bytes") from None
    if settings.env == "production":
        raise KeyUnavailable("set MCREG_KEY_ENCRYPTION_KEY: production never keeps the key-encryption key in a file")
    return KeyEncryptionKey(_kek_file(settings.data_dir / KEK_FILE))


def _kek_file(path: Path) -> bytes:
    """The development KEK in ``path``, made (mode 0600) by whichever process asks first."""
    with contextlib.suppress(FileNotFoundError):
        return base64.b64decode(path.read_text(encoding="ascii"))
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(base64.b64encode(os.urandom(32)).decode("ascii") + "\n")
    try:
        os.link(draft, path)  # atomic, and fails if another process made the file first
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return base64.b64decode(path.read_text(encoding="ascii"))


@dataclass(frozen=True)
class SigningKey:
    """An issuer's key to sign with now, its record, and its DID."""

    issuer_id: UUID
    did: str
    key: IssuerKey
    private_key: Ed25519PrivateKey

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.key.key_id}"

    def created(self, moment: datetime) -> datetime:
        """A proof's ``created`` for a document whose facts date from ``moment``: never before the key was valid,
        so a document exported again under the same key is the same bytes, and its proof verifies."""
        return max(moment, self.key.valid_from)


@dataclass(frozen=True)
class MadeIssuerKey:
    key_id: str
    public_key_multibase: str


class SealedIssuerKeys:
    """The issuer key vault: private keys sealed under the KEK in ``issuer_private_keys``, beside the event store.

    ``new_key`` commits the sealed private key in its own transaction before the command that publishes the
    public key saves its events: a command that then fails leaves an unused sealed key (harmless: no event
    names it, nothing signs with it), never a published key whose private half is lost.
    """

    def __init__(self, pool: ConnectionPool, schema: str, kek: Callable[[], KeyEncryptionKey]) -> None:
        self.pool = pool
        self.table = qualified(schema, "issuer_private_keys")
        self._kek_source = kek
        self._kek: KeyEncryptionKey | None = None
        self._opened: dict[tuple[UUID, str], Ed25519PrivateKey] = {}
        self._lock = threading.Lock()
        self._insert = sql.SQL(
            "INSERT INTO {} (issuer_id, public_key, kek_id, nonce, sealed, made_for) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING"
        ).format(self.table)
        self._select_made_for = sql.SQL("SELECT issuer_id, public_key FROM {} WHERE made_for = %s").format(self.table)
        self._select_holder = sql.SQL("SELECT issuer_id FROM {} WHERE public_key = %s").format(self.table)
        self._select_sealed = sql.SQL(
            "SELECT kek_id, nonce, sealed FROM {} WHERE issuer_id = %s AND public_key = %s"
        ).format(self.table)

    def create_table(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(CREATE_IN_TURN)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    " issuer_id uuid NOT NULL,"
                    " public_key text NOT NULL,"  # the Multikey, z6Mk…
                    " kek_id text NOT NULL,"
                    " nonce bytea NOT NULL,"
                    " sealed bytea NOT NULL,"  # AES-256-GCM of the 32-byte seed
                    " made_for text,"  # <org>/<idempotency key> of the rotation it was made for
                    " created_at timestamptz NOT NULL DEFAULT now(),"
                    " PRIMARY KEY (issuer_id, public_key))"
                ).format(self.table)
            )
            conn.execute(
                sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS issuer_private_keys_made_for ON {} (made_for)").format(
                    self.table
                )
            )

    @property
    def kek(self) -> KeyEncryptionKey:
        if self._kek is None:
            self._kek = self._kek_source()
        return self._kek

    def new_key(self, issuer_id: UUID, made_for: str | None = None) -> str:
        """A new key pair for the issuer, its private half sealed and committed here; its public Multikey."""
        private_key = Ed25519PrivateKey.generate()
        public_key = encode_public_multikey(private_key.public_key())
        nonce, sealed = self.kek.seal(issuer_id, public_key, private_key)
        with self.pool.connection() as conn:
            conn.execute(self._insert, [issuer_id, public_key, self.kek.id, nonce, sealed, made_for])
            if made_for is not None:  # a retry finds the key made the first time
                row = conn.execute(self._select_made_for, [made_for]).fetchone()
                assert row is not None
                if row[0] != issuer_id:
                    raise IdempotencyKeyReused("this idempotency key was used for a different request")
                return str(row[1])
        return public_key

    def holder_of(self, public_key: str) -> UUID | None:
        """The issuer whose key ``public_key`` (a Multikey) is, if this vault holds its private half."""
        with self.pool.connection() as conn:
            row = conn.execute(self._select_holder, [public_key]).fetchone()
        return UUID(str(row[0])) if row is not None else None

    def private_key(self, issuer_id: UUID, public_key: str) -> Ed25519PrivateKey:
        """The private half of one of the issuer's keys, opened once per process."""
        with self._lock:
            opened = self._opened.get((issuer_id, public_key))
        if opened is not None:
            return opened
        with self.pool.connection() as conn:
            row = conn.execute(self._select_sealed, [issuer_id, public_key]).fetchone()
        if row is None:
            raise KeyUnavailable(f"the private key of {public_key} (issuer {issuer_id}) is not in the key store")
        kek_id, nonce, sealed = row
        if kek_id != self.kek.id:
            raise KeyUnavailable(
                f"the key of issuer {issuer_id} is sealed under KEK {kek_id}, this process has {self.kek.id}"
            )
        opened = self.kek.open(issuer_id, public_key, bytes(nonce), bytes(sealed))
        with self._lock:
            self._opened[issuer_id, public_key] = opened
        return opened


class IssuerKeyStore:
    """Issuers' keys: the recorded public keys (through the registry) and the sealed private ones (the vault)."""

    def __init__(self, registry: Registry, vault: SealedIssuerKeys, public_url: str) -> None:
        self.registry = registry
        self.vault = vault
        self.public_url = public_url

    # Names

    def did(self, issuer_id: UUID) -> str:
        return issuer_did(self.public_url, issuer_id)

    def issuer_of(self, did: object) -> UUID | None:
        """The issuer a DID names: its ``did:web`` under this registry, or the ``did:key`` of one of its keys."""
        if isinstance(did, str) and did.startswith("did:key:"):
            return self.vault.holder_of(did.removeprefix("did:key:"))
        return issuer_of_did(self.public_url, did)

    def known(self, issuer_id: UUID) -> bool:
        """The registry itself, or a provider the registry holds."""
        if issuer_id == REGISTRY_ISSUER_ID:
            return True
        try:
            self.registry.get(Provider, issuer_id)
        except NotFound:
            return False
        return True

    def keys(self, issuer_id: UUID) -> list[IssuerKey]:
        """Every key the issuer has had, oldest first, as recorded now."""
        recorded = self.registry.issuer_keys(issuer_id)
        return list(recorded.keys) if recorded is not None else []

    def did_document(self, issuer_id: UUID, *, also: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
        return did_document(self.did(issuer_id), self.keys(issuer_id), also=list(also))

    # Signing

    def signing_key(self, issuer_id: UUID) -> SigningKey:
        """The issuer's key to sign with now. Never made here (a read writes nothing): commands make keys, so an
        issuer without one is a registry from before that, whose operator runs ``mcreg keys issuers``."""
        recorded: IssuerKeys | None = self.registry.issuer_keys(issuer_id)
        current = recorded.current(self.registry.clock()) if recorded is not None else None
        if current is None:
            raise NoSigningKey(issuer_id)
        private_key = self.vault.private_key(issuer_id, current.public_key_multibase)
        return SigningKey(issuer_id, self.did(issuer_id), current, private_key)

    def rotate(
        self, actor: Actor, issuer_id: UUID, *, valid_from: datetime | None = None, idempotency_key: str | None = None
    ) -> MadeIssuerKey:
        """Make a new key pair, seal its private half, and record its public half (the keys in use then retire)."""
        self.registry.check_manages_issuer_keys(actor, issuer_id)
        public_key = self.vault.new_key(issuer_id, f"{actor.org}/{idempotency_key}" if idempotency_key else None)
        key_id = self.registry.rotate_issuer_key(
            actor, issuer_id, public_key_multibase=public_key, valid_from=valid_from, idempotency_key=idempotency_key
        )
        return MadeIssuerKey(key_id, public_key)
