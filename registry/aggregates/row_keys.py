"""Row keys of bulk issuance: a provider's own key for one row of a file, claimed once, so a re-posted
file issues nothing twice.

A row key is the provider's (a student-information system's) name for one issuance, such as
``2026-S1/MATH101/s1234567``. It may embed a student id, so it is never stored: the claim holds an
HMAC of provider and key under the secret kept beside the learner keys (as idempotency receipts'
fingerprints are, decision 4), its id derives from that, and it names only the credential it issued.
Two saves of one key collide on the event store's unique id and version.
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as


class RowKeyClaim(Aggregate):
    """The claim that a provider's row key issued one credential."""

    @staticmethod
    def claim_for(secret: bytes, provider_id: UUID, row_key: str) -> str:
        """The keyed hash a provider's row key is known by."""
        return hmac.new(secret, f"mcreg:row-key:{provider_id}:{row_key}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def create_id(claim: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"mcreg:row-key:{claim}")

    @event("Claimed")
    def __init__(self, stamp: Stamp, claim: str, credential_id: UUID) -> None:
        self.credential_id = credential_id


stored_as("registry.row_keys", RowKeyClaim)
