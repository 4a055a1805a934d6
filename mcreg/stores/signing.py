"""The registry's log key, and the names and DID documents of every issuer the registry hosts.

The log key signs the transparency log's checkpoints. It is the log's identity
(a C2SP verifier key names it), so it is not rotated with the registry's issuer
keys: a new log key means a new log origin. It is made on first use and kept in
``registry_secrets`` beside the event store (never in it), with the log's
origin, fixed then from the public URL: serving the registry under another URL
later changes its DID and links, never its log's name.

Every issuer is a ``did:web`` hosted here: the registry is ``did:web`` of its
public URL (``/.well-known/did.json``), a provider is
``did:web:{host}:issuers:{id}`` (``/issuers/{id}/did.json``). A DID document
lists the issuer's keys as Multikeys; the registry's also lists the log key
(``#log``). Issuers' keys themselves are recorded by ``registry.issuer_keys``
and kept by ``api.issuer_keys``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from psycopg import Connection, sql
from psycopg.errors import UndefinedTable
from psycopg_pool import ConnectionPool

from mcreg.projections.log_tree import CHECKPOINTS
from mcreg.registry.aggregates.issuer_keys import REGISTRY_ISSUER_ID, IssuerKey
from mcreg.registry.trust.data_integrity import encode_public_multikey
from mcreg.registry.trust.signed_note import Checkpoint, Signer, parse_note
from mcreg.stores.tables import qualified

SECRET_NAME = "signing-key-ed25519"
ORIGIN_NAME = "log-origin"
"""The ``registry_secrets`` row holding the log's origin (UTF-8): not secret, but kept with its key."""
DID_CONTEXT = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
LOG_KEY_FRAGMENT = "log"


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
        return f"{self.did}#{LOG_KEY_FRAGMENT}"

    @property
    def multikey(self) -> str:
        return encode_public_multikey(self.public_key)

    @property
    def note_signer(self) -> Signer:
        """The same key as a C2SP signed-note signer named after the log's origin."""
        return Signer(self.log_origin, self.private_key)

    def method(self) -> dict[str, Any]:
        """The log key as a verification method of the registry's DID document."""
        return multikey_method(self.did, LOG_KEY_FRAGMENT, self.multikey)

    def did_document(self, issuer_keys: Iterable[IssuerKey] = ()) -> dict[str, Any]:
        """The registry's DID document: the log key, then the registry's issuer keys."""
        return did_document(self.did, issuer_keys, also=[self.method()])


def did_web(public_url: str) -> str:
    """``did:web`` of the host (and port, percent-encoded) and path of ``public_url``."""
    parts = urlsplit(public_url)
    host = quote(parts.netloc, safe="")
    path = ":".join(p for p in parts.path.split("/") if p)
    return f"did:web:{host}" + (f":{path}" if path else "")


def issuer_did(public_url: str, issuer_id: UUID) -> str:
    """The DID of an issuer the registry hosts: the registry's own, or ``did:web:{host}:issuers:{id}``."""
    registry = did_web(public_url)
    return registry if issuer_id == REGISTRY_ISSUER_ID else f"{registry}:issuers:{issuer_id}"


def issuer_of_did(public_url: str, did: object) -> UUID | None:
    """The issuer id a DID of this registry names (``REGISTRY_ISSUER_ID`` for the registry's); None for any other."""
    if not isinstance(did, str):
        return None
    registry = did_web(public_url)
    if did == registry:
        return REGISTRY_ISSUER_ID
    rest = did.removeprefix(f"{registry}:issuers:")
    if rest == did or len(rest) != 36:
        return None
    try:
        return UUID(rest)
    except ValueError:
        return None


def xsd_moment(moment: datetime) -> str:
    """An XML Schema ``dateTimeStamp`` in UTC to the second (keys' moments are whole seconds)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def multikey_method(did: str, fragment: str, public_key_multibase: str) -> dict[str, Any]:
    return {
        "id": f"{did}#{fragment}",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": public_key_multibase,
    }


def did_document(did: str, keys: Iterable[IssuerKey], *, also: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A DID document listing ``keys`` (and the methods ``also``) as Multikey verification methods.

    Retired keys stay listed and stay assertion methods: what they signed before they retired still verifies.
    A key reported compromised stays listed with CID 1.0's ``revoked`` (the moment since which it must not be
    trusted) but is no assertion method any more: a verifier that only reads this document then refuses
    everything it signed, since a proof's ``created`` is whatever its signer wrote. The registry's own
    verification (``POST /v1/verify``) still accepts a proof made before the compromise, when the registry's
    log recorded the credential before it too.
    """
    methods = [dict(m) for m in also]
    assertion = [m["id"] for m in also]
    for key in keys:
        method = multikey_method(did, key.key_id, key.public_key_multibase)
        if key.compromised_since is not None:
            method["revoked"] = xsd_moment(key.compromised_since)
        else:
            assertion.append(method["id"])
        methods.append(method)
    return {"@context": list(DID_CONTEXT), "id": did, "verificationMethod": methods, "assertionMethod": assertion}


def log_origin(public_url: str) -> str:
    """The origin a new log takes from the registry's public URL: ``{host}{path}/log``."""
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


def load_registry_key(pool: ConnectionPool, schema: str, public_url: str) -> RegistryKey:
    """The registry's key and its log's origin, made and stored the first time any process asks for them.

    Later starts read the origin whatever ``public_url`` is now. A key stored before its origin was (an older
    registry) keeps the origin its latest checkpoint was signed under, or takes ``public_url``'s if the log
    signed none yet.
    """
    secrets = qualified(schema, "registry_secrets")
    insert = sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT (name) DO NOTHING").format(secrets)
    select = sql.SQL("SELECT name, value FROM {} WHERE name = ANY(%s)").format(secrets)
    fresh = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    with pool.connection() as conn:
        conn.execute(insert, [SECRET_NAME, fresh])
        stored: dict[str, bytes] = dict(conn.execute(select, [[SECRET_NAME, ORIGIN_NAME]]).fetchall())
        if ORIGIN_NAME not in stored:
            origin = _signed_origin(conn, schema) or log_origin(public_url)
            conn.execute(insert, [ORIGIN_NAME, origin.encode()])
            stored = dict(conn.execute(select, [[SECRET_NAME, ORIGIN_NAME]]).fetchall())
    private_key = Ed25519PrivateKey.from_private_bytes(bytes(stored[SECRET_NAME]))
    return RegistryKey(private_key, did_web(public_url), bytes(stored[ORIGIN_NAME]).decode())


def _signed_origin(conn: Connection[Any], schema: str) -> str | None:
    """The origin of the log's latest signed checkpoint; None when the log has signed none."""
    latest = sql.SQL("SELECT note FROM {} ORDER BY size DESC LIMIT 1").format(qualified(schema, CHECKPOINTS.name))
    try:
        with conn.transaction():
            row = conn.execute(latest).fetchone()
    except UndefinedTable:  # the log was never opened
        return None
    return Checkpoint.parse(parse_note(row[0])[0]).origin if row else None


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
