"""Keyed bulk issuance: each row under the provider's own key, so the same rows issue once however often sent."""

from __future__ import annotations

from datetime import date

import pytest

from mcreg.registry.aggregates.row_keys import RowKeyClaim
from mcreg.registry.application import IssueRow, Registry, RowStatus
from mcreg.registry.errors import Forbidden
from tests.world import OPERATOR, World, learner


def rows(world: World, n: int) -> list[IssueRow]:
    return [IssueRow(world.microcredential_id, learner(f"Learner {i}"), date(2024, 3, 1)) for i in range(n)]


def test_a_row_key_issues_once_and_then_names_its_credential(registry: Registry) -> None:
    world = World(registry)
    first = registry.issue_keyed_credentials(world.provider, rows(world, 2), ["k1", "k2"])
    assert [o.status for o in first] == [RowStatus.ISSUED, RowStatus.ISSUED]
    again = registry.issue_keyed_credentials(world.provider, rows(world, 3), ["k1", "k2", "k3"])
    assert [(o.status, o.credential_id) for o in again[:2]] == [(RowStatus.DUPLICATE, o.credential_id) for o in first]
    assert again[2].status == RowStatus.ISSUED


def test_keys_are_the_providers_own_and_stored_only_as_a_keyed_hash(registry: Registry) -> None:
    world = World(registry)
    other = World(registry)
    (mine,) = registry.issue_keyed_credentials(world.provider, rows(world, 1), ["s1234567"])
    (theirs,) = registry.issue_keyed_credentials(other.provider, rows(other, 1), ["s1234567"])
    assert (mine.status, theirs.status) == (RowStatus.ISSUED, RowStatus.ISSUED)
    claims = [e for e in registry.recorder.select_notifications(1, 10_000) if "row_keys" in e.topic]
    assert len(claims) == 2 and all(b"s1234567" not in e.state for e in claims)
    assert isinstance(registry.get(RowKeyClaim, claims[0].originator_id), RowKeyClaim)


def test_one_refused_row_writes_nothing_unless_partial(registry: Registry) -> None:
    world = World(registry)
    batch = rows(world, 3)
    batch[1] = IssueRow(world.microcredential_id, learner(""), date(2024, 3, 1))
    head = registry.recorder.max_notification_id()
    outcomes = registry.issue_keyed_credentials(world.provider, batch, ["a", "b", "c"])
    assert [o.status for o in outcomes] == [RowStatus.VALID, RowStatus.REFUSED, RowStatus.VALID]
    assert (outcomes[1].field, outcomes[1].problem) == ("learner.name", "invalid-input")
    assert registry.recorder.max_notification_id() == head
    partial = registry.issue_keyed_credentials(world.provider, batch, ["a", "b", "c"], partial=True)
    assert [o.status for o in partial] == [RowStatus.ISSUED, RowStatus.REFUSED, RowStatus.ISSUED]


def test_a_dry_run_writes_nothing_and_a_repeated_key_is_refused(registry: Registry) -> None:
    world = World(registry)
    head = registry.recorder.max_notification_id()
    outcomes = registry.check_keyed_credentials(world.provider, rows(world, 2), ["same", "same"])
    assert [o.status for o in outcomes] == [RowStatus.VALID, RowStatus.REFUSED]
    assert outcomes[1].field == "row_key"
    assert registry.recorder.max_notification_id() == head


def test_only_a_provider_issues_and_another_providers_micro_credential_refuses_its_row(registry: Registry) -> None:
    world = World(registry)
    other = World(registry)
    with pytest.raises(Forbidden):
        registry.issue_keyed_credentials(OPERATOR, rows(world, 1), ["k"])
    outcomes = registry.issue_keyed_credentials(
        world.provider, rows(other, 1) + rows(world, 1), ["x", "y"], partial=True
    )
    assert [(o.status, o.problem) for o in outcomes] == [(RowStatus.REFUSED, "forbidden"), (RowStatus.ISSUED, None)]
