"""Receipts: what a command with an idempotency key answered the first time."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as


class Receipt(Aggregate):
    """Saved with the command's own events, so a key is used once or not at all."""

    @staticmethod
    def create_id(org: UUID, key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"mcreg:receipt:{org}:{key}")

    @event("Given")
    def __init__(self, stamp: Stamp, org: UUID, key: str, command: str, fingerprint: str, result: object) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.result = result


stored_as("registry.receipt", Receipt)
