"""Learners: reading back a learner's personal data, and erasing it (GDPR) by destroying the learner's key."""

from __future__ import annotations

import contextlib
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import Erasure, PersonalData, unseal
from mcreg.registry.application.core import RegistryCore
from mcreg.registry.permissions import require_role
from mcreg.registry.stamp import Actor, Stamp
from mcreg.registry.vocabulary import Role


class LearnerCommands(RegistryCore):
    """The learner's side of the registry: personal data sealed under a key only the vault holds."""

    def learner_data(self, credential_id: UUID) -> PersonalData | None:
        """The learner's personal data, or None once the learner has been forgotten."""
        sealed = self.get(Credential, credential_id).learner
        key = self.vault.key(sealed.learner_id)
        return unseal(sealed, key) if key is not None else None

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
