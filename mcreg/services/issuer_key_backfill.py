"""Keys for the issuing providers of a registry made before keys came with commands (decision 42).

Such a registry has providers that issued credentials but whose key would have been made by their first
export. ``key_issuing_providers`` finds every provider that ever issued, from the stored ``Issued`` events,
and gives each one without a valid key a key, in one operator command.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor

ISSUED_TOPIC = "registry.credential:Credential.Issued"
"""The stored name of an issuance (``registry/topics.py``)."""


def issuing_providers(registry: Registry, page: int = 10_000) -> list[UUID]:
    """Every provider that ever issued a credential, in the order of their first issuance."""
    found: dict[UUID, None] = {}
    start = 1
    while notifications := registry.recorder.select_notifications(start=start, limit=page, topics=[ISSUED_TOPIC]):
        for notification in notifications:
            issued: Any = registry.mapper.to_domain_event(notification)  # a Credential.Issued: its provider_id
            found.setdefault(issued.provider_id, None)
        start = notifications[-1].id + 1
    return list(found)


def key_issuing_providers(registry: Registry, operator: Actor) -> list[UUID]:
    """A key for every issuing provider that has no valid key now; the providers keyed."""
    return registry.provide_issuer_keys(operator, issuing_providers(registry))
