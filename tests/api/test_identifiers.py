"""Identifiers from other systems: an Erasmus office finds a partner by its Erasmus code, a registrar's system
names its course and student, and none of it leaks what it should not.

Organisations are found by SCHAC home organisation, Erasmus code, ETER id or DEQAR id (REST and GraphQL); each
scheme has a format rule, and the unique ones stay unique (a second provider claiming an Erasmus code is a 409).
Credentials carry the SIS course id and LTI context id, and the SIS student number sealed with the learner's
personal data: shown only where the learner is, never in exports, erased with the learner.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import IssueRow
from mcreg.registry.application.core import _plain
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.world import OPERATOR, World

ERASMUS = "NL GRONING03"


def problem(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["type"].rsplit("/", 1)[-1]


@pytest.fixture
def authority(services: Services, client: TestClient) -> As:
    return caller(services, client, Role.NATIONAL_AUTHORITY, OPERATOR.org, country="NL")


def register(world: World, name: str, **identifiers: str) -> Any:
    return world.registry.register_provider(
        OPERATOR, names={"en": name}, country="NL", registered_on=date(2015, 1, 1), **identifiers
    )


def test_organisations_are_found_by_each_outside_identifier(world: World, public: As) -> None:
    hanze = register(world, "Hanze", schac="hanze.nl", erasmus_code=ERASMUS, eter_id="NL0020", deqar_id="DEQARINST0245")
    agency = world.registry.register_agency(OPERATOR, name="NVAO", country="NL", deqar_id="34")
    for text in (
        "schac:Hanze.NL",
        "erasmus:nl groning03",
        "eter:nl0020",
        "deqar:DEQARINST0245",
        " ERASMUS:NL GRONING03",
    ):
        found = public.get("/v1/lookup", identifier=text)
        assert found.status_code == 200, (text, found.text)
        assert (found.json()["kind"], found.json()["id"]) == ("provider", str(hanze))
    assert public.get("/v1/lookup", identifier="schac:hanze.nl").json()["href"] == f"/v1/providers/{hanze}"
    by_deqar = public.get("/v1/lookup", identifier="deqar:34").json()
    assert (by_deqar["kind"], by_deqar["id"], by_deqar["href"]) == ("agency", str(agency), f"/v1/agencies/{agency}")
    assert problem(public.get("/v1/lookup", identifier="erasmus:B  BRUXEL04")) == (404, "not-found")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("orcid:0000-0002-1825-0097", "must be scheme:value"),
        ("eter:BE35", "ETER id"),
        ("schac:not a domain", "SCHAC home organisation"),
        ("erasmus:GRONINGEN", "Erasmus code"),
        ("erasmus", "must be scheme:value"),
        ("sis_course:MATH101", "organisation's identifier"),
    ],
)
def test_a_lookup_names_the_rule_an_identifier_breaks(public: As, text: str, rule: str) -> None:
    response = public.get("/v1/lookup", identifier=text)
    assert problem(response) == (422, "invalid-input")
    assert rule in response.json()["rule"]


def test_a_second_provider_claiming_an_erasmus_code_is_refused(world: World, provider: As, authority: As) -> None:
    first = register(world, "Hanze", erasmus_code=ERASMUS)
    with pytest.raises(Exception, match="already names another provider"):
        register(world, "Impostor", erasmus_code=ERASMUS)
    response = provider.post(
        f"/v1/providers/{world.provider_id}/external-identifiers", {"identifier": f"erasmus:{ERASMUS}"}
    )
    assert problem(response) == (409, "state-conflict")
    assert response.json()["id"] == str(first)


def test_a_provider_records_its_identifiers_later_and_is_found_by_them(
    world: World, provider: As, public: As, authority: As
) -> None:
    path = f"/v1/providers/{world.provider_id}/external-identifiers"
    assert provider.post(path, {"identifier": "erasmus:nl voorbee01"}).status_code == 200
    assert authority.post(path, {"identifier": "schac:voorbeeld.nl"}).status_code == 200
    assert provider.post(path, {"identifier": "erasmus:NL VOORBEE01"}).status_code == 200  # the same again: no-op
    assert problem(provider.post(path, {"identifier": "erasmus:NL ANDERS02"})) == (409, "state-conflict")
    assert problem(provider.post(path, {"identifier": "lti_context:abc"})) == (422, "invalid-input")
    assert problem(public.post(path, {"identifier": "schac:x.nl"}))[0] == 401
    identifiers = public.get(f"/v1/providers/{world.provider_id}").json()["identifiers"]
    assert (identifiers["erasmus_code"], identifiers["schac"]) == ("NL VOORBEE01", "voorbeeld.nl")
    assert public.get("/v1/lookup", identifier="schac:voorbeeld.nl").json()["id"] == str(world.provider_id)


def test_graphql_finds_providers_and_agencies_by_identifier(
    world: World, client: TestClient, read_models: ReadModels
) -> None:
    hanze = register(world, "Hanze", schac="hanze.nl")
    query = """query($p: String!, $a: String!) {
      providerByIdentifier(identifier: $p) { id }
      agencyByIdentifier(identifier: $a) { id }
    }"""
    world.registry.register_agency(OPERATOR, name="NVAO", country="NL", deqar_id="34")
    read_models.catch_up()
    response = client.post("/graphql", json={"query": query, "variables": {"p": "schac:hanze.nl", "a": "deqar:35"}})
    data = response.json()["data"]
    assert data == {"providerByIdentifier": {"id": str(hanze)}, "agencyByIdentifier": None}
    bad = client.post("/graphql", json={"query": query, "variables": {"p": "eter:x", "a": "deqar:34"}}).json()
    assert "ETER id" in bad["errors"][0]["message"]


def new_credential(world: World, **extra: Any) -> dict[str, Any]:
    learner = {"name": "Ana Kovač", "student_id": "s1234567"}
    return {"microcredential_id": str(world.microcredential_id), "learner": learner, "issued_on": "2024-03-01"} | extra


def test_credentials_carry_course_ids_and_the_student_number_only_where_the_learner_is_shown(
    world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    course = {"course_id": "2026-S1/MATH101", "lti_context_id": "c1d887f0-a1a3-4bca-ae25-c375edcc131a"}
    created = provider.post("/v1/credentials", new_credential(world, **course))
    assert created.status_code == 201, created.text
    credential_id = created.json()["id"]
    mine = provider.get(f"/v1/credentials/{credential_id}").json()
    assert (mine["course_id"], mine["lti_context_id"]) == (course["course_id"], course["lti_context_id"])
    assert mine["learner"]["student_id"] == "s1234567"
    seen = public.get(f"/v1/credentials/{credential_id}").json()
    assert (seen["learner"], seen["course_id"], seen["lti_context_id"]) == (None, None, None)
    stored = json.dumps(world.registry.get(Credential, credential_id).learner.__dict__, default=str)
    assert "s1234567" not in stored
    read_models.catch_up()
    export = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert export.status_code == 200 and "s1234567" not in export.text
    world.registry.forget_learner(OPERATOR, world.registry.get(Credential, credential_id).learner_id)
    assert provider.get(f"/v1/credentials/{credential_id}").json()["learner"]["student_id"] is None


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"course_id": "MATH 101;DROP"}, "course_id"),
        ({"lti_context_id": "has space"}, "lti_context_id"),
        ({"learner": {"name": "Ana", "student_id": "s 123"}}, "learner.student_id"),
    ],
)
def test_identifiers_that_break_their_rule_are_refused(
    world: World, provider: As, extra: dict[str, Any], field: str
) -> None:
    response = provider.post("/v1/credentials", new_credential(world, **extra))
    assert problem(response) == (422, "invalid-input")
    assert response.json()["field"] == field


def test_the_csv_import_takes_the_identifier_columns(world: World, provider: As) -> None:
    text = (
        "row_key,microcredential_id,learner_name,learner_student_id,course_id,lti_context_id\n"
        f"k1,{world.microcredential_id},Ana,s1,MATH101,ctx-1\n"
        f"k2,{world.microcredential_id},Jan,s 2,MATH101,ctx-1\n"
    )
    headers = provider.headers() | {"Content-Type": "text/csv"}
    report = provider.client.post(
        "/v1/credentials:import", content=text, params={"all_or_nothing": "false"}, headers=headers
    ).json()
    issued, refused = report["results"]
    assert (refused["status"], refused["column"]) == ("refused", "learner_student_id")
    credential = world.registry.get(Credential, issued["id"])
    assert (credential.course_id, credential.lti_context_id) == ("MATH101", "ctx-1")
    assert world.registry.learner_data(credential.id).student_id == "s1"  # type: ignore[union-attr]


def test_credentials_and_requests_from_before_the_identifiers_read_unchanged(world: World) -> None:
    credential_id = world.issue()
    (issued,) = world.registry.events.get(credential_id)
    stored = world.registry.mapper.to_stored_event(issued)
    state = json.loads(stored.state)
    del state["course_id"], state["lti_context_id"]
    old = stored.__class__(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    replayed = world.registry.mapper.to_domain_event(old).mutate(None)
    assert (replayed.course_id, replayed.lti_context_id) == (None, None)
    # A request from before fingerprints the same, so a retry across the upgrade still matches its receipt.
    row = IssueRow(world.microcredential_id, PersonalData("Ana"), date(2024, 3, 1))
    assert set(_plain(row)) == {"microcredential_id", "learner", "issued_on", "grade", "valid_until", "learner_id"}
    assert "student_id" not in _plain(PersonalData("Ana"))
