"""The ELM exports as Europass checks them: the ELM SHACL shapes of a generic European Digital Credential.

A demo registry's credentials of every kind are exported as ELM documents, turned into RDF offline (pyld with
the contexts the registry ships, so nothing touches the network) and validated with ``pyshacl`` against the
shapes that inline the controlled vocabularies (``tests/data/elm-shacl/EDC-generic-no-cv.ttl``): no violation,
and every Annex I standard element stated with the EU vocabularies' URIs.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from uuid import UUID

import pytest
import rdflib
from fastapi.testclient import TestClient
from pyld import jsonld
from pyshacl import validate

from mcreg.bootstrap import Services
from mcreg.demo import build_demo
from mcreg.projections.read_models import ReadModels
from mcreg.registry.trust.linked_data import SHIPPED_CONTEXTS
from mcreg.registry.vocabulary import QA_COVER, Role
from mcreg.services.elm import PASSED
from mcreg.services.exports import CredentialExports
from tests.api.rest import As, caller
from tests.testdata import data_path
from tests.trust.test_interoperable_documents import issued
from tests.world import OPERATOR, SPEC, World

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SHAPES = rdflib.Graph().parse(data_path("elm-shacl", "EDC-generic-no-cv.ttl"), format="turtle")
DEMO_CREDENTIALS = 10
SAMPLE_VIOLATIONS = 3
"""Upstream's own micro-credential sample does not conform either (no ``issued``, and an issuer without an eIDAS
legal identifier, so not the issuer shape): it is their data, counted here so that a new copy shows."""


def rdf(document: dict[str, Any]) -> rdflib.Graph:
    """The document's statements (all in its default graph), by the registry's offline loader."""
    triples = jsonld.to_rdf(document, {**SHIPPED_CONTEXTS.options(), "format": "application/n-quads"})
    return rdflib.Graph().parse(data=triples, format="nt")


def violations(document: dict[str, Any]) -> Counter[tuple[str, str]]:
    """The document's SHACL results by path and message, counted. One document at a time: the nodes of
    an ELM document are named within it (``urn:epass:org:1``), so two documents in one graph would merge."""
    _, report, _ = validate(rdf(document), shacl_graph=SHAPES, inference="none")
    assert isinstance(report, rdflib.Graph)
    return Counter(
        (str(report.value(result, SH.resultPath)), str(report.value(result, SH.resultMessage)))
        for result in report.subjects(rdflib.RDF.type, SH.ValidationResult)
    )


@pytest.fixture
def elm_exports(services: Services, read_models: ReadModels) -> dict[UUID, dict[str, Any]]:
    """The ELM documents of a demo registry of 10 credentials (the operator may export them all)."""
    registry = services.registry
    build_demo(registry, credentials=DEMO_CREDENTIALS, seed=11)
    read_models.catch_up()
    exports = CredentialExports(registry, services.issuer_keys, read_models, services.settings.public_url)
    return {credential_id: exports.elm(OPERATOR, credential_id) for credential_id in issued(registry)}


def test_every_elm_export_conforms_to_the_europass_shapes(elm_exports: dict[UUID, dict[str, Any]]):
    assert len(elm_exports) == DEMO_CREDENTIALS
    found: Counter[tuple[str, str]] = Counter()
    conforming = 0
    for document in elm_exports.values():
        own = violations(document)
        found += Counter(set(own))  # each distinct violation once per document
        conforming += not own
    assert conforming == len(elm_exports), f"{conforming} of {len(elm_exports)} conform; in how many documents:\n" + (
        "\n".join(f"{n} x {path}: {message}" for (path, message), n in found.most_common())
    )


def test_the_official_sample_is_counted_alike():
    sample = json.loads(data_path("elm", "Sample-MC-Annex1-unsigned.jsonld").read_text(encoding="utf-8"))
    assert sum(violations(sample).values()) == SAMPLE_VIOLATIONS


def test_an_export_states_the_optional_facts_with_the_eu_vocabularies(elm_exports: dict[UUID, dict[str, Any]]):
    elm = next(iter(elm_exports.values()))  # the demo records every optional fact
    issuer = elm["issuer"]
    legal = issuer["eIDASIdentifier"]
    assert legal["type"] == "LegalIdentifier" and legal["notation"].startswith("DEMOREG")
    assert legal["spatial"] == issuer["location"]["address"]["countryCode"]
    subject = elm["credentialSubject"]
    assert " ".join([*subject["givenName"].values(), *subject["familyName"].values()]) in subject["fullName"].values()
    claim = subject["hasClaim"]
    qualification = claim["specifiedBy"]
    assert qualification["learningSetting"]["inScheme"]["id"] == "http://data.europa.eu/snb/learning-setting/25831c2"
    assert qualification["volumeOfLearning"].startswith("PT") and qualification["volumeOfLearning"].endswith("H")
    skills = [o["relatedESCOSkill"] for o in qualification["learningOutcome"]]
    assert all(skill["prefLabel"]["en"] for skill in skills)
    assessment = claim["provenBy"]
    assert assessment["grade"]["type"] == "Note"
    assert assessment["specifiedBy"]["gradingScheme"]["title"]
    types = {e["specifiedBy"].get("dcType", {}).get("inScheme", {}).get("id") for e in elm_exports_claims(elm_exports)}
    assert types <= {"http://data.europa.eu/snb/assessment/25831c2", None}, "EU assessment types, never urn:mcreg:"
    activity = claim["influencedBy"]
    assert activity["type"] == "LearningActivity" and activity["specifiedBy"]["mode"] == qualification["mode"]
    assert elm["issued"] == elm["validFrom"]
    assert elm["credentialStatus"]["@value"].endswith(f"/v1/credentials/{elm['identifier']['notation']}/verify")
    display = elm["displayParameter"]["individualDisplay"]["displayDetail"]
    assert display["page"] == 1 and display["image"]["contentType"]["prefLabel"] == {"en": "SVG"}


def elm_exports_claims(elm_exports: dict[UUID, dict[str, Any]]) -> list[dict[str, Any]]:
    """The assessments of the exports that have one."""
    claims = [elm["credentialSubject"]["hasClaim"] for elm in elm_exports.values()]
    return [claim["provenBy"] for claim in claims if "provenBy" in claim]


def test_a_provider_without_a_legal_identifier_is_exported_but_fails_only_the_issuer_shape(
    world: World, provider: As, read_models: ReadModels
):
    credential_id = world.issue()  # the world's provider was registered without a legal identifier
    read_models.catch_up()
    response = provider.get(f"/v1/credentials/{credential_id}/elm")
    assert response.status_code == 200, response.text
    found = violations(response.json())
    assert {path for path, _ in found} == {
        "https://www.w3.org/2018/credentials#issuer",
        "http://data.europa.eu/snb/model/elm/eidasLegalIdentifier",
    }, found
    assert response.json()["credentialSubject"]["hasClaim"]["provenBy"]["grade"]["noteLiteral"] == {"en": PASSED}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"workload_hours": 0}, "workload_hours"),
        ({"workload_hours": "many"}, "workload_hours"),
        ({"workload_hours": True}, "workload_hours"),
        ({"learning_setting": "informal"}, "learning_setting"),
        ({"grading_scheme": "x" * 501}, "grading_scheme"),
        ({"learning_outcomes": [{"text": "Read", "esco_label": "read"}]}, "learning_outcomes[0].esco_label"),
        ({"nqf_level": ""}, "nqf_level"),
        ({"nqf_level": "6\n"}, "nqf_level"),
        ({"nqf_level": "level six of the national framework"}, "nqf_level"),
        ({"nqf_level": 6}, "nqf_level"),
    ],
)
def test_bad_new_elements_of_a_micro_credential_are_a_422_naming_the_field(
    world: World, provider: As, change: dict[str, Any], field: str
):
    body = SPEC | {"provider_id": str(world.provider_id)} | change
    response = provider.post("/v1/microcredentials", body)
    assert response.status_code == 422, response.text
    assert response.json()["rule"] != "is not a known field"
    assert field.replace("[0]", "") in response.json()["field"].replace("[0]", "").replace(".0", ""), response.json()


def test_a_bad_legal_identifier_or_learner_name_is_a_422_naming_the_field(
    services: Services, client: TestClient, world: World, provider: As
):
    operator = caller(services, client, Role.OPERATOR, OPERATOR.org)
    body = {"names": {"en": "Hogeschool"}, "country": "NL", "legal_identifier": "0104\t3009"}
    response = operator.post("/v1/providers", body)
    assert (response.status_code, response.json()["field"]) == (422, "legal_identifier"), response.text
    assert response.json()["rule"] == "may not contain line breaks or tabs"
    for name in ("given_name", "family_name"):
        learner = {"name": "Ana Kovač", name: "x" * 301}
        response = provider.post(
            "/v1/credentials", {"microcredential_id": str(world.microcredential_id), "learner": learner}
        )
        assert (response.status_code, response.json()["field"]) == (422, f"learner.{name}"), response.text
        assert response.json()["rule"] != "is not a known field"


def test_the_qa_decision_relied_on_is_an_elm_accreditation(elm_exports: dict[UUID, dict[str, Any]]):
    """Entitlement and QA information as ELM data, not notes: the decision, its agency, dates and record."""
    kinds = set()
    for elm in elm_exports.values():
        qualification = elm["credentialSubject"]["hasClaim"]["specifiedBy"]
        accreditation = qualification["accreditation"]
        assert accreditation["type"] == "Accreditation"
        agent = accreditation["accreditingAgent"]
        assert agent["type"] == "Organisation" and agent["legalName"]["en"]
        assert agent["location"]["address"]["countryCode"]["inScheme"]["id"].endswith("/authority/country")
        assert accreditation["organisation"] == {"id": elm["issuer"]["id"]}
        assert accreditation["decision"]["prefLabel"]["en"] in {d.value for d in QA_COVER}
        assert accreditation["dateIssued"] <= elm["issued"] and accreditation["valid"] <= accreditation["expiryDate"]
        collection = accreditation["landingPage"]["contentURL"].split("/v1/")[1].split("/")[0]
        assert collection in {"accreditations", "reviews"}
        assert (collection == "reviews") == ("limitQualification" in accreditation)
        kinds.add(collection)
        notes = [text for note in qualification["additionalNote"] for text in note["noteLiteral"].values()]
        assert not [text for text in notes if "decision" in text], "the decision is data, not a note"
    assert kinds == {"accreditations", "reviews"}, "the demo issues under both kinds of decision"


def test_the_nqf_level_the_provider_states_is_exported_as_the_qualifications_nqf_level(
    world: World, provider: As, read_models: ReadModels
):
    body = SPEC | {"provider_id": str(world.provider_id), "specified_on": "2019-01-01", "nqf_level": "Level 6"}
    response = provider.post("/v1/microcredentials", body)
    assert response.status_code == 201, response.text
    microcredential_id = UUID(response.json()["id"])
    assert provider.get(f"/v1/microcredentials/{microcredential_id}").json()["specifications"][0]["nqf_level"] == (
        "Level 6"
    )
    credential_id = world.issue(microcredential_id=microcredential_id)
    read_models.catch_up()
    elm = provider.get(f"/v1/credentials/{credential_id}/elm").json()
    level = elm["credentialSubject"]["hasClaim"]["specifiedBy"]["nqfLevel"]
    assert level["type"] == "Concept", level
    assert level["prefLabel"]["en"].endswith("national qualifications framework: Level 6"), level
    assert level["id"].endswith(":Level%206")
    found = violations(elm)  # the world's provider has no legal identifier: only the issuer shape fails
    assert {path for path, _ in found} == {
        "https://www.w3.org/2018/credentials#issuer",
        "http://data.europa.eu/snb/model/elm/eidasLegalIdentifier",
    }, found
