"""Credentials: issued only under QA cover on the issue date; suspended and reinstated; revoked for good."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import BatchRejected, BatchResult, IssueRow, Registry
from mcreg.registry.errors import (
    ConcurrentUpdate,
    Forbidden,
    InvalidInput,
    NoQualityAssurance,
    NotFound,
    StateConflict,
)
from mcreg.registry.quality import BasisKind, QABasis
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import CredentialStatus, RevocationReason, Role
from tests.world import OPERATOR, SPEC, World, learner

NL_AUTHORITY = Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="nl-ministry", country="NL")


def new_provider(world: World, country: str = "NL", **spec: Any) -> tuple[Actor, UUID, UUID]:
    """Another provider, without accreditation yet, and one micro-credential of it."""
    provider_id = world.register_provider(country, f"Provider {uuid4().hex[:6]}")
    provider = Actor(provider_id, Role.PROVIDER, key_id="provider-2")
    microcredential_id = world.registry.specify_microcredential(
        provider, provider_id=provider_id, specified_on=date(2019, 1, 1), **{**SPEC, **spec}
    )
    return provider, provider_id, microcredential_id


def issue(registry: Registry, provider: Actor, microcredential_id: UUID, day: date, **kwargs: Any) -> UUID:
    return registry.issue_credential(
        provider,
        microcredential_id=microcredential_id,
        learner=kwargs.pop("learner", learner()),
        issued_on=day,
        **kwargs,
    )


# QA cover on the issue date -------------------------------------------------


def test_the_issued_event_records_the_accreditation_and_version_it_relied_on(registry):
    world = World(registry)
    registry.suspend_accreditation(world.agency, world.accreditation_id, reason="audit", effective=date(2023, 1, 1))
    registry.reinstate_accreditation(world.agency, world.accreditation_id, effective=date(2023, 2, 1))

    credential = registry.get(Credential, world.issue(date(2024, 3, 1)))

    assert credential.qa_basis == QABasis(BasisKind.ACCREDITATION, world.accreditation_id, 3)
    assert registry.get(Accreditation, world.accreditation_id).version == 3
    assert credential.issued_on == date(2024, 3, 1)
    assert credential.provider_id == world.provider_id
    assert credential.status == CredentialStatus.ACTIVE


def test_issuance_needs_the_accreditation_to_be_valid_on_the_issue_date(registry):
    world = World(registry)
    before = registry.recorder.max_notification_id()
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2020, 12, 31))
    assert registry.recorder.max_notification_id() == before
    assert registry.get(Credential, world.issue(date(2021, 1, 1))).issued_on == date(2021, 1, 1)


def test_an_expired_accreditation_no_longer_covers(registry):
    world = World(registry)
    provider, provider_id, microcredential_id = new_provider(world)
    registry.grant_accreditation(
        world.agency,
        provider_id=provider_id,
        outcome="positive",
        valid_from=date(2019, 1, 1),
        valid_to=date(2022, 12, 31),
    )
    issue(registry, provider, microcredential_id, date(2022, 12, 31))
    with pytest.raises(NoQualityAssurance):
        issue(registry, provider, microcredential_id, date(2023, 1, 1))


@pytest.mark.parametrize(
    "spec", [{"eqf_level": 8}, {"eqf_level": 4}, {"isced_field": "0413"}], ids=["eqf-8", "eqf-4", "business-field"]
)
def test_an_accreditation_covers_only_its_eqf_levels_and_fields(registry, spec):
    world = World(registry)  # accredited for EQF 5-7 in field 06
    microcredential_id = registry.specify_microcredential(
        world.provider, provider_id=world.provider_id, specified_on=date(2019, 1, 1), **{**SPEC, **spec}
    )
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 3, 1), microcredential_id=microcredential_id)


def test_of_several_accreditations_the_one_whose_scope_covers_is_recorded(registry):
    world = World(registry)
    microcredential_id = registry.specify_microcredential(
        world.provider, provider_id=world.provider_id, specified_on=date(2019, 1, 1), **{**SPEC, "eqf_level": 8}
    )
    doctoral = registry.grant_accreditation(
        world.agency,
        provider_id=world.provider_id,
        outcome="positive",
        valid_from=date(2022, 1, 1),
        eqf_levels=[8],
        isced_fields=["0613"],
    )
    credential = registry.get(Credential, world.issue(date(2024, 3, 1), microcredential_id=microcredential_id))
    assert credential.qa_basis.id == doctoral


def test_an_accreditation_excluding_micro_credentials_gives_no_cover(registry):
    world = World(registry)
    provider, provider_id, microcredential_id = new_provider(world)
    registry.grant_accreditation(
        world.agency,
        provider_id=provider_id,
        outcome="positive",
        valid_from=date(2021, 1, 1),
        micro_credentials=False,
    )
    with pytest.raises(NoQualityAssurance):
        issue(registry, provider, microcredential_id, date(2024, 3, 1))


def test_no_cover_while_the_accreditation_is_suspended(registry):
    world = World(registry)
    registry.suspend_accreditation(world.agency, world.accreditation_id, reason="audit", effective=date(2024, 1, 1))
    registry.reinstate_accreditation(world.agency, world.accreditation_id, effective=date(2024, 4, 1))

    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 1, 1))
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 3, 31))
    world.issue(date(2023, 12, 31))
    world.issue(date(2024, 4, 1))


def test_no_cover_from_the_day_the_accreditation_is_withdrawn(registry):
    world = World(registry)
    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="fraud", effective=date(2024, 6, 1))
    world.issue(date(2024, 5, 31))
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 6, 1))


def test_no_cover_while_the_granting_agency_is_suspended(registry):
    world = World(registry)
    registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2024, 1, 1))
    registry.reinstate_agency(OPERATOR, world.agency_id, effective=date(2024, 6, 1))

    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 3, 1))
    world.issue(date(2023, 12, 31))
    world.issue(date(2024, 6, 1))


def test_no_cover_before_the_granting_agency_was_registered_or_after_it_left(registry):
    world = World(registry)
    young_id = registry.register_agency(OPERATOR, name="Young Agency", country="NL", registered_on=date(2023, 1, 1))
    young = Actor(young_id, Role.QA_AGENCY)
    provider, provider_id, microcredential_id = new_provider(world)
    registry.grant_accreditation(young, provider_id=provider_id, outcome="positive", valid_from=date(2021, 1, 1))
    registry.deregister_agency(OPERATOR, young_id, reason="left EQAR", effective=date(2025, 1, 1))

    with pytest.raises(NoQualityAssurance):
        issue(registry, provider, microcredential_id, date(2022, 12, 31))
    issue(registry, provider, microcredential_id, date(2023, 1, 1))
    issue(registry, provider, microcredential_id, date(2024, 12, 31))
    with pytest.raises(NoQualityAssurance):
        issue(registry, provider, microcredential_id, date(2025, 1, 1))


def test_an_accreditation_by_the_national_authority_covers_without_an_agency(registry):
    world = World(registry)
    provider, provider_id, microcredential_id = new_provider(world)
    accreditation_id = registry.grant_accreditation(
        NL_AUTHORITY, provider_id=provider_id, outcome="positive", valid_from=date(2021, 1, 1)
    )
    credential = registry.get(Credential, issue(registry, provider, microcredential_id, date(2024, 3, 1)))
    assert credential.qa_basis == QABasis(BasisKind.ACCREDITATION, accreditation_id, 1)


def test_a_provider_with_no_qa_at_all_cannot_issue(registry):
    world = World(registry)
    provider, _, microcredential_id = new_provider(world)
    with pytest.raises(NoQualityAssurance):
        issue(registry, provider, microcredential_id, date(2024, 3, 1))


# Issuing: dates, ownership ---------------------------------------------------


def test_a_credential_cannot_be_issued_in_the_future(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        world.issue(registry.today() + timedelta(days=1))
    assert (refused.value.field, refused.value.rule) == ("issued_on", "may not be in the future")


def test_a_credential_valid_until_must_end_after_its_issue(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        world.issue(date(2024, 3, 1), valid_until=date(2024, 3, 1))
    assert refused.value.field == "valid_until"
    credential = registry.get(Credential, world.issue(date(2024, 3, 1), valid_until=date(2029, 3, 1), grade="8.5"))
    assert credential.valid_until == date(2029, 3, 1)
    assert credential.grade == "8.5"


def test_a_provider_cannot_issue_another_providers_micro_credential(registry):
    world = World(registry)
    other, _, _ = new_provider(world)
    before = registry.recorder.max_notification_id()
    with pytest.raises(Forbidden):
        issue(registry, other, world.microcredential_id, date(2024, 3, 1))
    with pytest.raises(Forbidden):
        issue(registry, Actor(world.provider_id, Role.INSTITUTION), world.microcredential_id, date(2024, 3, 1))
    with pytest.raises(Forbidden):
        issue(registry, world.agency, world.microcredential_id, date(2024, 3, 1))
    assert registry.recorder.max_notification_id() == before


def test_an_unknown_micro_credential_cannot_be_issued(registry):
    world = World(registry)
    with pytest.raises(NotFound):
        world.issue(date(2024, 3, 1), microcredential_id=uuid4())


def test_a_closed_provider_cannot_issue(registry):
    world = World(registry)
    registry.close_provider(OPERATOR, world.provider_id)
    with pytest.raises(StateConflict):
        world.issue(date(2024, 3, 1))


# Suspension, reinstatement, revocation --------------------------------------


def test_suspension_is_reversible(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    registry.suspend_credential(world.provider, credential_id, reason="plagiarism inquiry", effective=date(2024, 4, 1))
    assert registry.get(Credential, credential_id).status == CredentialStatus.SUSPENDED

    registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 5, 1))

    credential = registry.get(Credential, credential_id)
    assert credential.status == CredentialStatus.ACTIVE
    assert credential.status_on(date(2024, 3, 31)) == CredentialStatus.ACTIVE
    assert credential.status_on(date(2024, 4, 1)) == CredentialStatus.SUSPENDED
    assert credential.status_on(date(2024, 4, 30)) == CredentialStatus.SUSPENDED
    assert credential.status_on(date(2024, 5, 1)) == CredentialStatus.ACTIVE


def test_revocation_is_final(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    registry.revoke_credential(
        world.provider, credential_id, reason="fraud", note="exam impersonation", effective=date(2024, 6, 1)
    )
    credential = registry.get(Credential, credential_id)
    assert credential.status == CredentialStatus.REVOKED
    assert credential.revoked_on == date(2024, 6, 1)
    assert credential.revocation_reason == RevocationReason.FRAUD
    assert credential.status_on(date(2024, 5, 31)) == CredentialStatus.ACTIVE
    assert credential.status_on(date(2025, 1, 1)) == CredentialStatus.REVOKED

    before = registry.recorder.max_notification_id()
    with pytest.raises(StateConflict):
        registry.revoke_credential(world.provider, credential_id, reason="fraud")
    with pytest.raises(StateConflict):
        registry.reinstate_credential(world.provider, credential_id)
    with pytest.raises(StateConflict):
        registry.suspend_credential(world.provider, credential_id, reason="after revocation")
    assert registry.recorder.max_notification_id() == before
    assert registry.get(Credential, credential_id).status == CredentialStatus.REVOKED


def test_a_suspended_credential_can_be_revoked_and_then_stays_revoked(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 4, 1))
    registry.revoke_credential(world.provider, credential_id, reason="assessment_annulled", effective=date(2024, 5, 1))
    with pytest.raises(StateConflict):
        registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 6, 1))
    assert registry.get(Credential, credential_id).status_on(date(2024, 6, 1)) == CredentialStatus.REVOKED


def test_status_changes_that_make_no_sense_conflict(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    before = registry.recorder.max_notification_id()
    with pytest.raises(StateConflict):
        registry.reinstate_credential(world.provider, credential_id)  # it is active
    with pytest.raises(StateConflict):
        registry.revoke_credential(world.provider, credential_id, reason="fraud", effective=date(2024, 2, 29))
    with pytest.raises(StateConflict):
        registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 2, 1))
    assert registry.recorder.max_notification_id() == before

    registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 4, 1))
    with pytest.raises(StateConflict):
        registry.suspend_credential(world.provider, credential_id, reason="again")
    with pytest.raises(StateConflict):
        registry.reinstate_credential(world.provider, credential_id, effective=date(2024, 3, 15))


def test_revocation_cannot_be_dated_in_the_future_and_needs_a_known_reason(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    with pytest.raises(InvalidInput) as refused:
        registry.revoke_credential(
            world.provider, credential_id, reason="fraud", effective=registry.today() + timedelta(days=1)
        )
    assert (refused.value.field, refused.value.rule) == ("effective", "may not be in the future")
    with pytest.raises(InvalidInput) as refused:
        registry.revoke_credential(world.provider, credential_id, reason="bored")
    assert refused.value.field == "reason"
    assert registry.get(Credential, credential_id).status == CredentialStatus.ACTIVE


def test_only_the_issuing_provider_suspends_reinstates_or_revokes(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    other, _, _ = new_provider(world)
    for actor in (other, world.agency, OPERATOR, Actor(world.provider_id, Role.INSTITUTION)):
        with pytest.raises(Forbidden):
            registry.revoke_credential(actor, credential_id, reason="fraud")
        with pytest.raises(Forbidden):
            registry.suspend_credential(actor, credential_id, reason="inquiry")
    registry.suspend_credential(world.provider, credential_id, reason="inquiry", effective=date(2024, 4, 1))
    with pytest.raises(Forbidden):
        registry.reinstate_credential(other, credential_id)
    assert registry.get(Credential, credential_id).status == CredentialStatus.SUSPENDED


def test_an_unknown_credential_is_not_found(registry):
    world = World(registry)
    with pytest.raises(NotFound):
        registry.revoke_credential(world.provider, uuid4(), reason="fraud")


# Bulk issuance --------------------------------------------------------------


def rows(world: World, *issued_on: date, **overrides: Any) -> list[IssueRow]:
    return [
        IssueRow(world.microcredential_id, learner(f"Learner {i}"), day, **overrides) for i, day in enumerate(issued_on)
    ]


def test_a_batch_is_issued_in_one_go(registry):
    world = World(registry)
    before = registry.recorder.max_notification_id()
    result = registry.issue_credentials(
        world.provider, rows(world, date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3))
    )

    assert isinstance(result, BatchResult)
    assert result.errors == ()
    assert len(result.issued) == 3
    assert registry.recorder.max_notification_id() == before + 3
    for credential_id, day in zip(result.issued, (date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)), strict=True):
        credential = registry.get(Credential, credential_id)
        assert credential.issued_on == day
        assert credential.qa_basis.id == world.accreditation_id


def test_a_batch_with_bad_rows_is_rejected_whole_and_lists_every_bad_row(registry):
    world = World(registry)
    batch = rows(world, date(2024, 3, 1), registry.today() + timedelta(days=1), date(2024, 3, 1), date(2020, 6, 1))
    batch.append(IssueRow(world.microcredential_id, PersonalData("   "), date(2024, 3, 1)))
    before = registry.recorder.max_notification_id()

    with pytest.raises(BatchRejected) as rejected:
        registry.issue_credentials(world.provider, batch)

    assert registry.recorder.max_notification_id() == before
    errors = rejected.value.extensions["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (1, "issued_on"),
        (3, NoQualityAssurance.type),
        (4, "learner.name"),
    ]
    assert rejected.value.field == "rows[1].issued_on"
    # Each row names its rule on its own, as InvalidInput does (the field is reported beside it).
    assert [e["rule"] for e in errors if e["field"] != NoQualityAssurance.type] == [
        "may not be in the future",
        "is required and may not be blank",
    ]


def test_a_partial_batch_writes_the_good_rows_and_reports_the_bad_ones(registry):
    world = World(registry)
    batch = rows(world, date(2024, 3, 1), date(2020, 6, 1), date(2024, 3, 2))
    before = registry.recorder.max_notification_id()

    result = registry.issue_credentials(world.provider, batch, partial=True)

    assert registry.recorder.max_notification_id() == before + 2
    assert result.issued[1] is None
    assert [e.row for e in result.errors] == [1]
    assert result.errors[0].field == NoQualityAssurance.type
    assert registry.get(Credential, result.issued[0]).issued_on == date(2024, 3, 1)
    assert registry.get(Credential, result.issued[2]).issued_on == date(2024, 3, 2)


def test_a_batch_with_another_providers_row_is_forbidden_whole_even_when_partial(registry):
    """Who may act is not a property of one row: a batch naming a micro-credential of another provider is refused."""
    world = World(registry)
    _, _, foreign_microcredential = new_provider(world)
    batch = rows(world, date(2024, 3, 1))
    batch.append(IssueRow(foreign_microcredential, learner("Mallory"), date(2024, 3, 1)))
    before = registry.recorder.max_notification_id()

    with pytest.raises(Forbidden):
        registry.issue_credentials(world.provider, batch, partial=True)
    with pytest.raises(Forbidden):
        registry.issue_credentials(OPERATOR, rows(world, date(2024, 3, 1)))
    assert registry.recorder.max_notification_id() == before


def test_an_empty_batch_is_refused(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        registry.issue_credentials(world.provider, [])
    assert refused.value.field == "rows"


def test_credentials_for_one_learner_share_the_learner_id(registry):
    world = World(registry)
    learner_id = uuid4()
    result = registry.issue_credentials(
        world.provider, rows(world, date(2024, 3, 1), date(2024, 9, 1), learner_id=learner_id)
    )
    assert {registry.get(Credential, i).learner_id for i in result.issued} == {learner_id}


# Concurrent writes ----------------------------------------------------------


def interleave(monkeypatch: pytest.MonkeyPatch, registry: Registry, cls: type, meanwhile: Any) -> None:
    """After ``registry`` first loads an aggregate of ``cls``, someone else commits ``meanwhile()``."""
    original = registry.get
    done = False

    def get(kind: type, aggregate_id: UUID, version: int | None = None) -> Any:
        nonlocal done
        aggregate = original(kind, aggregate_id, version)
        if kind is cls and not done:
            done = True
            meanwhile()
        return aggregate

    monkeypatch.setattr(registry, "get", get)


def test_a_command_on_a_stale_credential_raises_concurrent_update_and_can_be_retried(registry, monkeypatch):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    interleave(
        monkeypatch,
        registry,
        Credential,
        lambda: registry.suspend_credential(world.provider, credential_id, reason="inquiry", idempotency_key="s-1"),
    )
    before = registry.recorder.max_notification_id()

    with pytest.raises(ConcurrentUpdate):
        registry.revoke_credential(world.provider, credential_id, reason="fraud", idempotency_key="r-1")

    assert registry.recorder.max_notification_id() == before + 2  # the suspension and its receipt only
    assert registry.get(Credential, credential_id).status == CredentialStatus.SUSPENDED
    # The refused command left no receipt behind: retrying the same key runs it on the fresh state.
    registry.revoke_credential(world.provider, credential_id, reason="fraud", idempotency_key="r-1")
    credential = registry.get(Credential, credential_id)
    assert credential.status == CredentialStatus.REVOKED
    assert credential.version == 3


def test_a_command_touching_two_aggregates_is_saved_whole_or_not_at_all(registry, monkeypatch):
    world = World(registry)
    interleave(
        monkeypatch,
        registry,
        Provider,
        lambda: registry.rename_provider(OPERATOR, world.provider_id, names={"en": "Renamed meanwhile"}),
    )

    with pytest.raises(ConcurrentUpdate):
        registry.grant_accreditation(
            world.agency,
            provider_id=world.provider_id,
            outcome="positive",
            valid_from=date(2024, 1, 1),
            local_identifier="ACC-RACE",
        )

    with pytest.raises(NotFound):
        registry.get(Accreditation, Accreditation.create_id(world.agency_id, "ACC-RACE"))
    provider = registry.get(Provider, world.provider_id)
    assert provider.names == {"en": "Renamed meanwhile"}
    assert provider.accreditation_ids == [world.accreditation_id]


def test_two_registries_sharing_one_database_detect_each_others_writes(services, schema, monkeypatch):
    first = services.registry
    second = Registry({**services.database.library_env, "POSTGRES_SCHEMA": schema}, vault=first.vault)
    try:
        world = World(first)
        credential_id = world.issue(date(2024, 3, 1))
        interleave(
            monkeypatch,
            second,
            Credential,
            lambda: first.suspend_credential(world.provider, credential_id, reason="inquiry"),
        )
        before = first.recorder.max_notification_id()

        with pytest.raises(ConcurrentUpdate) as refused:
            second.revoke_credential(world.provider, credential_id, reason="fraud")

        assert refused.value.status == 409
        assert first.recorder.max_notification_id() == before + 1
        second.revoke_credential(world.provider, credential_id, reason="fraud")  # the retry succeeds
        for registry in (first, second):
            credential = registry.get(Credential, credential_id)
            assert credential.status == CredentialStatus.REVOKED
            assert credential.version == 3
    finally:
        second.close()
