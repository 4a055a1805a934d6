"""Exports and status lists signed with eddsa-rdfc-2022 or eddsa-jcs-2022, as the caller asks, and verified by either.

`?cryptosuite=` picks the suite of `GET /v1/credentials/{id}/vc` and of the status lists; an unknown one is a 422
naming `cryptosuite`. `POST /v1/verify` accepts a proof of either suite, and names the check that fails for a
proof relabelled with the other suite, a proof set, or a context the registry does not ship (never a 500, never a
network call).
"""

from __future__ import annotations

import copy
import socket
from typing import Any
from uuid import UUID

import pytest

from mcreg.registry.trust.data_integrity import Cryptosuite, verify_proof
from mcreg.registry.trust.status_list import status_of
from mcreg.services.documents import paired_status_entry
from mcreg.services.exports import EXPORT_CRYPTOSUITE
from tests.api.rest import As
from tests.trust.test_credential_export import exported, issuer_key, outcome, path_of, placed, resigned, verdict
from tests.world import World

RDFC, JCS = Cryptosuite.EDDSA_RDFC_2022, Cryptosuite.EDDSA_JCS_2022


def _vc(provider: As, credential_id: UUID, **query: str) -> dict[str, Any]:
    response = provider.get(f"/v1/credentials/{credential_id}/vc", **query)
    assert response.status_code == 200, response.text
    return response.json()


def _status_list(public: As, vc: dict[str, Any], purpose: str, **query: str) -> dict[str, Any]:
    public_url = public.client.app.state.services.settings.public_url
    entry = paired_status_entry(public_url, vc["credentialStatus"], purpose)  # the VC names its revocation entry
    assert entry is not None
    response = public.get(path_of(public, entry["statusListCredential"]), **query)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def issued(world: World, provider: As, read_models: Any) -> dict[str, Any]:
    """A credential's VC, exported as the registry does by default."""
    credential_id = world.issue()
    placed(read_models)
    return exported(provider, credential_id)


def test_status_lists_are_signed_with_the_suite_asked_for(issued: dict[str, Any], public: As) -> None:
    key = issuer_key(public, issued)
    assert _status_list(public, issued, "revocation")["proof"]["cryptosuite"] == EXPORT_CRYPTOSUITE
    for suite in Cryptosuite:
        listed = _status_list(public, issued, "revocation", cryptosuite=suite)
        assert listed["proof"]["cryptosuite"] == suite
        assert "@context" in listed["proof"] if suite == JCS else "@context" not in listed["proof"]
        verify_proof(listed, key)
        assert status_of(issued["credentialStatus"], listed) is False


def test_the_vc_is_exported_with_jcs_when_asked(issued: dict[str, Any], provider: As, public: As) -> None:
    credential_id = UUID(issued["id"].removeprefix("urn:uuid:"))
    vc = _vc(provider, credential_id, cryptosuite=JCS)
    assert vc["proof"]["cryptosuite"] == JCS
    verify_proof(vc, issuer_key(public, vc))
    assert verdict(public, vc)["valid"] is True


def test_the_vc_is_exported_with_rdfc_when_asked(issued: dict[str, Any], provider: As, public: As) -> None:
    credential_id = UUID(issued["id"].removeprefix("urn:uuid:"))
    vc = _vc(provider, credential_id, cryptosuite=RDFC)
    assert vc["proof"]["cryptosuite"] == RDFC
    verify_proof(vc, issuer_key(public, vc))
    assert verdict(public, vc)["valid"] is True


def test_exports_are_signed_with_rdfc_by_default(issued: dict[str, Any]) -> None:
    assert issued["proof"]["cryptosuite"] == RDFC == EXPORT_CRYPTOSUITE


def test_an_unknown_cryptosuite_is_a_422_naming_it(issued: dict[str, Any], provider: As, public: As) -> None:
    credential_id = issued["id"].removeprefix("urn:uuid:")
    list_path = path_of(public, issued["credentialStatus"]["statusListCredential"])
    for caller, path in ((provider, f"/v1/credentials/{credential_id}/vc"), (public, list_path)):
        response = caller.get(path, cryptosuite="ecdsa-rdfc-2019")
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["field"] == "cryptosuite", problem
        assert response.headers["content-type"].startswith("application/problem+json")


def test_verify_accepts_a_proof_of_either_suite(issued: dict[str, Any], public: As) -> None:
    """A status list is a VC of the credential's issuer: its proof, of either suite, passes the proof check."""
    for suite in Cryptosuite:
        answer = verdict(public, _status_list(public, issued, "suspension", cryptosuite=suite))
        assert outcome(answer, "proof") == ("passed", None), answer["checks"]
        assert outcome(answer, "key")[0] == "passed"


def test_verify_names_the_check_a_proof_over_another_canonical_form_fails(issued: dict[str, Any], public: As) -> None:
    for made, claimed in ((RDFC, JCS), (JCS, RDFC)):
        relabelled = _status_list(public, issued, "suspension", cryptosuite=made)
        relabelled["proof"]["cryptosuite"] = claimed
        answer = verdict(public, relabelled)
        assert outcome(answer, "proof") == ("failed", "PROOF_VERIFICATION_ERROR"), answer["checks"]
        (proof,) = [c for c in answer["checks"] if c["check"] == "proof"]
        assert f"does not verify under {claimed}" in proof["detail"]


def test_verify_refuses_a_mixed_proof_set(issued: dict[str, Any], public: As) -> None:
    proofs = [_status_list(public, issued, "suspension", cryptosuite=suite)["proof"] for suite in Cryptosuite]
    mixed = {**_status_list(public, issued, "suspension"), "proof": proofs}
    answer = verdict(public, mixed)
    assert outcome(answer, "proof") == ("failed", "MALFORMED_PROOF_ERROR"), answer["checks"]
    assert answer["valid"] is False


def test_verify_names_a_context_the_registry_does_not_ship(
    services: Any, world: World, issued: dict[str, Any], public: As, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    listed = _status_list(public, issued, "suspension", cryptosuite=JCS)
    remote = "https://contexts.example/credentials/v9"
    with_remote = resigned(services, world, listed, lambda d: d["@context"].append(remote))
    with_remote["proof"] = copy.deepcopy(with_remote["proof"]) | {"cryptosuite": RDFC}
    answer = verdict(public, with_remote)
    assert outcome(answer, "proof") == ("failed", "PROOF_TRANSFORMATION_ERROR"), answer["checks"]
    (proof,) = [c for c in answer["checks"] if c["check"] == "proof"]
    assert remote in proof["detail"]


def test_verify_gives_a_verdict_for_json_that_json_ld_cannot_process(issued: dict[str, Any], public: As) -> None:
    listed = _status_list(public, issued, "suspension", cryptosuite=RDFC)
    listed["description"] = 10**400  # valid JSON; no float holds it
    answer = verdict(public, listed)
    assert outcome(answer, "proof") == ("failed", "PROOF_TRANSFORMATION_ERROR"), answer["checks"]
