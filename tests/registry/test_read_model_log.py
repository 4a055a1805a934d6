"""The operator's actions on a read model's poison events, recorded as events of the read model's own log."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mcreg.registry.aggregates.read_model_log import ReadModelLog
from mcreg.registry.errors import Forbidden
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR


def test_skips_and_retries_are_recorded_in_one_log_per_read_model(registry):
    log_id = registry.record_event_skipped(OPERATOR, "dashboard", 14, "ValueError")
    assert registry.record_event_retried(OPERATOR, "dashboard", 20, "KeyError") == log_id
    assert registry.record_event_skipped(OPERATOR, "catalogue", 14, "ValueError") != log_id

    log = registry.get(ReadModelLog, ReadModelLog.create_id("dashboard"))
    assert log.read_model == "dashboard" and log.skipped == [14]
    events = list(registry.events.get(log_id))
    assert [type(e).__name__ for e in events] == ["Opened", "EventSkipped", "EventRetried"]
    assert events[1].error_class == "ValueError" and events[2].position == 20
    assert all(e.stamp.actor == OPERATOR for e in events)
    stored = registry.recorder.select_events(log_id)
    assert [s.topic for s in stored] == [
        "registry.read_model_log:ReadModelLog.Opened",
        "registry.read_model_log:ReadModelLog.EventSkipped",
        "registry.read_model_log:ReadModelLog.EventRetried",
    ]


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.QA_AGENCY, Role.INSTITUTION, Role.NATIONAL_AUTHORITY])
def test_only_the_operator_acts_on_read_models(registry, role):
    actor = Actor(uuid4(), role, country="NL")
    with pytest.raises(Forbidden):
        registry.record_event_skipped(actor, "dashboard", 14, "ValueError")
    with pytest.raises(Forbidden):
        registry.record_event_retried(actor, "dashboard", 14, "ValueError")
