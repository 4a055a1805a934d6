"""Verifying a presented credential, for anyone; and the schemas every verification answers with.

``POST /v1/verify`` takes a presented credential and answers its verdict in
three levels (valid, valid with warnings, not valid), W3C's ``verified`` with
its ``errors`` and ``warnings`` as problem details, and every named check,
each passed, warning, failed (with the W3C error name where a specification
names one) or skipped: ``mcreg.services.verification`` makes them. A
malformed or tampered credential is a verdict, not an error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body
from pydantic import Field

from mcreg.api.deps import Verifier, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output, StandingOut
from mcreg.api.rest.status_lists import IssuerKeyOut
from mcreg.registry.aggregates.issuer_keys import KeyStatus
from mcreg.registry.vocabulary import Verdict
from mcreg.services.checks import CheckName

router = APIRouter(tags=["credentials"], responses=PROBLEM_RESPONSES)


VERDICT = (
    "valid: every check passed; valid_with_warnings: none failed, some warn (QA lapsed, expired or withdrawn after "
    "the issue date, the signing key rotated or reported compromised after it signed); not_valid: a check failed "
    "(bad proof, key invalid when it signed, revoked, suspended, outside the validity period, not quality-assured "
    "on the issue date, unknown to the registry)"
)


class ProblemOut(Output):
    """A W3C problem detail (VC Data Model 2.0, "Verification"), naming the check behind it."""

    type: str = Field(
        description="The W3C error's URL where a specification names one (e.g. "
        "https://w3id.org/security#PROOF_VERIFICATION_ERROR), else urn:mcreg:verification:{check}"
    )
    title: str
    detail: str
    check: CheckName
    code: str | None = Field(description="The W3C error name, where a specification names one")


class CheckOut(Output):
    check: CheckName
    outcome: Literal["passed", "warning", "failed", "skipped"] = Field(
        description="warning: it holds with something to weigh, or failed in a way that leaves the credential valid; "
        "skipped: it could not be made (what it needs failed, or is not there yet)"
    )
    forces: Verdict = Field(
        description="The verdict this outcome forces at best: failed not_valid, warning valid_with_warnings"
    )
    code: str | None = Field(
        default=None,
        description="The W3C error name where a specification names one: MALFORMED_VALUE_ERROR, "
        "MALFORMED_PROOF_ERROR, MISMATCHED_PROOF_PURPOSE_ERROR, PROOF_VERIFICATION_ERROR, INVALID_VERIFICATION_METHOD, "
        "STATUS_RETRIEVAL_ERROR, STATUS_VERIFICATION_ERROR, STATUS_LIST_LENGTH_ERROR, RANGE_ERROR",
    )
    detail: str


class ProofOut(Output):
    verification_method: str | None
    key_id: str | None = None
    created: datetime | None = None
    key_status_at_signing: KeyStatus | None = Field(
        default=None, description="valid | not_yet_valid | retired | compromised, at the proof's created"
    )
    key: IssuerKeyOut | None = None


class StatusBitOut(Output):
    purpose: str
    status_list_credential: str | None
    index: int | None
    set: bool | None = Field(description="True: revoked (or suspended); None when the list could not be read")


class InclusionOut(Output):
    """The ``Issued`` event as a leaf of the transparency log, proven against a signed checkpoint."""

    position: int = Field(description="The event's position in the event log")
    leaf_index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str] = Field(description="RFC 9162 inclusion proof, hex, leaf to root")
    root: str
    checkpoint: str = Field(description="The C2SP signed checkpoint of tree_size (GET /v1/log/key verifies it)")


class PresentedVerification(Output):
    verdict: Verdict = Field(description=VERDICT)
    verified: bool = Field(description="W3C's verified: no check failed (the verdict is not not_valid)")
    errors: list[ProblemOut] = Field(description="The failed checks as W3C problem details, in order")
    warnings: list[ProblemOut] = Field(description="The checks that warn, as W3C problem details, in order")
    valid: bool = Field(
        description="The same as verified, kept for clients from before the verdict: the issuer's key made the proof "
        "while it was valid, neither status bit is set, the dates hold, and the registry holds the credential as "
        "active and quality-assured on its issue date (the transparency log is evidence and does not count)"
    )
    failed: list[CheckName] = Field(description="The checks that failed, in the order they were made")
    checks: list[CheckOut]
    credential_id: UUID | None = Field(description="The registry's credential, if the registry holds it")
    issuer: str | None = Field(description="The issuer's DID, as the credential names it")
    issuer_id: UUID | None = Field(description="The issuer the DID names, if it is one this registry hosts")
    proof: ProofOut | None
    status: list[StatusBitOut]
    revoked: bool | None = Field(description="The revocation bit on the issuer's list; None if it cannot be read")
    suspended: bool | None = Field(description="The suspension bit on the issuer's list; None if it cannot be read")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    registry_status: str | None = Field(default=None, description="active | suspended | revoked, as held now")
    issued_on: date | None = None
    qa_at_issue: StandingOut | None = None
    qa_now: StandingOut | None = None
    transparency_log: InclusionOut | None = None


@router.post(
    "/v1/verify",
    summary="Verify a presented credential: proof and key, status lists, dates, the registry's record, QA. For anyone",
    description="Post the credential as exported by `/v1/credentials/{id}/vc`. The answer gives the verdict "
    "(`valid`, `valid_with_warnings`, `not_valid`), W3C's `verified` with `errors` and `warnings` as problem "
    "details, and every check made, each passed, warning, failed (with the W3C error name where one applies, e.g. "
    "`STATUS_RETRIEVAL_ERROR`) or skipped: a malformed, foreign or tampered credential is a verdict (200), not an "
    "error. Anything but a JSON object is a 4xx problem.",
)
def verify_presented_credential(
    presented: Annotated[dict[str, Any], Body(description="A verifiable credential with an embedded proof")],
    _: Visitor,
    verifier: Verifier,
) -> PresentedVerification:
    return PresentedVerification.model_validate(verifier.presented(presented))
