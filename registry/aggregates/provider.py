"""Providers: the institutions that offer micro-credentials and recognise others'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.errors import StateConflict
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import ProviderType


@dataclass(frozen=True)
class ProviderIdentifiers:
    deqar_id: str | None = None  # DEQARINST0001
    eter_id: str | None = None
    schac: str | None = None
    erasmus_code: str | None = None
    legal_identifier: str | None = None  # the number of a national business register of the provider's country


class Provider(Aggregate):
    """A provider, with the accreditations granted to it (so issuance can find them)."""

    @staticmethod
    def create_id(identifiers: ProviderIdentifiers) -> UUID:
        """Institutions known to DEQAR get the same id in every registry."""
        if identifiers.deqar_id:
            return uuid5(NAMESPACE_URL, f"mcreg:provider:{identifiers.deqar_id}")
        return uuid4()

    class Registered(Aggregate.Created):
        """Version 2 names the provider in several languages; version 1 had one English name."""

        class_version = 2
        stamp: Stamp
        names: dict[str, str]
        country: str
        provider_type: ProviderType
        identifiers: ProviderIdentifiers

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["names"] = {"en": state.pop("name")}

    @event(Registered)
    def __init__(
        self,
        stamp: Stamp,
        names: dict[str, str],
        country: str,
        provider_type: ProviderType,
        identifiers: ProviderIdentifiers,
    ) -> None:
        self.names = dict(names)
        self.country = country
        self.provider_type = ProviderType(provider_type)
        self.identifiers = identifiers
        self.accreditation_ids: list[UUID] = []
        self.closed_on: date | None = None

    def rename(self, stamp: Stamp, names: dict[str, str]) -> None:
        self.check_open()
        self._rename(stamp, names)

    @event("Renamed")
    def _rename(self, stamp: Stamp, names: dict[str, str]) -> None:
        self.names = dict(names)

    def close(self, stamp: Stamp) -> None:
        self.check_open()
        self._close(stamp)

    @event("Closed")
    def _close(self, stamp: Stamp) -> None:
        self.closed_on = stamp.effective

    def add_identifiers(self, stamp: Stamp, identifiers: ProviderIdentifiers) -> None:
        """Record identifiers from other registers that the provider did not have (those it has stay)."""
        self.check_open()
        self._add_identifiers(stamp, identifiers)

    @event("IdentifiersAdded")
    def _add_identifiers(self, stamp: Stamp, identifiers: ProviderIdentifiers) -> None:
        added = {k: v for k, v in identifiers.__dict__.items() if v is not None}
        self.identifiers = ProviderIdentifiers(**(self.identifiers.__dict__ | added))

    @event("AccreditationLinked")
    def link_accreditation(self, stamp: Stamp, accreditation_id: UUID) -> None:
        self.accreditation_ids.append(accreditation_id)

    def check_open(self) -> None:
        if self.closed_on is not None:
            raise StateConflict("the provider is closed")


stored_as("registry.provider", Provider)
