"""Verdicts in three levels: a verifier learns whether a credential is valid, valid with warnings, or not valid,
and why, in the shape of the W3C verification result (``verified``, ``errors``, ``warnings``) beside every check.

A credential awarded under QA in force stays quality-assured when that QA lapses, expires or is withdrawn later:
a warning. Withdrawal with effect on or before the issue date, revocation, suspension, a bad proof or a key
compromised when it signed make it not valid.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any
from uuid import UUID

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.projections.status_lists import StatusListsProjection
from tests.api.rest import As
from tests.api.test_graphql import ask
from tests.world import World

SECURITY = "https://w3id.org/security#"


def presented(provider: As, read_models: ReadModels, credential_id: UUID) -> dict[str, Any]:
    """The credential as its provider exports it, once the status lists have placed it."""
    read_models.catch_up([StatusListsProjection.name])
    response = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert response.status_code == 200, response.text
    return response.json()


def verify(public: As, vc: dict[str, Any]) -> dict[str, Any]:
    response = public.post("/v1/verify", vc)
    assert response.status_code == 200, response.text
    return response.json()


def stored(public: As, credential_id: UUID) -> dict[str, Any]:
    response = public.get(f"/v1/credentials/{credential_id}/verify")
    assert response.status_code == 200, response.text
    return response.json()


def level(answer: dict[str, Any]) -> tuple[str, bool, bool, list[str], list[str]]:
    """The verdict, verified, valid, and the checks named by the errors and by the warnings."""
    return (
        answer["verdict"],
        answer["verified"],
        answer["valid"],
        [e["check"] for e in answer["errors"]],
        [w["check"] for w in answer["warnings"]],
    )


def test_a_credential_whose_qa_lapsed_after_issue_is_valid_with_a_warning(
    services: Services, world: World, provider: As, public: As, read_models: ReadModels, client: Any
) -> None:
    credential_id = world.issue(date(2024, 3, 1))
    vc = presented(provider, read_models, credential_id)
    assert verify(public, vc)["valid"] is True

    services.registry.withdraw_accreditation(
        world.agency, world.accreditation_id, reason="agency review overdue", effective=date(2025, 1, 1)
    )

    answer = verify(public, vc)
    assert answer["valid"] is True, answer["checks"]  # it was quality-assured when awarded, and stays so
    assert level(answer) == ("valid_with_warnings", True, True, [], ["qa_now"])
    (warning,) = answer["warnings"]
    assert warning["type"] == "urn:mcreg:verification:qa_now" and warning["code"] is None
    assert warning["title"] == "Quality assurance no longer in force" and "withdrawn" in warning["detail"]
    qa_now = next(c for c in answer["checks"] if c["check"] == "qa_now")
    assert (qa_now["outcome"], qa_now["forces"]) == ("warning", "valid_with_warnings")
    assert answer["failed"] == []
    # The registry's own answer agrees, and so does the standing GraphQL gives.
    assert level(stored(public, credential_id)) == ("valid_with_warnings", True, True, [], ["qa_now"])
    query = "query($id: ID!) { credentialStanding(id: $id) { verdict qaAsOf { standing } } }"
    standing = ask(client, query, id=str(credential_id))["data"]["credentialStanding"]
    assert standing == {"verdict": "valid_with_warnings", "qaAsOf": {"standing": "withdrawn"}}
    # Before the withdrawal took effect, it was plainly valid.
    then = public.get(f"/v1/credentials/{credential_id}/verify", as_of="2024-12-31").json()
    assert (then["verdict"], then["warnings"]) == ("valid", [])


def test_a_withdrawal_with_effect_before_the_issue_date_makes_it_not_valid(
    services: Services, world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    credential_id = world.issue(date(2024, 3, 1))
    vc = presented(provider, read_models, credential_id)

    services.registry.withdraw_accreditation(
        world.agency, world.accreditation_id, reason="accreditation obtained by fraud", effective=date(2024, 1, 1)
    )

    answer = verify(public, vc)
    assert level(answer) == ("not_valid", False, False, ["qa_at_issue"], ["qa_now"])
    (error,) = answer["errors"]
    assert error["type"] == "urn:mcreg:verification:qa_at_issue"
    assert error["title"] == "Not quality-assured on the issue date"
    assert level(stored(public, credential_id))[:4] == ("not_valid", False, False, ["qa_at_issue"])


def test_revoked_and_suspended_credentials_are_not_valid(
    world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    revoked, suspended = world.issue(), world.issue()
    revoked_vc, suspended_vc = presented(provider, read_models, revoked), presented(provider, read_models, suspended)
    assert provider.post(f"/v1/credentials/{revoked}/revoke", {"reason": "fraud"}).status_code == 200
    assert provider.post(f"/v1/credentials/{suspended}/suspend", {"reason": "inquiry"}).status_code == 200
    read_models.catch_up([StatusListsProjection.name])

    assert level(verify(public, revoked_vc)) == ("not_valid", False, False, ["revocation", "registry_record"], [])
    assert level(verify(public, suspended_vc)) == ("not_valid", False, False, ["suspension", "registry_record"], [])
    assert level(stored(public, revoked))[:4] == ("not_valid", False, False, ["registry_record", "revocation"])


def test_a_bad_proof_is_not_valid_with_the_w3c_error(world: World, provider: As, public: As, read_models: ReadModels):
    vc = presented(provider, read_models, world.issue())
    tampered = copy.deepcopy(vc)
    tampered["validUntil"] = "2099-01-01T00:00:00Z"
    unsigned = {key: value for key, value in vc.items() if key != "proof"}

    answer = verify(public, tampered)
    assert level(answer) == ("not_valid", False, False, ["proof"], [])
    (error,) = answer["errors"]
    assert error == {
        "type": SECURITY + "PROOF_VERIFICATION_ERROR",
        "title": "Proof verification error",
        "detail": error["detail"],
        "check": "proof",
        "code": "PROOF_VERIFICATION_ERROR",
    }
    answer = verify(public, unsigned)
    assert (answer["verdict"], answer["errors"][0]["type"]) == ("not_valid", SECURITY + "MALFORMED_PROOF_ERROR")
    # The key check the failed proof skips forces nothing of its own.
    assert next(c for c in answer["checks"] if c["check"] == "key")["forces"] == "valid"


def test_every_check_says_the_level_it_forces(world: World, provider: As, public: As, read_models: ReadModels):
    answer = verify(public, presented(provider, read_models, world.issue()))

    assert {(c["outcome"], c["forces"]) for c in answer["checks"]} <= {
        ("passed", "valid"),
        ("skipped", "valid"),  # the transparency log has not followed yet: evidence, on its way
    }
    assert (answer["verdict"], answer["verified"], answer["errors"], answer["warnings"]) == ("valid", True, [], [])
