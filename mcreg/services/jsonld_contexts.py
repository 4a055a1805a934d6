"""mcreg's own JSON-LD context: the terms of its exports that no published context defines.

The VC 2.0 context has no ``@vocab``, so a JSON-LD processor drops any term that the contexts a document
names do not define. The Annex I standard elements that Open Badges 3.0 has no term for are defined in
``mcreg-v1.jsonld``, shipped with the other contexts the registry names (``mcreg.registry.trust``'s
``contexts/``, which its offline loader serves) and never changed once published (a new term is a new
version). Its URL, ``MCREG_CONTEXT_URL``, is the same for every registry whatever its public URL
(docs/decisions.md, "One context for mcreg's terms"): every registry serves the same bytes at
``CONTEXT_PATH``, and verifiers load it from their own copy.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MCREG_CONTEXT_URL = "https://w3id.org/mcreg/contexts/v1.jsonld"
"""The context's identifier in every document that names it."""
MCREG_VOCABULARY = "https://w3id.org/mcreg/vocab#"
"""The namespace of the context's terms; ``VOCABULARY_PATH`` on a registry describes each term."""
CONTEXT_PATH = "/contexts/mcreg/v1.jsonld"
VOCABULARY_PATH = "/contexts/mcreg/vocab.jsonld"
JSONLD_MEDIA_TYPE = "application/ld+json"


@cache
def context_document() -> bytes:
    """The context, byte for byte as published."""
    return files("mcreg.registry.trust").joinpath("contexts", "mcreg-v1.jsonld").read_bytes()


@cache
def vocabulary_document() -> bytes:
    """The vocabulary: each term's IRI, label and meaning (RDF Schema, as JSON-LD)."""
    return files("mcreg.registry.trust").joinpath("contexts", "mcreg-vocab.jsonld").read_bytes()
