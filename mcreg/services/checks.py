"""Named checks, how each is recorded, the verdict they force, and whether a signing key was trusted when it signed.

A verification is a list of checks made in order (``Checks``), each passed,
warning (it holds, or failed only in a way that does not invalidate the
credential: QA lapsed after the issue date, the key rotated since), failed
(with the W3C error name where a specification names one) or skipped because
what it needs failed or is not there yet. A failure forces ``not_valid``, a
warning ``valid_with_warnings`` (docs/decisions.md, "Verdicts in three
levels"); ``Checks.errors`` and ``Checks.warnings`` give them as W3C problem
details. A ``CheckFinding`` is a check's outcome before it is recorded, for
checks whose name depends on where they run (a status list's own proof counts
under its purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from mcreg.registry.aggregates.issuer_keys import IssuerKey, KeyStatus
from mcreg.registry.vocabulary import Verdict


class CheckName(StrEnum):
    DOCUMENT = "document"  # a VC 2.0 document: @context, type, issuer, credentialSubject
    ISSUER = "issuer"  # an issuer this registry hosts and holds
    PROOF = "proof"  # an eddsa-rdfc-2022 or eddsa-jcs-2022 proof by one of the issuer's keys, which verifies
    KEY = "key"  # the key was valid when it signed (not before its valid_from, not retired, not compromised)
    REVOCATION = "revocation"  # the revocation bit on the issuer's list is not set
    SUSPENSION = "suspension"  # the suspension bit on the issuer's list is not set
    VALIDITY_PERIOD = "validity_period"  # validFrom has come and validUntil has not
    REGISTRY_RECORD = "registry_record"  # the registry holds the credential, from this issuer, as active
    QA_AT_ISSUE = "qa_at_issue"  # the QA decision it relied on was in force on the issue date
    QA_NOW = "qa_now"  # ... and is in force now (or on as_of)
    TRANSPARENCY_LOG = "transparency_log"  # the Issued event is in the log (evidence: pending while the log follows)
    # a presentation's own checks (mcreg.services.presentations)
    PRESENTATION = "presentation"  # a VC 2.0 VerifiablePresentation
    HOLDER_PROOF = "holder_proof"  # an authentication proof by a did:key holder, which verifies
    CHALLENGE = "challenge"  # the proof carries the challenge the verifier asked for
    DOMAIN = "domain"  # ... and its domain
    CREDENTIALS = "credentials"  # every credential it carries verifies


TITLES = {
    CheckName.DOCUMENT: "Not a Verifiable Credential 2.0 document",
    CheckName.ISSUER: "Issuer unknown to this registry",
    CheckName.PROOF: "Proof does not verify",
    CheckName.KEY: "Signing key",
    CheckName.REVOCATION: "Revocation status",
    CheckName.SUSPENSION: "Suspension status",
    CheckName.VALIDITY_PERIOD: "Outside the validity period",
    CheckName.REGISTRY_RECORD: "Registry record",
    CheckName.QA_AT_ISSUE: "Not quality-assured on the issue date",
    CheckName.QA_NOW: "Quality assurance no longer in force",
    CheckName.TRANSPARENCY_LOG: "Transparency log",
    CheckName.PRESENTATION: "Not a Verifiable Presentation 2.0 document",
    CheckName.HOLDER_PROOF: "The holder's proof does not verify",
    CheckName.CHALLENGE: "Challenge",
    CheckName.DOMAIN: "Domain",
    CheckName.CREDENTIALS: "A credential presented is not valid",
}
"""A problem's title when no W3C error name titles it."""

SPECIFIED_BY = {
    "https://www.w3.org/TR/vc-data-model#": ("MALFORMED_VALUE_ERROR", "RANGE_ERROR"),
    "https://w3id.org/security#": (
        "MALFORMED_PROOF_ERROR",
        "MISMATCHED_PROOF_PURPOSE_ERROR",
        "PROOF_VERIFICATION_ERROR",
        "INVALID_VERIFICATION_METHOD",
        "INVALID_CHALLENGE_ERROR",
        "INVALID_DOMAIN_ERROR",
    ),
    "https://www.w3.org/ns/credentials/status-list#": (
        "STATUS_RETRIEVAL_ERROR",
        "STATUS_VERIFICATION_ERROR",
        "STATUS_LIST_LENGTH_ERROR",
    ),
}
"""Where each W3C error name is defined: VC Data Model 2.0, Data Integrity 1.0, Bitstring Status List 1.0."""
REGISTRY_PROBLEM = "urn:mcreg:verification:"
"""The ``type`` of a problem no W3C error name covers: this prefix and the check's name."""

CheckOutcome = Literal["passed", "warning", "failed", "skipped"]
FORCES: dict[CheckOutcome, Verdict] = {
    "passed": Verdict.VALID,
    "warning": Verdict.VALID_WITH_WARNINGS,
    "failed": Verdict.NOT_VALID,
    "skipped": Verdict.VALID,  # only a failure elsewhere, or evidence still on its way, skips a check
}
_SEVERITY = list(Verdict)


@dataclass(frozen=True)
class Problem:
    """A W3C problem detail (VC Data Model 2.0, "Verification"): an error or a warning, and the check behind it.

    ``code`` is the W3C error name where a specification names one."""

    type: str
    title: str
    detail: str
    check: CheckName
    code: str | None


@dataclass(frozen=True)
class CheckMade:
    """One check and its outcome; ``code`` is the W3C error name of a failure, where a specification names one."""

    check: CheckName
    outcome: CheckOutcome
    detail: str
    code: str | None = None

    @property
    def forces(self) -> Verdict:
        """The verdict this outcome forces at best: a failure ``not_valid``, a warning ``valid_with_warnings``."""
        return FORCES[self.outcome]

    @property
    def problem(self) -> Problem:
        prefix = next((p for p, codes in SPECIFIED_BY.items() if self.code in codes), None)
        if prefix is None or self.code is None:
            return Problem(REGISTRY_PROBLEM + self.check, TITLES[self.check], self.detail, self.check, self.code)
        title = self.code.replace("_", " ").capitalize()
        return Problem(prefix + self.code, title, self.detail, self.check, self.code)


@dataclass
class Checks:
    """Checks as they are made, in order."""

    made: list[CheckMade] = field(default_factory=list)

    def passed(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckMade(check, "passed", detail))

    def warned(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckMade(check, "warning", detail))

    def failed(self, check: CheckName, detail: str, code: str | None = None) -> None:
        self.made.append(CheckMade(check, "failed", detail, code))

    def skipped(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckMade(check, "skipped", detail))

    @property
    def verdict(self) -> Verdict:
        """The worst verdict any check forces."""
        return max((c.forces for c in self.made), key=_SEVERITY.index, default=Verdict.VALID)

    @property
    def verified(self) -> bool:
        """W3C's ``verified``: no check failed (warnings leave a credential valid)."""
        return self.verdict != Verdict.NOT_VALID

    @property
    def failures(self) -> list[CheckName]:
        return [c.check for c in self.made if c.outcome == "failed"]

    @property
    def errors(self) -> list[Problem]:
        return [c.problem for c in self.made if c.outcome == "failed"]

    @property
    def warnings(self) -> list[Problem]:
        return [c.problem for c in self.made if c.outcome == "warning"]


@dataclass(frozen=True)
class CheckFinding:
    """The outcome of one check before it is recorded: ok (None: it could not be made), why, the W3C error name;
    ``warning``: it holds, with something the verifier should weigh."""

    ok: bool | None
    detail: str
    code: str | None = None
    warning: bool = False

    def record(self, checks: Checks, check: CheckName) -> None:
        if self.ok is None:
            checks.skipped(check, self.detail)
        elif self.ok and self.warning:
            checks.warned(check, self.detail)
        elif self.ok:
            checks.passed(check, self.detail)
        else:
            checks.failed(check, self.detail, self.code)


NO_PROOF = CheckFinding(None, "no proof this registry checks")


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "never"


def key_finding(
    key: IssuerKey, created: datetime, now: datetime, recorded_before: Callable[[datetime], bool | None]
) -> CheckFinding:
    """Was ``key`` trusted for a proof made at ``created``? A key retired (rotated) or reported compromised since
    leaves the proof valid, with a warning."""
    status = key.status_at(created)
    when = f"the proof was made {created.isoformat()}"
    invalid = "INVALID_VERIFICATION_METHOD"
    if status == KeyStatus.NOT_YET_VALID:
        return CheckFinding(False, f"{when}, before the key became valid ({key.valid_from.isoformat()})", invalid)
    if status == KeyStatus.RETIRED:
        return CheckFinding(False, f"{when}, after the key retired ({_iso(key.retired_on)})", invalid)
    if status == KeyStatus.COMPROMISED:
        return CheckFinding(False, f"{when}, after the key was compromised ({_iso(key.compromised_since)})", invalid)
    if key.compromised_since is None:
        if key.status_at(now) == KeyStatus.RETIRED:
            detail = f"{when}, while the key was valid; it has since been rotated ({_iso(key.retired_on)})"
            return CheckFinding(True, f"{detail}: an export made now is signed with its successor", warning=True)
        return CheckFinding(True, f"{when}, while the key was valid")
    since = key.compromised_since.isoformat()
    if recorded_before(key.compromised_since):
        return CheckFinding(
            True,
            f"{when}, before the key was compromised ({since}); the registry recorded it before too",
            warning=True,
        )
    return CheckFinding(
        False, f"the key is compromised since {since}, and the registry did not record it before", invalid
    )
