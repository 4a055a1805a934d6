"""Every document the registry exports, read by software nobody here wrote.

A demo registry's credentials (revoked and suspended ones among them, with every optional standard
element), their issuers' status lists and DID documents are expanded as JSON-LD offline: no term is
dropped or left undefined. Every ``OpenBadgeCredential`` validates against the official Open Badges 3.0
AchievementCredential JSON Schema, and its proof still verifies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from jsonschema import Draft201909Validator

from mcreg.bootstrap import Services
from mcreg.demo import build_demo
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import decode_public_multikey, verify_proof
from mcreg.registry.vocabulary import Role
from mcreg.registry.trust.status_list import PURPOSES
from mcreg.services.documents import paired_status_entry, parse_status_list_url
from mcreg.services.exports import CredentialExports
from tests.testdata import data_path
from tests.trust.linked_data import undefined_terms
from tests.world import OPERATOR

DEMO_CREDENTIALS = 40


@dataclass
class Exported:
    """What a registry exports: signed OB3 credentials and ELM ones by credential id, status lists, DID documents."""

    credentials: dict[UUID, dict[str, Any]]
    elm: dict[UUID, dict[str, Any]]
    status_lists: dict[str, dict[str, Any]]
    did_documents: dict[str, dict[str, Any]]


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
    registry = services.registry
    build_demo(registry, credentials=DEMO_CREDENTIALS, seed=11)
    ids = issued(registry)
    suspended = registry.get(Credential, ids[0])  # the demo suspends 1%: none of 40
    registry.suspend_credential(Actor(suspended.provider_id, Role.PROVIDER, key_id="test-provider"), ids[0], reason="an inquiry")
    read_models.catch_up()
    public_url = services.settings.public_url
    exports = CredentialExports(registry, services.issuer_keys, read_models, public_url)
    credentials = {credential_id: exports.signed_vc(OPERATOR, credential_id) for credential_id in ids}
    lists = {}
    for vc in credentials.values():
        for purpose in PURPOSES:  # the credential names its revocation entry; its suspension is at the same place
            url = paired_status_entry(public_url, vc["credentialStatus"], purpose)["statusListCredential"]
            lists[url] = exports.signed_status_list(*parse_status_list_url(public_url, url))
    issuers = {vc["issuer"]["id"]: services.issuer_keys.issuer_of(vc["issuer"]["id"]) for vc in credentials.values()}
    dids = {did: services.issuer_keys.did_document(issuer_id) for did, issuer_id in issuers.items() if issuer_id}
    dids[services.signing_key.did] = services.signing_key.did_document()
    return Exported(credentials, {i: exports.elm(OPERATOR, i) for i in ids}, lists, dids)


def test_the_demo_exports_credentials_of_every_kind(exported: Exported, services: Services):
    assert len(exported.credentials) == DEMO_CREDENTIALS
    achievements = [vc["credentialSubject"]["achievement"] for vc in exported.credentials.values()]
    for element in ("supervision", "prerequisites", "stackableTowards", "furtherInformation"):
        assert any(element in achievement for achievement in achievements), element
    standing = [services.registry.get(Credential, i) for i in exported.credentials]
    assert any(c.revoked_on for c in standing) and any(c.suspensions for c in standing)


def test_every_exported_term_is_defined(exported: Exported):
    documents = {
        **{f"vc {i}": vc for i, vc in exported.credentials.items()},
        **{f"list {url}": listed for url, listed in exported.status_lists.items()},
        **{f"did {did}": document for did, document in exported.did_documents.items()},
    }
    undefined = {name: terms for name, document in documents.items() if (terms := undefined_terms(document))}
    assert not undefined, f"{len(undefined)} of {len(documents)} documents have undefined terms: " + json.dumps(
        dict(list(undefined.items())[:3]), indent=1
    )


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
