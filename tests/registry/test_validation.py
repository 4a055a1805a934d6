"""Field rules: bad input is refused with the field and the rule it breaks, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.errors import InvalidInput
from tests.world import OPERATOR, SPEC, World, learner

ONE_OF = "must be one of "  # choice rules go on to list the allowed values
COUNTRY = "must be an ISO 3166-1 alpha-2 country code"
LANGUAGE = "must be an ISO 639-1 language code"
EQF = "must be an EQF level from 1 to 8"
ISCED = "must be an ISCED-F 2013 field code"
ISCED_SHAPE = "must be an ISCED-F 2013 field code of 2 to 4 digits"
DATE = "must be a calendar date (YYYY-MM-DD)"
FUTURE = "may not be in the future"
CONTROL = "may not contain control characters"

Command = Callable[[World], Any]


def agency(**fields: Any) -> Command:
    return lambda w: w.registry.register_agency(OPERATOR, **{"name": "Agency", "country": "NL", **fields})


def provider(**fields: Any) -> Command:
    return lambda w: w.registry.register_provider(OPERATOR, **{"names": {"en": "Provider"}, "country": "NL", **fields})


def spec(**fields: Any) -> Command:
    return lambda w: w.registry.specify_microcredential(
        w.provider, provider_id=w.provider_id, specified_on=date(2019, 1, 1), **{**SPEC, **fields}
    )


def accreditation(**fields: Any) -> Command:
    return lambda w: w.registry.grant_accreditation(
        w.agency, **{"provider_id": w.provider_id, "outcome": "positive", "valid_from": date(2022, 1, 1), **fields}
    )


def issuance(**fields: Any) -> Command:
    return lambda w: w.registry.issue_credential(
        w.provider,
        **{"microcredential_id": w.microcredential_id, "learner": learner(), "issued_on": date(2024, 3, 1), **fields},
    )


def tomorrow(world: World) -> date:
    return world.registry.today() + timedelta(days=1)


CASES = [
    # countries: ISO 3166-1 alpha-2
    ("country-unknown", agency(country="XX"), "country", COUNTRY),
    ("country-alpha-3", agency(country="NLD"), "country", COUNTRY),
    ("country-number", agency(country=528), "country", COUNTRY),
    ("country-not-text", agency(country=["NL"]), "country", COUNTRY),
    ("jurisdiction", accreditation(jurisdictions=["NL", "EU"]), "jurisdictions", COUNTRY),
    # languages: ISO 639-1
    ("names-empty", provider(names={}), "names", "must map at least one ISO 639-1 language code to a text"),
    ("names-alpha-3", provider(names={"nld": "Hogeschool"}), "names.nld", LANGUAGE),
    ("names-blank", provider(names={"en": "  "}), "names.en", "is required and may not be blank"),
    ("title-language", spec(title={"english": "Data"}), "title.english", LANGUAGE),
    ("languages-none", spec(languages=[]), "languages", "must name at least one ISO 639-1 language"),
    ("languages-unknown", spec(languages=["en", "xx"]), "languages", LANGUAGE),
    # ECTS: a decimal ≥ 0 with at most two decimals
    ("ects-negative", spec(ects="-1"), "ects", "must be zero or more ECTS credits"),
    ("ects-three-decimals", spec(ects="2.555"), "ects", "must have at most 2 decimals"),
    ("ects-float", spec(ects=2.5), "ects", "must be a decimal number of ECTS credits, not a float"),
    ("ects-text", spec(ects="five"), "ects", "must be a decimal number of ECTS credits"),
    ("ects-nan", spec(ects="NaN"), "ects", "must be zero or more ECTS credits"),
    ("ects-infinite", spec(ects="Infinity"), "ects", "must be zero or more ECTS credits"),
    ("ects-too-many", spec(ects="180.01"), "ects", "must be at most 180 ECTS credits"),
    # EQF levels 1-8
    ("eqf-0", spec(eqf_level=0), "eqf_level", EQF),
    ("eqf-9", spec(eqf_level=9), "eqf_level", EQF),
    ("eqf-text", spec(eqf_level="6"), "eqf_level", EQF),
    ("eqf-bool", spec(eqf_level=True), "eqf_level", EQF),
    ("eqf-levels", accreditation(eqf_levels=[6, 9]), "eqf_levels", EQF),
    # ISCED-F 2013 fields
    ("isced-short", spec(isced_field="6"), "isced_field", ISCED_SHAPE),
    ("isced-letters", spec(isced_field="06a"), "isced_field", ISCED_SHAPE),
    ("isced-broad-unknown", spec(isced_field="11"), "isced_field", ISCED),
    ("isced-narrow-unknown", spec(isced_field="0671"), "isced_field", ISCED),
    ("isced-fields", accreditation(isced_fields=["06", "0671"]), "isced_fields", ISCED),
    # controlled vocabularies
    ("assessment", spec(assessment="quiz"), "assessment", ONE_OF),
    ("participation", spec(participation="hybrid"), "participation", ONE_OF),
    ("qa-type", spec(qa_type="none"), "qa_type", ONE_OF),
    ("supervision", spec(supervision="proctored"), "supervision", ONE_OF),
    ("stackability", spec(stackability="modular"), "stackability", ONE_OF),
    ("provider-type", provider(provider_type="university"), "provider_type", ONE_OF),
    ("esg-activity", agency(esg_activities=["audit"]), "esg_activities", ONE_OF),
    ("outcome", accreditation(outcome="excellent"), "outcome", ONE_OF),
    # learning outcomes and ESCO skills
    (
        "outcome-text",
        spec(learning_outcomes=[{"text": ""}]),
        "learning_outcomes[0].text",
        "is required and may not be blank",
    ),
    (
        "esco-uri",
        spec(learning_outcomes=[{"text": "Analyse", "esco_uri": "https://esco.example/skill/1"}]),
        "learning_outcomes[0].esco_uri",
        "must be an ESCO URI (http://data.europa.eu/esco/skill/…)",
    ),
    # text, identifiers and URLs
    ("name-blank", agency(name=" "), "name", "is required and may not be blank"),
    ("name-too-long", agency(name="x" * 301), "name", "must be at most 300 characters"),
    ("name-not-text", agency(name=42), "name", "must be text"),
    # PostgreSQL refuses NUL in a text column: accepted, it would stop every read model that keeps the name
    ("name-nul", provider(names={"en": "Uni\x00versity"}), "names.en", CONTROL),
    ("name-escape", agency(name="Agency\x1b[31m"), "name", CONTROL),
    ("url-nul", accreditation(report_url="https://example.org/\x00"), "report_url", CONTROL),
    ("deqar-id-linebreak", agency(deqar_id="DEQAR\nAGENCY"), "deqar_id", "may not contain line breaks or tabs"),
    ("report-url", accreditation(report_url="javascript:alert(1)"), "report_url", "must be an http(s) URL"),
    ("grade-too-long", issuance(grade="A" * 51), "grade", "must be at most 50 characters"),
    ("email", issuance(learner=PersonalData("Ada", email="ada@")), "learner.email", "must be an email address"),
    # dates
    ("date-text", agency(registered_on="2020-01-01"), "registered_on", DATE),
    ("date-datetime", accreditation(valid_from=datetime(2022, 1, 1, 9, 0)), "valid_from", DATE),
    ("date-too-early", accreditation(valid_from=date(1899, 12, 31)), "valid_from", "must be a date after 1900"),
    ("period", accreditation(valid_to=date(2021, 12, 31)), "valid_to", "must be on or after valid_from"),
    ("issued-in-future", lambda w: issuance(issued_on=tomorrow(w))(w), "issued_on", FUTURE),
    ("registered-in-future", lambda w: agency(registered_on=tomorrow(w))(w), "registered_on", FUTURE),
    ("accredited-in-future", lambda w: accreditation(decided_on=tomorrow(w))(w), "decided_on", FUTURE),
    (
        "born-in-future",
        lambda w: issuance(learner=PersonalData("Ada", birth_date=tomorrow(w)))(w),
        "learner.birth_date",
        FUTURE,
    ),
]


@pytest.mark.parametrize(("command", "field", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_field_and_the_rule_and_writes_nothing(registry, command, field, rule):
    world = World(registry)
    before = registry.recorder.max_notification_id()

    with pytest.raises(InvalidInput) as refused:
        command(world)

    assert refused.value.field == field
    if rule == ONE_OF:
        assert refused.value.rule.startswith(ONE_OF)
    else:
        assert refused.value.rule == rule
    assert refused.value.status == 422
    assert registry.recorder.max_notification_id() == before


FUTURE_DECISIONS: list[tuple[str, Callable[[World, date], Any], str]] = [
    (
        "review-decision",
        lambda w, day: w.registry.decide_review(
            w.agency,
            w.registry.open_review(w.agency, microcredential_id=w.microcredential_id),
            decision="positive",
            decided_on=day,
        ),
        "decided_on",
    ),
    (
        "revocation",
        lambda w, day: w.registry.revoke_credential(w.provider, w.issue(), reason="fraud", effective=day),
        "effective",
    ),
    (
        "credential-suspension",
        lambda w, day: w.registry.suspend_credential(w.provider, w.issue(), reason="inquiry", effective=day),
        "effective",
    ),
    (
        "accreditation-withdrawal",
        lambda w, day: w.registry.withdraw_accreditation(w.agency, w.accreditation_id, reason="x", effective=day),
        "effective",
    ),
    (
        "agency-suspension",
        lambda w, day: w.registry.suspend_agency(OPERATOR, w.agency_id, reason="x", effective=day),
        "effective",
    ),
    (
        "retirement",
        lambda w, day: w.registry.retire_microcredential(w.provider, w.microcredential_id, effective=day),
        "effective",
    ),
]


@pytest.mark.parametrize(("decide", "field"), [c[1:] for c in FUTURE_DECISIONS], ids=[c[0] for c in FUTURE_DECISIONS])
def test_decisions_cannot_be_dated_in_the_future(registry, decide, field):
    world = World(registry)
    with pytest.raises(InvalidInput) as refused:
        decide(world, registry.today() + timedelta(days=1))
    assert (refused.value.field, refused.value.rule) == (field, FUTURE)


def test_good_input_is_stored_in_one_canonical_spelling(registry):
    world = World(registry)
    agency_id = registry.register_agency(OPERATOR, name="Agency", country="de")
    provider_id = registry.register_provider(OPERATOR, names={"EN": "Provider", "De": "Anbieter"}, country="de")
    microcredential_id = registry.specify_microcredential(
        world.provider,
        provider_id=world.provider_id,
        specified_on=date(2019, 1, 1),
        **{**SPEC, "ects": 3, "languages": ["EN", "nl", "en"], "isced_field": "0688", "eqf_level": 1},
    )

    assert registry.get(Agency, agency_id).country == "DE"
    assert registry.get(Provider, provider_id).names == {"de": "Anbieter", "en": "Provider"}
    spec = registry.get(MicroCredential, microcredential_id).specification
    assert spec.ects == Decimal("3.00")
    assert spec.languages == ("en", "nl")
    assert spec.isced_field == "0688"  # x8: inter-disciplinary programmes of a broad field


@pytest.mark.parametrize("ects", ["0", "0.5", "180", Decimal("12.25"), 7])
def test_ects_from_zero_to_180_with_two_decimals_are_accepted(registry, ects):
    world = World(registry)
    microcredential_id = registry.specify_microcredential(
        world.provider, provider_id=world.provider_id, specified_on=date(2019, 1, 1), **{**SPEC, "ects": ects}
    )
    assert registry.get(MicroCredential, microcredential_id).specification.ects == Decimal(ects)


def test_an_issue_date_of_today_is_accepted(registry):
    world = World(registry)
    today = registry.today()
    if today > date(2026, 12, 31):  # the world's accreditation has expired by then
        registry.renew_accreditation(world.agency, world.accreditation_id, valid_to=today + timedelta(days=365))
    credential_id = world.issue(today)
    assert registry.get(Credential, credential_id).issued_on == today
