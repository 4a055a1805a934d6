"""Accreditations: an agency (or a national authority) grants a provider QA cover for a scope and a period."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.errors import Forbidden, InvalidInput, NoQualityAssurance, NotFound, StateConflict
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import QADecision, Role, Standing
from tests.world import OPERATOR, SPEC, World, learner

NL_AUTHORITY = Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="nl-ministry", country="NL")
DE_AUTHORITY = Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="de-kmk", country="DE")


def other_agency(world: World, name: str = "Other Agency") -> Actor:
    agency_id = world.registry.register_agency(OPERATOR, name=name, country="DE", registered_on=date(2015, 1, 1))
    return Actor(agency_id, Role.QA_AGENCY, key_id="other-agency")


def test_an_agency_accredits_a_provider_for_a_scope_and_period(registry):
    world = World(registry)

    accreditation = registry.get(Accreditation, world.accreditation_id)
    assert accreditation.provider_id == world.provider_id
    assert accreditation.agency_id == world.agency_id
    assert accreditation.granted_by == world.agency_id
    assert accreditation.outcome == QADecision.POSITIVE
    assert accreditation.scope.eqf_levels == (5, 6, 7)
    assert accreditation.scope.isced_fields == ("06",)
    assert (accreditation.valid_from, accreditation.valid_to) == (date(2021, 1, 1), date(2026, 12, 31))
    assert accreditation.decided_on == date(2020, 12, 1)
    # The provider knows its accreditations, so issuance can find them.
    assert registry.get(Provider, world.provider_id).accreditation_ids == [world.accreditation_id]


def test_the_scope_covers_listed_levels_and_fields_with_their_subfields(registry):
    world = World(registry)
    scope = registry.get(Accreditation, world.accreditation_id).scope

    assert scope.covers(6, "06", "NL")
    assert scope.covers(6, "0613", "NL")
    assert not scope.covers(8, "0613", "NL")
    assert not scope.covers(6, "0413", "NL")
    assert not scope.covers(None, "0613", "NL")


def test_an_accreditation_limited_to_jurisdictions_covers_providers_offering_there_only(registry):
    world = World(registry)
    belgian = world.register_provider("BE", "Université Exemple")
    limited = registry.grant_accreditation(
        world.agency, provider_id=belgian, outcome="positive", valid_from=date(2021, 1, 1), jurisdictions=["nl"]
    )
    scope = registry.get(Accreditation, limited).scope
    assert scope.jurisdictions == ("NL",)
    assert scope.covers(6, "0613", "NL")
    assert not scope.covers(6, "0613", "BE")
    microcredential = registry.specify_microcredential(
        Actor(belgian, Role.PROVIDER), provider_id=belgian, specified_on=date(2019, 1, 1), **SPEC
    )
    with pytest.raises(NoQualityAssurance):
        registry.issue_credential(
            Actor(belgian, Role.PROVIDER),
            microcredential_id=microcredential,
            learner=learner(),
            issued_on=date(2024, 3, 1),
        )


def test_without_an_end_date_an_accreditation_is_valid_for_six_years(registry):
    world = World(registry)
    accreditation_id = registry.grant_accreditation(
        world.agency, provider_id=world.provider_id, outcome="positive", valid_from=date(2022, 9, 1)
    )
    accreditation = registry.get(Accreditation, accreditation_id)
    assert accreditation.valid_to == date(2028, 8, 30)  # 6 x 365 days, as DEQAR assumes
    assert accreditation.scope.eqf_levels == ()  # no limit
    assert accreditation.scope.covers(8, "0413", "NL")


def test_a_national_authority_accredits_providers_of_its_country_without_an_agency(registry):
    world = World(registry)
    accreditation_id = registry.grant_accreditation(
        NL_AUTHORITY, provider_id=world.provider_id, outcome="positive", valid_from=date(2022, 1, 1)
    )
    accreditation = registry.get(Accreditation, accreditation_id)
    assert accreditation.agency_id is None
    assert accreditation.granted_by == NL_AUTHORITY.org

    with pytest.raises(Forbidden):
        registry.grant_accreditation(
            DE_AUTHORITY, provider_id=world.provider_id, outcome="positive", valid_from=date(2022, 1, 1)
        )


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.INSTITUTION, Role.OPERATOR, Role.AUDITOR])
def test_only_agencies_and_authorities_grant_accreditations(registry, role):
    world = World(registry)
    before = registry.recorder.max_notification_id()
    with pytest.raises(Forbidden):
        registry.grant_accreditation(
            Actor(world.provider_id, role),
            provider_id=world.provider_id,
            outcome="positive",
            valid_from=date(2022, 1, 1),
        )
    assert registry.recorder.max_notification_id() == before


def test_an_unregistered_organisation_posing_as_an_agency_is_not_found(registry):
    world = World(registry)
    with pytest.raises(NotFound):
        registry.grant_accreditation(
            Actor(uuid4(), Role.QA_AGENCY),
            provider_id=world.provider_id,
            outcome="positive",
            valid_from=date(2022, 1, 1),
        )


def test_a_suspended_agency_cannot_grant_accreditations(registry):
    world = World(registry)
    registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2025, 1, 1))
    before = registry.recorder.max_notification_id()

    with pytest.raises(StateConflict):
        registry.grant_accreditation(
            world.agency, provider_id=world.provider_id, outcome="positive", valid_from=date(2025, 2, 1)
        )
    assert registry.recorder.max_notification_id() == before


def test_a_negative_outcome_is_not_an_accreditation(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        registry.grant_accreditation(
            world.agency, provider_id=world.provider_id, outcome="negative", valid_from=date(2022, 1, 1)
        )
    assert refused.value.field == "outcome"


def test_a_conditional_accreditation_lists_its_conditions_which_are_fulfilled_once(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        registry.grant_accreditation(
            world.agency,
            provider_id=world.provider_id,
            outcome="positive with conditions or restrictions",
            valid_from=date(2022, 1, 1),
        )
    assert refused.value.field == "conditions"

    accreditation_id = registry.grant_accreditation(
        world.agency,
        provider_id=world.provider_id,
        outcome="positive with conditions or restrictions",
        valid_from=date(2022, 1, 1),
        conditions=[("Publish assessment criteria", date(2023, 1, 1))],
    )
    registry.fulfil_accreditation_condition(world.agency, accreditation_id, condition=0, effective=date(2022, 11, 1))

    accreditation = registry.get(Accreditation, accreditation_id)
    assert accreditation.conditions[0].fulfilled_on == date(2022, 11, 1)
    with pytest.raises(StateConflict):
        registry.fulfil_accreditation_condition(world.agency, accreditation_id, condition=0)
    with pytest.raises(InvalidInput) as refused:
        registry.fulfil_accreditation_condition(world.agency, accreditation_id, condition=1)
    assert refused.value.field == "condition"


def test_an_accreditation_cannot_end_before_it_starts_or_be_decided_in_the_future(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        registry.grant_accreditation(
            world.agency,
            provider_id=world.provider_id,
            outcome="positive",
            valid_from=date(2022, 1, 1),
            valid_to=date(2021, 12, 31),
        )
    assert (refused.value.field, refused.value.rule) == ("valid_to", "must be on or after valid_from")

    with pytest.raises(InvalidInput) as refused:
        registry.grant_accreditation(
            world.agency,
            provider_id=world.provider_id,
            outcome="positive",
            valid_from=date(2022, 1, 1),
            decided_on=registry.today() + timedelta(days=1),
        )
    assert (refused.value.field, refused.value.rule) == ("decided_on", "may not be in the future")


def test_a_local_identifier_is_used_once_per_granting_agency(registry):
    world = World(registry)
    first = registry.grant_accreditation(
        world.agency,
        provider_id=world.provider_id,
        outcome="positive",
        valid_from=date(2022, 1, 1),
        local_identifier="ACC-2022-7",
    )
    assert first == Accreditation.create_id(world.agency_id, "ACC-2022-7")
    with pytest.raises(StateConflict):
        registry.grant_accreditation(
            world.agency,
            provider_id=world.provider_id,
            outcome="positive",
            valid_from=date(2023, 1, 1),
            local_identifier="ACC-2022-7",
        )
    assert registry.get(Provider, world.provider_id).accreditation_ids == [world.accreditation_id, first]


def test_a_closed_provider_cannot_be_accredited(registry):
    world = World(registry)
    registry.close_provider(OPERATOR, world.provider_id)
    with pytest.raises(StateConflict):
        registry.grant_accreditation(
            world.agency, provider_id=world.provider_id, outcome="positive", valid_from=date(2022, 1, 1)
        )


def test_the_standing_follows_suspension_reinstatement_and_withdrawal(registry):
    world = World(registry)
    registry.suspend_accreditation(world.agency, world.accreditation_id, reason="audit", effective=date(2023, 3, 1))
    registry.reinstate_accreditation(world.agency, world.accreditation_id, effective=date(2023, 6, 1))
    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="fraud", effective=date(2024, 9, 1))

    accreditation = registry.get(Accreditation, world.accreditation_id)
    assert accreditation.standing(date(2020, 12, 31)) == Standing.NOT_YET_VALID
    assert accreditation.standing(date(2023, 2, 28)) == Standing.IN_FORCE
    assert accreditation.standing(date(2023, 3, 1)) == Standing.SUSPENDED
    assert accreditation.standing(date(2023, 5, 31)) == Standing.SUSPENDED
    assert accreditation.standing(date(2023, 6, 1)) == Standing.IN_FORCE
    assert accreditation.standing(date(2024, 8, 31)) == Standing.IN_FORCE
    assert accreditation.standing(date(2024, 9, 1)) == Standing.WITHDRAWN
    assert accreditation.withdrawal_reason == "fraud"


def test_an_accreditation_expires_after_its_last_day(registry):
    world = World(registry)
    accreditation_id = registry.grant_accreditation(
        world.agency,
        provider_id=world.provider_id,
        outcome="positive",
        valid_from=date(2019, 1, 1),
        valid_to=date(2020, 12, 31),
    )
    accreditation = registry.get(Accreditation, accreditation_id)
    assert accreditation.standing(date(2020, 12, 31)) == Standing.IN_FORCE
    assert accreditation.standing(date(2021, 1, 1)) == Standing.EXPIRED


def test_suspension_conflicts(registry):
    world = World(registry)
    with pytest.raises(StateConflict):
        registry.reinstate_accreditation(world.agency, world.accreditation_id)
    registry.suspend_accreditation(world.agency, world.accreditation_id, reason="audit", effective=date(2023, 3, 1))
    with pytest.raises(StateConflict):
        registry.suspend_accreditation(world.agency, world.accreditation_id, reason="again")
    with pytest.raises(StateConflict):
        registry.reinstate_accreditation(world.agency, world.accreditation_id, effective=date(2023, 2, 1))


def test_withdrawal_is_final(registry):
    world = World(registry)
    registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="closed", effective=date(2024, 1, 1))
    before = registry.recorder.max_notification_id()

    with pytest.raises(StateConflict):
        registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="again")
    with pytest.raises(StateConflict):
        registry.suspend_accreditation(world.agency, world.accreditation_id, reason="after withdrawal")
    with pytest.raises(StateConflict):
        registry.reinstate_accreditation(world.agency, world.accreditation_id)
    with pytest.raises(StateConflict):
        registry.renew_accreditation(world.agency, world.accreditation_id, valid_to=date(2030, 12, 31))
    assert registry.recorder.max_notification_id() == before


def test_renewal_must_extend_the_validity(registry):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        registry.renew_accreditation(world.agency, world.accreditation_id, valid_to=date(2026, 12, 31))
    assert refused.value.field == "valid_to"

    registry.renew_accreditation(
        world.agency, world.accreditation_id, valid_to=date(2032, 12, 31), report_url="https://qa.example/r/2"
    )
    accreditation = registry.get(Accreditation, world.accreditation_id)
    assert accreditation.valid_to == date(2032, 12, 31)
    assert accreditation.report_url == "https://qa.example/r/2"


def test_only_the_granting_body_changes_an_accreditation(registry):
    world = World(registry)
    intruder = other_agency(world)
    before = registry.recorder.max_notification_id()

    with pytest.raises(Forbidden):
        registry.suspend_accreditation(intruder, world.accreditation_id, reason="not mine")
    with pytest.raises(Forbidden):
        registry.withdraw_accreditation(intruder, world.accreditation_id, reason="not mine")
    with pytest.raises(Forbidden):
        registry.renew_accreditation(intruder, world.accreditation_id, valid_to=date(2030, 1, 1))
    with pytest.raises(Forbidden):
        registry.withdraw_accreditation(world.provider, world.accreditation_id, reason="self-service")
    with pytest.raises(Forbidden):
        registry.withdraw_accreditation(NL_AUTHORITY, world.accreditation_id, reason="authority of the country")
    assert registry.recorder.max_notification_id() == before


def test_only_the_granting_authority_changes_an_authoritys_accreditation(registry):
    world = World(registry)
    accreditation_id = registry.grant_accreditation(
        NL_AUTHORITY, provider_id=world.provider_id, outcome="positive", valid_from=date(2022, 1, 1)
    )
    other_nl_authority = Actor(uuid4(), Role.NATIONAL_AUTHORITY, country="NL")
    with pytest.raises(Forbidden):
        registry.suspend_accreditation(other_nl_authority, accreditation_id, reason="not mine")
    with pytest.raises(Forbidden):
        registry.suspend_accreditation(world.agency, accreditation_id, reason="not mine")

    registry.suspend_accreditation(NL_AUTHORITY, accreditation_id, reason="audit", effective=date(2024, 1, 1))
    assert registry.get(Accreditation, accreditation_id).standing(date(2024, 1, 1)) == Standing.SUSPENDED
