"""A projection names the events it needs once, by handling them: its topics follow from its handlers."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.read_models import READ_MODELS
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential


class Issuance(Projection[list[int]]):
    name = "issuance"
    view_class = View

    def changes(self) -> list[int]:
        return []

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: list[int]) -> None:
        """Other events change nothing."""

    @process_event.register(event_class(Credential, "Issued"))
    @process_event.register(event_class(Credential, "Revoked"))
    def _(self, event: Any, position: int, changes: list[int]) -> None:
        changes.append(position)


def test_a_projection_needs_the_events_it_handles():
    assert set(Issuance.topics) == {
        "registry.credential:Credential.Issued",
        "registry.credential:Credential.Revoked",
    }


def test_a_read_model_of_every_event_handles_them_alike():
    assert [p.name for p in READ_MODELS if not p.topics] == ["audit_timeline"]


def test_an_event_an_aggregate_does_not_have_is_refused_at_once():
    assert event_class(Agency, "Registered").__qualname__ == "Agency.Registered"
    with pytest.raises(TypeError, match="Agency has no event Issued"):
        event_class(Agency, "Issued")
