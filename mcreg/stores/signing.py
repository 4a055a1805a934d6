"""The registry's identity (its DID and its log's origin), and the names and DID documents of every issuer it hosts.

The log's origin is fixed at the registry's first start from the public URL
and kept in ``registry_secrets`` (``log-origin``): serving the registry under
another URL later changes its DID and links, never its log's name. The log's
keys, named by that origin, are in ``mcreg.stores.log_keys``.

Every issuer is a ``did:web`` hosted here: the registry is ``did:web`` of its
public URL (``/.well-known/did.json``), a provider is
``did:web:{host}:issuers:{id}`` (``/issuers/{id}/did.json``). A DID document
lists the issuer's keys as Multikeys; the registry's also lists the log's
keys (``#log`` the key in force, ``#log-{n}`` those it replaced). Issuers'
keys themselves are recorded by ``registry.issuer_keys`` and kept by
``mcreg.stores.issuer_keys``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg import Connection, sql
from psycopg.errors import UndefinedTable
from psycopg_pool import ConnectionPool

from mcreg.projections.log_tree import CHECKPOINTS
from mcreg.registry.aggregates.issuer_keys import REGISTRY_ISSUER_ID, IssuerKey
from mcreg.registry.trust.data_integrity import encode_public_multikey
from mcreg.registry.trust.signed_note import Checkpoint, parse_note
from mcreg.stores.tables import qualified

ORIGIN_NAME = "log-origin"
"""The ``registry_secrets`` row holding the log's origin (UTF-8): not secret, but kept with the log's keys."""
DID_CONTEXT = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
LOG_KEY_FRAGMENT = "log"


@dataclass(frozen=True)
class RegistryIdentity:
    """The names the registry is known by: its DID and its log's origin."""

    did: str  # did:web:registry.example
    log_origin: str  # the checkpoint origin line, e.g. registry.example/log

    def log_key_methods(self, log_keys: Sequence[bytes]) -> list[dict[str, Any]]:
        """The log's public keys, oldest first, as verification methods: ``#log`` the last, ``#log-{n}`` the others."""
        return [
            multikey_method(
                self.did,
                LOG_KEY_FRAGMENT if number == len(log_keys) else f"{LOG_KEY_FRAGMENT}-{number}",
                encode_public_multikey(Ed25519PublicKey.from_public_bytes(key)),
            )
            for number, key in enumerate(log_keys, start=1)
        ]

    def did_document(self, log_keys: Sequence[bytes], issuer_keys: Iterable[IssuerKey] = ()) -> dict[str, Any]:
        """The registry's DID document: the log's keys, the one in force first, then the registry's issuer keys."""
        return did_document(self.did, issuer_keys, also=self.log_key_methods(log_keys)[::-1])


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


def load_identity(pool: ConnectionPool, schema: str, public_url: str) -> RegistryIdentity:
    """The registry's DID under ``public_url``, and its log's origin, fixed the first time any process asks.

    Later starts read the origin whatever ``public_url`` is now. A registry from before the origin was stored
    keeps the origin its latest checkpoint was signed under, or takes ``public_url``'s if the log signed none yet.
    """
    secrets = qualified(schema, "registry_secrets")
    select = sql.SQL("SELECT value FROM {} WHERE name = %s").format(secrets)
    with pool.connection() as conn:
        row = conn.execute(select, [ORIGIN_NAME]).fetchone()
        if row is None:
            origin = _signed_origin(conn, schema) or log_origin(public_url)
            insert = sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT (name) DO NOTHING").format(secrets)
            conn.execute(insert, [ORIGIN_NAME, origin.encode()])
            row = conn.execute(select, [ORIGIN_NAME]).fetchone()
            assert row is not None
    return RegistryIdentity(did_web(public_url), bytes(row[0]).decode())


def _signed_origin(conn: Connection[Any], schema: str) -> str | None:
    """The origin of the log's latest signed checkpoint; None when the log has signed none."""
    latest = sql.SQL("SELECT note FROM {} ORDER BY size DESC LIMIT 1").format(qualified(schema, CHECKPOINTS.name))
    try:
        with conn.transaction():
            row = conn.execute(latest).fetchone()
    except UndefinedTable:  # the log was never opened
        return None
    return Checkpoint.parse(parse_note(row[0])[0]).origin if row else None
