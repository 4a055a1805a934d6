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
from pyld import jsonld
from pyshacl import validate

from mcreg.bootstrap import Services
from mcreg.demo import build_demo
from mcreg.projections.read_models import ReadModels
from mcreg.registry.trust.linked_data import SHIPPED_CONTEXTS
from mcreg.services.exports import CredentialExports
from tests.testdata import data_path
from tests.trust.test_interoperable_documents import issued
from tests.world import OPERATOR

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


def violations(document: dict[str, Any]) -> Counter[str]:
    """The document's SHACL results by shape, path and message, counted. One document at a time: the nodes of
    an ELM document are named within it (``urn:epass:org:1``), so two documents in one graph would merge."""
    _, report, _ = validate(rdf(document), shacl_graph=SHAPES, inference="none")
    assert isinstance(report, rdflib.Graph)
    return Counter(
        f"{report.value(result, SH.sourceShape)} {report.value(result, SH.resultPath)}: "
        f"{report.value(result, SH.resultMessage)}"
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
    found: Counter[str] = Counter()
    conforming = 0
    for document in elm_exports.values():
        own = violations(document)
        found += Counter(set(own))  # each distinct violation once per document
        conforming += not own
    assert conforming == len(elm_exports), f"{conforming} of {len(elm_exports)} conform; in how many documents:\n" + (
        "\n".join(f"{n} x {v}" for v, n in found.most_common())
    )


def test_the_official_sample_is_counted_alike():
    sample = json.loads(data_path("elm", "Sample-MC-Annex1-unsigned.jsonld").read_text(encoding="utf-8"))
    assert sum(violations(sample).values()) == SAMPLE_VIOLATIONS
