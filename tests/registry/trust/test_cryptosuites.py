"""Data Integrity eddsa-rdfc-2022 beside eddsa-jcs-2022.

The W3C vc-di-eddsa eddsa-rdfc-2022 step-by-step vectors reproduced byte for byte; both suites round trip;
RDF canonicalization ignores key order and the order of a set, and catches any change of a statement; a proof
relabelled with the other suite, or a proof set, fails; JSON-LD runs offline and in safe mode: an unknown
context fails naming its URL without a network call, and a term JSON-LD would drop fails naming the term.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcreg.registry.trust.data_integrity import (
    Cryptosuite,
    ProofGenerationError,
    ProofTransformationError,
    ProofVerificationError,
    add_proof,
    create_proof,
    decode_private_multikey,
    hash_data,
    public_key_from_did_key,
    verify_proof,
)
from mcreg.registry.trust.linked_data import SHIPPED_CONTEXTS, ContextLoader, canonical_nquads
from tests.testdata import data_path

RDFC, JCS = Cryptosuite.EDDSA_RDFC_2022, Cryptosuite.EDDSA_JCS_2022
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
# The whole of the examples context the vectors name (tests/data/vc-di-eddsa/SOURCE.txt); the registry ships it not.
VECTOR_CONTEXTS = SHIPPED_CONTEXTS.with_contexts(
    {EXAMPLES: {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}}
)


def _json(*name: str) -> Any:
    return json.loads(data_path("vc-di-eddsa", *name).read_text())


def _text(name: str) -> str:
    return data_path("vc-di-eddsa", "eddsa-rdfc-2022", name).read_text()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """JSON-LD here never opens a connection: any attempt fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture(scope="module")
def private_key() -> Ed25519PrivateKey:
    return decode_private_multikey(_json("keyPair.json")["privateKeyMultibase"])


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    return _json("eddsa-rdfc-2022", "signedDataInt.json")


@pytest.fixture(scope="module")
def unsigned(signed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in signed.items() if k != "proof"}


@pytest.fixture(scope="module")
def proof_config() -> dict[str, Any]:
    return _json("eddsa-rdfc-2022", "proofConfigDataInt.json")


def _sign(document: dict[str, Any], key: Ed25519PrivateKey, suite: str) -> dict[str, Any]:
    method = _json("eddsa-rdfc-2022", "proofConfigDataInt.json")["verificationMethod"]
    return add_proof(document, key, method, cryptosuite=suite, created="2023-02-24T23:36:38Z", contexts=VECTOR_CONTEXTS)


def _verify(document: dict[str, Any]) -> dict[str, Any]:
    key = public_key_from_did_key(document["proof"]["verificationMethod"])
    return verify_proof(document, key, contexts=VECTOR_CONTEXTS)


# --- the eddsa-rdfc-2022 step-by-step vectors ------------------------------------------------------------------------


def test_canonical_document(unsigned: dict[str, Any]) -> None:
    canonical = canonical_nquads(unsigned, VECTOR_CONTEXTS)
    assert canonical.decode() == _text("canonDocDataInt.txt")
    assert hashlib.sha256(canonical).hexdigest() == _text("docHashDataInt.txt").strip()


def test_canonical_proof_config(proof_config: dict[str, Any]) -> None:
    canonical = canonical_nquads(proof_config, VECTOR_CONTEXTS)
    assert canonical.decode() == _text("proofCanonDataInt.txt")
    assert hashlib.sha256(canonical).hexdigest() == _text("proofHashDataInt.txt").strip()


def test_combined_hash_is_proof_config_hash_then_document_hash(
    unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    assert hash_data(unsigned, proof_config, VECTOR_CONTEXTS).hex() == _text("combinedHashDataInt.txt").strip()


def test_proof_value_is_reproduced_byte_for_byte(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey, proof_config: dict[str, Any], signed: dict[str, Any]
) -> None:
    proof = create_proof(
        unsigned,
        private_key,
        proof_config["verificationMethod"],
        cryptosuite=RDFC,
        created=proof_config["created"],
        contexts=VECTOR_CONTEXTS,
    )
    assert proof["proofValue"] == _text("sigBTC58DataInt.txt").strip()
    signature = private_key.sign(hash_data(unsigned, proof_config, VECTOR_CONTEXTS))
    assert signature.hex() == _text("sigHexDataInt.txt").strip()
    assert "@context" not in proof  # only the hashed proof configuration carries the document's @context
    assert _sign(unsigned, private_key, RDFC) == signed


def test_the_signed_vector_verifies(signed: dict[str, Any], unsigned: dict[str, Any]) -> None:
    assert _verify(signed) == unsigned


# --- both suites ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", list(Cryptosuite))
def test_each_suite_round_trips(unsigned: dict[str, Any], private_key: Ed25519PrivateKey, suite: str) -> None:
    secured = _sign(unsigned, private_key, suite)
    assert secured["proof"]["cryptosuite"] == suite
    assert _verify(secured) == unsigned
    assert _sign(unsigned, private_key, suite) == secured  # deterministic


def test_a_proof_relabelled_with_the_other_suite_fails(
    unsigned: dict[str, Any], private_key: Ed25519PrivateKey
) -> None:
    for made, claimed in ((JCS, RDFC), (RDFC, JCS)):
        relabelled = _sign(unsigned, private_key, made)
        relabelled["proof"]["cryptosuite"] = claimed
        with pytest.raises(ProofVerificationError, match=f"signature does not verify under {claimed}"):
            _verify(relabelled)


def test_a_mixed_proof_set_is_refused(unsigned: dict[str, Any], private_key: Ed25519PrivateKey) -> None:
    proofs = [_sign(unsigned, private_key, suite)["proof"] for suite in Cryptosuite]
    with pytest.raises(ProofVerificationError, match=r"proof set \(2 proofs\) is not supported"):
        verify_proof({**unsigned, "proof": proofs}, private_key.public_key(), contexts=VECTOR_CONTEXTS)


# --- what RDF canonicalization sees ----------------------------------------------------------------------------------


def test_key_order_and_set_order_do_not_matter_under_rdfc(signed: dict[str, Any]) -> None:
    reordered = {key: signed[key] for key in reversed(list(signed))}
    reordered["type"] = list(reversed(signed["type"]))
    reordered["credentialSubject"] = dict(reversed(list(signed["credentialSubject"].items())))
    _verify(reordered)


def test_set_order_matters_under_jcs(unsigned: dict[str, Any], private_key: Ed25519PrivateKey) -> None:
    secured = _sign(unsigned, private_key, JCS)
    secured["type"] = list(reversed(secured["type"]))
    with pytest.raises(ProofVerificationError, match="signature"):
        _verify(secured)


def _tampered(signed: dict[str, Any], change: str) -> dict[str, Any]:
    doc = copy.deepcopy(signed)
    if change == "document value":
        doc["credentialSubject"]["alumniOf"] = "The School of Counterexamples"
    elif change == "document type":
        doc["type"] = ["VerifiableCredential"]
    elif change == "document key added":
        doc["validUntil"] = "2099-01-01T00:00:00Z"
    elif change == "document key removed":
        del doc["description"]
    elif change == "datatype":
        doc["credentialSubject"]["alumniOf"] = {"@value": "The School of Examples", "@language": "en"}
    elif change == "proof created":
        doc["proof"]["created"] = "2023-02-24T23:36:39Z"
    elif change == "signature":
        value = doc["proof"]["proofValue"]
        doc["proof"]["proofValue"] = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    return doc


@pytest.mark.parametrize(
    "change",
    [
        "document value",
        "document type",
        "document key added",
        "document key removed",
        "datatype",
        "proof created",
        "signature",
    ],
)
def test_tampering_is_caught_under_rdfc(signed: dict[str, Any], change: str) -> None:
    with pytest.raises(ProofVerificationError, match="signature does not verify under eddsa-rdfc-2022"):
        _verify(_tampered(signed, change))


# --- offline and safe ------------------------------------------------------------------------------------------------


def test_an_unknown_context_fails_naming_it_without_a_network_call(private_key: Ed25519PrivateKey) -> None:
    document = _json("employmentAuth.json")  # names https://w3id.org/citizenship/v4rc1, which is not shipped
    with pytest.raises(ProofTransformationError, match=r"https://w3id\.org/citizenship/v4rc1 is not one this registry"):
        _sign(document, private_key, RDFC)
    secured = _sign(document, private_key, JCS)  # JCS reads no context
    secured["proof"]["cryptosuite"] = RDFC
    with pytest.raises(ProofTransformationError, match="citizenship"):
        _verify(secured)


def test_the_vectors_example_context_is_not_shipped(signed: dict[str, Any]) -> None:
    key = public_key_from_did_key(signed["proof"]["verificationMethod"])
    with pytest.raises(ProofTransformationError, match=re.escape(EXAMPLES)):
        verify_proof(signed, key)
    assert EXAMPLES not in SHIPPED_CONTEXTS.urls


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"assessmentType": "exam"}, "assessmentType"),
        ({"type": ["VerifiableCredential", "MicroCredential"]}, "@type 'MicroCredential'"),
        ({"id": "credential-7"}, "@id 'credential-7'"),
    ],
)
def test_safe_mode_refuses_what_json_ld_would_drop(
    private_key: Ed25519PrivateKey, change: dict[str, Any], named: str
) -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:learner"},
    } | change
    with pytest.raises(ProofTransformationError, match=rf"safe mode: .*{named}"):
        _sign(document, private_key, RDFC)
    secured = _sign(document, private_key, JCS)
    secured["proof"]["cryptosuite"] = RDFC
    with pytest.raises(ProofTransformationError, match=named):
        _verify(secured)


def test_a_context_redefining_a_protected_term_fails(private_key: Ed25519PrivateKey) -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"name": "https://evil.example/name"}],
        "name": "Data analysis",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:learner"},
    }
    with pytest.raises(ProofTransformationError, match="protected term redefinition"):
        _sign(document, private_key, RDFC)


def test_generating_with_an_unknown_suite_fails(unsigned: dict[str, Any], private_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ProofGenerationError, match="cryptosuite"):
        _sign(unsigned, private_key, "ecdsa-rdfc-2019")


def test_the_shipped_contexts_are_the_ones_the_exports_name() -> None:
    assert {
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
    } <= SHIPPED_CONTEXTS.urls
    for url in SHIPPED_CONTEXTS.urls:
        assert "@context" in SHIPPED_CONTEXTS(url)["document"]


def test_a_loader_serves_only_its_own_contexts() -> None:
    """pyld caches processed contexts by URL; each loader keeps its own, so one loader's context is not another's."""
    document = {"@context": [EXAMPLES], "@id": "urn:example:1", "alumniOf": "The School of Examples"}
    assert b"examples#alumniOf" in canonical_nquads(document, VECTOR_CONTEXTS)
    with pytest.raises(ProofTransformationError, match=re.escape(EXAMPLES)):
        canonical_nquads(document, ContextLoader({}))


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"name": "innermost"}
    for _ in range(depth):
        node = {"credentialSubject": node}
    return node


@pytest.mark.parametrize(
    "garbage",
    [
        {"name": 10**400},  # a JSON number no float holds
        _nested(3000),  # deeper than Python's recursion limit
        {"type": [{"not": "an IRI"}]},
        {"@context": ["https://www.w3.org/ns/credentials/v2", 5]},
    ],
)
def test_what_json_ld_cannot_process_is_a_transformation_error(garbage: dict[str, Any]) -> None:
    """Whatever pyld makes of a presented document, verifying it is a named failure, never another exception."""
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]} | garbage
    with pytest.raises(ProofTransformationError):
        canonical_nquads(document)


def test_threads_canonicalize_as_one_does(signed: dict[str, Any], private_key: Ed25519PrivateKey) -> None:
    """Request threads share a loader and pyld's caches in it: concurrent work gives what sequential work gives."""
    documents = [
        {**{k: v for k, v in signed.items() if k != "proof"}, "@context": [*signed["@context"], {"n": f"urn:n:{i}"}]}
        for i in range(40)
    ]
    alone = [canonical_nquads(document, VECTOR_CONTEXTS) for document in documents]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda document: canonical_nquads(document, VECTOR_CONTEXTS), documents))
    assert together == alone
