"""The registry record's verdict on a day: valid when the credential is active and unexpired then and was
quality-assured on its issue date; valid with warnings when that QA no longer stands on the day; not valid
otherwise. The rule behind the standing GraphQL gives, and the record's checks of /verify."""

from __future__ import annotations

from datetime import date

import pytest

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import Registry
from mcreg.registry.vocabulary import Standing, Verdict
from tests.world import World

IN_FORCE = Standing.IN_FORCE
VALID, WARNS, NOT_VALID = Verdict.VALID, Verdict.VALID_WITH_WARNINGS, Verdict.NOT_VALID


@pytest.fixture
def world() -> World:
    return World(Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"}))


def test_an_active_credential_under_qa_is_valid_from_its_issue_date_until_it_expires(world: World) -> None:
    credential_id = world.issue(date(2024, 3, 1), valid_until=date(2026, 3, 1))
    credential = world.registry.get(Credential, credential_id)

    assert credential.verdict_on(date(2024, 2, 29), IN_FORCE, IN_FORCE) == NOT_VALID  # not issued yet
    assert credential.verdict_on(date(2024, 3, 1), IN_FORCE, IN_FORCE) == VALID
    assert credential.verdict_on(date(2026, 2, 28), IN_FORCE, IN_FORCE) == VALID
    assert credential.expired_on(date(2026, 3, 1))
    assert credential.verdict_on(date(2026, 3, 1), IN_FORCE, IN_FORCE) == NOT_VALID


def test_a_suspended_or_revoked_credential_is_not_valid_while_it_is_so(world: World) -> None:
    credential_id = world.issue(date(2024, 3, 1))
    world.registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 4, 1))
    world.registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 5, 1))
    world.registry.revoke_credential(world.provider, credential_id, reason="fraud", effective=date(2024, 6, 1))
    credential = world.registry.get(Credential, credential_id)

    assert [credential.verdict_on(day, IN_FORCE, IN_FORCE) for day in (date(2024, 3, 31), date(2024, 4, 1))] == [
        VALID,
        NOT_VALID,
    ]
    assert credential.verdict_on(date(2024, 5, 1), IN_FORCE, IN_FORCE) == VALID
    assert not credential.active_on(date(2024, 6, 1))
    assert credential.verdict_on(date(2030, 1, 1), IN_FORCE, IN_FORCE) == NOT_VALID


@pytest.mark.parametrize("lapsed", [s for s in Standing if s != Standing.IN_FORCE])
def test_qa_that_did_not_stand_on_the_issue_date_fails_it_and_qa_lapsed_since_warns(
    world: World, lapsed: Standing
) -> None:
    credential = world.registry.get(Credential, world.issue(date(2024, 3, 1)))
    day = date(2025, 1, 1)

    assert credential.verdict_on(day, IN_FORCE, IN_FORCE) == VALID
    assert credential.verdict_on(day, lapsed, IN_FORCE) == NOT_VALID
    assert credential.verdict_on(day, lapsed, lapsed) == NOT_VALID
    assert credential.verdict_on(day, IN_FORCE, lapsed) == WARNS
