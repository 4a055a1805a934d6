"""Finding a provider by what the outside world calls it, with no scan and no read model.

The event store is read by aggregate id only. So each outside identifier of a
provider is an aggregate of its own whose id is derived from the identifier:
looking a provider up is one read, and two providers can never hold the same
ETER id, SCHAC code or Erasmus code (the second claim collides on the event
store's unique id and version). An agency's own identifier for an institution,
as DEQAR keeps them, is a claim scoped to that agency.

Names are not unique, so a name (in one country, case and spacing ignored)
lists every provider that was ever registered or renamed under it.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as


class Scheme(StrEnum):
    ETER = "eter"
    SCHAC = "schac"
    ERASMUS = "erasmus"
    DEQAR = "deqar"  # a DEQAR id recorded after registration (one given at registration derives the provider's id)
    AGENCY_LOCAL = "agency_local"  # a QA agency's own identifier for an institution


class ProviderIdentifier(Aggregate):
    """The claim that an identifier names one provider."""

    @staticmethod
    def create_id(scheme: Scheme, value: str, issuer: UUID | None = None) -> UUID:
        """``issuer`` scopes identifiers that are unique only within one organisation (agency-local ones)."""
        return uuid5(NAMESPACE_URL, f"mcreg:provider-identifier:{scheme.value}:{issuer or ''}:{value.strip().upper()}")

    @event("Claimed")
    def __init__(self, stamp: Stamp, scheme: Scheme, value: str, issuer: UUID | None, provider_id: UUID) -> None:
        self.scheme = Scheme(scheme)
        self.value = value
        self.issuer = issuer
        self.provider_id = provider_id


def normalised(name: str) -> str:
    """A name as compared: Unicode-normalised, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class ProviderName(Aggregate):
    """Every provider registered or renamed under one name in one country, in the order they took it."""

    @staticmethod
    def create_id(country: str, name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"mcreg:provider-name:{country.upper()}:{normalised(name)}")

    @event("Listed")
    def __init__(self, stamp: Stamp, country: str, name: str) -> None:
        self.country = country
        self.name = normalised(name)
        self.provider_ids: list[UUID] = []

    @event("ProviderAdded")
    def add(self, stamp: Stamp, provider_id: UUID) -> None:
        self.provider_ids.append(provider_id)


stored_as("registry.identifiers", ProviderIdentifier, ProviderName)
