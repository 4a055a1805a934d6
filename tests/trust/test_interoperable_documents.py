"""Every document the registry exports, read by software nobody here wrote.

A demo registry's credentials (a revoked and a suspended one among them, with every optional standard
element), their ELM twins, their issuers' status lists and DID documents are expanded as JSON-LD offline: no
term is dropped or left undefined. Every ``OpenBadgeCredential`` validates against the official Open Badges
3.0 AchievementCredential JSON Schema, and its proof verifies with the key its issuer's DID document
publishes. mcreg's own context is served as published, and never changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft201909Validator
from pyld import jsonld

from mcreg.bootstrap import Services
from mcreg.demo import build_demo
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import decode_public_multikey, verify_proof
from mcreg.registry.trust.status_list import PURPOSES
from mcreg.registry.vocabulary import Role
from mcreg.services.documents import paired_status_entry, parse_status_list_url
from mcreg.services.exports import CredentialExports
from mcreg.services.jsonld_contexts import context_document, vocabulary_document
from tests.testdata import data_path
from tests.trust.linked_data import offline_loader, undefined_terms
from tests.world import OPERATOR

DEMO_CREDENTIALS = 40
CONTEXT_V1_SHA256 = "2db1f3ce5a573c41ea9cdbcb073c4d8e625fd608e21118627306c8ee616dc822"
"""mcreg's context v1 as published: a changed byte is a new version, never an edit."""


@dataclass
class Exported:
    """What a registry exports: signed OB3 and ELM credentials by credential id, status lists and DID documents by
    URL and DID."""

    credentials: dict[UUID, dict[str, Any]]
    elm: dict[UUID, dict[str, Any]]
    status_lists: dict[str, dict[str, Any]]
    did_documents: dict[str, dict[str, Any]]

    def documents(self) -> dict[str, dict[str, Any]]:
        """Every exported document, by what it is."""
        return {
            **{f"vc {i}": vc for i, vc in self.credentials.items()},
            **{f"elm {i}": elm for i, elm in self.elm.items()},
            **{f"list {url}": listed for url, listed in self.status_lists.items()},
            **{f"did {did}": document for did, document in self.did_documents.items()},
        }


def issued(registry: Registry) -> list[UUID]:
    """The ids of every credential the registry issued, from its log."""
    ids, start = [], 1
    while page := registry.recorder.select_notifications(start=start, limit=500):
        ids += [UUID(str(n.originator_id)) for n in page if n.topic.endswith(":Credential.Issued")]
        start = page[-1].id + 1
    return ids


@pytest.fixture
def exported(services: Services, read_models: ReadModels) -> Exported:
    """Everything a demo registry of 40 credentials exports (the operator may export them all)."""
    registry, public_url = services.registry, services.settings.public_url
    build_demo(registry, credentials=DEMO_CREDENTIALS, seed=11)
    ids = issued(registry)
    suspended = registry.get(Credential, ids[0])  # the demo suspends 1% of its credentials: none of 40
    provider = Actor(suspended.provider_id, Role.PROVIDER, key_id="test-provider")
    registry.suspend_credential(provider, suspended.id, reason="an inquiry")
    read_models.catch_up()

    exports = CredentialExports(registry, services.issuer_keys, read_models, public_url)
    credentials = {credential_id: exports.signed_vc(OPERATOR, credential_id) for credential_id in ids}
    lists = {}
    for vc in credentials.values():
        for purpose in PURPOSES:  # the credential names its revocation entry; its suspension is at the same place
            url = paired_status_entry(public_url, vc["credentialStatus"], purpose)["statusListCredential"]
            lists[url] = exports.signed_status_list(*parse_status_list_url(public_url, url))
    store = services.issuer_keys
    dids = {vc["issuer"]["id"]: store.did_document(store.issuer_of(vc["issuer"]["id"])) for vc in credentials.values()}
    log_keys = [key.public_key for key in services.log_keys.all_keys()]
    dids[services.identity.did] = services.identity.did_document(log_keys)
    return Exported(credentials, {i: exports.elm(OPERATOR, i) for i in ids}, lists, dids)


def test_the_demo_exports_credentials_of_every_kind(exported: Exported, services: Services):
    assert len(exported.credentials) == DEMO_CREDENTIALS
    achievements = [vc["credentialSubject"]["achievement"] for vc in exported.credentials.values()]
    for element in ("supervision", "prerequisites", "stackableTowards", "furtherInformation"):
        assert any(element in achievement for achievement in achievements), element
    assert any("result" in vc["credentialSubject"] for vc in exported.credentials.values())  # a grade
    standing = [services.registry.get(Credential, i) for i in exported.credentials]
    assert any(c.revoked_on for c in standing) and any(c.suspensions for c in standing)
    purposes = {listed["credentialSubject"]["statusPurpose"] for listed in exported.status_lists.values()}
    assert purposes == set(PURPOSES)


def test_every_exported_term_is_defined(exported: Exported):
    documents = exported.documents()
    undefined = {name: terms for name, document in documents.items() if (terms := undefined_terms(document))}
    assert not undefined, f"{len(undefined)} of {len(documents)} documents have undefined terms: " + json.dumps(
        dict(list(undefined.items())[:3]), indent=1
    )


def test_the_annex_elements_expand_to_mcregs_vocabulary(exported: Exported):
    vc = next(iter(exported.credentials.values()))
    (expanded,) = jsonld.expand(vc, {"documentLoader": offline_loader})
    (subject,) = expanded["https://www.w3.org/2018/credentials#credentialSubject"]
    (achievement,) = subject["https://purl.imsglobal.org/spec/vc/ob/vocab.html#achievement"]
    assert achievement["https://w3id.org/mcreg/vocab#assessmentType"] == [
        {"@value": vc["credentialSubject"]["achievement"]["assessmentType"]}
    ]
    assert achievement["https://w3id.org/mcreg/vocab#qualityAssuranceDecision"] == [
        {"@id": vc["credentialSubject"]["achievement"]["qualityAssuranceDecision"]}
    ]


def test_every_open_badge_credential_validates_against_the_ob3_schema(exported: Exported):
    schema = json.loads(data_path("ob3", "ob_v3p0_achievementcredential_schema.json").read_text(encoding="utf-8"))
    validator = Draft201909Validator(schema)
    failing = {
        str(i): sorted({f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in validator.iter_errors(vc)})
        for i, vc in exported.credentials.items()
    }
    failing = {i: errors for i, errors in failing.items() if errors}
    assert not failing, f"{len(failing)} of {len(exported.credentials)} fail: " + json.dumps(
        dict(list(failing.items())[:2]), indent=1
    )


def test_the_achievement_carries_what_wallets_display(exported: Exported):
    for vc in exported.credentials.values():
        achievement = vc["credentialSubject"]["achievement"]
        assert achievement["name"] and achievement["description"] and achievement["criteria"]["narrative"]
        image = achievement["image"]
        assert image["type"] == "Image" and image["id"].startswith("data:image/svg+xml;base64,")
        assert image["caption"].startswith(achievement["name"])
        assert (vc["issuer"]["name"], vc["issuer"]["url"]) == (
            achievement["creator"]["name"],
            achievement["creator"]["url"],
        )
        frameworks = {alignment["targetFramework"] for alignment in achievement["alignment"]}
        assert {"ESCO", "ISCED-F 2013"} <= frameworks


def test_every_proof_verifies_with_the_key_its_issuers_did_document_publishes(exported: Exported):
    for vc in [*exported.credentials.values(), *exported.status_lists.values()]:
        issuer = vc["issuer"]["id"] if isinstance(vc["issuer"], dict) else vc["issuer"]
        methods = exported.did_documents[issuer]["verificationMethod"]
        (method,) = [m for m in methods if m["id"] == vc["proof"]["verificationMethod"]]
        verify_proof(vc, decode_public_multikey(method["publicKeyMultibase"]))


def test_mcregs_context_is_served_as_published_and_never_changes(client: TestClient):
    published = context_document()
    assert hashlib.sha256(published).hexdigest() == CONTEXT_V1_SHA256
    context = json.loads(published)["@context"]
    assert "@vocab" not in context and context["@protected"] is True

    for path, document in (("/contexts/mcreg/v1.jsonld", published), ("/contexts/mcreg/vocab.jsonld", None)):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/ld+json"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert document is None or response.content == document


def test_every_term_of_the_context_is_described_by_the_vocabulary():
    context = json.loads(context_document())["@context"]
    terms = {definition["@id"] for name, definition in context.items() if not name.startswith("@")}
    described = {node["@id"] for node in jsonld.expand(json.loads(vocabulary_document()))}
    assert terms and terms <= described


@pytest.mark.parametrize(
    "example",
    ["example-basic-openbadgecredential.json", "example-complete-openbadgecredential.json"],
)
def test_the_specifications_own_examples_pass_the_same_schema(example: str):
    schema = json.loads(data_path("ob3", "ob_v3p0_achievementcredential_schema.json").read_text(encoding="utf-8"))
    document = json.loads(data_path("ob3", example).read_text(encoding="utf-8"))
    assert not list(Draft201909Validator(schema).iter_errors(document))
