"""Browsing the catalogue: a learner narrows micro-credentials (or providers) filter by filter, and each filter
shows how many entries each of its values would leave, given the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from mcreg.bootstrap import Services
from mcreg.projections.browsing import (
    CatalogueBrowser,
    Facets,
    MicroCredentialFilters,
    MicroCredentialQA,
    ProviderFilters,
    ProviderQA,
)
from mcreg.projections.read_models import ReadModels
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR, SPEC, World

TODAY = date(2025, 6, 1)


@dataclass
class Scene:
    world: World
    accredited: UUID  # NL, EQF 6, 0613, 5 ECTS, en: covered by its provider's accreditation
    out_of_scope: UUID  # NL, EQF 8 (outside the accreditation), 0611, 2 ECTS, en + nl
    reviewed: UUID  # BE, EQF 5, 0413, 10 ECTS, fr: a positive programme review, no accreditation
    retired: UUID  # BE, retired in 2024
    be_provider_id: UUID


def counts(facets: Facets, name: str) -> dict[str | None, int]:
    return {c.value: c.count for c in facets.counts[name]}


@pytest.fixture
def scene(services: Services, read_models: ReadModels) -> Scene:
    r = services.registry
    world = World(r)
    provider = world.provider
    out_of_scope = r.specify_microcredential(
        provider,
        provider_id=world.provider_id,
        specified_on=date(2022, 1, 1),
        **{
            **SPEC,
            "title": {"en": "Doctoral data ethics"},
            "eqf_level": 8,
            "isced_field": "0611",
            "ects": "2",
            "languages": ["en", "nl"],
        },
    )
    be_provider_id = world.register_provider("BE", "Haute École Exemple")
    be = Actor(be_provider_id, Role.PROVIDER, key_id="be")
    be_spec = {**SPEC, "title": {"fr": "Gestion de projet"}, "eqf_level": 5, "isced_field": "0413", "ects": "10"}
    reviewed = r.specify_microcredential(
        be, provider_id=be_provider_id, specified_on=date(2022, 1, 1), **{**be_spec, "languages": ["fr"]}
    )
    review_id = r.open_review(world.agency, microcredential_id=reviewed, opened_on=date(2022, 2, 1))
    r.decide_review(
        world.agency, review_id, decision="positive", decided_on=date(2022, 3, 1), valid_to=date(2028, 3, 1)
    )
    retired = r.specify_microcredential(be, provider_id=be_provider_id, specified_on=date(2022, 1, 1), **be_spec)
    r.retire_microcredential(be, retired, effective=date(2024, 1, 1))
    read_models.catch_up()
    return Scene(world, world.microcredential_id, out_of_scope, reviewed, retired, be_provider_id)


@pytest.fixture
def browser(read_models: ReadModels) -> CatalogueBrowser:
    return read_models.browsing


def ids(browser: CatalogueBrowser, filters: MicroCredentialFilters, today: date = TODAY) -> set[UUID]:
    return {e.entry.microcredential_id for e in browser.microcredentials(filters, today).rows}


def test_each_micro_credential_shows_where_its_quality_assurance_stands(scene: Scene, browser: CatalogueBrowser):
    listed = {e.entry.microcredential_id: e for e in browser.microcredentials(MicroCredentialFilters(), TODAY).rows}

    assert set(listed) == {scene.accredited, scene.out_of_scope, scene.reviewed}, "retired ones are left out"
    assert listed[scene.accredited].qa_status == MicroCredentialQA.INSTITUTION_ACCREDITED
    assert listed[scene.out_of_scope].qa_status == MicroCredentialQA.NOT_QUALITY_ASSURED
    assert listed[scene.reviewed].qa_status == MicroCredentialQA.PROGRAMME_REVIEWED
    assert listed[scene.accredited].provider_names == {"en": "Universiteit Voorbeeld"}
    # The accreditation ends on 2026-12-31: afterwards its micro-credential is no longer quality-assured.
    later = browser.microcredentials(
        MicroCredentialFilters(qa_status=MicroCredentialQA.NOT_QUALITY_ASSURED), date(2027, 1, 1)
    )
    assert {e.entry.microcredential_id for e in later.rows} == {scene.accredited, scene.out_of_scope}


def test_a_review_counts_only_while_its_agency_is_in_good_standing(
    services: Services, read_models: ReadModels, scene: Scene, browser: CatalogueBrowser
):
    services.registry.suspend_agency(OPERATOR, scene.world.agency_id, reason="EQAR review", effective=date(2025, 5, 1))
    read_models.catch_up()

    reviewed = MicroCredentialFilters(qa_status=MicroCredentialQA.PROGRAMME_REVIEWED)
    assert ids(browser, reviewed, date(2025, 4, 30)) == {scene.reviewed}
    assert ids(browser, reviewed) == set()
    assert ids(browser, MicroCredentialFilters(qa_status=MicroCredentialQA.INSTITUTION_ACCREDITED)) == set()


def test_each_facet_counts_its_values_given_the_other_filters(scene: Scene, browser: CatalogueBrowser):
    everything = browser.microcredential_facets(MicroCredentialFilters(), TODAY)
    assert everything.total == 3
    assert counts(everything, "country") == {"NL": 2, "BE": 1}
    assert counts(everything, "eqf_level") == {"5": 1, "6": 1, "8": 1}
    assert counts(everything, "isced_field") == {"06": 2, "04": 1}
    assert counts(everything, "ects") == {"1": 1, "3": 1, "10": 1}
    assert counts(everything, "language") == {"en": 2, "nl": 1, "fr": 1}, "an entry counts under each language"
    assert counts(everything, "qa_status") == {
        "institution_accredited": 1,
        "not_quality_assured": 1,
        "programme_reviewed": 1,
    }

    dutch_level_6 = browser.microcredential_facets(MicroCredentialFilters(country="NL", eqf_level=6), TODAY)
    assert dutch_level_6.total == 1
    assert counts(dutch_level_6, "country") == {"NL": 1}, "level 6 only: BE has none at level 6"
    assert counts(dutch_level_6, "eqf_level") == {"6": 1, "8": 1}, "NL only, every level"
    assert counts(dutch_level_6, "language") == {"en": 1}
    assert ids(browser, MicroCredentialFilters(country="NL", eqf_level=6)) == {scene.accredited}

    # An entry that fails two of the filters counts under no facet: none is one choice away from it.
    three = browser.microcredential_facets(MicroCredentialFilters(country="NL", eqf_level=6, language="fr"), TODAY)
    assert three.total == 0
    assert (counts(three, "country"), counts(three, "eqf_level")) == ({}, {})
    assert counts(three, "language") == {"en": 1}, "dropping French leaves the Dutch level-6 entry"


def test_the_filters_narrow_the_list(scene: Scene, browser: CatalogueBrowser):
    assert ids(browser, MicroCredentialFilters(text="gestion python")) == set()
    assert ids(browser, MicroCredentialFilters(text="gestion")) == {scene.reviewed}
    assert ids(browser, MicroCredentialFilters(isced_field="06")) == {scene.accredited, scene.out_of_scope}
    assert ids(browser, MicroCredentialFilters(ects_min=Decimal(3), ects_below=Decimal(10))) == {scene.accredited}
    assert ids(browser, MicroCredentialFilters(ects_min=Decimal(10))) == {scene.reviewed}
    assert ids(browser, MicroCredentialFilters(language="nl")) == {scene.out_of_scope}
    assert ids(browser, MicroCredentialFilters(retired=True)) == {scene.retired}
    assert ids(browser, MicroCredentialFilters(retired=None)) == {
        scene.accredited,
        scene.out_of_scope,
        scene.reviewed,
        scene.retired,
    }
    assert ids(browser, MicroCredentialFilters(isced_field="0_")) == set(), "LIKE wildcards are taken literally"


def test_pages_follow_one_another_by_key(scene: Scene, browser: CatalogueBrowser):
    seen: list[UUID] = []
    after = None
    while True:
        found = browser.microcredentials(MicroCredentialFilters(retired=None), TODAY, after=after, limit=1)
        seen += [e.entry.microcredential_id for e in found.rows]
        if not found.has_next:
            break
        after = found.after
    assert seen == sorted([scene.accredited, scene.out_of_scope, scene.reviewed, scene.retired])


def test_providers_are_browsed_by_name_country_type_and_accreditation(scene: Scene, browser: CatalogueBrowser):
    facets = browser.provider_facets(ProviderFilters(), TODAY)
    assert facets.total == 2
    assert counts(facets, "country") == {"NL": 1, "BE": 1}
    assert counts(facets, "qa_status") == {"accredited": 1, "not_accredited": 1}

    found = browser.providers(ProviderFilters(text="école"), TODAY)
    assert [(e.provider.provider_id, e.qa_status) for e in found.rows] == [
        (scene.be_provider_id, ProviderQA.NOT_ACCREDITED)
    ]
    assert browser.providers(ProviderFilters(text="%"), TODAY).rows == (), "% is a character, not a wildcard"
    accredited = browser.providers(ProviderFilters(qa_status=ProviderQA.ACCREDITED), TODAY)
    assert [e.provider.provider_id for e in accredited.rows] == [scene.world.provider_id]
    assert browser.provider_facets(ProviderFilters(country="BE"), TODAY).total == 1
