"""Agencies and providers: who may register them, and how an agency's standing changes over time."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.provider import Provider, ProviderIdentifiers
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound, StateConflict
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import ESGActivity, ProviderType, Role
from tests.world import OPERATOR, SPEC, World

NL_AUTHORITY = Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="nl-ministry", country="NL")
DE_AUTHORITY = Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="de-kmk", country="DE")


# Agencies -------------------------------------------------------------------


def test_the_operator_registers_an_agency_known_to_deqar_under_a_stable_id(registry):
    agency_id = registry.register_agency(
        OPERATOR,
        name="  Accreditation Organisation of the Netherlands and Flanders ",
        acronym="NVAO",
        country="nl",
        deqar_id="DEQARAGENCY0001",
        esg_activities=["programme", "micro_credential", "programme"],
        registered_on=date(2008, 4, 1),
    )

    assert agency_id == Agency.create_id("DEQARAGENCY0001")
    agency = registry.get(Agency, agency_id)
    assert agency.name == "Accreditation Organisation of the Netherlands and Flanders"
    assert agency.country == "NL"
    assert agency.esg_activities == [ESGActivity.PROGRAMME, ESGActivity.MICRO_CREDENTIAL]
    assert agency.registered_on == date(2008, 4, 1)
    assert agency.in_good_standing(date(2024, 1, 1))
    assert not agency.in_good_standing(date(2008, 3, 31))


def test_the_same_deqar_agency_cannot_be_registered_twice(registry):
    registry.register_agency(OPERATOR, name="NVAO", country="NL", deqar_id="DEQARAGENCY0001")
    before = registry.recorder.max_notification_id()

    with pytest.raises(StateConflict):
        registry.register_agency(OPERATOR, name="NVAO again", country="NL", deqar_id="DEQARAGENCY0001")

    assert registry.recorder.max_notification_id() == before


def test_a_national_authority_registers_agencies_of_its_own_country_only(registry):
    agency_id = registry.register_agency(NL_AUTHORITY, name="NVAO", country="NL")
    assert registry.get(Agency, agency_id).country == "NL"

    with pytest.raises(Forbidden) as refused:
        registry.register_agency(DE_AUTHORITY, name="NVAO", country="NL")
    assert refused.value.extensions["rule"] == "governs-country"


@pytest.mark.parametrize("role", [Role.QA_AGENCY, Role.PROVIDER, Role.INSTITUTION, Role.AUDITOR, Role.PUBLIC])
def test_only_the_operator_or_an_authority_registers_agencies(registry, role):
    with pytest.raises(Forbidden):
        registry.register_agency(Actor(uuid4(), role, country="NL"), name="Self-made agency", country="NL")
    assert registry.recorder.max_notification_id() in (None, 0)


def test_an_agency_cannot_be_registered_with_a_future_date(registry):
    tomorrow = registry.today() + timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        registry.register_agency(OPERATOR, name="Early bird", country="NL", registered_on=tomorrow)
    assert (refused.value.field, refused.value.rule) == ("registered_on", "may not be in the future")


def test_a_suspended_agency_is_out_of_good_standing_until_reinstated(registry):
    world = World(registry)
    registry.suspend_agency(OPERATOR, world.agency_id, reason="ESG review failed", effective=date(2024, 1, 1))

    agency = registry.get(Agency, world.agency_id)
    assert agency.is_suspended
    assert agency.in_good_standing(date(2023, 12, 31))
    assert not agency.in_good_standing(date(2024, 1, 1))

    registry.reinstate_agency(OPERATOR, world.agency_id, effective=date(2024, 6, 1))

    agency = registry.get(Agency, world.agency_id)
    assert not agency.is_suspended
    assert not agency.in_good_standing(date(2024, 5, 31))
    assert agency.in_good_standing(date(2024, 6, 1))


def test_suspending_twice_or_reinstating_an_agency_in_good_standing_conflicts(registry):
    world = World(registry)
    with pytest.raises(StateConflict):
        registry.reinstate_agency(OPERATOR, world.agency_id)

    registry.suspend_agency(OPERATOR, world.agency_id, reason="review", effective=date(2024, 1, 1))
    before = registry.recorder.max_notification_id()
    with pytest.raises(StateConflict):
        registry.suspend_agency(OPERATOR, world.agency_id, reason="again")
    with pytest.raises(StateConflict):
        registry.reinstate_agency(OPERATOR, world.agency_id, effective=date(2023, 12, 1))
    assert registry.recorder.max_notification_id() == before


def test_a_deregistered_agency_stays_deregistered(registry):
    world = World(registry)
    registry.deregister_agency(OPERATOR, world.agency_id, reason="left EQAR", effective=date(2025, 1, 1))

    agency = registry.get(Agency, world.agency_id)
    assert agency.in_good_standing(date(2024, 12, 31))
    assert not agency.in_good_standing(date(2025, 1, 1))
    with pytest.raises(StateConflict):
        registry.suspend_agency(OPERATOR, world.agency_id, reason="too late")
    with pytest.raises(StateConflict):
        registry.deregister_agency(OPERATOR, world.agency_id, reason="twice")


def test_only_the_authority_of_the_agencys_country_governs_its_standing(registry):
    world = World(registry)  # the agency is Dutch
    with pytest.raises(Forbidden):
        registry.suspend_agency(DE_AUTHORITY, world.agency_id, reason="not ours")
    with pytest.raises(Forbidden):
        registry.suspend_agency(world.agency, world.agency_id, reason="self-suspension")

    registry.suspend_agency(NL_AUTHORITY, world.agency_id, reason="ours", effective=date(2024, 1, 1))
    assert registry.get(Agency, world.agency_id).is_suspended


def test_an_unknown_agency_is_not_found(registry):
    with pytest.raises(NotFound):
        registry.suspend_agency(OPERATOR, uuid4(), reason="who?")


# Providers ------------------------------------------------------------------


def test_the_operator_registers_a_provider_with_names_in_several_languages(registry):
    provider_id = registry.register_provider(
        OPERATOR,
        names={"nl": "Universiteit Leiden", "EN": "Leiden University"},
        country="NL",
        provider_type="higher_education",
        deqar_id="DEQARINST0001",
        schac="leidenuniv.nl",
    )

    assert provider_id == Provider.create_id(ProviderIdentifiers(deqar_id="DEQARINST0001"))
    provider = registry.get(Provider, provider_id)
    assert provider.names == {"en": "Leiden University", "nl": "Universiteit Leiden"}
    assert provider.country == "NL"
    assert provider.provider_type == ProviderType.HIGHER_EDUCATION
    assert provider.identifiers.schac == "leidenuniv.nl"

    with pytest.raises(StateConflict):
        registry.register_provider(OPERATOR, names={"en": "Leiden"}, country="NL", deqar_id="DEQARINST0001")


def test_a_national_authority_registers_providers_of_its_own_country_only(registry):
    registry.register_provider(DE_AUTHORITY, names={"de": "Hochschule"}, country="DE")
    with pytest.raises(Forbidden):
        registry.register_provider(DE_AUTHORITY, names={"nl": "Hogeschool"}, country="NL")
    with pytest.raises(Forbidden):
        registry.register_provider(Actor(uuid4(), Role.PROVIDER), names={"nl": "Hogeschool"}, country="NL")


def test_a_provider_renames_itself_but_not_another_provider(registry):
    world = World(registry)
    registry.rename_provider(world.provider, world.provider_id, names={"en": "Example University", "nl": "UV"})
    assert registry.get(Provider, world.provider_id).names == {"en": "Example University", "nl": "UV"}

    other_id = world.register_provider("NL", "Other University")
    with pytest.raises(Forbidden):
        registry.rename_provider(world.provider, other_id, names={"en": "Taken over"})
    assert registry.get(Provider, other_id).names == {"en": "Other University"}


def test_a_closed_provider_can_no_longer_define_micro_credentials(registry):
    world = World(registry)
    with pytest.raises(Forbidden):
        registry.close_provider(world.provider, world.provider_id)

    registry.close_provider(NL_AUTHORITY, world.provider_id, effective=date(2025, 1, 1))

    assert registry.get(Provider, world.provider_id).closed_on == date(2025, 1, 1)
    with pytest.raises(StateConflict):
        registry.rename_provider(world.provider, world.provider_id, names={"en": "Revived"})
    with pytest.raises(StateConflict):
        registry.specify_microcredential(
            world.provider, provider_id=world.provider_id, specified_on=date(2019, 1, 1), **SPEC
        )
    with pytest.raises(StateConflict):
        registry.close_provider(OPERATOR, world.provider_id)


def test_an_authority_manages_only_the_providers_of_its_own_country(registry):
    world = World(registry)  # the provider is Dutch
    with pytest.raises(Forbidden):
        registry.close_provider(DE_AUTHORITY, world.provider_id)
    with pytest.raises(Forbidden):
        registry.rename_provider(DE_AUTHORITY, world.provider_id, names={"de": "Beispieluniversität"})

    registry.rename_provider(NL_AUTHORITY, world.provider_id, names={"nl": "Universiteit Voorbeeld"})
    provider = registry.get(Provider, world.provider_id)
    assert provider.names == {"nl": "Universiteit Voorbeeld"}
    assert provider.closed_on is None
