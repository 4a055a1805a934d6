"""Auditors and admissions officers ask what the registry said, on which date, as recorded when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.errors import NotFound
from mcreg.registry.vocabulary import CredentialStatus, Standing
from tests.world import World


def test_status_on_a_business_date_follows_effective_dates(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 5, 1))
    registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 6, 1))
    registry.revoke_credential(world.provider, credential_id, reason="fraud", effective=date(2024, 9, 1))

    def status(day: date) -> CredentialStatus | None:
        return registry.credential_standing(credential_id, as_of=day).status

    assert status(date(2024, 2, 1)) is None  # not yet issued
    assert status(date(2024, 4, 1)) == CredentialStatus.ACTIVE
    assert status(date(2024, 5, 15)) == CredentialStatus.SUSPENDED
    assert status(date(2024, 7, 1)) == CredentialStatus.ACTIVE
    assert status(date(2024, 9, 1)) == CredentialStatus.REVOKED


def test_what_the_registry_said_before_a_withdrawal_was_recorded(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    before_withdrawal = datetime.now(UTC)
    registry.withdraw_accreditation(
        world.agency, world.accreditation_id, reason="fraud found", effective=date(2024, 1, 1)
    )

    then = registry.credential_standing(credential_id, as_of=date(2024, 3, 1), known_at=before_withdrawal)
    now = registry.credential_standing(credential_id, as_of=date(2024, 3, 1))

    assert then.qa_at_issue.standing == Standing.IN_FORCE
    assert now.qa_at_issue.standing == Standing.WITHDRAWN
    # The credential itself is unchanged by the withdrawal; it records what it relied on.
    assert now.credential.qa_basis.id == world.accreditation_id


def test_a_credential_not_yet_recorded_at_a_moment_is_not_found_then(registry):
    world = World(registry)
    moment = datetime.now(UTC) - timedelta(seconds=1)
    credential_id = world.issue(date(2024, 3, 1))
    with pytest.raises(NotFound):
        registry.credential_standing(credential_id, known_at=moment)
    assert registry.known_at(Credential, credential_id, None).id == credential_id
