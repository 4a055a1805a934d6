"""A credential is valid on a day when it is active and unexpired then, and quality-assured on its issue date and
on that day: the one rule behind GET /v1/credentials/{id}/verify and the checks of POST /v1/verify."""

from __future__ import annotations

from datetime import date

import pytest

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import Registry
from mcreg.registry.vocabulary import Standing
from tests.world import World

IN_FORCE = Standing.IN_FORCE


@pytest.fixture
def world() -> World:
    return World(Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"}))


def test_an_active_credential_under_qa_is_valid_from_its_issue_date_until_it_expires(world: World) -> None:
    credential_id = world.issue(date(2024, 3, 1), valid_until=date(2026, 3, 1))
    credential = world.registry.get(Credential, credential_id)

    assert not credential.valid_on(date(2024, 2, 29), IN_FORCE, IN_FORCE)  # not issued yet
    assert credential.valid_on(date(2024, 3, 1), IN_FORCE, IN_FORCE)
    assert credential.valid_on(date(2026, 2, 28), IN_FORCE, IN_FORCE)
    assert credential.expired_on(date(2026, 3, 1))
    assert not credential.valid_on(date(2026, 3, 1), IN_FORCE, IN_FORCE)


def test_a_suspended_or_revoked_credential_is_not_valid_while_it_is_so(world: World) -> None:
    credential_id = world.issue(date(2024, 3, 1))
    world.registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 4, 1))
    world.registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 5, 1))
    world.registry.revoke_credential(world.provider, credential_id, reason="fraud", effective=date(2024, 6, 1))
    credential = world.registry.get(Credential, credential_id)

    assert [credential.valid_on(day, IN_FORCE, IN_FORCE) for day in (date(2024, 3, 31), date(2024, 4, 1))] == [
        True,
        False,
    ]
    assert credential.valid_on(date(2024, 5, 1), IN_FORCE, IN_FORCE)
    assert not credential.active_on(date(2024, 6, 1))
    assert not credential.valid_on(date(2030, 1, 1), IN_FORCE, IN_FORCE)


@pytest.mark.parametrize("lapsed", [s for s in Standing if s != Standing.IN_FORCE])
def test_a_credential_is_valid_only_when_its_qa_stood_both_on_the_issue_date_and_on_the_day(
    world: World, lapsed: Standing
) -> None:
    credential = world.registry.get(Credential, world.issue(date(2024, 3, 1)))
    day = date(2025, 1, 1)

    assert credential.valid_on(day, IN_FORCE, IN_FORCE)
    assert not credential.valid_on(day, lapsed, IN_FORCE)
    assert not credential.valid_on(day, IN_FORCE, lapsed)
