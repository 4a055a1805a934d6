"""A ministry analyst, a provider and an institution browse the registers: filtered lists with a total, facet
counts and cursors that survive inserts; credentials and recognitions only for those allowed to read them."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.world import SPEC, World


def every(who: As, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page after page, following ``next``."""
    items: list[dict[str, Any]] = []
    while True:
        answer = who.get(path, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        if body["next"] is None:
            return items
        params["after"] = body["next"]


def facet(body: dict[str, Any], name: str) -> dict[str | None, int]:
    return {f["value"]: f["count"] for f in body["facets"][name]}


@pytest.fixture
def be(services: Services, world: World) -> World:
    """A second provider, in Belgium, accredited by the same agency, with a micro-credential of its own (EQF 5)."""
    other = World.__new__(World)
    other.registry = world.registry
    other.agency_id = world.agency_id
    other.provider_id = world.register_provider("BE", "Haute École Exemple")
    other.accreditation_id = world.registry.grant_accreditation(
        world.agency,
        provider_id=other.provider_id,
        outcome="positive",
        valid_from=date(2021, 1, 1),
        valid_to=date(2099, 12, 31),
        decided_on=date(2020, 12, 1),
    )
    other.microcredential_id = world.registry.specify_microcredential(
        other.provider,
        provider_id=other.provider_id,
        specified_on=date(2019, 1, 1),
        **{**SPEC, "title": {"fr": "Gestion de projet"}, "eqf_level": 5, "isced_field": "0413", "languages": ["fr"]},
    )
    return other


def test_an_analyst_narrows_the_catalogue_and_each_facet_counts_what_its_values_would_leave(
    services: Services, read_models: ReadModels, public: As, world: World, be: World
) -> None:
    read_models.catch_up()

    everything = public.get("/v1/microcredentials").json()
    dutch = public.get("/v1/microcredentials", country="NL", eqf_level="6").json()

    assert everything["total"] == 2
    assert facet(everything, "country") == {"NL": 1, "BE": 1}
    assert [item["id"] for item in dutch["items"]] == [str(world.microcredential_id)]
    assert dutch["total"] == 1
    # The country facet ignores the country filter, not the others: only the NL one is at EQF 6.
    assert facet(dutch, "country") == {"NL": 1}
    assert facet(dutch, "eqf_level") == {"6": 1}
    assert dutch["items"][0]["href"] == f"/v1/microcredentials/{world.microcredential_id}"


def test_registers_list_with_totals_and_facets_that_equal_a_count_by_hand(
    services: Services, read_models: ReadModels, public: As, world: World, be: World
) -> None:
    r = services.registry
    review = r.open_review(world.agency, microcredential_id=world.microcredential_id, opened_on=date(2022, 2, 1))
    r.decide_review(world.agency, review, decision="positive", decided_on=date(2022, 3, 1), valid_to=date(2099, 1, 1))
    r.open_review(world.agency, microcredential_id=be.microcredential_id, opened_on=date(2023, 2, 1))
    read_models.catch_up()

    for path, names in (
        ("/v1/agencies", ("country", "status")),
        ("/v1/providers", ("country", "provider_type", "qa_status")),
        ("/v1/accreditations", ("country", "status", "outcome")),
        ("/v1/reviews", ("country", "status", "decision")),
    ):
        body = public.get(path).json()
        items = every(public, path, limit=1)
        assert body["total"] == len(items), path
        for name in names:
            by_hand = Counter(str(item[name]) if item[name] is not None else None for item in items)
            assert facet(body, name) == dict(by_hand), (path, name)

    reviews = public.get("/v1/reviews", status="open").json()
    assert [item["microcredential_id"] for item in reviews["items"]] == [str(be.microcredential_id)]
    assert facet(reviews, "status") == {"open": 1, "decided": 1}


def test_credentials_are_listed_to_their_provider_and_authorities_never_to_the_public(
    services: Services, client: TestClient, read_models: ReadModels, world: World, be: World, public: As
) -> None:
    nl = [world.issue(date(2024, 3, day)) for day in (1, 2, 3)]
    services.registry.revoke_credential(world.provider, nl[0], reason="fraud")
    belgian = be.issue(date(2024, 4, 1))
    read_models.catch_up()
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    dutch_authority = caller(services, client, Role.NATIONAL_AUTHORITY, UUID(int=7), country="NL")
    operator = caller(services, client, Role.OPERATOR, UUID(int=8))

    own = provider.get("/v1/credentials").json()
    with_revoked = provider.get("/v1/credentials", include_revoked="true").json()

    assert {item["id"] for item in own["items"]} == {str(i) for i in nl[1:]}
    assert {item["id"] for item in with_revoked["items"]} == {str(i) for i in nl}
    assert facet(with_revoked, "status") == {"active": 2, "revoked": 1}
    assert "learner" not in own["items"][0] and "grade" not in own["items"][0]
    # Asking for another provider's gives nothing of it: the caller's own scope holds.
    assert provider.get("/v1/credentials", provider_id=str(be.provider_id)).json()["total"] == 0
    assert {item["id"] for item in every(dutch_authority, "/v1/credentials")} == {str(i) for i in nl[1:]}
    assert operator.get("/v1/credentials").json()["total"] == 3
    assert facet(operator.get("/v1/credentials").json(), "country") == {"NL": 2, "BE": 1}
    assert operator.get("/v1/credentials", country="BE").json()["items"][0]["id"] == str(belgian)

    refused = public.get("/v1/credentials")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    agency = caller(services, client, Role.QA_AGENCY, world.agency_id)
    assert agency.get("/v1/credentials").status_code == 403


def test_recognitions_are_listed_to_the_institution_and_the_authorities_concerned(
    services: Services, client: TestClient, read_models: ReadModels, world: World, be: World, public: As
) -> None:
    credential = world.issue()
    institution = Actor(be.provider_id, Role.INSTITUTION)
    recognition = services.registry.request_recognition(
        institution, credential_id=credential, institution_id=be.provider_id, purpose="credit_transfer"
    )
    read_models.catch_up()

    own = caller(services, client, Role.INSTITUTION, be.provider_id).get("/v1/recognitions").json()
    other = caller(services, client, Role.INSTITUTION, world.provider_id).get("/v1/recognitions").json()
    issuer_authority = caller(services, client, Role.NATIONAL_AUTHORITY, UUID(int=9), country="NL")
    elsewhere = caller(services, client, Role.NATIONAL_AUTHORITY, UUID(int=10), country="FR")

    assert [item["id"] for item in own["items"]] == [str(recognition)]
    assert "differences" not in own["items"][0]  # sealed free text: read one recognition for it
    assert facet(own, "purpose") == {"credit_transfer": 1}
    assert other["total"] == 0
    assert issuer_authority.get("/v1/recognitions").json()["total"] == 1
    assert elsewhere.get("/v1/recognitions").json()["total"] == 0
    assert public.get("/v1/recognitions").status_code == 401
    auditor = caller(services, client, Role.AUDITOR, UUID(int=11))
    assert auditor.get("/v1/recognitions").status_code == 403


def test_a_page_then_an_insert_neither_repeats_nor_skips_a_credential(
    services: Services, client: TestClient, read_models: ReadModels, world: World
) -> None:
    issued = {world.issue(date(2024, 3, day)) for day in range(1, 8)}
    read_models.catch_up()
    provider = caller(services, client, Role.PROVIDER, world.provider_id)

    first = provider.get("/v1/credentials", limit=3).json()
    for day in range(8, 14):  # ids are random: some sort before the cursor, some after
        world.issue(date(2024, 3, day))
    read_models.catch_up()
    rest = every(provider, "/v1/credentials", limit=3, after=first["next"]) if first["next"] else []
    seen = [item["id"] for item in first["items"]] + [item["id"] for item in rest]

    assert len(seen) == len(set(seen)), "a credential came twice"
    assert {str(i) for i in issued} <= set(seen), "a credential there all along went missing"
    assert seen == sorted(seen, key=UUID)
    assert first["next_href"].startswith("/v1/credentials?")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/microcredentials", {"country": "XX"}, "country"),
        ("/v1/microcredentials", {"ects_min": "10", "ects_max": "5"}, "ects_max"),
        ("/v1/microcredentials", {"eqf_level": "9"}, "eqf_level"),
        ("/v1/microcredentials", {"isced_field": "9912"}, "isced_field"),
        ("/v1/agencies", {"after": "not a cursor"}, "after"),
        ("/v1/providers", {"limit": "0"}, "limit"),
        ("/v1/providers", {"limit": "501"}, "limit"),
        ("/v1/providers", {"contry": "NL"}, "contry"),
        ("/v1/accreditations", {"status": "valid"}, "status"),
        ("/v1/accreditations", {"status": "negative"}, "status"),  # a Standing no accreditation has
        ("/v1/reviews", {"opened_from": "2024-02-01", "opened_to": "2024-01-01"}, "opened_to"),
    ],
)
def test_a_bad_filter_is_a_problem_naming_the_parameter(
    read_models: ReadModels, public: As, path: str, params: dict[str, str], field: str
) -> None:
    answer = public.get(path, **params)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"] == field


def test_a_cursor_from_another_list_is_refused(
    services: Services, client: TestClient, read_models: ReadModels, world: World
) -> None:
    world.issue()
    services.registry.request_recognition(
        Actor(world.provider_id, Role.INSTITUTION),
        credential_id=world.issue(),
        institution_id=world.provider_id,
        purpose="admission",
    )
    read_models.catch_up()
    operator = caller(services, client, Role.OPERATOR, UUID(int=8))
    credentials = operator.get("/v1/credentials", limit=1).json()

    answer = operator.get("/v1/recognitions", after=credentials["next"])

    assert answer.status_code == 422
    assert answer.json()["field"] == "after"


def ask(client: TestClient, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


SEARCH = """query($country: String, $after: String) {
  searchMicroCredentials(country: $country, first: 1, after: $after) {
    totalCount facets { name values { value count } } edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  } }"""


def test_graphql_connections_carry_the_same_total_and_facets_as_rest(
    services: Services, client: TestClient, read_models: ReadModels, public: As, world: World, be: World
) -> None:
    read_models.catch_up()

    first = ask(client, SEARCH)["data"]["searchMicroCredentials"]
    second = ask(client, SEARCH, after=first["pageInfo"]["endCursor"])["data"]["searchMicroCredentials"]
    rest = public.get("/v1/microcredentials").json()

    assert first["totalCount"] == rest["total"] == 2
    facets = {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in first["facets"]}
    assert facets["country"] == facet(rest, "country")
    seen = [e["node"]["id"] for e in first["edges"] + second["edges"]]
    assert seen == [item["id"] for item in rest["items"]]
    assert second["pageInfo"]["hasNextPage"] is False
    (error,) = ask(client, SEARCH, country="XX")["errors"]
    assert error["message"].startswith("country: ")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphql_lists_credentials_only_to_those_allowed(
    services: Services, client: TestClient, read_models: ReadModels, world: World
) -> None:
    world.issue()
    read_models.catch_up()
    query = "{ searchCredentials { totalCount edges { node { id providerId } } } }"
    provider = services.keys.create(world.provider_id, Role.PROVIDER, name="provider").token
    agency = services.keys.create(world.agency_id, Role.QA_AGENCY, name="agency").token

    assert ask(client, query, provider)["data"]["searchCredentials"]["totalCount"] == 1
    for token in (None, agency):
        (error,) = ask(client, query, token)["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
