"""W3C VC Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite.

Implements W3C "Data Integrity EdDSA Cryptosuites v1.0" (Recommendation,
May 2025) §3.3 eddsa-jcs-2022: Create Proof, Verify Proof, Transformation,
Hashing, Proof Configuration, Proof Serialization and Proof Verification;
and the Ed25519 Multikey encoding of §2.1.1 (multicodec ``0xed01`` public
keys, ``0x8026`` secret keys, multibase base58btc ``z…``).

* Both the document (without ``proof``) and the proof configuration (the proof
  without ``proofValue``, carrying the document's ``@context``) are
  canonicalised with JCS (RFC 8785).
* The signed bytes are SHA-256(canonical proof config) || SHA-256(canonical
  document), signed with Ed25519 (RFC 8032); ``proofValue`` is the 64-byte
  signature in multibase base58btc.

Only a single proof object is handled (no proof sets or chains). Keys are
``cryptography`` Ed25519 objects; resolving a ``verificationMethod`` to a key
is the caller's business, except for ``did:key`` which is self-describing.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "DataIntegrityError",
    "MultikeyError",
    "ProofGenerationError",
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

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, varint-encoded
_ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv (0x1300), varint-encoded
_BASE58BTC = "z"
# XML Schema 1.1 dateTime: optional sign, year of 4+ digits, optional fraction and timezone
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


class DataIntegrityError(ValueError):
    """A Data Integrity proof cannot be made or checked."""


class MultikeyError(DataIntegrityError):
    """A Multikey or did:key string does not hold an Ed25519 key."""


class ProofGenerationError(DataIntegrityError):
    """PROOF_GENERATION_ERROR: the document or the proof options cannot be signed."""


class ProofVerificationError(DataIntegrityError):
    """PROOF_VERIFICATION_ERROR: the proof is malformed or does not verify."""


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


# --- the algorithms of §3.3 -------------------------------------------------------------------------


def canonicalize(value: Any) -> bytes:
    """JCS (RFC 8785) canonical UTF-8 bytes of a JSON value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise DataIntegrityError(f"cannot canonicalize with JCS: {exc}") from exc


def _check_options(options: Mapping[str, Any], error: type[DataIntegrityError]) -> None:
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != CRYPTOSUITE:
        raise error(f"proof must have type {PROOF_TYPE} and cryptosuite {CRYPTOSUITE}")
    created = options.get("created")
    if created is not None and not (isinstance(created, str) and _DATETIME.fullmatch(created)):
        raise error(f"proof created {created!r} is not an XML Schema dateTime")
    if not isinstance(options.get("verificationMethod"), str):
        raise error("proof verificationMethod must be a URL string")
    if not isinstance(options.get("proofPurpose"), str):
        raise error("proof proofPurpose must be a string")


def hash_data(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: SHA-256(JCS(proof_config)) || SHA-256(JCS(document)) (Hashing)."""
    return hashlib.sha256(canonicalize(proof_config)).digest() + hashlib.sha256(canonicalize(document)).digest()


def create_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """The ``DataIntegrityProof`` over an unsecured ``document`` (Create Proof).

    ``created`` (an XML Schema dateTime) is left out when None; pass the time
    of record so re-signing the same document gives the same proof (Ed25519 is
    deterministic).
    """
    if not isinstance(document, Mapping):
        raise ProofGenerationError("document must be a JSON object")
    if "proof" in document:
        raise ProofGenerationError("document already has a proof; proof sets and chains are not supported")
    proof: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE}
    if created is not None:
        proof["created"] = created
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if "@context" in document:
        proof["@context"] = copy.deepcopy(document["@context"])
    _check_options(proof, ProofGenerationError)
    signature = private_key.sign(hash_data(document, proof))
    proof["proofValue"] = _BASE58BTC + base58.b58encode(signature).decode("ascii")
    return proof


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """A copy of ``document`` secured with an ``eddsa-jcs-2022`` proof."""
    proof = create_proof(document, private_key, verification_method, created=created, proof_purpose=proof_purpose)
    return {**copy.deepcopy(dict(document)), "proof": proof}


def _as_list(context: Any) -> list[Any]:
    return context if isinstance(context, list) else [context]


def verify_proof(
    secured_document: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Verify the ``eddsa-jcs-2022`` proof of ``secured_document`` with ``public_key`` (Verify Proof).

    Returns the verified document without its proof; raises
    :class:`ProofVerificationError` naming what is wrong.
    """
    if not isinstance(secured_document, Mapping):
        raise ProofVerificationError("secured document must be a JSON object")
    proof = secured_document.get("proof")
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
        public_key.verify(signature, hash_data(unsecured, options))
    except InvalidSignature as exc:
        raise ProofVerificationError("signature does not verify: the document or its proof was changed") from exc
    return unsecured
