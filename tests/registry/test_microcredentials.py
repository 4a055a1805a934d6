"""Micro-credentials: a provider specifies the EU standard elements, revises them and retires the offer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import LearningOutcome, MicroCredential
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound, StateConflict
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import AssessmentType, Participation, QAType, Role, Stackability, Supervision
from tests.world import OPERATOR, SPEC, World


def test_a_provider_specifies_a_micro_credential_with_the_standard_elements(registry):
    world = World(registry)
    microcredential_id = registry.specify_microcredential(
        world.provider,
        provider_id=world.provider_id,
        specified_on=date(2019, 1, 1),
        **{**SPEC, "ects": "2.5", "isced_field": "0611"},
        supervision="supervised_online_identity_verified",
        stackability="stackable",
        stackable_towards="MSc Data Science",
        prerequisites="Basic statistics",
    )

    microcredential = registry.get(MicroCredential, microcredential_id)
    spec = microcredential.specification
    assert microcredential.provider_id == world.provider_id
    assert microcredential.spec_version == 1
    assert spec.title == {"en": "Data analysis with Python", "nl": "Data-analyse met Python"}
    assert spec.learning_outcomes == (
        LearningOutcome("Clean and analyse tabular data", "http://data.europa.eu/esco/skill/ab12-cd34"),
        LearningOutcome("Communicate results with charts", None),
    )
    assert spec.ects == Decimal("2.50")
    assert spec.eqf_level == 6
    assert spec.isced_field == "0611"
    assert spec.assessment == AssessmentType.PROJECT
    assert spec.participation == Participation.ONLINE
    assert spec.qa_type == QAType.INTERNAL
    assert spec.languages == ("en",)
    assert spec.supervision == Supervision.SUPERVISED_VERIFIED_ONLINE
    assert spec.stackability == Stackability.STACKABLE
    assert spec.stackable_towards == "MSc Data Science"
    assert spec.prerequisites == "Basic statistics"


def test_the_eqf_level_is_optional_where_it_does_not_apply(registry):
    world = World(registry)
    spec = {k: v for k, v in SPEC.items() if k != "eqf_level"}
    microcredential_id = registry.specify_microcredential(
        world.provider, provider_id=world.provider_id, specified_on=date(2019, 1, 1), **spec
    )
    assert registry.get(MicroCredential, microcredential_id).specification.eqf_level is None


def test_a_micro_credential_needs_at_least_one_learning_outcome(registry):
    world = World(registry)
    before = registry.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as refused:
        registry.specify_microcredential(
            world.provider,
            provider_id=world.provider_id,
            specified_on=date(2019, 1, 1),
            **{**SPEC, "learning_outcomes": []},
        )
    assert refused.value.field == "learning_outcomes"
    assert registry.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    "actor",
    [
        pytest.param(lambda world: OPERATOR, id="operator"),
        pytest.param(lambda world: world.agency, id="agency"),
        pytest.param(lambda world: Actor(world.provider_id, Role.INSTITUTION), id="same-org-as-institution"),
        pytest.param(lambda world: Actor(uuid4(), Role.PROVIDER), id="another-provider"),
    ],
)
def test_only_the_provider_itself_specifies_its_micro_credentials(registry, actor):
    world = World(registry)
    with pytest.raises(Forbidden):
        registry.specify_microcredential(
            actor(world), provider_id=world.provider_id, specified_on=date(2019, 1, 1), **SPEC
        )


def test_a_micro_credential_of_an_unknown_provider_is_refused(registry):
    unknown = uuid4()
    with pytest.raises(NotFound):
        registry.specify_microcredential(
            Actor(unknown, Role.PROVIDER), provider_id=unknown, specified_on=date(2019, 1, 1), **SPEC
        )


def test_a_revision_adds_a_numbered_specification_and_credentials_name_the_one_they_were_issued_under(registry):
    world = World(registry)
    first = world.issue(date(2024, 3, 1))
    registry.revise_microcredential(
        world.provider, world.microcredential_id, effective=date(2024, 6, 1), **{**SPEC, "ects": "6"}
    )
    second = world.issue(date(2024, 9, 1))
    # A credential back-dated to before the revision names the specification then in force.
    earlier = world.issue(date(2024, 5, 1))
    assert registry.get(Credential, earlier).spec_version == 1

    microcredential = registry.get(MicroCredential, world.microcredential_id)
    assert microcredential.spec_version == 2
    assert microcredential.specification_at(1).ects == Decimal("5.00")
    assert microcredential.specification_at(2).ects == Decimal("6.00")
    assert registry.get(Credential, first).spec_version == 1
    assert registry.get(Credential, second).spec_version == 2


def test_a_revision_that_changes_nothing_is_refused(registry):
    world = World(registry)
    with pytest.raises(StateConflict):
        registry.revise_microcredential(world.provider, world.microcredential_id, **SPEC)
    assert registry.get(MicroCredential, world.microcredential_id).spec_version == 1


def test_another_provider_cannot_revise_or_retire_the_micro_credential(registry):
    world = World(registry)
    other_id = world.register_provider("NL", "Other University")
    other = Actor(other_id, Role.PROVIDER)
    with pytest.raises(Forbidden):
        registry.revise_microcredential(other, world.microcredential_id, **{**SPEC, "ects": "6"})
    with pytest.raises(Forbidden):
        registry.retire_microcredential(other, world.microcredential_id)
    microcredential = registry.get(MicroCredential, world.microcredential_id)
    assert microcredential.spec_version == 1
    assert microcredential.retired_on is None


def test_a_retired_micro_credential_is_no_longer_issued_or_revised(registry):
    world = World(registry)
    registry.retire_microcredential(world.provider, world.microcredential_id, effective=date(2024, 6, 1))

    # Credentials earned before retirement can still be recorded.
    issued = world.issue(date(2024, 5, 31))
    assert registry.get(Credential, issued).issued_on == date(2024, 5, 31)

    before = registry.recorder.max_notification_id()
    with pytest.raises(StateConflict):
        world.issue(date(2024, 6, 1))
    with pytest.raises(StateConflict):
        registry.revise_microcredential(world.provider, world.microcredential_id, **{**SPEC, "ects": "6"})
    with pytest.raises(StateConflict):
        registry.retire_microcredential(world.provider, world.microcredential_id)
    assert registry.recorder.max_notification_id() == before
