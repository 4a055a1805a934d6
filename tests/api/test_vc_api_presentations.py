"""Verifiable presentations: a learner's wallet (a did:key holder) presents registry credentials to a verifier,
who asked for a challenge and a domain; ``POST /presentations/verify`` checks the holder's proof, the challenge and
the domain, and verifies each credential, listing each one's result.

A presentation without a proof, with a proof set, a proof for another purpose or by someone else than its holder,
a wrong challenge or domain, a holder to resolve over the network, or a credential that is not valid is a result
naming the failed check (the Data Integrity error name where it has one), never a 500.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcreg.projections.read_models import ReadModels
from mcreg.registry.trust.data_integrity import did_key, did_key_verification_method, hash_data
from tests.api.rest import As
from tests.trust.test_verdicts import presented
from tests.world import World

pytestmark = pytest.mark.usefixtures("offline")

VC = "https://www.w3.org/ns/credentials/v2"
CHALLENGE, DOMAIN = "f6b8ad5c-1f3e-4b1e-9a52-1c1f0d2b7e31", "verifier.example"


@pytest.fixture
def wallet() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def signed(
    presentation: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    challenge: str | None = CHALLENGE,
    domain: str | None = DOMAIN,
    purpose: str = "authentication",
) -> dict[str, Any]:
    """The presentation with the holder's eddsa-jcs-2022 proof, carrying the challenge and domain it was given."""
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-12-01T10:00:00Z",
        "verificationMethod": did_key_verification_method(key.public_key()),
        "proofPurpose": purpose,
        "@context": presentation["@context"],
    }
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    proof["proofValue"] = "z" + base58.b58encode(key.sign(hash_data(presentation, proof))).decode("ascii")
    return {**presentation, "proof": proof}


def presentation_of(holder: Ed25519PrivateKey, *credentials: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [VC],
        "type": ["VerifiablePresentation"],
        "holder": did_key(holder.public_key()),
        "verifiableCredential": list(credentials),
    }


def verify(public: As, vp: dict[str, Any], **options: Any) -> dict[str, Any]:
    asked = {"challenge": CHALLENGE, "domain": DOMAIN} | options
    response = public.post("/presentations/verify", {"verifiablePresentation": vp, "options": asked})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def outcomes(answer: dict[str, Any]) -> dict[str, str]:
    return {r["check"]: r["outcome"] for r in answer["results"]}


def errors(answer: dict[str, Any]) -> dict[str, str | None]:
    return {e["check"]: e["code"] for e in answer["errors"]}


@pytest.fixture
def credential(provider: As, read_models: ReadModels, world: World) -> dict[str, Any]:
    return presented(provider, read_models, world.issue(date(2024, 3, 1)))


def test_a_learner_presents_a_registry_credential_and_the_verifier_accepts_it(
    public: As, wallet: Ed25519PrivateKey, credential: dict[str, Any], offline: list[str]
) -> None:
    vp = signed(presentation_of(wallet, credential), wallet)

    answer = verify(public, vp)

    assert answer["verified"] is True and answer["errors"] == [], answer["errors"]
    assert outcomes(answer) == {
        "presentation": "passed",
        "holder_proof": "passed",
        "challenge": "passed",
        "domain": "passed",
        "credentials": "passed",
    }
    assert answer["holder"] == did_key(wallet.public_key())
    (result,) = answer["credentialResults"]
    assert result["verified"] is True and result["verdict"] == "valid"
    assert result["results"] == verify_credential(public, credential)["results"]
    assert offline == []


def verify_credential(public: As, vc: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = public.post("/credentials/verify", {"verifiableCredential": vc}).json()
    return answer


def test_a_wrong_challenge_or_domain_is_named(
    public: As, wallet: Ed25519PrivateKey, credential: dict[str, Any]
) -> None:
    vp = signed(presentation_of(wallet, credential), wallet)

    replayed = verify(public, vp, challenge="another-session")
    elsewhere = verify(public, vp, domain="other.example")

    assert errors(replayed) == {"challenge": "INVALID_CHALLENGE_ERROR"}
    assert replayed["errors"][0]["type"] == "https://w3id.org/security#INVALID_CHALLENGE_ERROR"
    assert errors(elsewhere) == {"domain": "INVALID_DOMAIN_ERROR"}
    assert replayed["verified"] is False and elsewhere["verified"] is False
    # A proof that carries none fails when one was asked for.
    bare = signed(presentation_of(wallet, credential), wallet, challenge=None, domain=None)
    assert errors(verify(public, bare)) == {"challenge": "INVALID_CHALLENGE_ERROR", "domain": "INVALID_DOMAIN_ERROR"}


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        ("no proof", "MALFORMED_PROOF_ERROR"),
        ("a proof set", "MALFORMED_PROOF_ERROR"),
        ("proof for assertion", "MISMATCHED_PROOF_PURPOSE_ERROR"),
        ("signed by someone else than the holder", "INVALID_VERIFICATION_METHOD"),
        ("a holder on the web", "INVALID_VERIFICATION_METHOD"),
        ("changed after signing", "PROOF_VERIFICATION_ERROR"),
        ("a JCS signature presented as RDFC", None),
    ],
)
def test_a_holder_proof_that_does_not_hold_is_named_and_its_challenge_proves_nothing(
    public: As, wallet: Ed25519PrivateKey, credential: dict[str, Any], offline: list[str], spoil: str, code: str | None
) -> None:
    vp = signed(presentation_of(wallet, credential), wallet)
    if spoil == "no proof":
        del vp["proof"]
    elif spoil == "a proof set":
        vp["proof"] = [vp["proof"], copy.deepcopy(vp["proof"])]
    elif spoil == "proof for assertion":
        vp = signed(presentation_of(wallet, credential), wallet, purpose="assertionMethod")
    elif spoil == "signed by someone else than the holder":
        vp = signed(presentation_of(wallet, credential), Ed25519PrivateKey.generate())
    elif spoil == "a holder on the web":
        vp["proof"]["verificationMethod"] = "did:web:wallet.example#key-1"
        vp["holder"] = "did:web:wallet.example"
    elif spoil == "changed after signing":
        vp["holder"] = {"id": vp["holder"], "name": "Someone Else"}
    else:
        vp["proof"]["cryptosuite"] = "eddsa-rdfc-2022"

    answer = verify(public, vp)

    assert answer["verified"] is False
    assert list(errors(answer)) == ["holder_proof"]
    if code is not None:
        assert errors(answer)["holder_proof"] == code
    else:  # unsupported (MALFORMED) before eddsa-rdfc-2022 is offered, a failed verification (PROOF) after
        assert errors(answer)["holder_proof"] in ("MALFORMED_PROOF_ERROR", "PROOF_VERIFICATION_ERROR")
    assert outcomes(answer)["challenge"] == "skipped" and outcomes(answer)["domain"] == "skipped"
    assert outcomes(answer)["credentials"] == "passed"  # the credentials are verified all the same
    assert offline == []


def test_a_revoked_credential_in_a_presentation_fails_it_and_says_which(
    provider: As, public: As, wallet: Ed25519PrivateKey, world: World, read_models: ReadModels
) -> None:
    kept, revoked = world.issue(), world.issue()
    kept_vc, revoked_vc = presented(provider, read_models, kept), presented(provider, read_models, revoked)
    assert provider.post(f"/v1/credentials/{revoked}/revoke", {"reason": "fraud"}).status_code == 200
    read_models.catch_up()

    answer = verify(public, signed(presentation_of(wallet, kept_vc, revoked_vc), wallet))

    assert answer["verified"] is False and list(errors(answer)) == ["credentials"]
    assert "2 (" in answer["errors"][0]["detail"]
    first, second = answer["credentialResults"]
    assert first["verified"] is True
    assert second["verified"] is False and "revocation" in {e["check"] for e in second["errors"]}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"@context": [VC, "https://evil.example/vp.jsonld"]}, "fetches none"),
        ({"@context": [VC, {"@vocab": "https://evil.example/#"}]}, "@vocab"),
        ({"type": ["Presentation"]}, "VerifiablePresentation"),
        ({"verifiableCredential": ["https://example.edu/credentials/1"]}, "not strings"),
        ({"holder": "not a url"}, "holder"),
    ],
)
def test_a_presentation_that_is_not_one_fails_the_presentation_check(
    public: As, wallet: Ed25519PrivateKey, offline: list[str], change: dict[str, Any], named: str
) -> None:
    vp = signed({**presentation_of(wallet), **change}, wallet)

    answer = verify(public, vp)

    assert answer["verified"] is False
    assert errors(answer)["presentation"] == "MALFORMED_VALUE_ERROR"
    assert named in answer["errors"][0]["detail"]
    assert offline == []


def test_a_presentation_carrying_nothing_verifies_its_holder_only(public: As, wallet: Ed25519PrivateKey) -> None:
    answer = verify(public, signed(presentation_of(wallet), wallet))

    assert answer["verified"] is True and answer["credentialResults"] == []
    assert outcomes(answer)["credentials"] == "skipped"
