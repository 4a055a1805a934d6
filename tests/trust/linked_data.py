"""JSON-LD as a stranger's processor reads the registry's documents, offline: every context from a file.

``expand`` expands a document with ``pyld`` and a document loader that answers only the contexts the
registry ships (upstream copies byte for byte, and mcreg's own) and refuses any other URL (so nothing
touches the network);
``undefined_terms`` lists what a processor would drop or leave undefined: properties with no IRI, and
types and ids that expand to no absolute IRI (a term no context defines resolves against the base).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pyld import jsonld

from mcreg.registry.trust.linked_data import SHIPPED_CONTEXTS

ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
RELATIVE = "https://relative.invalid/"
"""The base a term that is no IRI resolves against when expanded, so that it shows."""


def offline_loader(url: str, options: object = None) -> dict[str, Any]:
    """The registry's own offline loader: the contexts it ships, and an error naming any other URL."""
    return SHIPPED_CONTEXTS(url, options)


def expand(document: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """The expanded document and the properties the processor dropped."""
    dropped: list[str] = []
    options = {"documentLoader": offline_loader, "base": RELATIVE}
    expanded = jsonld.expand(document, options, on_property_dropped=dropped.append)
    return expanded, dropped


def _undefined(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _undefined(item, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("@type", "@id") and "@value" not in node:
                for iri in value if isinstance(value, list) else [value]:
                    if iri.startswith(RELATIVE) or not ABSOLUTE_IRI.match(iri):
                        yield f"{path}: {key} {iri.removeprefix(RELATIVE)!r} is no IRI"
            elif not key.startswith("@") and not ABSOLUTE_IRI.match(key):
                yield f"{path}: property {key!r}"
            if key not in ("@value", "@type", "@id"):
                yield from _undefined(value, f"{path}/{key}")


def undefined_terms(document: dict[str, Any]) -> list[str]:
    """Every term of ``document`` that expands to nothing or to no absolute IRI, by where it stands."""
    expanded, dropped = expand(document)
    return [f"dropped property {name!r}" for name in dropped] + list(_undefined(expanded, ""))
