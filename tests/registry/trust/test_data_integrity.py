"""Data Integrity eddsa-jcs-2022: the W3C vc-di-eddsa step-by-step vectors, reproduced byte for byte, and tampering.

Multikeys and did:key are tested here too; eddsa-rdfc-2022 and what both suites share in test_cryptosuites.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcreg.registry.trust.data_integrity import (
    Cryptosuite,
    MultikeyError,
    ProofGenerationError,
    ProofVerificationError,
    add_proof,
    canonicalize,
    create_proof,
    decode_private_multikey,
    decode_public_multikey,
    did_key,
    did_key_verification_method,
    encode_private_multikey,
    encode_public_multikey,
    hash_data,
    public_key_from_did_key,
    verify_proof,
)
from tests.testdata import data_path

JCS = Cryptosuite.EDDSA_JCS_2022


def _json(name: str) -> Any:
    return json.loads((data_path("vc-di-eddsa", name)).read_text())


def _text(name: str) -> str:
    return (data_path("vc-di-eddsa", "eddsa-jcs-2022", name)).read_text().strip()


@pytest.fixture(scope="module")
def key_pair() -> dict[str, str]:
    return _json("keyPair.json")


@pytest.fixture(scope="module")
def private_key(key_pair: dict[str, str]) -> Ed25519PrivateKey:
    return decode_private_multikey(key_pair["privateKeyMultibase"])


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    return _json("eddsa-jcs-2022/signedJCS.json")


@pytest.fixture(scope="module")
def unsigned(signed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in signed.items() if k != "proof"}


@pytest.fixture(scope="module")
def proof_config() -> dict[str, Any]:
    return _json("eddsa-jcs-2022/proofConfigJCS.json")


# --- the step-by-step vectors ---------------------------------------------------------------------


def test_multikeys_of_the_test_key_pair(key_pair: dict[str, str], private_key: Ed25519PrivateKey) -> None:
    assert encode_public_multikey(private_key.public_key()) == key_pair["publicKeyMultibase"]
    assert encode_private_multikey(private_key) == key_pair["privateKeyMultibase"]
    assert key_pair["publicKeyMultibase"].startswith("z6Mk")
    public = decode_public_multikey(key_pair["publicKeyMultibase"])
    assert public.public_bytes_raw() == private_key.public_key().public_bytes_raw()


def test_verification_method_of_the_test_key(private_key: Ed25519PrivateKey, proof_config: dict[str, Any]) -> None:
    assert did_key_verification_method(private_key.public_key()) == proof_config["verificationMethod"]
    assert proof_config["verificationMethod"].startswith(did_key(private_key.public_key()) + "#")


def test_canonical_document(unsigned: dict[str, Any]) -> None:
    assert canonicalize(unsigned).decode() == _text("canonDocJCS.txt")
    assert hashlib.sha256(canonicalize(unsigned)).hexdigest() == _text("docHashJCS.txt")


def test_canonical_proof_config(proof_config: dict[str, Any]) -> None:
    assert canonicalize(proof_config).decode() == _text("proofCanonJCS.txt")
    assert hashlib.sha256(canonicalize(proof_config)).hexdigest() == _text("proofHashJCS.txt")


def test_combined_hash_is_proof_config_hash_then_document_hash(
    unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    assert hash_data(unsigned, proof_config).hex() == _text("combinedHashJCS.txt")


def test_proof_value_is_reproduced_byte_for_byte(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, proof_config: dict[str, Any], signed: dict[str, Any]
) -> None:
    proof = create_proof(
        unsigned, private_key, proof_config["verificationMethod"], cryptosuite=JCS, created=proof_config["created"]
    )
    assert proof["proofValue"] == _text("sigBTC58JCS.txt")
    assert private_key.sign(hash_data(unsigned, proof_config)).hex() == _text("sigHexJCS.txt")
    assert (
        add_proof(
            unsigned, private_key, proof_config["verificationMethod"], cryptosuite=JCS, created=proof_config["created"]
        )
        == signed
    )


def test_the_signed_vector_verifies(signed: dict[str, Any], unsigned: dict[str, Any]) -> None:
    key = public_key_from_did_key(signed["proof"]["verificationMethod"])
    assert verify_proof(signed, key) == unsigned


def test_the_employment_document_round_trips(private_key: Ed25519PrivateKey) -> None:
    document = _json("employmentAuth.json")
    method = did_key_verification_method(private_key.public_key())
    secured = add_proof(document, private_key, method, cryptosuite=JCS, created="2024-01-01T00:00:00Z")
    assert secured["proof"]["@context"] == document["@context"]
    assert verify_proof(secured, private_key.public_key()) == document
    # deterministic: the same inputs give the same proof
    assert add_proof(document, private_key, method, cryptosuite=JCS, created="2024-01-01T00:00:00Z") == secured


# --- tampering --------------------------------------------------------------------------------------


def _tampered(signed: dict[str, Any], change: str) -> dict[str, Any]:
    doc = copy.deepcopy(signed)
    if change == "document value":
        doc["credentialSubject"]["alumniOf"] = "The School of Counterexamples"
    elif change == "document key added":
        doc["validUntil"] = "2099-01-01T00:00:00Z"
    elif change == "document key removed":
        del doc["description"]
    elif change == "proof created":
        doc["proof"]["created"] = "2023-02-24T23:36:39Z"
    elif change == "proof purpose":
        doc["proof"]["proofPurpose"] = "authentication"
    elif change == "proof context":
        doc["proof"]["@context"] = doc["proof"]["@context"][:1]
        doc["@context"] = doc["@context"][:1]
    elif change == "signature":
        value = doc["proof"]["proofValue"]
        doc["proof"]["proofValue"] = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    return doc


@pytest.mark.parametrize(
    "change",
    ["document value", "document key added", "document key removed", "proof created", "proof context", "signature"],
)
def test_tampered_documents_fail(signed: dict[str, Any], change: str) -> None:
    key = public_key_from_did_key(signed["proof"]["verificationMethod"])
    with pytest.raises(ProofVerificationError):
        verify_proof(_tampered(signed, change), key)


def test_changed_purpose_fails_even_when_expected(signed: dict[str, Any]) -> None:
    key = public_key_from_did_key(signed["proof"]["verificationMethod"])
    tampered = _tampered(signed, "proof purpose")
    with pytest.raises(ProofVerificationError, match="purpose"):
        verify_proof(tampered, key)
    with pytest.raises(ProofVerificationError, match="signature"):
        verify_proof(tampered, key, expected_purpose="authentication")


def test_wrong_key_fails(signed: dict[str, Any]) -> None:
    with pytest.raises(ProofVerificationError, match="signature"):
        verify_proof(signed, Ed25519PrivateKey.generate().public_key())


def test_document_context_must_start_with_the_proof_context(signed: dict[str, Any]) -> None:
    doc = copy.deepcopy(signed)
    doc["@context"] = list(reversed(doc["@context"]))
    with pytest.raises(ProofVerificationError, match="@context"):
        verify_proof(doc, public_key_from_did_key(doc["proof"]["verificationMethod"]))


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("type", "Ed25519Signature2020", "type"),
        ("cryptosuite", "eddsa-2022", "cryptosuite"),
        ("created", "yesterday", "dateTime"),
        ("proofValue", "u" + "A" * 86, "base58btc"),
        ("proofValue", "z0OIl", "base58btc"),
        ("proofValue", "z1111", "64"),
    ],
)
def test_malformed_proofs(signed: dict[str, Any], field: str, value: str, why: str) -> None:
    doc = copy.deepcopy(signed)
    doc["proof"][field] = value
    with pytest.raises(ProofVerificationError, match=why):
        verify_proof(doc, public_key_from_did_key(signed["proof"]["verificationMethod"]))


def test_missing_or_multiple_proofs(signed: dict[str, Any], unsigned: dict[str, Any]) -> None:
    key = public_key_from_did_key(signed["proof"]["verificationMethod"])
    with pytest.raises(ProofVerificationError, match="one proof"):
        verify_proof(unsigned, key)
    with pytest.raises(ProofVerificationError, match="one proof"):
        verify_proof({**signed, "proof": [signed["proof"], signed["proof"]]}, key)


def test_generation_refusals(signed: dict[str, Any], unsigned: dict[str, Any], private_key: Ed25519PrivateKey) -> None:
    method = did_key_verification_method(private_key.public_key())
    with pytest.raises(ProofGenerationError, match="already has a proof"):
        create_proof(signed, private_key, method, cryptosuite=JCS)
    with pytest.raises(ProofGenerationError, match="dateTime"):
        create_proof(unsigned, private_key, method, cryptosuite=JCS, created="2023-02-24")
    with pytest.raises(ProofGenerationError, match="JSON object"):
        create_proof([], private_key, method, cryptosuite=JCS)  # type: ignore[arg-type]
    with pytest.raises(ProofGenerationError, match="cryptosuite"):
        create_proof(unsigned, private_key, method, cryptosuite="eddsa-2022")


def test_created_is_optional(unsigned: dict[str, Any], private_key: Ed25519PrivateKey) -> None:
    secured = add_proof(unsigned, private_key, did_key_verification_method(private_key.public_key()), cryptosuite=JCS)
    assert "created" not in secured["proof"]
    verify_proof(secured, private_key.public_key())


@pytest.mark.parametrize(
    "value",
    [
        "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
        "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",  # a private key where a public one belongs
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",  # truncated
    ],
)
def test_bad_public_multikeys(value: str) -> None:
    with pytest.raises(MultikeyError):
        decode_public_multikey(value)


def test_private_multikey_refuses_a_public_key(key_pair: dict[str, str]) -> None:
    with pytest.raises(MultikeyError):
        decode_private_multikey(key_pair["publicKeyMultibase"])


@pytest.mark.parametrize(
    "method",
    [
        "did:web:example.com#key-1",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#key-1",
    ],
)
def test_bad_did_keys(method: str) -> None:
    with pytest.raises(MultikeyError):
        public_key_from_did_key(method)
