"""Free text that may speak of a learner: sealed under the learner's key where it is written, erased with it."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import SealedText
from mcreg.registry.aggregates.recognition import SubstantialDifference
from mcreg.registry.errors import InvalidInput
from tests.world import OPERATOR, World, learner


def test_a_suspension_reason_is_sealed_and_opens_only_for_its_credential_and_field(registry):
    world = World(registry)
    credential_id, other_id = world.issue(date(2024, 3, 1)), world.issue(date(2024, 3, 1))
    registry.suspend_credential(world.provider, credential_id, reason="Ada Lovelace is under investigation")

    (suspended,) = [e for e in registry.repository.event_store.get(credential_id) if type(e).__name__ == "Suspended"]
    assert isinstance(suspended.reason, SealedText)
    assert "Ada" not in repr(suspended.reason)
    assert registry.open_text(suspended.reason, credential_id, "reason") == "Ada Lovelace is under investigation"
    # Bound to where it was written: copied to another field or credential, it does not open.
    with pytest.raises(InvalidTag):
        registry.open_text(suspended.reason, credential_id, "note")
    with pytest.raises(InvalidTag):
        registry.open_text(suspended.reason, other_id, "reason")


def test_text_about_a_forgotten_learner_is_erased_as_it_arrives(registry):
    """A credential of a forgotten learner can still be revoked; what the note says of her is kept by no one."""
    world = World(registry)
    ada = uuid4()
    credential_id = world.issue(date(2024, 3, 1), learner_id=ada)
    registry.forget_learner(OPERATOR, ada)

    registry.revoke_credential(world.provider, credential_id, reason="fraud", note="Ada Lovelace confessed")

    (revoked,) = [e for e in registry.repository.event_store.get(credential_id) if type(e).__name__ == "Revoked"]
    assert registry.open_text(revoked.note, credential_id, "note") is None
    assert registry.vault.key(ada) is None  # no key was made again for her


def test_clear_text_from_before_sealing_reads_as_it_was(registry):
    """Events written before free text was sealed hold plain strings; they read, and project, as they were."""
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1), learner=learner("Grace Hopper"))
    about = uuid4()
    sealed = registry.sealed(
        registry.get(Credential, credential_id).learner_id, about, "differences[1].reason", "sealed text"
    )
    differences = (SubstantialDifference("No lab work", "Lab work is compulsory"), SubstantialDifference("x", sealed))

    assert registry.opened_differences(about, differences) == [
        ("No lab work", "Lab work is compulsory"),
        ("x", "sealed text"),
    ]
    assert registry.open_text("Impersonation at the final assessment", about, "note") == (
        "Impersonation at the final assessment"
    )


@pytest.mark.parametrize(
    ("command", "arguments", "field"),
    [
        ("revoke_credential", {"reason": "fraud", "note": "x" * 4001}, "note"),
        ("revoke_credential", {"reason": "fraud", "note": 42}, "note"),
        ("suspend_credential", {"reason": "   "}, "reason"),
        ("suspend_credential", {"reason": ["not", "text"]}, "reason"),
    ],
)
def test_bad_free_text_on_a_credential_is_refused_naming_the_field(registry, command, arguments, field):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    events = registry.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as refused:
        getattr(registry, command)(world.provider, credential_id, **arguments)
    assert refused.value.field == field
    assert registry.recorder.max_notification_id() == events
