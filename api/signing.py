"""The registry's own Ed25519 key: it signs exported credentials, status lists and log checkpoints.

The key is made on first use and kept in ``registry_secrets`` beside the event
store (never in it), like the idempotency fingerprint key. The registry is
``did:web`` of its public host: ``GET /.well-known/did.json`` publishes the
public key as a Multikey, so anyone can check a signature without asking us.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from psycopg import sql
from psycopg_pool import ConnectionPool

from api.tables import qualified
from registry.data_integrity import encode_public_multikey
from registry.signed_note import Signer

SECRET_NAME = "signing-key-ed25519"


@dataclass(frozen=True)
class RegistryKey:
    """The signing key and the names it is published under."""

    private_key: Ed25519PrivateKey
    did: str  # did:web:registry.example
    log_origin: str  # the checkpoint origin line, e.g. registry.example/log

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def verification_method(self) -> str:
        return f"{self.did}#key-1"

    @property
    def multikey(self) -> str:
        return encode_public_multikey(self.public_key)

    @property
    def note_signer(self) -> Signer:
        """The same key as a C2SP signed-note signer named after the log's origin."""
        return Signer(self.log_origin, self.private_key)

    def did_document(self) -> dict[str, object]:
        method = {
            "id": self.verification_method,
            "type": "Multikey",
            "controller": self.did,
            "publicKeyMultibase": self.multikey,
        }
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": [method],
            "assertionMethod": [self.verification_method],
        }


def did_web(public_url: str) -> str:
    """``did:web`` of the host (and port, percent-encoded) and path of ``public_url``."""
    parts = urlsplit(public_url)
    host = quote(parts.netloc, safe="")
    path = ":".join(p for p in parts.path.split("/") if p)
    return f"did:web:{host}" + (f":{path}" if path else "")


def log_origin(public_url: str) -> str:
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


def load_registry_key(pool: ConnectionPool, schema: str, public_url: str) -> RegistryKey:
    """The registry's key, made and stored the first time any process asks for it."""
    secrets = qualified(schema, "registry_secrets")
    fresh = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    with pool.connection() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT (name) DO NOTHING").format(secrets),
            [SECRET_NAME, fresh],
        )
        row = conn.execute(sql.SQL("SELECT value FROM {} WHERE name = %s").format(secrets), [SECRET_NAME]).fetchone()
    assert row is not None
    private_key = Ed25519PrivateKey.from_private_bytes(bytes(row[0]))
    return RegistryKey(private_key, did_web(public_url), log_origin(public_url))


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
