"""The W3C VC-API (https://w3c-ccg.github.io/vc-api/): issue, verify credentials, verify presentations.

The request and response shapes are the VC-API's, so the W3C test suites
(vc-data-model-2.0, vc-di-eddsa, bitstring-status-list) can be pointed at a
registry: ``{"credential"|"verifiableCredential"|"verifiablePresentation": …,
"options": …}`` in; ``{"verifiableCredential": …}`` or a verification result
(``verified``, ``checks``, ``warnings``, ``errors``) out, with the registry's
verdict and every check beside them. A body that is not such a request is a
400 problem; a credential or presentation that does not verify is a result.
Issuing signs and records nothing: ``mcreg.services.vc_api`` says what may be
signed this way.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import ConfigDict, Field

from mcreg.api.deps import Caller, IssuerKeyring, Verifier, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output
from mcreg.api.rest.verify import VERDICT, CheckOut, ProblemOut
from mcreg.registry.vocabulary import Verdict
from mcreg.services.checks import CheckMade, CheckName, Problem
from mcreg.services.presentations import PresentationVerifier
from mcreg.services.vc_api import VcApiIssuer, VcApiRequestInvalid, request_object

router = APIRouter(tags=["vc-api"], responses=PROBLEM_RESPONSES)


class IssuedCredential(Output):
    model_config = ConfigDict(populate_by_name=True)

    verifiable_credential: dict[str, Any] = Field(
        alias="verifiableCredential", description="The credential with an eddsa-jcs-2022 proof by the issuer's did:key"
    )


class VerificationResult(Output):
    """The VC-API's verification result, with the registry's verdict and every check made."""

    verified: bool = Field(description="W3C's verified: no check failed")
    checks: list[CheckName] = Field(description="The checks made (not those skipped), in order")
    warnings: list[ProblemOut]
    errors: list[ProblemOut]
    verdict: Verdict = Field(description=VERDICT)
    results: list[CheckOut] = Field(description="Every check with its outcome, skipped ones included")


class PresentationVerificationResult(VerificationResult):
    model_config = ConfigDict(populate_by_name=True)

    holder: str | None = Field(description="The holder the presentation names, if it names one")
    credential_results: list[VerificationResult] = Field(
        alias="credentialResults", description="Each credential the presentation carries, verified, in its order"
    )


def _result(
    verdict: Verdict, verified: bool, made: list[CheckMade], errors: list[Problem], warnings: list[Problem]
) -> dict[str, Any]:
    return {
        "verified": verified,
        "checks": [c.check for c in made if c.outcome != "skipped"],
        "warnings": warnings,
        "errors": errors,
        "verdict": verdict,
        "results": made,
    }


REQUEST = "a JSON object; anything else is a 400 problem"


@router.post(
    "/credentials/issue",
    status_code=201,
    summary="Sign a VC 2.0 credential with the provider's key, under its did:key; nothing is recorded",
    description="For a provider's API key. The credential's `issuer` must be the provider's did:key (`did:key:` and "
    "the `publicKeyMultibase` of its current key, from its DID document). The registry's micro-credentials are "
    "issued with `POST /v1/credentials` under the provider's did:web: a credential naming that did:web, one with a "
    "`credentialStatus` or a proof, or one that is not a VC 2.0 credential whose contexts need no fetch, is refused "
    "(400). A verifier learns from the did:key issuer that the registry did not record it (a warning).",
)
def sign_credential(
    body: Annotated[Any, Body(description='{"credential": {...}, "options": {}}: ' + REQUEST)],
    actor: Caller,
    issuer_keys: IssuerKeyring,
) -> IssuedCredential:
    credential, options = request_object(body, "credential")
    return IssuedCredential(verifiable_credential=VcApiIssuer(issuer_keys).issue(actor, credential, options))


@router.post(
    "/credentials/verify",
    summary="Verify a credential: the VC-API's result, with the verdict and every check. For anyone",
    description="The checks are those of `POST /v1/verify`; `options` (e.g. `checks`) change nothing: every "
    "check is made. A credential that does not verify is a result (200) whose `errors` name the failed checks.",
)
def verify_credential_vc_api(
    body: Annotated[Any, Body(description='{"verifiableCredential": {...}, "options": {}}: ' + REQUEST)],
    _: Visitor,
    verifier: Verifier,
) -> VerificationResult:
    credential, _options = request_object(body, "verifiableCredential")
    found = verifier.presented(credential)
    return VerificationResult.model_validate(
        _result(found.verdict, found.verified, found.checks, found.errors, found.warnings)
    )


@router.post(
    "/presentations/verify",
    summary="Verify a presentation: the holder's proof, challenge and domain, and each credential. For anyone",
    description="The holder signs with a did:key (eddsa-jcs-2022, proofPurpose `authentication`); the proof must "
    "carry the `challenge` and `domain` given in `options`. Each credential is verified as by "
    "`/credentials/verify`, its result in `credentialResults`.",
)
def verify_presentation(
    body: Annotated[
        Any, Body(description='{"verifiablePresentation": {...}, "options": {"challenge", "domain"}}: ' + REQUEST)
    ],
    _: Visitor,
    verifier: Verifier,
) -> PresentationVerificationResult:
    presentation, options = request_object(body, "verifiablePresentation")
    asked = {name: options.get(name) for name in ("challenge", "domain")}
    for name, value in asked.items():
        if value is not None and not isinstance(value, str):
            raise VcApiRequestInvalid(f"options.{name} must be a string")
    found = PresentationVerifier(verifier).verify(presentation, challenge=asked["challenge"], domain=asked["domain"])
    credentials = [_result(c.verdict, c.verified, c.checks, c.errors, c.warnings) for c in found.credentials]
    return PresentationVerificationResult.model_validate(
        _result(found.verdict, found.verified, found.checks, found.errors, found.warnings)
        | {"holder": found.holder, "credentialResults": credentials}
    )
