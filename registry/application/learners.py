"""Learners: reading back a learner's personal data (for those who may, or through the holder's link), and erasing
it (GDPR) by destroying the learner's key."""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mcreg.registry import validate as v
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import (
    Erasure,
    PersonalData,
    SealedPersonalData,
    SealedStudent,
    holder_token,
    seal_text,
    student_digest,
    unseal,
    unseal_text,
)
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application.core import Context, RegistryCore, command
from mcreg.registry.application.issuance import issued_it
from mcreg.registry.errors import InvalidInput, StateConflict
from mcreg.registry.permissions import require_private, require_role
from mcreg.registry.schemes import CREDENTIAL_FIELDS, IdentifierScheme, identifier_value, must_name
from mcreg.registry.stamp import Actor, Stamp
from mcreg.registry.vocabulary import Role


class LearnerCommands(RegistryCore):
    """The learner's side of the registry: personal data sealed under a key only the vault holds."""

    def learner_data(self, credential_id: UUID) -> PersonalData | None:
        """The learner's personal data, or None once the learner has been forgotten."""
        credential = self.get(Credential, credential_id)
        key = self.vault.key(credential.learner_id)
        return _learner(credential, key) if key is not None else None

    def holder_token(self, actor: Actor | None, credential_id: UUID) -> str:
        """The token of the credential's holder's link, for those who may export it (its provider, to hand to the
        learner; the operator; the provider country's national authority); a conflict once the learner is forgotten."""
        credential = self.get(Credential, credential_id)
        country = self.get(Provider, credential.provider_id).country
        require_private(actor, credential.provider_id, Role.PROVIDER, "credential's holder link", country)
        key = self.vault.key(credential.learner_id)
        if key is None:
            raise StateConflict("the learner has been forgotten: the credential has no holder's link any more")
        return holder_token(key, credential_id)

    def holder_data(self, credential_id: UUID, token: str) -> PersonalData | None:
        """The learner's personal data for whoever holds the credential's holder's link (``token``); None for any
        other token, and for every token once the learner is forgotten."""
        credential = self.get(Credential, credential_id)
        key = self.vault.key(credential.learner_id)
        if key is None or not hmac.compare_digest(holder_token(key, credential_id).encode(), token.encode()):
            return None
        return _learner(credential, key)

    def student_digest(self, provider_id: UUID, student_id: str) -> bytes:
        """What a number in ``provider_id``'s student-information system is looked up by (never the number)."""
        return student_digest(self._lookup_key(), provider_id, student_id)

    def student_digests(self, sealed: Sequence[SealedStudent]) -> list[bytes | None]:
        """For each (issuing provider, credential, the learner data sealed in it at issue or the student number
        added after), the digest of the student number: None where there is none, or the learner is forgotten.
        The vault is asked once for all."""
        keys = self.vault.keys({data.learner_id for _, _, data in sealed})
        digests: list[bytes | None] = []
        for provider_id, credential_id, data in sealed:
            key = keys.get(data.learner_id)
            student_id = None
            if key is not None:
                student_id = (
                    unseal(data, key).student_id
                    if isinstance(data, SealedPersonalData)
                    else unseal_text(data, credential_id, STUDENT_ID, key)
                )
            digests.append(self.student_digest(provider_id, student_id) if student_id else None)
        return digests

    @command
    def add_credential_identifier(self, ctx: Context, credential_id: UUID, *, scheme: str, value: str) -> UUID:
        """Record an identifier the issuing provider's systems give a credential after its issue: a course id, an
        LTI context id, the learner's student number (sealed under the learner's key). One value per scheme: a
        credential keeps the one it has (409 for another; the same again changes nothing)."""
        found = v.choice("scheme", scheme, IdentifierScheme)
        if found not in CREDENTIAL_FIELDS:
            raise InvalidInput("scheme", must_name("credential"))
        value = identifier_value("value", found, value)
        field = CREDENTIAL_FIELDS[found]
        added: dict[str, Any] = dict.fromkeys(CREDENTIAL_FIELDS.values())
        with self.changing(ctx, Credential, credential_id, issued_it) as credential:
            if found == IdentifierScheme.SIS_STUDENT:
                key = self.vault.key(credential.learner_id)
                if key is None:
                    raise StateConflict("the learner has been forgotten: the credential takes no student number")
                held = _learner(credential, key).student_id
                added[field] = seal_text(credential.learner_id, credential.id, STUDENT_ID, value, key)
            else:
                held = getattr(credential, field)
                added[field] = value
            if held is not None and held != value:
                shown = "a student number" if found == IdentifierScheme.SIS_STUDENT else f"{field} {held}"
                raise StateConflict(f"the credential already has {shown}")
            if held is None:
                credential.add_identifiers(ctx.stamp(), **added)
        return credential.id

    def learners_remembered(self, learner_ids: Iterable[UUID]) -> set[UUID]:
        """Those of these learners not forgotten."""
        return set(self.vault.keys(learner_ids))

    def check_reads_credentials_of(self, actor: Actor | None, provider_id: UUID) -> None:
        """Whether ``actor`` may find ``provider_id``'s credentials by course, LTI context or student number: as
        it may read their learners (the provider, the operator, the provider country's national authority)."""
        country = self.get(Provider, provider_id).country
        require_private(actor, provider_id, Role.PROVIDER, "credentials by their identifiers", country)

    def forget_learner(self, actor: Actor, learner_id: UUID) -> bool:
        """Erase a learner's personal data (GDPR) by destroying their key; True if a key was destroyed.

        The erasure is recorded first (an event with the learner id only), so an
        interrupted erasure is finished by asking again.
        """
        require_role(actor, Role.OPERATOR)
        erasure_id = Erasure.create_id(learner_id)
        if erasure_id not in self.repository and self.vault.key(learner_id) is not None:
            with contextlib.suppress(IntegrityError):  # someone recorded the same erasure just now
                self.save(Erasure(Stamp(actor, self.today()), learner_id))
        return self.vault.destroy(learner_id)


STUDENT_ID = "student_id"
"""The field a student number added after issue is sealed for (bound in as associated data)."""


def _learner(credential: Credential, key: bytes) -> PersonalData:
    """The learner's data sealed in the credential, with the student number added after issue if there is one."""
    data = unseal(credential.learner, key)
    if data.student_id is None and credential.student_id is not None:
        student_id = unseal_text(credential.student_id, credential.id, STUDENT_ID, key)
        return dataclasses.replace(data, student_id=student_id)
    return data
