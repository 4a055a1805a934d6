"""Named checks, how each is recorded, and whether a signing key was trusted when it signed.

A verification is a list of checks made in order (``Checks``), each passed,
failed (with the W3C error name where a specification names one) or skipped
because what it needs failed or is not there yet. A ``CheckFinding`` is a
check's outcome before it is recorded, for checks whose name depends on where
they run (a status list's own proof counts under its purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from mcreg.registry.aggregates.issuer_keys import IssuerKey, KeyStatus


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


INFORMATIONAL = {CheckName.TRANSPARENCY_LOG}
"""Checks that are evidence rather than conditions: they do not decide ``valid``."""

CheckOutcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class CheckMade:
    """One check and its outcome; ``code`` is the W3C error name of a failure, where a specification names one."""

    check: CheckName
    outcome: CheckOutcome
    detail: str
    code: str | None = None


@dataclass
class Checks:
    """Checks as they are made, in order."""

    made: list[CheckMade] = field(default_factory=list)

    def passed(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckMade(check, "passed", detail))

    def failed(self, check: CheckName, detail: str, code: str | None = None) -> None:
        self.made.append(CheckMade(check, "failed", detail, code))

    def skipped(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckMade(check, "skipped", detail))

    @property
    def valid(self) -> bool:
        return all(c.outcome == "passed" for c in self.made if c.check not in INFORMATIONAL)

    @property
    def failures(self) -> list[CheckName]:
        return [c.check for c in self.made if c.outcome == "failed"]


@dataclass(frozen=True)
class CheckFinding:
    """The outcome of one check before it is recorded: ok (None: it could not be made), why, the W3C error name."""

    ok: bool | None
    detail: str
    code: str | None = None

    def record(self, checks: Checks, check: CheckName) -> None:
        if self.ok is None:
            checks.skipped(check, self.detail)
        elif self.ok:
            checks.passed(check, self.detail)
        else:
            checks.failed(check, self.detail, self.code)


NO_PROOF = CheckFinding(None, "no proof this registry checks")


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "never"


def key_finding(key: IssuerKey, created: datetime, recorded_before: Callable[[datetime], bool | None]) -> CheckFinding:
    """Was ``key`` trusted for a proof made at ``created``?"""
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
        return CheckFinding(True, f"{when}, while the key was valid")
    since = key.compromised_since.isoformat()
    if recorded_before(key.compromised_since):
        return CheckFinding(
            True, f"{when}, before the key was compromised ({since}); the registry recorded it before too"
        )
    return CheckFinding(
        False, f"the key is compromised since {since}, and the registry did not record it before", invalid
    )
