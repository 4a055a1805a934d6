"""A read model's log of operator actions: events it was told to step over, or to try again.

One per read model, named by the read model (``uuid5`` of its name). The events are the audit trail of what an
operator did about an event the read model could not apply (decision 55); the read models ignore them, and the
transparency log holds them as it holds every event. Only the error's class is recorded, never its message,
which may quote what the event holds (a learner's name, say) into the immutable log.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as


class ReadModelLog(Aggregate):
    """What operators did about the events one read model could not apply."""

    @staticmethod
    def create_id(read_model: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"mcreg:read-model:{read_model}")

    @event("Opened")
    def __init__(self, stamp: Stamp, read_model: str) -> None:
        self.read_model = read_model
        self.skipped: list[int] = []

    @event("EventSkipped")
    def skip(self, stamp: Stamp, position: int, error_class: str) -> None:
        """The read model steps over the event at ``position``, which failed with ``error_class``."""
        self.skipped.append(position)

    @event("EventRetried")
    def retry(self, stamp: Stamp, position: int, error_class: str) -> None:
        """The read model tries the event at ``position`` again (after a fix of the code that failed on it)."""


stored_as("registry.read_model_log", ReadModelLog)
