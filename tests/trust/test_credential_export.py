"""Credential export: the signed Open Badges 3.0 credential, the ELM credential, the status lists and `/v1/verify`.

The VC verifies with the key the registry's DID document publishes; exporting
again gives the same bytes; revoking, suspending and reinstating flip the bits
of the lists the credential names, and `POST /v1/verify` reads them; a changed
credential no longer verifies; only the provider and the authorities export.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Services
from api.read_side import VIEW_POOL
from api.rest import export, status_lists
from projections.read_models import READ_MODELS, ReadModels
from projections.status_lists import LIST_SIZE, StatusLists, list_place
from registry.credential import Credential
from registry.data_integrity import ProofVerificationError, decode_public_multikey, verify_proof
from registry.status_list import Bitstring, status_of
from registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.trust import vectors
from tests.world import OPERATOR, World

ELM_SAMPLE = "Sample-MC-Annex1-unsigned.jsonld"  # the EDC micro-credential sample, in the shared test data


# --- fixtures: the app with the export routes and the status lists read model, whether or not they are wired in yet --


@pytest.fixture
def read_models(services: Services) -> Iterator[ReadModels]:
    env = services.database.library_env | VIEW_POOL
    if services.settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = services.settings.postgres_schema
    projections = READ_MODELS if StatusLists in READ_MODELS else (*READ_MODELS, StatusLists)
    read_models = ReadModels(services.registry, env, projections)
    yield read_models
    read_models.close()


@pytest.fixture
def client(services: Services, read_models: ReadModels) -> Iterator[TestClient]:
    app = create_app(services, read_models)
    served = {getattr(route, "path", None) for route in app.routes}
    for module, path in ((export, "/v1/verify"), (status_lists, "/.well-known/did.json")):
        if path not in served:
            app.include_router(module.router)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def world(services: Services) -> World:
    return World(services.registry)


@pytest.fixture
def provider(services: Services, client: TestClient, world: World) -> As:
    return caller(services, client, Role.PROVIDER, world.provider_id)


@pytest.fixture
def public(client: TestClient) -> As:
    return As(client, None)


def exported(provider: As, credential_id: UUID) -> dict[str, Any]:
    response = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vc")
    return response.json()


def published_key(public: As) -> Any:
    document = public.get("/.well-known/did.json").json()
    (method,) = document["verificationMethod"]
    assert document["assertionMethod"] == [method["id"]]
    return document, decode_public_multikey(method["publicKeyMultibase"])


def path_of(public: As, url: str) -> str:
    """The path of one of the registry's own URLs."""
    return url.removeprefix(public.client.app.state.services.settings.public_url.rstrip("/"))


def status_list(public: As, entry: dict[str, Any]) -> dict[str, Any]:
    response = public.get(path_of(public, entry["statusListCredential"]))
    assert response.status_code == 200, response.text
    return response.json()


def bits(public: As, vc: dict[str, Any]) -> dict[str, bool]:
    """The credential's revocation and suspension bits, read off the lists its entries name, signature checked."""
    _, key = published_key(public)
    found = {}
    for entry in vc["credentialStatus"]:
        listed = status_list(public, entry)
        verify_proof(listed, key)
        found[entry["statusPurpose"]] = status_of(entry, listed)
    return found


def verdict(public: As, vc: dict[str, Any]) -> dict[str, Any]:
    response = public.post("/v1/verify", vc)
    assert response.status_code == 200, response.text
    return response.json()


# --- the signed credential -----------------------------------------------------------------------------------------


def test_the_vc_verifies_with_the_key_of_the_registrys_did_document(
    services: Services, world: World, provider: As, public: As
):
    credential_id = world.issue(grade="8/10")
    vc = exported(provider, credential_id)
    did_document, key = published_key(public)

    unsecured = verify_proof(vc, key)
    assert unsecured["id"] == f"urn:uuid:{credential_id}"
    assert (
        vc["proof"]["verificationMethod"] == f"{did_document['id']}#key-1" == services.signing_key.verification_method
    )
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert vc["issuer"]["id"] == did_document["id"] == services.signing_key.did
    assert public.get("/did.json").json() == did_document

    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["validFrom"] == "2024-03-01T00:00:00Z"
    credential = services.registry.get(Credential, credential_id)
    assert vc["proof"]["created"] == credential.created_on.strftime("%Y-%m-%dT%H:%M:%SZ")
    subject = vc["credentialSubject"]
    assert subject["identifier"] == [
        {"type": "IdentityObject", "identityHash": "Ada Lovelace", "identityType": "name", "hashed": False}
    ]
    assert subject["result"] == [{"type": ["Result"], "value": "8/10"}]
    assert subject["source"]["name"] == "Universiteit Voorbeeld"
    assert subject["source"]["address"]["addressCountryCode"] == "NL"
    achievement = subject["achievement"]
    assert (achievement["name"], achievement["achievementType"]) == ("Data analysis with Python", "MicroCredential")
    assert achievement["creditsAvailable"] == 5 == subject["creditsEarned"]
    assert achievement["creator"] == subject["source"]
    targets = {a["targetUrl"] for a in achievement["alignment"]}
    assert {"http://data.europa.eu/snb/eqf/6", "http://data.europa.eu/snb/isced-f/0613"} <= targets
    assert "http://data.europa.eu/esco/skill/ab12-cd34" in targets
    assert achievement["qualityAssuranceDecision"].endswith(f"/v1/accreditations/{world.accreditation_id}")
    assert (achievement["assessmentType"], achievement["participationForm"]) == ("project", "online")


def test_each_credential_has_its_own_place_on_both_lists(services: Services, world: World, provider: As):
    first, second = world.issue(), world.issue()
    places = []
    for credential_id in (first, second):
        entries = exported(provider, credential_id)["credentialStatus"]
        assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
        assert all(e["type"] == "BitstringStatusListEntry" for e in entries)
        assert entries[0]["statusListIndex"] == entries[1]["statusListIndex"]
        position = export.issued_position(services.registry, credential_id)
        number, bit = list_place(position)
        assert entries[0]["statusListIndex"] == str(bit) == str(position % LIST_SIZE)
        assert entries[0]["statusListCredential"].endswith(f"/v1/status-lists/revocation/{number}")
        assert entries[1]["statusListCredential"].endswith(f"/v1/status-lists/suspension/{number}")
        places.append((number, bit))
    assert places[0] != places[1]


def test_exporting_again_gives_the_same_bytes(services: Services, world: World, provider: As):
    credential_id = world.issue()
    first = provider.get(f"/v1/credentials/{credential_id}/vc")
    world.issue()  # the log moves on
    services.registry.rename_provider(OPERATOR, world.provider_id, names={"en": "Voorbeeld University"})
    again = provider.get(f"/v1/credentials/{credential_id}/vc")

    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-store"
    assert first.json()["credentialSubject"]["source"]["name"] == "Universiteit Voorbeeld"  # as named when awarded
    elm = provider.get(f"/v1/credentials/{credential_id}/elm")
    assert provider.get(f"/v1/credentials/{credential_id}/elm").content == elm.content


# --- status lists and /v1/verify -----------------------------------------------------------------------------------


def test_revoking_sets_the_revocation_bit_and_verify_reports_it(
    world: World, provider: As, public: As, read_models: ReadModels
):
    credential_id = world.issue()
    vc = exported(provider, credential_id)
    read_models.catch_up()

    assert bits(public, vc) == {"revocation": False, "suspension": False}
    answer = verdict(public, vc)
    assert answer["valid"] is True, answer
    assert (answer["signature"], answer["issuer_trusted"]) == ("valid", True)
    assert (answer["revoked"], answer["suspended"], answer["registry_status"]) == (False, False, "active")
    assert answer["credential_id"] == str(credential_id)
    assert answer["qa_at_issue"]["standing"] == answer["qa_today"]["standing"] == "in_force"
    assert answer["problems"] == []

    revocation_list = path_of(public, vc["credentialStatus"][0]["statusListCredential"])
    before = public.get(revocation_list)
    assert provider.post(f"/v1/credentials/{credential_id}/revoke", {"reason": "fraud"}).status_code == 200
    answer = verdict(public, vc)  # the registry knows at once, before the list catches up
    assert (answer["valid"], answer["revoked"], answer["registry_status"]) == (False, False, "revoked")
    read_models.catch_up()

    assert bits(public, vc) == {"revocation": True, "suspension": False}
    answer = verdict(public, vc)
    assert (answer["valid"], answer["signature"]) == (False, "valid")
    assert (answer["revoked"], answer["suspended"]) == (True, False)
    after = public.get(revocation_list)
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["validFrom"] > before.json()["validFrom"]


def test_suspension_and_reinstatement_flip_the_suspension_bit(
    world: World, provider: As, public: As, read_models: ReadModels
):
    credential_id, other = world.issue(), world.issue()
    vc = exported(provider, credential_id)
    suspend = f"/v1/credentials/{credential_id}/suspend"

    assert provider.post(suspend, {"reason": "fees unpaid"}).status_code == 200
    read_models.catch_up()
    assert bits(public, vc) == {"revocation": False, "suspension": True}
    answer = verdict(public, vc)
    assert (answer["valid"], answer["suspended"], answer["registry_status"]) == (False, True, "suspended")
    assert bits(public, exported(provider, other)) == {"revocation": False, "suspension": False}

    assert provider.post(f"/v1/credentials/{credential_id}/reinstate").status_code == 200
    read_models.catch_up()
    assert bits(public, vc) == {"revocation": False, "suspension": False}
    assert verdict(public, vc)["valid"] is True

    # Revocation is final and ends an open suspension: the suspension bit clears, the revocation bit sets.
    assert provider.post(suspend, {"reason": "fraud suspected"}).status_code == 200
    assert provider.post(f"/v1/credentials/{credential_id}/revoke", {"reason": "fraud"}).status_code == 200
    read_models.catch_up()
    assert bits(public, vc) == {"revocation": True, "suspension": False}


def test_a_list_is_the_same_bytes_while_its_bits_are_the_same(
    world: World, provider: As, public: As, read_models: ReadModels
):
    vc = exported(provider, world.issue())
    read_models.catch_up()
    path = path_of(public, vc["credentialStatus"][1]["statusListCredential"])
    first = public.get(path)
    world.issue()  # a new credential on the same list: no bit changes
    read_models.catch_up()
    again = public.get(path)

    assert again.content == first.content
    assert first.headers["cache-control"] == "public, max-age=300"
    unchanged = public.client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    listed = first.json()
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["credentialSubject"]["ttl"] == 300_000
    assert listed["proof"]["created"] == listed["validFrom"]
    assert len(Bitstring.decode(listed["credentialSubject"]["encodedList"])) == LIST_SIZE


def test_status_lists_that_hold_no_credential_are_not_found(public: As):
    assert public.get("/v1/status-lists/revocation/5").status_code == 404
    assert public.get("/v1/status-lists/refresh/0").status_code == 422
    assert public.get("/v1/status-lists/revocation/-1").status_code == 422


def test_a_changed_credential_does_not_verify(world: World, provider: As, public: As, read_models: ReadModels):
    vc = exported(provider, world.issue())
    read_models.catch_up()
    _, key = published_key(public)

    renamed = copy.deepcopy(vc)
    renamed["credentialSubject"]["identifier"][0]["identityHash"] = "Grace Hopper"
    more_credits = copy.deepcopy(vc)
    more_credits["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    later_proof = copy.deepcopy(vc)
    later_proof["proof"]["created"] = "2030-01-01T00:00:00Z"
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    foreign_key = copy.deepcopy(vc)
    foreign_key["proof"]["verificationMethod"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#key-1"

    for changed in (renamed, more_credits, later_proof, unsigned, foreign_key):
        with pytest.raises(ProofVerificationError):
            verify_proof(changed, key)
        answer = verdict(public, changed)
        assert (answer["signature"], answer["valid"]) == ("invalid", False), answer
        assert answer["problems"]
    assert verdict(public, vc)["signature"] == "valid"


def test_verify_answers_a_verdict_for_anything_posted(public: As):
    answer = verdict(public, {"id": "urn:uuid:not-a-uuid", "issuer": 7, "credentialStatus": [1, {"a": "b"}]})
    assert (answer["valid"], answer["signature"], answer["issuer_trusted"]) == (False, "invalid", False)
    assert (answer["revoked"], answer["suspended"], answer["credential_id"]) == (None, None, None)
    unknown = verdict(public, {"id": f"urn:uuid:{uuid4()}", "proof": {"verificationMethod": 1}})
    assert unknown["credential_id"] is None
    not_an_object = public.client.post("/v1/verify", json=[1, 2])
    assert not_an_object.status_code == 422


# --- who may export ------------------------------------------------------------------------------------------------


def test_only_the_provider_and_the_authorities_export(services: Services, client: TestClient, world: World):
    credential_id = world.issue()
    other_provider = world.register_provider("BE", "Université Exemple")
    callers = {
        "public": (As(client, None), 403),
        "provider": (caller(services, client, Role.PROVIDER, world.provider_id), 200),
        "operator": (caller(services, client, Role.OPERATOR, uuid4()), 200),
        "authority NL": (caller(services, client, Role.NATIONAL_AUTHORITY, uuid4(), country="NL"), 200),
        "authority BE": (caller(services, client, Role.NATIONAL_AUTHORITY, uuid4(), country="BE"), 403),
        "other provider": (caller(services, client, Role.PROVIDER, other_provider), 403),
        "agency": (caller(services, client, Role.QA_AGENCY, world.agency_id), 403),
        "auditor": (caller(services, client, Role.AUDITOR, uuid4()), 403),
    }
    for name, (who, status) in callers.items():
        for document in ("vc", "elm"):
            response = who.get(f"/v1/credentials/{credential_id}/{document}")
            assert response.status_code == status, f"{name} {document}: {response.text}"
            if status == 403:
                assert response.json()["type"].endswith("/problems/forbidden")
    public = callers["public"][0]
    assert public.get("/.well-known/did.json").status_code == 200
    assert public.get(f"/v1/credentials/{uuid4()}/vc").status_code == 404


def test_a_forgotten_learners_credential_is_not_exported(services: Services, world: World, provider: As):
    credential_id = world.issue()
    services.registry.forget_learner(OPERATOR, services.registry.get(Credential, credential_id).learner_id)

    response = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert response.status_code == 409
    assert response.json()["type"].endswith("/problems/state-conflict")


# --- the ELM credential --------------------------------------------------------------------------------------------


def _keys_and_types(node: Any, keys: set[str], types: set[str]) -> None:
    if isinstance(node, dict):
        keys.update(node)
        if isinstance(node.get("type"), str):
            types.add(node["type"])
        for value in node.values():
            _keys_and_types(value, keys, types)
    elif isinstance(node, list):
        for value in node:
            _keys_and_types(value, keys, types)


def test_the_elm_credential_has_the_edc_samples_structure(services: Services, world: World, provider: As):
    sample = json.loads((vectors("elm") / ELM_SAMPLE).read_text(encoding="utf-8"))
    credential_id = world.issue(grade="8/10")
    response = provider.get(f"/v1/credentials/{credential_id}/elm")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    elm = response.json()

    assert set(elm) == set(sample), "the sample's top-level structure"
    for key in ("@context", "type", "credentialProfiles", "credentialSchema"):
        assert elm[key] == sample[key], key
    subject, sample_subject = elm["credentialSubject"], sample["credentialSubject"]
    assert subject["type"] == sample_subject["type"] == "Person"
    claim, sample_claim = subject["hasClaim"], sample_subject["hasClaim"]
    assert claim["type"] == sample_claim["type"] == "LearningAchievement"
    assert {"awardedBy", "provenBy", "specifiedBy", "title"} <= set(claim) <= set(sample_claim)
    qualification = claim["specifiedBy"]
    assert qualification["type"] == "Qualification"
    sample_qualification = sample_claim["specifiedBy"]
    for key in ("eqfLevel", "creditPoint"):  # same shape of concept and credit point, our values
        assert set(qualification[key]) == set(sample_qualification[key]), key
    assert set(elm["issuer"]) <= set(sample["issuer"])

    keys: set[str] = set()
    types: set[str] = set()
    _keys_and_types(elm, keys, types)
    sample_keys: set[str] = set()
    sample_types: set[str] = set()
    _keys_and_types(sample, sample_keys, sample_types)
    assert types <= sample_types
    # Beyond the sample: ELM v3 terms for the date of awarding and for the Annex I elements ELM has no field for.
    languages = {key for key in keys if len(key) == 2 and key.islower()}  # the keys of language maps
    assert keys - sample_keys - languages <= {"awardingDate", "additionalNote"}

    # The Annex I standard elements, our values.
    assert subject["fullName"] == {"en": "Ada Lovelace"}
    assert subject["dateOfBirth"] == "1995-12-10T00:00:00Z"
    assert claim["title"] == {"en": "Data analysis with Python", "nl": "Data-analyse met Python"}
    assert elm["issuer"]["legalName"] == {"en": "Universiteit Voorbeeld"}
    country = elm["issuer"]["location"]["address"]["countryCode"]
    assert country["id"] == "http://publications.europa.eu/resource/authority/country/NLD"
    assert claim["awardedBy"]["awardingBody"] == elm["issuer"]
    assert claim["awardedBy"]["awardingDate"] == elm["validFrom"] == "2024-03-01T00:00:00Z"
    assert qualification["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"
    assert qualification["creditPoint"]["point"] == "5"
    assert qualification["thematicArea"]["id"] == "http://data.europa.eu/snb/isced-f/0613"
    assert [o["title"]["en"] for o in qualification["learningOutcome"]] == [
        "Clean and analyse tabular data",
        "Communicate results with charts",
    ]
    assert qualification["learningOutcome"][0]["relatedESCOSkill"]["id"] == "http://data.europa.eu/esco/skill/ab12-cd34"
    assert qualification["mode"]["prefLabel"] == {"en": "Online"}
    assert claim["provenBy"]["specifiedBy"]["dcType"]["prefLabel"] == {"en": "project"}
    assert claim["provenBy"]["grade"]["noteLiteral"] == {"en": "8/10"}
    notes = [n["noteLiteral"]["en"] for n in qualification["additionalNote"]]
    assert "Type of quality assurance: internal." in notes
    assert elm["identifier"]["notation"] == str(credential_id)


# --- the read model ------------------------------------------------------------------------------------------------


def test_status_lists_projected_page_by_page_equal_a_rebuild(world: World, services: Services, read_models: ReadModels):
    registry, provider = services.registry, world.provider
    credentials = [world.issue() for _ in range(5)]
    read_models.catch_up(["status_lists"], page_size=1)
    registry.suspend_credential(provider, credentials[0], reason="fees unpaid")
    registry.suspend_credential(provider, credentials[1], reason="fees unpaid")
    registry.reinstate_credential(provider, credentials[1])
    registry.revoke_credential(provider, credentials[1], reason="fraud")
    registry.suspend_credential(provider, credentials[2], reason="fees unpaid")
    read_models.catch_up(["status_lists"], page_size=1)
    registry.revoke_credential(provider, credentials[2], reason="fraud")  # ends a suspension of an earlier page
    registry.suspend_credential(provider, credentials[3], reason="fees unpaid")
    registry.revoke_credential(provider, credentials[3], reason="fraud")  # ...and of the same page
    read_models.catch_up(["status_lists"], page_size=3)

    view = read_models["status_lists"].view
    assert read_models.check(["status_lists"]).equal
    rows = {row["credential_id"]: row for row in view.rows("status_list_entries")}
    assert [(rows[c]["revoked_at"] is not None, rows[c]["suspended"]) for c in credentials] == [
        (False, True),
        (True, False),
        (True, False),
        (True, False),
        (False, False),
    ]
    number, _ = list_place(export.issued_position(registry, credentials[0]))
    assert view.list_state("suspension", number).bits == [rows[credentials[0]]["bit"]]
    assert date.today() >= view.list_state("revocation", number).changed_at.date()
