"""Verifying a VC 2.0 presentation: its shape, the holder's proof, the challenge and domain, each credential it carries.

``PresentationVerifier.verify`` makes the presentation's own checks in order:
``presentation`` (a VC 2.0 ``VerifiablePresentation`` whose contexts need no
fetch), ``holder_proof`` (a single ``DataIntegrityProof`` with proofPurpose
``authentication`` by a ``did:key``, resolved offline, which is the holder if
the presentation names one), ``challenge`` and ``domain`` (the proof carries
those the verifier asked for; unauthenticated, so skipped, when the proof
fails) and ``credentials`` (each credential verified as ``/v1/verify`` would,
failing if one is not valid, warning if one warns). Bad input is a verdict
naming the failed check, with the W3C error name where Data Integrity names one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcreg.registry.trust.data_integrity import (
    PROOF_TYPE,
    DataIntegrityError,
    MultikeyError,
    public_key_from_did_key,
    verify_proof,
)
from mcreg.registry.vocabulary import Verdict
from mcreg.services.checks import CheckMade, CheckName, Checks, Problem
from mcreg.services.credential_shape import presentation_problems
from mcreg.services.verification import CredentialVerifier, PresentedVerdict

HOLDER_PURPOSE = "authentication"


@dataclass(frozen=True)
class PresentationVerdict:
    """The presentation's verdict, W3C's ``verified`` with its errors and warnings, its own checks and every
    credential's verification, in the order it carries them."""

    verdict: Verdict
    verified: bool
    errors: list[Problem]
    warnings: list[Problem]
    checks: list[CheckMade]
    holder: str | None
    credentials: list[PresentedVerdict]


def _named(value: object) -> str | None:
    named = value.get("id") if isinstance(value, Mapping) else value
    return named if isinstance(named, str) else None


def _carries(proof: Mapping[str, Any], member: str, asked: str) -> bool:
    """Does the proof's ``challenge`` or ``domain`` (a string, or for a domain a list of them) hold what was asked?"""
    value = proof.get(member)
    return value == asked or (member == "domain" and isinstance(value, list) and asked in value)


@dataclass(frozen=True)
class PresentationVerifier:
    """Verifies presentations carrying credentials of the registry's issuers."""

    credentials: CredentialVerifier

    def holder_proof(self, presentation: Mapping[str, Any], checks: Checks) -> Mapping[str, Any] | None:
        """Record the ``holder_proof`` check; the proof, if it verifies."""
        proof = presentation.get("proof")
        malformed = "MALFORMED_PROOF_ERROR"
        if proof is None:
            checks.failed(CheckName.HOLDER_PROOF, "the presentation has no proof: its holder must sign it", malformed)
            return None
        if isinstance(proof, list):
            detail = f"a set of {len(proof)} proofs: the registry verifies a presentation signed by one proof"
            checks.failed(CheckName.HOLDER_PROOF, detail, malformed)
            return None
        if not isinstance(proof, Mapping) or proof.get("type") != PROOF_TYPE:
            checks.failed(CheckName.HOLDER_PROOF, f"the proof must be one {PROOF_TYPE} object", malformed)
            return None
        if proof.get("proofPurpose") != HOLDER_PURPOSE:
            detail = f"the proof's purpose is {proof.get('proofPurpose')!r}, a holder proves {HOLDER_PURPOSE}"
            checks.failed(CheckName.HOLDER_PROOF, detail, "MISMATCHED_PROOF_PURPOSE_ERROR")
            return None
        method = proof.get("verificationMethod")
        try:
            key = public_key_from_did_key(method) if isinstance(method, str) else None
        except MultikeyError as error:
            key, why = None, str(error)
        else:
            why = "the verificationMethod must be a URL"
        if key is None:
            detail = f"{why}: a holder is a did:key, resolved without a network"
            checks.failed(CheckName.HOLDER_PROOF, detail, "INVALID_VERIFICATION_METHOD")
            return None
        holder = _named(presentation.get("holder"))
        if holder is not None and holder != str(method).partition("#")[0]:
            detail = f"the proof is by {method}, not by the holder {holder}"
            checks.failed(CheckName.HOLDER_PROOF, detail, "INVALID_VERIFICATION_METHOD")
            return None
        try:
            verify_proof(presentation, key, expected_purpose=HOLDER_PURPOSE)
        except (DataIntegrityError, ValueError, TypeError) as error:  # malformed input is a verdict, never a 500
            checks.failed(CheckName.HOLDER_PROOF, str(error), "PROOF_VERIFICATION_ERROR")
            return None
        checks.passed(CheckName.HOLDER_PROOF, f"signed by {method}")
        return proof

    def verify(
        self, presentation: Mapping[str, Any], *, challenge: str | None = None, domain: str | None = None
    ) -> PresentationVerdict:
        """Every check of a presentation, then of each credential it carries."""
        checks = Checks()
        problems = presentation_problems(presentation)
        if problems:
            checks.failed(CheckName.PRESENTATION, "; ".join(problems), "MALFORMED_VALUE_ERROR")
        else:
            checks.passed(CheckName.PRESENTATION, "a Verifiable Presentation 2.0 document")
        proof = self.holder_proof(presentation, checks)
        for check, member, asked, code in (
            (CheckName.CHALLENGE, "challenge", challenge, "INVALID_CHALLENGE_ERROR"),
            (CheckName.DOMAIN, "domain", domain, "INVALID_DOMAIN_ERROR"),
        ):
            if asked is None:
                checks.skipped(check, f"the verifier asked for no {member}")
            elif proof is None:
                checks.skipped(check, "the holder's proof did not verify: its values prove nothing")
            elif _carries(proof, member, asked):
                checks.passed(check, f"the proof carries the {member} asked for")
            else:
                checks.failed(check, f"the proof's {member} is {proof.get(member)!r}, not {asked!r}", code)
        carried = presentation.get("verifiableCredential", [])
        carried = carried if isinstance(carried, list) else [carried]
        results = [self.credentials.presented(c) for c in carried if isinstance(c, Mapping)]
        failed = [f"{i} ({', '.join(r.failed)})" for i, r in enumerate(results, 1) if not r.verified]
        warned = [str(i) for i, r in enumerate(results, 1) if r.verdict == Verdict.VALID_WITH_WARNINGS]
        if not results:
            checks.skipped(CheckName.CREDENTIALS, "the presentation carries no credential")
        elif failed:
            checks.failed(CheckName.CREDENTIALS, f"not valid, of {len(results)}: {'; '.join(failed)}")
        elif warned:
            checks.warned(CheckName.CREDENTIALS, f"valid with warnings, of {len(results)}: {', '.join(warned)}")
        else:
            checks.passed(CheckName.CREDENTIALS, f"all {len(results)} valid")
        return PresentationVerdict(
            verdict=checks.verdict,
            verified=checks.verified,
            errors=checks.errors,
            warnings=checks.warnings,
            checks=checks.made,
            holder=_named(presentation.get("holder")),
            credentials=results,
        )
