"""Learner personal data: sealed per learner, and erased by destroying that learner's key."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import Erasure, PersonalData
from mcreg.registry.application import IssueRow
from mcreg.registry.errors import Forbidden, InvalidInput, StateConflict
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import CredentialStatus, Role
from tests.world import OPERATOR, World, learner


def test_the_issuer_reads_back_the_learners_personal_data(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1), learner=PersonalData("  Ada Lovelace ", date(1995, 12, 10), None))
    assert registry.learner_data(credential_id) == PersonalData("Ada Lovelace", date(1995, 12, 10), None)


def test_forgetting_a_learner_erases_their_data_but_keeps_every_fact(registry):
    world = World(registry)
    ada = uuid4()
    first = world.issue(date(2024, 3, 1), learner_id=ada)
    second = world.issue(date(2024, 9, 1), learner_id=ada)
    grace = world.issue(date(2024, 3, 1), learner=learner("Grace Hopper"))
    registry.revoke_credential(world.provider, second, reason="learner_request", effective=date(2024, 10, 1))
    before = registry.recorder.max_notification_id()

    assert registry.forget_learner(OPERATOR, ada) is True

    assert registry.learner_data(first) is None
    assert registry.learner_data(second) is None
    # Every event still reads back: the credentials, their history and QA basis are intact.
    credential = registry.get(Credential, second)
    assert credential.learner_id == ada
    assert credential.issued_on == date(2024, 9, 1)
    assert credential.status == CredentialStatus.REVOKED
    assert credential.qa_basis.id == world.accreditation_id
    assert registry.get(Credential, first).version == 1
    # Other learners are untouched.
    assert registry.learner_data(grace).name == "Grace Hopper"
    # Forgetting alters no event; it records one more fact, the erasure, naming only the learner id.
    (erasure,) = registry.recorder.select_notifications(start=before + 1, limit=10)
    assert erasure.topic.endswith("Erasure.LearnerForgotten")
    assert registry.get(Erasure, Erasure.create_id(ada)).learner_id == ada
    assert b"Ada" not in erasure.state


def test_the_holders_link_opens_the_learners_name_until_the_learner_is_forgotten(registry):
    """The holder's token is made from the learner's key and stored nowhere: it opens that credential's learner
    only, and nothing once the key is destroyed."""
    world = World(registry)
    ada = uuid4()
    first, second = world.issue(date(2024, 3, 1), learner_id=ada), world.issue(date(2024, 9, 1), learner_id=ada)
    token = registry.holder_token(world.provider, first)

    assert registry.holder_data(first, token) == learner()
    assert registry.holder_data(second, token) is None, "one credential's link opens no other"
    assert registry.holder_data(first, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert registry.holder_data(first, "ünïcode, not a token") is None
    assert registry.holder_token(OPERATOR, first) == token, "the same link, whoever asks for it"
    with pytest.raises(Forbidden):
        registry.holder_token(Actor(uuid4(), Role.PROVIDER), first)
    with pytest.raises(Forbidden):
        registry.holder_token(None, first)

    registry.forget_learner(OPERATOR, ada)

    assert registry.holder_data(first, token) is None
    with pytest.raises(StateConflict):
        registry.holder_token(world.provider, first)


def test_forgetting_twice_reports_there_was_nothing_left(registry):
    world = World(registry)
    learner_id = uuid4()
    world.issue(date(2024, 3, 1), learner_id=learner_id)
    assert registry.forget_learner(OPERATOR, learner_id) is True
    assert registry.forget_learner(OPERATOR, learner_id) is False


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.QA_AGENCY, Role.INSTITUTION, Role.NATIONAL_AUTHORITY])
def test_only_the_operator_forgets_learners(registry, role):
    world = World(registry)
    learner_id = uuid4()
    credential_id = world.issue(date(2024, 3, 1), learner_id=learner_id)
    actor = world.provider if role == Role.PROVIDER else Actor(uuid4(), role, country="NL")
    with pytest.raises(Forbidden):
        registry.forget_learner(actor, learner_id)
    assert registry.learner_data(credential_id).name == "Ada Lovelace"


def test_a_forgotten_learner_id_is_not_issued_to_again(registry):
    world = World(registry)
    learner_id = uuid4()
    old = world.issue(date(2024, 3, 1), learner_id=learner_id)
    registry.forget_learner(OPERATOR, learner_id)
    with pytest.raises(InvalidInput) as refused:
        world.issue(date(2024, 9, 1), learner_id=learner_id, learner=learner("Ada King"))
    assert refused.value.field == "learner_id"
    assert registry.learner_data(old) is None
    # The learner can still be issued credentials under a new id.
    new = world.issue(date(2024, 9, 1), learner=learner("Ada King"))
    assert registry.learner_data(new).name == "Ada King"


def test_bulk_issuance_seals_each_learner(registry):
    world = World(registry)
    result = registry.issue_credentials(
        world.provider,
        [IssueRow(world.microcredential_id, learner(name), date(2024, 3, 1)) for name in ("Ann", "Bob", "Cy")],
    )
    ann, bob, cy = result.issued
    registry.forget_learner(OPERATOR, registry.get(Credential, bob).learner_id)
    assert [registry.learner_data(i) and registry.learner_data(i).name for i in (ann, bob, cy)] == ["Ann", None, "Cy"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PersonalData(""), "learner.name"),
        (PersonalData("Ada", email="not-an-email"), "learner.email"),
        (PersonalData("Ada", birth_date=date.today() + timedelta(days=2)), "learner.birth_date"),
        ("Ada Lovelace", "learner"),
    ],
)
def test_the_learners_personal_data_is_checked(registry, data, field):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        world.issue(date(2024, 3, 1), learner=data)
    assert refused.value.field == field


def test_no_personal_data_is_stored_in_clear_and_erasure_leaves_the_events_readable(services, schema):
    registry = services.registry
    world = World(registry)
    name, email = "Zebulon Quixotic-Marchbanks", "zebulon.qm@example.org"
    credential_id = world.issue(
        date(2024, 3, 1), learner=PersonalData(name, date(1990, 2, 3), email), idempotency_key="issue-zq"
    )
    registry.issue_credentials(
        world.provider, [IssueRow(world.microcredential_id, PersonalData(name, None, email), date(2024, 3, 2))]
    )
    assert registry.learner_data(credential_id).name == name

    with psycopg.connect(services.database.conninfo) as conn:
        states = [
            bytes(state)
            for (state,) in conn.execute(
                sql.SQL("SELECT state FROM {}.registry_events").format(sql.Identifier(schema))
            ).fetchall()
        ]
    assert len(states) == registry.recorder.max_notification_id()
    for state in states:
        assert name.encode() not in state
        assert email.encode() not in state
        assert b"1990-02-03" not in state

    registry.forget_learner(OPERATOR, registry.get(Credential, credential_id).learner_id)
    assert registry.learner_data(credential_id) is None
    assert registry.get(Credential, credential_id).issued_on == date(2024, 3, 1)
    with psycopg.connect(services.database.conninfo) as conn:
        (keys,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.learner_keys WHERE learner_id = %s").format(sql.Identifier(schema)),
            [registry.get(Credential, credential_id).learner_id],
        ).fetchone()
    assert keys == 0


def learner_keys(services, schema) -> int:
    with psycopg.connect(services.database.conninfo) as conn:
        (count,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.learner_keys").format(sql.Identifier(schema))
        ).fetchone()
    return count


def test_a_rejected_batch_leaves_no_learner_keys_behind(services, schema):
    """All-or-nothing covers the vault too: a refused batch stores no key for learners who got nothing."""
    registry = services.registry
    world = World(registry)
    world.issue(date(2024, 3, 1))
    keys, events = learner_keys(services, schema), registry.recorder.max_notification_id()
    batch = [
        IssueRow(world.microcredential_id, learner("Good Row"), date(2024, 3, 1)),
        IssueRow(world.microcredential_id, learner("Bad Row"), date(2020, 6, 1)),  # no QA cover then
    ]

    with pytest.raises(InvalidInput):
        registry.issue_credentials(world.provider, batch)

    assert registry.recorder.max_notification_id() == events
    assert learner_keys(services, schema) == keys


def test_after_erasure_no_stored_fact_confirms_a_guess_of_the_learners_data(services, schema):
    """An idempotent issuance stores a receipt; it must not keep an unkeyed digest of the personal data.

    Whoever guesses a forgotten learner's name, birth date and email could otherwise confirm the guess
    against the event store by recomputing the receipt's request fingerprint.
    """
    registry = services.registry
    world = World(registry)
    data = PersonalData("Zebulon Quixotic-Marchbanks", date(1990, 2, 3), "zebulon.qm@example.org")
    request = {"microcredential_id": world.microcredential_id, "learner": data, "issued_on": date(2024, 3, 1)}
    credential_id = registry.issue_credential(world.provider, idempotency_key="issue-zq", **request)
    registry.forget_learner(OPERATOR, registry.get(Credential, credential_id).learner_id)

    guess = hashlib.sha256(repr(("issue_credential", (), sorted(request.items()))).encode()).hexdigest()
    with psycopg.connect(services.database.conninfo) as conn:
        stored = b"".join(
            bytes(state)
            for (state,) in conn.execute(
                sql.SQL("SELECT state FROM {}.registry_events").format(sql.Identifier(schema))
            ).fetchall()
        )
    assert registry.learner_data(credential_id) is None
    assert guess.encode() not in stored
