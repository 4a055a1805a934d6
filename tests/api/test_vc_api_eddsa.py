"""The W3C vc-di-eddsa suite's eddsa-jcs-2022 assertions that run offline, against ``/credentials/issue`` and
``/credentials/verify``: what an issued proof must look like (its data model) and what a verifier must refuse
(its verify and algorithm sections).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import base58
import pytest

from mcreg.bootstrap import Services
from tests.api.rest import As
from tests.api.test_vc_api import did_key_of, issue, suite_input, verify, with_issuer
from tests.world import World

pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def issued(provider: As, public: As, world: World) -> dict[str, Any]:
    response = issue(provider, with_issuer(suite_input("credential-ok.json"), did_key_of(public, world.provider_id)))
    assert response.status_code == 201, response.text
    vc: dict[str, Any] = response.json()["verifiableCredential"]
    return vc


def test_an_issued_proof_has_the_data_model_of_eddsa_jcs_2022(issued: dict[str, Any]) -> None:
    proof = issued["proof"]
    # "The type property MUST be DataIntegrityProof." "The cryptosuite property of the proof MUST be eddsa-jcs-2022."
    assert (proof["type"], proof["cryptosuite"]) == ("DataIntegrityProof", "eddsa-jcs-2022")
    # "The proofValue property of the proof MUST be a detached EdDSA signature ... encoded using base58btc."
    assert proof["proofValue"].startswith("z") and len(base58.b58decode(proof["proofValue"][1:])) == 64
    # "The publicKeyMultibase value of the verification method MUST start with the base-58-btc prefix (z) ...
    # and the Ed25519 public key multicodec header (0xed01)". A did:key names it in the method itself.
    method = proof["verificationMethod"]
    did, _, multikey = method.partition("#")
    assert did == f"did:key:{multikey}" and multikey.startswith("z6Mk")
    raw = base58.b58decode(multikey[1:])
    assert raw[:2] == b"\xed\x01" and len(raw) == 34
    # "If proofConfig.created is present and set to a value that is not a valid XMLSCHEMA11-2 datetime, an error
    # MUST be raised": what the issuer writes is one.
    assert proof["created"].endswith("Z") and "T" in proof["created"]


def tampered_proof_value(vc: dict[str, Any]) -> None:
    """proofValue decoding to 63 bytes, not a 64-byte signature."""
    vc["proof"]["proofValue"] = "z" + base58.b58encode(base58.b58decode(vc["proof"]["proofValue"][1:])[:63]).decode()


def not_base58btc(vc: dict[str, Any]) -> None:
    """proofValue multibase base64url ('u'), which eddsa-jcs-2022 does not allow."""
    vc["proof"]["proofValue"] = "u" + vc["proof"]["proofValue"][1:]


def other_cryptosuite(vc: dict[str, Any]) -> None:
    vc["proof"]["cryptosuite"] = "eddsa-2022"


def other_type(vc: dict[str, Any]) -> None:
    vc["proof"]["type"] = "Ed25519Signature2020"


def created_not_a_datetime(vc: dict[str, Any]) -> None:
    vc["proof"]["created"] = "yesterday"


def not_canonicalized(vc: dict[str, Any], services: Services, world: World) -> None:
    """Signed over the document's plain JSON serialisation instead of its JCS canonical form."""
    key = services.issuer_keys.signing_key(world.provider_id).private_key
    unsecured = {k: v for k, v in vc.items() if k != "proof"}
    options = {k: v for k, v in vc["proof"].items() if k != "proofValue"}

    def digest(value: Any) -> bytes:
        return hashlib.sha256(json.dumps(value, indent=2).encode()).digest()

    vc["proof"]["proofValue"] = "z" + base58.b58encode(key.sign(digest(options) + digest(unsecured))).decode()


def changed_document(vc: dict[str, Any]) -> None:
    vc["credentialSubject"]["id"] = "did:example:another-subject"


SPOILERS: dict[str, tuple[Callable[..., None], str]] = {
    "If the proofValue, decoded to raw bytes, is not 64 bytes, verification fails": (
        tampered_proof_value,
        "PROOF_VERIFICATION_ERROR",
    ),
    "Any other encoding of proofValue than base58btc MUST NOT be allowed": (not_base58btc, "PROOF_VERIFICATION_ERROR"),
    'If the cryptosuite is not "eddsa-jcs-2022", verification fails': (other_cryptosuite, "MALFORMED_PROOF_ERROR"),
    "If proofConfig.type is not DataIntegrityProof, verification fails": (other_type, "MALFORMED_PROOF_ERROR"),
    "If proofConfig.created is not an XMLSCHEMA11-2 datetime, verification fails": (
        created_not_a_datetime,
        "MALFORMED_PROOF_ERROR",
    ),
    "Verification fails when the credential is not canonicalized correctly": (
        not_canonicalized,
        "PROOF_VERIFICATION_ERROR",
    ),
    "Verification fails when the credential was changed": (changed_document, "PROOF_VERIFICATION_ERROR"),
}


def test_a_valid_eddsa_jcs_2022_proof_verifies(public: As, issued: dict[str, Any]) -> None:
    answer = verify(public, issued)

    assert answer["verified"] is True and answer["errors"] == []


@pytest.mark.parametrize("assertion", list(SPOILERS))
def test_the_verifier_refuses_what_the_eddsa_suite_says_it_must(
    services: Services, public: As, world: World, issued: dict[str, Any], assertion: str
) -> None:
    spoil, code = SPOILERS[assertion]
    vc = copy.deepcopy(issued)
    spoil(*((vc, services, world) if spoil is not_canonicalized else (vc,)))

    answer = verify(public, vc)

    assert answer["verified"] is False
    assert [(e["check"], e["code"]) for e in answer["errors"]] == [("proof", code)]
