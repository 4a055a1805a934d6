"""W3C VC Data Integrity proofs with the ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022`` cryptosuites.

Implements W3C "Data Integrity EdDSA Cryptosuites v1.0" (Recommendation,
May 2025) §3.2 eddsa-rdfc-2022 and §3.3 eddsa-jcs-2022: Create Proof, Verify
Proof, Transformation, Hashing, Proof Configuration, Proof Serialization and
Proof Verification; and the Ed25519 Multikey encoding of §2.1.1 (multicodec
``0xed01`` public keys, ``0x8026`` secret keys, multibase base58btc ``z…``).

The two suites differ in their transformation, and in where the document's
``@context`` goes:

* ``eddsa-rdfc-2022`` canonicalises the document (without ``proof``) and the
  proof configuration (the proof without ``proofValue``, given the document's
  ``@context``) as JSON-LD, to RDFC-1.0 canonical N-Quads, in safe mode and
  with the contexts shipped in the package only
  (``mcreg.registry.trust.linked_data``);
* ``eddsa-jcs-2022`` canonicalises both with JCS (RFC 8785); its proof carries
  the document's ``@context``.

The signed bytes are SHA-256(canonical proof config) || SHA-256(canonical
document), signed with Ed25519 (RFC 8032); ``proofValue`` is the 64-byte
signature in multibase base58btc. A proof names its suite, and is verified by
it.

Only a single proof object is handled (no proof sets or chains). Keys are
``cryptography`` Ed25519 objects; resolving a ``verificationMethod`` to a key
is the caller's business, except for ``did:key`` which is self-describing.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mcreg.registry.trust.errors import (
    DataIntegrityError,
    MultikeyError,
    ProofGenerationError,
    ProofTransformationError,
    ProofVerificationError,
)
from mcreg.registry.trust.linked_data import SHIPPED_CONTEXTS, ContextLoader, canonical_nquads

__all__ = [
    "PROOF_TYPE",
    "Cryptosuite",
    "DataIntegrityError",
    "MultikeyError",
    "ProofGenerationError",
    "ProofTransformationError",
    "ProofVerificationError",
    "add_proof",
    "canonicalize",
    "create_proof",
    "decode_private_multikey",
    "decode_public_multikey",
    "did_key",
    "did_key_verification_method",
    "encode_private_multikey",
    "encode_public_multikey",
    "hash_data",
    "public_key_from_did_key",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, varint-encoded
_ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv (0x1300), varint-encoded
_BASE58BTC = "z"
# XML Schema 1.1 dateTime: optional sign, year of 4+ digits, optional fraction and timezone
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


# --- Multikey and did:key -------------------------------------------------------------------------


def _multibase_decode(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith(_BASE58BTC):
        raise MultikeyError(f"{what} must be multibase base58btc (start with 'z')")
    try:
        return base58.b58decode(value[1:])
    except ValueError as exc:
        raise MultikeyError(f"{what} is not valid base58btc") from exc


def encode_public_multikey(public_key: Ed25519PublicKey) -> str:
    """``publicKeyMultibase``: 'z' + base58btc(0xed 0x01 || 32-byte key), i.e. ``z6Mk…``."""
    return _BASE58BTC + base58.b58encode(_ED25519_PUB + public_key.public_bytes_raw()).decode("ascii")


def decode_public_multikey(value: str) -> Ed25519PublicKey:
    raw = _multibase_decode(value, "public Multikey")
    if len(raw) != 34 or not raw.startswith(_ED25519_PUB):
        raise MultikeyError("public Multikey is not an Ed25519 key (multicodec 0xed01 and 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def encode_private_multikey(private_key: Ed25519PrivateKey) -> str:
    """``secretKeyMultibase``: 'z' + base58btc(0x80 0x26 || 32-byte seed), i.e. ``z3u2…``. A secret."""
    return _BASE58BTC + base58.b58encode(_ED25519_PRIV + private_key.private_bytes_raw()).decode("ascii")


def decode_private_multikey(value: str) -> Ed25519PrivateKey:
    raw = _multibase_decode(value, "private Multikey")
    if len(raw) != 34 or not raw.startswith(_ED25519_PRIV):
        raise MultikeyError("private Multikey is not an Ed25519 key (multicodec 0x1300 and 32 bytes)")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def did_key(public_key: Ed25519PublicKey) -> str:
    """The ``did:key`` DID of an Ed25519 key."""
    return f"did:key:{encode_public_multikey(public_key)}"


def did_key_verification_method(public_key: Ed25519PublicKey) -> str:
    """The verification method URL ``did:key:z6Mk…#z6Mk…`` of an Ed25519 key."""
    multikey = encode_public_multikey(public_key)
    return f"did:key:{multikey}#{multikey}"


def public_key_from_did_key(verification_method: str) -> Ed25519PublicKey:
    """The key a ``did:key:z6Mk…`` DID or ``did:key:z6Mk…#z6Mk…`` verification method names."""
    did, _, fragment = verification_method.partition("#")
    if not did.startswith("did:key:"):
        raise MultikeyError(f"{verification_method!r} is not a did:key")
    multikey = did.removeprefix("did:key:")
    if fragment and fragment != multikey:
        raise MultikeyError(f"{verification_method!r}: the fragment must repeat the key")
    return decode_public_multikey(multikey)


# --- the algorithms of §3.2 and §3.3 -----------------------------------------------------------------


def canonicalize(value: Any) -> bytes:
    """JCS (RFC 8785) canonical UTF-8 bytes of a JSON value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ProofTransformationError(f"cannot canonicalize with JCS: {exc}") from exc


@dataclass(frozen=True)
class _Cryptosuite:
    """What sets a cryptosuite apart: its transformation, and whether its proofs carry the document's @context
    (eddsa-jcs-2022's do; eddsa-rdfc-2022 adds it to the proof configuration it hashes only)."""

    canonical: Callable[[Mapping[str, Any], ContextLoader], bytes]
    context_in_proof: bool


class Cryptosuite(StrEnum):
    """The cryptosuites a proof is made and verified with."""

    EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
    EDDSA_JCS_2022 = "eddsa-jcs-2022"


_SUITES: dict[str, _Cryptosuite] = {
    Cryptosuite.EDDSA_RDFC_2022: _Cryptosuite(canonical_nquads, context_in_proof=False),
    Cryptosuite.EDDSA_JCS_2022: _Cryptosuite(lambda value, _: canonicalize(value), context_in_proof=True),
}


def _check_options(options: Mapping[str, Any], error: type[DataIntegrityError]) -> None:
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") not in _SUITES:
        raise error(f"proof must have type {PROOF_TYPE} and a cryptosuite of {', '.join(Cryptosuite)}")
    created = options.get("created")
    if created is not None and not (isinstance(created, str) and _DATETIME.fullmatch(created)):
        raise error(f"proof created {created!r} is not an XML Schema dateTime")
    if not isinstance(options.get("verificationMethod"), str):
        raise error("proof verificationMethod must be a URL string")
    if not isinstance(options.get("proofPurpose"), str):
        raise error("proof proofPurpose must be a string")


def hash_data(
    document: Mapping[str, Any], proof_config: Mapping[str, Any], contexts: ContextLoader = SHIPPED_CONTEXTS
) -> bytes:
    """The bytes that are signed (Hashing): SHA-256(canonical proof_config) || SHA-256(canonical document), both
    canonicalised as the proof configuration's cryptosuite says."""
    suite = _SUITES.get(proof_config.get("cryptosuite", ""))
    if suite is None:
        raise ProofTransformationError(f"no cryptosuite of {', '.join(Cryptosuite)} in the proof configuration")
    canonical = suite.canonical
    return (
        hashlib.sha256(canonical(proof_config, contexts)).digest()
        + hashlib.sha256(canonical(document, contexts)).digest()
    )


def _proof_config(options: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """What is hashed of the proof (Proof Configuration): its options, with the document's @context under
    eddsa-rdfc-2022 (under eddsa-jcs-2022 the proof carries it, when the document has one)."""
    config = dict(options)
    if not _SUITES[options["cryptosuite"]].context_in_proof and "@context" in document:
        config["@context"] = document["@context"]
    return config


def create_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    cryptosuite: str,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
    contexts: ContextLoader = SHIPPED_CONTEXTS,
) -> dict[str, Any]:
    """The ``DataIntegrityProof`` over an unsecured ``document`` with ``cryptosuite`` (Create Proof).

    ``created`` (an XML Schema dateTime) is left out when None; pass the time
    of record so re-signing the same document gives the same proof (Ed25519 is
    deterministic). ``contexts`` serves the JSON-LD contexts of ``eddsa-rdfc-2022``.
    """
    if not isinstance(document, Mapping):
        raise ProofGenerationError("document must be a JSON object")
    if "proof" in document:
        raise ProofGenerationError("document already has a proof; proof sets and chains are not supported")
    proof: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": str(cryptosuite)}
    if created is not None:
        proof["created"] = created
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    _check_options(proof, ProofGenerationError)
    if _SUITES[cryptosuite].context_in_proof and "@context" in document:
        proof["@context"] = copy.deepcopy(document["@context"])
    signature = private_key.sign(hash_data(document, _proof_config(proof, document), contexts))
    proof["proofValue"] = _BASE58BTC + base58.b58encode(signature).decode("ascii")
    return proof


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    cryptosuite: str,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
    contexts: ContextLoader = SHIPPED_CONTEXTS,
) -> dict[str, Any]:
    """A copy of ``document`` secured with a ``cryptosuite`` proof."""
    proof = create_proof(
        document,
        private_key,
        verification_method,
        cryptosuite=cryptosuite,
        created=created,
        proof_purpose=proof_purpose,
        contexts=contexts,
    )
    return {**copy.deepcopy(dict(document)), "proof": proof}


def _as_list(context: Any) -> list[Any]:
    return context if isinstance(context, list) else [context]


def verify_proof(
    secured_document: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_purpose: str = "assertionMethod",
    contexts: ContextLoader = SHIPPED_CONTEXTS,
) -> dict[str, Any]:
    """Verify the proof of ``secured_document`` with ``public_key``, by the cryptosuite it names (Verify Proof).

    Returns the verified document without its proof; raises
    :class:`ProofVerificationError` naming what is wrong, or
    :class:`ProofTransformationError` when the document cannot be
    canonicalised (for ``eddsa-rdfc-2022``: a context ``contexts`` does not
    serve, or a term JSON-LD would drop).
    """
    if not isinstance(secured_document, Mapping):
        raise ProofVerificationError("secured document must be a JSON object")
    proof = secured_document.get("proof")
    if isinstance(proof, list) and len(proof) > 1:
        raise ProofVerificationError(f"a proof set ({len(proof)} proofs) is not supported: exactly one proof object")
    if not isinstance(proof, Mapping):
        raise ProofVerificationError("secured document must have exactly one proof object")
    unsecured = {k: copy.deepcopy(v) for k, v in secured_document.items() if k != "proof"}
    options = {k: copy.deepcopy(v) for k, v in proof.items() if k != "proofValue"}
    _check_options(options, ProofVerificationError)
    if options["proofPurpose"] != expected_purpose:
        raise ProofVerificationError(f"proof purpose is {options['proofPurpose']!r}, expected {expected_purpose!r}")
    proof_value = proof.get("proofValue")
    try:
        signature = _multibase_decode(proof_value, "proofValue")
    except MultikeyError as exc:
        raise ProofVerificationError(str(exc)) from exc
    if len(signature) != 64:
        raise ProofVerificationError(f"proofValue holds {len(signature)} bytes, an Ed25519 signature is 64")
    if "@context" in options:
        proof_context, document_context = _as_list(options["@context"]), _as_list(unsecured.get("@context", []))
        if document_context[: len(proof_context)] != proof_context:
            raise ProofVerificationError("document @context does not start with the proof's @context")
        unsecured["@context"] = options["@context"]
    try:
        public_key.verify(signature, hash_data(unsecured, _proof_config(options, unsecured), contexts))
    except InvalidSignature as exc:
        raise ProofVerificationError(
            f"signature does not verify under {options['cryptosuite']}: the document or its proof was changed"
        ) from exc
    return unsecured
