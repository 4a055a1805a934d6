"""JSON-LD without the network: the shipped contexts, and RDF Dataset Canonicalization in safe mode.

``ContextLoader`` is a JSON-LD document loader that serves contexts from
memory and nothing else: ``SHIPPED_CONTEXTS`` holds those in ``contexts/``
beside this module (``index.json`` maps each URL to its file). A document
naming any other context fails with a ``ProofTransformationError`` naming the
URL; no URL from a document is ever fetched.

``canonical_nquads`` is the transformation of ``eddsa-rdfc-2022``: the RDFC-1.0
(URDNA2015) canonical N-Quads of a JSON-LD document, computed by ``pyld``. It
runs in safe mode, as W3C Data Integrity says implementations should: a term
no context defines, or a type or id that is no absolute IRI, would silently
drop out of the signed statements, so it is an error instead.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from mcreg.registry.trust.errors import DataIntegrityError, ProofTransformationError

__all__ = ["SHIPPED_CONTEXTS", "ContextLoader", "canonical_nquads"]

RDFC_1_0 = "URDNA2015"  # pyld's name of RDFC-1.0: the W3C Recommendation is URDNA2015, renamed
_CONTEXTS = files(__package__ or "").joinpath("contexts")
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # RFC 3987: a scheme, then anything


class ContextLoader:
    """A JSON-LD document loader over a fixed set of contexts, with its own cache of processed contexts.

    pyld's default cache is shared by every loader, keyed by URL; a loader of
    its own keeps a context one loader serves from resolving under another.
    pyld's caches are not thread-safe, so one canonicalization at a time uses
    them (pyld is pure Python: threads would take turns anyway).
    """

    def __init__(self, contexts: Mapping[str, Mapping[str, Any]]) -> None:
        self._contexts = {url: copy.deepcopy(dict(document)) for url, document in contexts.items()}
        self._resolved: LRUCache[str, Any] = LRUCache(maxsize=64)
        self._lock = threading.Lock()

    @classmethod
    def shipped(cls) -> ContextLoader:
        """The contexts in the package's ``contexts/`` folder, by the URLs ``index.json`` gives them."""
        index = json.loads(_CONTEXTS.joinpath("index.json").read_text(encoding="utf-8"))
        return cls(
            {url: json.loads(_CONTEXTS.joinpath(name).read_text(encoding="utf-8")) for url, name in index.items()}
        )

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._contexts)

    def with_contexts(self, contexts: Mapping[str, Mapping[str, Any]]) -> ContextLoader:
        """A loader serving these contexts as well (e.g. a test vector's example context)."""
        return ContextLoader({**self._contexts, **contexts})

    def __call__(self, url: str, options: object = None) -> dict[str, Any]:
        """pyld's ``documentLoader(url, options)``: the context, or an error naming the URL, never a fetch."""
        document = self._contexts.get(url)
        if document is None:
            raise ProofTransformationError(
                f"the @context {url} is not one this registry ships, and no context is fetched from the network"
            )
        # "static": the contexts never change, so pyld keeps them processed in this loader's cache
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(document), "tag": "static"}

    def options(self) -> dict[str, Any]:
        """pyld processing options that load through this loader only."""
        return {"documentLoader": self, "contextResolver": ContextResolver(self._resolved, self)}


SHIPPED_CONTEXTS = ContextLoader.shipped()


def _failure(error: jsonld.JsonLdError) -> ProofTransformationError:
    """The error behind a pyld failure: the loader's own, or the innermost JSON-LD error with its code."""
    cause: BaseException | None = error
    innermost = error
    while cause is not None:
        if isinstance(cause, DataIntegrityError):
            return ProofTransformationError(str(cause))
        if isinstance(cause, jsonld.JsonLdError):
            innermost = cause
        cause = cause.__cause__
    code = f" ({innermost.code})" if innermost.code else ""
    return ProofTransformationError(f"not valid JSON-LD: {innermost.args[0]}{code}")


def _unsafe_references(node: Any, found: set[str]) -> None:
    """Each ``@type`` and ``@id`` of an expanded document that is neither an absolute IRI nor a blank node."""
    if isinstance(node, list):
        for item in node:
            _unsafe_references(item, found)
        return
    if not isinstance(node, dict) or "@value" in node:
        return
    for key, value in node.items():
        if key in ("@type", "@id"):
            for reference in value if isinstance(value, list) else [value]:
                if not (isinstance(reference, str) and (reference.startswith("_:") or _ABSOLUTE_IRI.match(reference))):
                    found.add(f"{key} {reference!r}")
        else:
            _unsafe_references(value, found)


def canonical_nquads(document: Mapping[str, Any], contexts: ContextLoader = SHIPPED_CONTEXTS) -> bytes:
    """The RDFC-1.0 canonical N-Quads (UTF-8) of a JSON-LD document, in safe mode.

    Raises ``ProofTransformationError`` for a context ``contexts`` does not
    serve, for JSON-LD that is not valid, for any term, type or id that
    would be dropped on the way to RDF, and for anything else pyld cannot
    process (a presented document may be any JSON).
    """
    try:
        with contexts._lock:
            return _canonical_nquads(document, contexts)
    except ProofTransformationError:
        raise
    except jsonld.JsonLdError as error:
        raise _failure(error) from error
    except _PYLD_FAILURES as error:
        raise ProofTransformationError(f"cannot process the document as JSON-LD: {type(error).__name__}") from error


# What pyld raises, besides its own errors, on JSON it was not written for: numbers no float holds, nesting
# deeper than the recursion limit, a value of a type it does not expect
_PYLD_FAILURES = (RecursionError, OverflowError, ValueError, TypeError, LookupError, AttributeError)


def _canonical_nquads(document: Mapping[str, Any], contexts: ContextLoader) -> bytes:
    dropped: set[str] = set()
    processor = jsonld.JsonLdProcessor(on_property_dropped=lambda term: dropped.add(str(term)))
    # No base IRI: a relative IRI stays relative, for safe mode to find (pyld resolves it against example.org)
    options = {**contexts.options(), "base": None}
    expanded = processor.expand(dict(document), options)
    if dropped:
        raise ProofTransformationError(
            f"safe mode: no @context defines {', '.join(sorted(dropped))}: JSON-LD would drop it from what is signed"
        )
    relative: set[str] = set()
    _unsafe_references(expanded, relative)
    if relative:
        raise ProofTransformationError(
            f"safe mode: {', '.join(sorted(relative))} is no absolute IRI: JSON-LD would drop it from what is signed"
        )
    canonical = processor.normalize(expanded, {**options, "algorithm": RDFC_1_0, "format": "application/n-quads"})
    return str(canonical).encode("utf-8")
