"""Issuer keys: the Ed25519 keys an issuer signs with, as public facts in the tamper-evident log.

An issuer is a provider (it signs its credentials and status lists) or the
registry itself. Each key is recorded when it is added, with the moment it
becomes valid; adding a key retires the keys in use at that moment (they stay
published, so what they signed keeps verifying); a key reported compromised
is untrusted for every proof made at or after ``compromised_since``. Only
public keys are recorded here: private keys never enter the event store, but
live in an ``IssuerKeyVault`` beside it, which makes each key pair.

Moments are whole seconds in UTC, as a proof's ``created`` is written. A new
key that replaces one in use becomes valid at the next whole second (or later,
when published ahead) and the old key retires at that same second, after every
proof it made so far; while no key is in use (the first key, or after a
compromise) the new key is valid from the current second.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.domain import Aggregate, event

from mcreg.registry.errors import NotFound, StateConflict
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.trust.data_integrity import encode_public_multikey

REGISTRY_ISSUER_ID = uuid5(NAMESPACE_URL, "mcreg:issuer:registry")
"""The registry's own issuer id: its keys are published in ``/.well-known/did.json``."""

MAX_LEAD = timedelta(days=90)
"""How far ahead a key may be published before it becomes valid (so that caches of the DID document hold it)."""


class KeyStatus(StrEnum):
    """What a key was at one moment."""

    VALID = "valid"  # the issuer signed with it then
    NOT_YET_VALID = "not_yet_valid"  # published ahead, not valid yet
    RETIRED = "retired"  # replaced by a newer key: proofs made before its retirement stay valid
    COMPROMISED = "compromised"  # reported compromised since a moment at or before this one


def whole_second(moment: datetime, *, up: bool = False) -> datetime:
    """``moment`` in UTC to the second: truncated, or with ``up`` rounded up to the next whole second."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    truncated = moment.replace(microsecond=0)
    return truncated + timedelta(seconds=1) if up and truncated != moment else truncated


@dataclass(frozen=True)
class IssuerKey:
    """One key of an issuer and its life: valid from, retired on, compromised since."""

    key_id: str  # the fragment of its verification method: did:web:…#key-1
    public_key_multibase: str  # the Multikey, z6Mk…
    valid_from: datetime
    retired_on: datetime | None = None
    compromised_since: datetime | None = None

    def status_at(self, moment: datetime) -> KeyStatus:
        if self.compromised_since is not None and moment >= self.compromised_since:
            return KeyStatus.COMPROMISED
        if moment < self.valid_from:
            return KeyStatus.NOT_YET_VALID
        if self.retired_on is not None and moment >= self.retired_on:
            return KeyStatus.RETIRED
        return KeyStatus.VALID

    def in_use_after(self, moment: datetime) -> bool:
        """Not reported compromised, and not retired by ``moment``: it signs (or will sign) after ``moment``."""
        return self.compromised_since is None and (self.retired_on is None or self.retired_on > moment)


class IssuerKeys(Aggregate):
    """Every key one issuer has had, in the order they were added."""

    @staticmethod
    def create_id(issuer_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"mcreg:issuer-keys:{issuer_id}")

    @event("Opened")
    def __init__(self, stamp: Stamp, issuer_id: UUID) -> None:
        self.issuer_id = issuer_id
        self.keys: list[IssuerKey] = []

    def key(self, key_id: str) -> IssuerKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def current(self, moment: datetime) -> IssuerKey | None:
        """The key to sign with at ``moment``: the newest valid one, if any."""
        return next((k for k in reversed(self.keys) if k.status_at(moment) == KeyStatus.VALID), None)

    def add(self, stamp: Stamp, public_key_multibase: str, valid_from: datetime) -> str:
        """Add a key valid from ``valid_from``; the keys in use retire then (a key published ahead for a later
        moment thus never becomes valid: the newest rotation wins). Returns its key id."""
        if any(k.public_key_multibase == public_key_multibase for k in self.keys):
            raise StateConflict("this public key is already one of the issuer's keys")
        key_id = f"key-{len(self.keys) + 1}"
        retiring = [k.key_id for k in self.keys if k.in_use_after(valid_from)]
        self._add(stamp, key_id, public_key_multibase, valid_from, retiring)
        return key_id

    @event("KeyAdded")
    def _add(
        self, stamp: Stamp, key_id: str, public_key_multibase: str, valid_from: datetime, retiring: list[str]
    ) -> None:
        self.keys = [dataclasses.replace(k, retired_on=valid_from) if k.key_id in retiring else k for k in self.keys]
        self.keys.append(IssuerKey(key_id, public_key_multibase, valid_from))

    def report_compromised(self, stamp: Stamp, key_id: str, since: datetime) -> None:
        """From ``since`` on, the key's proofs are not trusted. A later report may only move ``since`` earlier."""
        key = self.key(key_id)
        if key is None:
            raise NotFound("issuer key", key_id)
        if key.compromised_since is not None and since >= key.compromised_since:
            raise StateConflict(f"the key is already reported compromised since {key.compromised_since.isoformat()}")
        self._compromised(stamp, key_id, since)

    @event("KeyCompromised")
    def _compromised(self, stamp: Stamp, key_id: str, since: datetime) -> None:
        self.keys = [dataclasses.replace(k, compromised_since=since) if k.key_id == key_id else k for k in self.keys]


class IssuerKeyVault(Protocol):
    """Where issuers' private keys live, apart from the event store."""

    def new_key(self, issuer_id: UUID, made_for: str | None = None) -> str:
        """Make a key pair for the issuer, keep its private half, and return its public Multikey (z6Mk…).

        The private half is kept before the event that publishes the public half is saved: a command that then
        fails leaves an unused private key behind, never a published key without its private half. A key
        ``made_for`` a request (``<org>/<idempotency key>``) is made once: a retry gets the same key.
        """


class MemoryIssuerKeyVault:
    """A vault in memory, for in-memory registries and tests."""

    def __init__(self) -> None:
        self.private_keys: dict[tuple[UUID, str], Ed25519PrivateKey] = {}
        self._made_for: dict[str, str] = {}

    def new_key(self, issuer_id: UUID, made_for: str | None = None) -> str:
        if made_for is not None and made_for in self._made_for:
            return self._made_for[made_for]
        private_key = Ed25519PrivateKey.generate()
        public_key = encode_public_multikey(private_key.public_key())
        self.private_keys[issuer_id, public_key] = private_key
        if made_for is not None:
            self._made_for[made_for] = public_key
        return public_key


stored_as("registry.issuer_keys", IssuerKeys)
