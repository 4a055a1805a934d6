"""The audit timeline: every stored event, with who recorded it, with which key, when, and for which date."""

from __future__ import annotations

from datetime import date

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.receipt import Receipt
from tests.world import OPERATOR, World


def test_each_event_has_a_row_with_its_actor_and_effective_date(
    services: Services, world: World, read_models: ReadModels
):
    registry = services.registry
    credential_id = world.issue(date(2024, 3, 1), idempotency_key="cohort-2024-03")
    registry.suspend_credential(world.provider, credential_id, reason="appeal", effective=date(2024, 4, 1))
    read_models.catch_up()

    timeline = read_models.audit_timeline
    issued, suspended = timeline.of_aggregate(credential_id)

    assert (issued.aggregate_type, issued.event_type, issued.aggregate_version) == ("Credential", "Issued", 1)
    assert (issued.actor_org, issued.actor_role, issued.actor_key_id) == (
        world.provider_id,
        "provider",
        "test-provider",
    )
    assert issued.effective_on == date(2024, 3, 1)
    assert issued.idempotency_key == "cohort-2024-03"
    assert (suspended.event_type, suspended.effective_on, suspended.idempotency_key) == (
        "Suspended",
        date(2024, 4, 1),
        None,
    )
    assert suspended.recorded_at >= issued.recorded_at

    (receipt,) = timeline.of_aggregate(Receipt.create_id(world.provider_id, "cohort-2024-03"))
    assert (receipt.aggregate_type, receipt.notification_id) == ("Receipt", issued.notification_id + 1)

    (registered,) = timeline.of_aggregate(world.agency_id)
    assert (registered.actor_org, registered.actor_role, registered.effective_on) == (
        OPERATOR.org,
        "operator",
        date(2015, 1, 1),
    )


def test_the_timeline_holds_every_event_of_the_log_in_order(services: Services, world: World, read_models: ReadModels):
    world.issue()
    read_models.catch_up()
    recorder, mapper = services.registry.recorder, services.registry.mapper
    notifications = recorder.select_notifications(start=1, limit=1000)

    rows = read_models.audit_timeline.rows("audit_timeline")

    assert [row["notification_id"] for row in rows] == [n.id for n in notifications]
    for row, notification in zip(rows, notifications, strict=True):
        event = mapper.to_domain_event(notification)
        assert (row["aggregate_id"], row["aggregate_version"]) == (event.originator_id, event.originator_version)
        assert row["recorded_at"] == event.timestamp
        assert f"{row['aggregate_type']}.{row['event_type']}" == notification.topic.rsplit(":", 1)[1]


def test_an_aggregate_history_comes_a_page_at_a_time(services: Services, world: World, read_models: ReadModels):
    credential_id = world.issue()
    for day in (date(2024, 4, 1), date(2024, 5, 1)):
        services.registry.suspend_credential(world.provider, credential_id, reason="check", effective=day)
        services.registry.reinstate_credential(world.provider, credential_id, effective=day)
    read_models.catch_up()
    timeline = read_models.audit_timeline

    first = timeline.of_aggregate(credential_id, limit=3)
    rest = timeline.of_aggregate(credential_id, limit=3, after_version=first[-1].aggregate_version)

    assert [row.event_type for row in first + rest] == [
        "Issued",
        "Suspended",
        "Reinstated",
        "Suspended",
        "Reinstated",
    ]
    assert [row.aggregate_version for row in first + rest] == [1, 2, 3, 4, 5]
