"""The catalogue: a learner or an employer finds micro-credentials by title in any language and by their standard
elements, and reads each one's current specification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mcreg.bootstrap import Services
from mcreg.projections.catalogue import CatalogueView
from mcreg.projections.read_models import ReadModels
from tests.projections.histories import CYBERSECURITY, History, contents, record_history
from tests.world import SPEC, World


@pytest.fixture
def history(services: Services, read_models: ReadModels) -> History:
    history = record_history(services.registry)
    read_models.catch_up(["catalogue"])
    return history


@pytest.fixture
def catalogue(read_models: ReadModels) -> CatalogueView:
    view = read_models.catalogue
    assert isinstance(view, CatalogueView)
    return view


def test_an_entry_holds_the_standard_elements_of_the_current_specification(history: History, catalogue: CatalogueView):
    revised = catalogue.get(history.world.microcredential_id)

    assert (revised.provider_id, revised.provider_country) == (history.world.provider_id, "NL")
    assert (revised.specified_on, revised.spec_version, revised.in_force_from, revised.retired_on) == (
        date(2019, 1, 1),
        2,
        date(2024, 9, 1),
        None,
    )
    assert revised.title == {**SPEC["title"], "de": "Datenanalyse mit Python"}
    assert revised.learning_outcomes == [
        {"text": "Clean and analyse tabular data", "esco_uri": "http://data.europa.eu/esco/skill/ab12-cd34"},
        {"text": "Communicate results with charts", "esco_uri": None},
    ]
    assert revised.esco_uris == ["http://data.europa.eu/esco/skill/ab12-cd34"]
    assert (revised.ects, revised.eqf_level, revised.isced_field) == (Decimal("6"), 6, "0613")
    assert (revised.assessment, revised.participation, revised.qa_type, revised.languages) == (
        "project",
        "online",
        "internal",
        ["en"],
    )
    assert (revised.prerequisites, revised.supervision, revised.stackability) == (None, None, "stand_alone")

    retired = catalogue.get(history.be_microcredential_id)
    assert (retired.provider_country, retired.spec_version, retired.retired_on) == ("BE", 1, date(2025, 1, 1))
    assert retired.title == CYBERSECURITY["title"]
    assert (retired.ects, retired.eqf_level, retired.participation, retired.languages) == (
        Decimal("3"),
        5,
        "blended",
        ["nl", "fr"],
    )


def test_titles_are_searched_in_every_language(history: History, catalogue: CatalogueView):
    nl, be = history.world.microcredential_id, history.be_microcredential_id
    searches = {
        "Cyberveiligheid": {be},  # Dutch
        "cybersécurité": {be},  # French, accents and all
        "Datenanalyse": {nl},  # German, added by the revision
        "data-analyse met": {nl},
        "bases cyber": {be},  # the last word may be the start of one
        "basics": {be},
        "python cyber": set(),  # every word must match, in one or another title of the same entry
        "!(Python) | 'data':*": {nl},  # only the words count, never the operators of a search query
        "  ": {nl, be},  # no words: no text filter
    }

    found = {text: {row.microcredential_id for row in catalogue.search(text).rows} for text in searches}

    assert found == searches


def test_filters_by_country_level_field_credits_skill_and_retirement(history: History, catalogue: CatalogueView):
    nl, be = history.world.microcredential_id, history.be_microcredential_id

    def found(**filters) -> set:
        return {row.microcredential_id for row in catalogue.search(**filters).rows}

    assert found(country="BE") == {be}
    assert found(provider_id=history.world.provider_id) == {nl}
    assert found(eqf_level=6) == {nl}
    assert found(isced_field="06") == found(isced_field="061") == {nl, be}
    assert found(isced_field="0612") == {be}
    assert found(isced_field="07") == found(isced_field="0%") == set()
    assert found(ects_min=Decimal(4)) == found(ects_min=Decimal(6), ects_max=Decimal(6)) == {nl}
    assert found(ects_max=Decimal("5.5")) == {be}
    assert found(esco_uri="http://data.europa.eu/esco/skill/cy03-hd04") == {be}
    assert found(esco_uri="http://data.europa.eu/esco/skill/none") == set()
    assert found(retired=True) == {be}
    assert found(retired=False) == {nl}
    assert found(text="cyber", country="NL") == set()


def test_the_catalogue_is_read_a_page_at_a_time(
    services: Services, world: World, read_models: ReadModels, catalogue: CatalogueView
):
    for i in range(6):
        services.registry.specify_microcredential(
            world.provider, provider_id=world.provider_id, **{**SPEC, "title": {"en": f"Statistics {i}"}}
        )
    read_models.catch_up(["catalogue"])

    pages = [catalogue.search("statistics", limit=4)]
    pages.append(catalogue.search("statistics", limit=4, after=pages[0].after))

    assert [len(p.rows) for p in pages] == [4, 2]
    assert (pages[0].has_next, pages[1].has_next) == (True, False)
    ids = [row.microcredential_id for p in pages for row in p.rows]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert len(catalogue.search(limit=10_000).rows) == 7  # the cap is far above what this catalogue holds


def test_revisions_count_whichever_pages_they_come_in(
    services: Services, world: World, read_models: ReadModels, catalogue: CatalogueView
):
    registry = services.registry
    read_models.catch_up(["catalogue"])
    for ects, effective in (("6", date(2024, 1, 1)), ("7", date(2024, 2, 1))):
        registry.revise_microcredential(
            world.provider, world.microcredential_id, effective=effective, **{**SPEC, "ects": ects}
        )
    read_models.catch_up(["catalogue"])
    registry.revise_microcredential(world.provider, world.microcredential_id, effective=date(2024, 3, 1), **SPEC)
    read_models.catch_up(["catalogue"])

    row = catalogue.get(world.microcredential_id)

    assert (row.spec_version, row.in_force_from, row.ects) == (4, date(2024, 3, 1), Decimal(5))


def test_catching_up_a_page_of_one_event_at_a_time_equals_a_rebuild(services: Services, read_models: ReadModels):
    record_history(services.registry, between=lambda: read_models.catch_up(["catalogue"], page_size=1))
    projected = contents(read_models, "catalogue")

    assert read_models.check(["catalogue"]).equal
    read_models.rebuild(["catalogue"])
    assert contents(read_models, "catalogue") == projected
