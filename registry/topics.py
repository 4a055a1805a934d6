"""Stored names of the registry's aggregates and events, fixed whatever module defines them.

The library names a stored event by its class's module and qualified name, and that name sits in
every stored record, in every transparency-log leaf and in the public event feed. The code is
installed under the ``mcreg`` namespace and may move again, but a stored fact must never be renamed:
each aggregate module declares the name its classes were first stored under
(``registry.credential:Credential.Issued``), and both directions use it: new events are written
with it, and stored ones resolve through it.
"""

from __future__ import annotations

from eventsourcing import utils
from eventsourcing.domain import DomainEvent


def stored_as(module: str, *aggregates: type) -> None:
    """Store ``aggregates`` and their event classes under ``module`` instead of their Python module."""
    for aggregate in aggregates:
        events = [v for v in vars(aggregate).values() if isinstance(v, type) and issubclass(v, DomainEvent)]
        for cls in (aggregate, *events):
            topic = f"{module}:{cls.__qualname__}"
            utils.register_topic(topic, cls)
            # The library's own cache of class → topic, which ``get_topic`` answers from first.
            utils._type_cache[cls] = topic
