"""The verdict mix of a registry's credentials: how many are valid, valid with warnings and not valid today.

Each credential's verdict is its registry record's (``Credential.verdict_on``), the one
``GET /v1/credentials/{id}/verify`` decides by: active and unexpired, issued under QA in force, and whether that
QA still stands today. ``mcreg demo`` prints the mix after building, so a newcomer sees what the story left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from uuid import UUID

from mcreg.registry.application import Registry
from mcreg.registry.vocabulary import Verdict
from mcreg.services.issuer_key_backfill import ISSUED_TOPIC


@dataclass(frozen=True)
class VerdictMix:
    """Credentials by verdict, among ``verified`` of the ``issued`` credentials (every one, up to the sample size)."""

    valid: int
    valid_with_warnings: int
    not_valid: int
    verified: int
    issued: int


def issued_credentials(registry: Registry, page: int = 10_000) -> list[UUID]:
    """Every credential issued, in the order of issue, from the stored ``Issued`` events."""
    found: list[UUID] = []
    start = 1
    while notifications := registry.recorder.select_notifications(start=start, limit=page, topics=[ISSUED_TOPIC]):
        found.extend(UUID(str(notification.originator_id)) for notification in notifications)
        start = notifications[-1].id + 1
    return found


def verdict_mix(registry: Registry, sample: int = 1000) -> VerdictMix:
    """The verdicts today of every credential, or of ``sample`` of them spread evenly over the order of issue."""
    credentials = issued_credentials(registry)
    step = max(1, -(-len(credentials) // sample))
    verdicts: Counter[Verdict] = Counter()
    for credential_id in credentials[::step]:
        standing = registry.credential_standing(credential_id)
        qa_at_issue, qa_now = standing.qa_at_issue.standing, standing.qa_as_of.standing
        verdicts[standing.credential.verdict_on(standing.as_of, qa_at_issue, qa_now)] += 1
    return VerdictMix(
        valid=verdicts[Verdict.VALID],
        valid_with_warnings=verdicts[Verdict.VALID_WITH_WARNINGS],
        not_valid=verdicts[Verdict.NOT_VALID],
        verified=verdicts.total(),
        issued=len(credentials),
    )
