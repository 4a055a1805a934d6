"""A stored event as the change feed and webhooks show it: as recorded, and an erasure as an erasure notice.

The REST feed (``/v1/events``, and its stream) and every webhook delivery carry the same document, so a
downstream copy reads one shape whichever way it follows the registry. When a learner is forgotten the log
records ``Erasure.LearnerForgotten`` with the learner id only; the document of that event carries an
``erasure`` notice naming the learner, for the copy to erase what it holds about them. Learner data in other
events is sealed as stored, and the key that opened it is gone: no document ever carries erased data.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from mcreg.projections.engine import event_class
from mcreg.registry.aggregates.learners import Erasure
from mcreg.stores.event_store import FeedRecord

ERASURE_TOPIC = get_topic(event_class(Erasure, "LearnerForgotten"))


def event_type(topic: str) -> str:
    """``Credential.Issued`` for ``registry.credential:Credential.Issued``."""
    return topic.split(":", 1)[-1]


def event_document(record: FeedRecord) -> dict[str, Any]:
    """The event's position, aggregate, type and stored state; for an erasure, its notice as well."""
    state = json.loads(record.state)
    document: dict[str, Any] = {
        "position": record.position,
        "aggregate_id": str(record.aggregate_id),
        "aggregate_version": record.version,
        "type": event_type(record.topic),
        "topic": record.topic,
        "state": state,
        "erasure": None,
    }
    if record.topic == ERASURE_TOPIC:
        document["erasure"] = {"learner_id": str(UUID(_plain(state["learner_id"])))}
    return document


def recorded_at(document: dict[str, Any]) -> str | None:
    """When the event was recorded, as stored (ISO 8601), if its state says."""
    value = _plain(document["state"].get("timestamp"))
    return value if isinstance(value, str) else None


def _plain(value: Any) -> Any:
    """A value as the library's JSON transcoder stores it, without its type tag (``{"_type_", "_data_"}``)."""
    if isinstance(value, dict) and "_data_" in value:
        return value["_data_"]
    return value
