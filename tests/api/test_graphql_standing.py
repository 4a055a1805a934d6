"""Learners and institutions check providers, their QA and their catalogue over GraphQL, in a few statements."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.api.test_graphql import ask
from tests.projections.histories import CYBERSECURITY, record_history
from tests.world import SPEC, World

STANDING = """query($country: String, $first: Int, $after: String) {
  providers(country: $country, first: $first, after: $after) {
    edges { cursor node {
      id country names { lang text }
      accreditations { outcome validTo agency { name } scope { eqfLevels } conditions { text fulfilledOn } }
      reviews { decision appeal microCredential { title { lang text } } }
    } }
    pageInfo { hasNextPage endCursor } } }"""


def test_an_institution_reads_a_providers_accreditations_with_conditions_suspension_and_withdrawal(
    services, read_models, client
):
    history = record_history(services.registry)
    services.registry.withdraw_accreditation(
        history.world.agency, history.conditional_id, reason="conditions unmet", effective=date(2024, 11, 1)
    )
    read_models.catch_up()
    query = """query($id: ID!) { provider(id: $id) {
      names { lang text } country providerType
      accreditations { id outcome localIdentifier validFrom validTo reportUrl suspendedSince withdrawnOn
        withdrawalReason scope { eqfLevels iscedFields jurisdictions microCredentials }
        conditions { number text deadline fulfilledOn } agency { name acronym status } } } }"""

    provider = ask(client, query, id=str(history.world.provider_id))["data"]["provider"]

    assert provider["names"] == [{"lang": "en", "text": "Example University"}, {"lang": "nl", "text": "Voorbeeld"}]
    first, conditional = provider["accreditations"]  # oldest validity first
    assert (first["withdrawnOn"], first["withdrawalReason"]) == ("2024-10-01", "no longer meets ESG")
    assert conditional["scope"] == {
        "eqfLevels": [8],
        "iscedFields": [],
        "jurisdictions": ["BE", "NL"],
        "microCredentials": True,
    }
    assert conditional["validTo"] == "2028-12-31"  # renewed
    assert conditional["suspendedSince"] is None  # suspended, then reinstated
    assert conditional["conditions"] == [
        {"number": 0, "text": "Publish the assessment policy", "deadline": "2022-06-30", "fulfilledOn": "2022-05-02"},
        {"number": 1, "text": "Train examiners", "deadline": "2023-01-31", "fulfilledOn": None},
    ]
    assert conditional["agency"] == {"name": "Quality Agency", "acronym": "QA", "status": "registered"}


def test_a_review_won_on_appeal_and_an_accreditation_by_a_national_authority(services, read_models, client):
    history = record_history(services.registry)
    read_models.catch_up()
    query = """query($id: ID!) { provider(id: $id) {
      accreditations { grantedBy agencyId agency { name } }
      reviews { localIdentifier reportUrl reportSummary decision validFrom validTo appeal agency { name }
        microCredential { id ects eqfLevel title { lang text } provider { country } } } } }"""

    provider = ask(client, query, id=str(history.be_provider_id))["data"]["provider"]

    (accreditation,) = provider["accreditations"]
    assert (accreditation["agencyId"], accreditation["agency"]) == (None, None)
    (review,) = provider["reviews"]
    assert (review["decision"], review["appeal"], review["validFrom"]) == ("positive", "overturned", "2022-05-01")
    assert review["agency"] == {"name": "Quality Agency"}
    assert review["microCredential"]["id"] == str(history.be_microcredential_id)
    assert review["microCredential"]["ects"] == "3.00"
    assert review["microCredential"]["provider"] == {"country": "BE"}


def test_agencies_and_providers_are_listed_by_country_and_type_a_page_at_a_time(services, read_models, client):
    history = record_history(services.registry)
    read_models.catch_up()
    agencies = """query($country: String) { agencies(country: $country) { edges { node { name country status } } } }"""
    providers = """query($country: String, $type: String, $after: String) {
      providers(country: $country, type: $type, first: 1, after: $after) {
        edges { node { id } } pageInfo { hasNextPage endCursor } } }"""

    german = ask(client, agencies, country="de")["data"]["agencies"]["edges"]
    assert [edge["node"] for edge in german] == [
        {"name": "Agentur Beispiel", "country": "DE", "status": "deregistered"}
    ]
    assert len(ask(client, agencies)["data"]["agencies"]["edges"]) == 2

    seen, after = [], None
    while True:
        page = ask(client, providers, after=after)["data"]["providers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    everyone = {history.world.provider_id, history.be_provider_id, history.de_institution_id}
    assert sorted(seen) == sorted(str(i) for i in everyone)
    vocational = ask(client, providers, type="vocational")["data"]["providers"]["edges"]
    assert [edge["node"]["id"] for edge in vocational] == [str(history.be_provider_id)]

    (error,) = ask(client, providers, type="university")["errors"]
    assert error["message"].startswith("type: must be one of")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    (error,) = ask(client, agencies, country="Netherlands")["errors"]
    assert error["message"] == "country: must be an ISO 3166-1 alpha-2 country code"


def test_a_credential_names_its_provider_and_micro_credential(services, read_models, client):
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    read_models.catch_up()
    query = """query($id: ID!) { credential(id: $id) {
      provider { id country } microCredential { id title { lang text } learningOutcomes { text escoUri } } } }"""

    credential = ask(client, query, id=str(credential_id))["data"]["credential"]

    assert credential["provider"] == {"id": str(world.provider_id), "country": "NL"}
    assert credential["microCredential"]["id"] == str(world.microcredential_id)
    assert credential["microCredential"]["learningOutcomes"][0] == {
        "text": "Clean and analyse tabular data",
        "escoUri": "http://data.europa.eu/esco/skill/ab12-cd34",
    }


def test_a_learner_searches_the_catalogue_by_words_level_field_workload_and_skill(services, read_models, client):
    history = record_history(services.registry)
    read_models.catch_up()
    query = """query($search: String, $country: String, $eqf: Int, $isced: String, $min: Decimal, $max: Decimal,
      $skill: String, $first: Int, $after: String) {
      microCredentials(search: $search, country: $country, eqfLevel: $eqf, iscedField: $isced, ectsMin: $min,
        ectsMax: $max, skill: $skill, first: $first, after: $after) {
        edges { node { id retiredOn } } pageInfo { hasNextPage endCursor } } }"""
    nl, be = str(history.world.microcredential_id), str(history.be_microcredential_id)

    def found(**filters) -> list[str]:
        return [e["node"]["id"] for e in ask(client, query, **filters)["data"]["microCredentials"]["edges"]]

    assert found(search="cyber") == [be]
    assert found(search="datenanalyse") == [nl]  # the revision's German title
    assert found(country="NL") == [nl]
    assert found(eqf=5) == [be]
    assert found(isced="061") == sorted([nl, be])
    assert found(min="4", max="6") == [nl]  # revised to 6 ECTS
    assert found(skill=CYBERSECURITY["learning_outcomes"][0]["esco_uri"]) == [be]
    assert found(search="no such title") == []
    first = ask(client, query, first=1)["data"]["microCredentials"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = ask(client, query, first=1, after=first["pageInfo"]["endCursor"])["data"]["microCredentials"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False

    for filters, message in (
        ({"eqf": 9}, "eqfLevel: must be an EQF level from 1 to 8"),
        ({"isced": "6x"}, "iscedField: must be an ISCED-F 2013 field code of 2 to 4 digits"),
        ({"min": "5", "max": "2"}, "ectsMax: must not be less than ectsMin"),
        ({"min": "-1"}, "ectsMin: must be zero or more ECTS credits"),
        ({"skill": "python"}, "skill: must be an ESCO URI (http://data.europa.eu/esco/skill/…)"),
        ({"first": 101}, "first: must be from 1 to 100"),
        ({"after": "bm90IGEgY3Vyc29y"}, "after: is not a cursor this query gave"),
        ({"after": "%%%"}, "after: is not a cursor this query gave"),
    ):
        (error,) = ask(client, query, **filters)["errors"]
        assert (error["message"], error["extensions"]["code"]) == (message, "BAD_USER_INPUT"), filters


def accredited_providers(world: World, count: int, country: str) -> list[UUID]:
    """Providers accredited by the world's agency, each with a micro-credential under an agency review."""
    registry = world.registry
    ids = []
    for number in range(count):
        provider_id = world.register_provider(country, f"Provider {number}")
        registry.grant_accreditation(
            world.agency,
            provider_id=provider_id,
            outcome="positive with conditions or restrictions",
            valid_from=date(2021, 1, 1),
            valid_to=date(2026, 12, 31),
            conditions=[("Publish the assessment policy", date(2022, 6, 30))],
        )
        provider = Actor(provider_id, Role.PROVIDER, key_id=f"provider-{number}")
        microcredential_id = registry.specify_microcredential(
            provider, provider_id=provider_id, specified_on=date(2021, 2, 1), **SPEC
        )
        review_id = registry.open_review(
            world.agency, microcredential_id=microcredential_id, opened_on=date(2021, 3, 1)
        )
        registry.decide_review(world.agency, review_id, decision="positive", decided_on=date(2021, 4, 1))
        ids.append(provider_id)
    return ids


POOLS_OWN = frozenset({ConnectionPool._connect.__code__, ConnectionPool.check_connection.__code__})
"""Where a pool sends statements of its own: as it opens a connection (the library's session settings) and as it
checks one it hands out. How many connections a request happens to open depends on the threads' timing."""


def sent_by_a_pool() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code in POOLS_OWN:
            return True
        frame = frame.f_back
    return False


@contextmanager
def statements_sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement any psycopg cursor sends meanwhile for what the code reads and writes, from any thread: the
    read models' views included; not what the pools send to set up or check their connections."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, *args, **kwargs):
        if not sent_by_a_pool():
            sent.append(query if isinstance(query, str | bytes) else query.as_string(self.connection))
        return execute(self, query, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", counted)
        yield sent


def test_a_page_of_providers_with_their_qa_costs_the_same_statements_for_2_providers_as_for_10(
    services, read_models, client, monkeypatch
):
    world = World(services.registry)
    accredited_providers(world, 2, "FI")
    read_models.catch_up()
    with statements_sent(monkeypatch) as for_two:
        two = ask(client, STANDING, country="FI", first=20)["data"]["providers"]["edges"]

    accredited_providers(world, 8, "FI")
    read_models.catch_up()
    with statements_sent(monkeypatch) as for_ten:
        ten = ask(client, STANDING, country="FI", first=20)["data"]["providers"]["edges"]

    assert (len(two), len(ten)) == (2, 10)
    assert all(len(e["node"]["accreditations"]) == len(e["node"]["reviews"]) == 1 for e in ten)
    assert ten[0]["node"]["accreditations"][0]["agency"] == {"name": "Quality Agency"}
    assert ten[0]["node"]["reviews"][0]["microCredential"]["title"][0] == {
        "lang": "en",
        "text": "Data analysis with Python",
    }
    # One statement each: the page of providers, their accreditations, their reviews, the agencies, the catalogue.
    assert len(for_two) == len(for_ten) == 5, for_ten
