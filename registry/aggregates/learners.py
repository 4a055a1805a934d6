"""Learner personal data, sealed per learner so that erasing one key erases it.

Events hold only ciphertext: of the learner's name and details, and of free
text that may speak of the learner (a revocation note, a recognition's reasons,
an appeal's grounds: the decision "Free text is personal data"). Each learner's
key lives in a ``LearnerVault`` outside the event store; ``forget`` destroys it
(crypto-shredding) and every event, hash and proof still verifies, while the
personal data reads as erased.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.domain import Aggregate, event

from mcreg.registry.fingerprints import added_later
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as


@dataclass(frozen=True)
class PersonalData:
    name: str
    birth_date: date | None = None
    email: str | None = None
    given_name: str | None = None  # as the learner's papers split the name: never guessed from ``name``
    family_name: str | None = None
    student_id: str | None = added_later()  # the student-information system's number for the learner


_PERSONAL_FIELDS = tuple(f.name for f in fields(PersonalData))


@dataclass(frozen=True)
class SealedPersonalData:
    """AES-256-GCM ciphertext of a learner's personal data, bound to the learner id."""

    learner_id: UUID
    nonce: str  # base64
    ciphertext: str  # base64


@dataclass(frozen=True)
class SealedText:
    """AES-256-GCM ciphertext of free text that may speak of a learner, under that learner's key.

    The learner, the aggregate the text is about and the field that holds it are bound in as associated
    data: the ciphertext opens only where it was written.
    """

    learner_id: UUID
    nonce: str  # base64
    ciphertext: str  # base64

    @classmethod
    def of(cls, stored: str | dict[str, str]) -> str | SealedText:
        """Free text as a read model's JSON column keeps it (``jsonable``), or clear as it was written before
        free text was sealed."""
        if isinstance(stored, dict):
            return cls(UUID(stored["learner_id"]), stored["nonce"], stored["ciphertext"])
        return stored

    def jsonable(self) -> dict[str, str]:
        return {"learner_id": str(self.learner_id), "nonce": self.nonce, "ciphertext": self.ciphertext}


class LearnerVault(Protocol):
    """Where learner keys live, apart from the event store."""

    def create_keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        """Keys for these learners, making new ones where there are none."""

    def key(self, learner_id: UUID) -> bytes | None:
        """The learner's key, or None once it is destroyed."""

    def keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        """The keys of those of these learners not forgotten, in one look."""

    def destroy(self, learner_id: UUID) -> bool:
        """Destroy the learner's key; True if there was one."""

    def fingerprint_key(self) -> bytes:
        """A stable secret for keyed digests of requests, which may hold learner data.

        Receipts keep a digest of each idempotent request; unkeyed, it would let
        anyone holding the event log confirm a guess of a forgotten learner's data.
        """


class MemoryLearnerVault:
    """A vault in memory, for in-memory registries and tests."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes] = {}
        self._fingerprint_key = os.urandom(32)

    def fingerprint_key(self) -> bytes:
        return self._fingerprint_key

    def create_keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        return {i: self._keys.setdefault(i, AESGCM.generate_key(256)) for i in learner_ids}

    def key(self, learner_id: UUID) -> bytes | None:
        return self._keys.get(learner_id)

    def keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        return {i: self._keys[i] for i in learner_ids if i in self._keys}

    def destroy(self, learner_id: UUID) -> bool:
        return self._keys.pop(learner_id, None) is not None


def seal(learner_id: UUID, data: PersonalData, key: bytes) -> SealedPersonalData:
    # Every field is a str, a date or None: a shallow dict (asdict deep-copies each value, most of the cost
    # of sealing a bulk issuance's learners).
    plain = {name: getattr(data, name) for name in _PERSONAL_FIELDS}
    plain["birth_date"] = data.birth_date.isoformat() if data.birth_date else None
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, json.dumps(plain).encode(), learner_id.bytes)
    return SealedPersonalData(learner_id, base64.b64encode(nonce).decode(), base64.b64encode(ciphertext).decode())


def unseal(sealed: SealedPersonalData, key: bytes) -> PersonalData:
    plain = AESGCM(key).decrypt(
        base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), sealed.learner_id.bytes
    )
    values = json.loads(plain)
    birth = values.pop("birth_date")
    return PersonalData(birth_date=date.fromisoformat(birth) if birth else None, **values)


def _text_context(learner_id: UUID, about: UUID, field: str) -> bytes:
    return learner_id.bytes + about.bytes + field.encode()


def seal_text(learner_id: UUID, about: UUID, field: str, text: str, key: bytes | None) -> SealedText:
    """``text`` sealed under the learner's key; with no key (the learner was forgotten) under one made and
    dropped at once, so that text about a forgotten learner is erased as it arrives."""
    nonce = os.urandom(12)
    cipher = AESGCM(key if key is not None else AESGCM.generate_key(256))
    ciphertext = cipher.encrypt(nonce, text.encode(), _text_context(learner_id, about, field))
    return SealedText(learner_id, base64.b64encode(nonce).decode(), base64.b64encode(ciphertext).decode())


def unseal_text(sealed: SealedText, about: UUID, field: str, key: bytes) -> str:
    context = _text_context(sealed.learner_id, about, field)
    return AESGCM(key).decrypt(base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), context).decode()


HOLDER_LINK = b"mcreg holder link v1"
"""What the key of holders' links is derived for, apart from sealing (HKDF's ``info``)."""


def holder_token(key: bytes, credential_id: UUID) -> str:
    """The token of a credential's holder's link: an HMAC of the credential's id under a key derived from its
    learner's key. Nothing is stored: forgetting the learner destroys the key, and every link to their name with it.
    """
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HOLDER_LINK).derive(key)
    digest = hmac.new(derived, credential_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()  # 128 bits, 22 characters


SealedStudent = tuple[UUID, UUID, SealedPersonalData | SealedText]
"""Where a credential's student number is: (its provider, the credential, the sealed learner data it was issued
with or the number added after, sealed for the credential's ``student_id``)."""


def student_digest(key: bytes, provider_id: UUID, student_id: str) -> bytes:
    """What a student number is looked up by: an HMAC of the provider and the number under ``key`` (derived from
    the key-encryption key), never the number itself. Scoped to the provider, since a number is unique only within
    one student-information system; unguessable without the key, since student numbers are few enough to try all."""
    return hmac.new(key, provider_id.bytes + student_id.encode(), hashlib.sha256).digest()


class Erasure(Aggregate):
    """The fact that a learner was forgotten; it holds the learner id and nothing personal."""

    @staticmethod
    def create_id(learner_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"mcreg:erasure:{learner_id}")

    @event("LearnerForgotten")
    def __init__(self, stamp: Stamp, learner_id: UUID) -> None:
        self.learner_id = learner_id


stored_as("registry.learners", Erasure)
