"""What a VC 2.0 credential or presentation must look like before it is signed or believed, read as JSON only.

The registry signs and verifies with ``eddsa-jcs-2022``, which never expands
JSON-LD, so nothing here fetches a context: a context named by URL must be one
of ``KNOWN_CONTEXTS``; an inline context may name terms, but not ``@vocab``,
``@base`` or ``@import`` (a term that means whatever the document wants) and
not a term of the VC 2.0 context (whose terms are protected). The rest is VC
Data Model 2.0 §4: ``type``, ``issuer``, ``credentialSubject``, identifiers
that are URLs, dates that are XML Schema dateTimes with ``validUntil`` not
before ``validFrom``. Each function answers the problems it found, in words;
none means the document has the shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mcreg.services import documents
from mcreg.services.documents import VC_CONTEXT

KNOWN_CONTEXTS = frozenset(
    {
        *documents.KNOWN_CONTEXTS,
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
    }
)
"""Contexts accepted by URL: those the registry's documents use and those the W3C suites post. None is fetched."""

UNSAFE_KEYWORDS = ("@vocab", "@base", "@import")
PROTECTED_TERMS = frozenset(
    {
        "id",
        "type",
        "issuer",
        "holder",
        "credentialSubject",
        "credentialStatus",
        "credentialSchema",
        "validFrom",
        "validUntil",
        "proof",
        "evidence",
        "termsOfUse",
        "refreshService",
        "relatedResource",
        "verifiableCredential",
        "name",
        "description",
        "VerifiableCredential",
        "VerifiablePresentation",
        "DataIntegrityProof",
    }
)
"""Terms the VC 2.0 context defines as ``@protected``: an inline context may not redefine them."""

LANGUAGE_VALUE = frozenset({"@value", "@language", "@direction"})
TYPED_MEMBERS = ("evidence", "termsOfUse", "refreshService", "credentialSchema", "credentialStatus")

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def is_url(value: object) -> bool:
    """A URL in the VC Data Model's sense: a scheme, a colon and no white space."""
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def context_problems(context: object) -> list[str]:
    """What is wrong with a document's ``@context``: it must start with the VC 2.0 context and fetch nothing."""
    if not isinstance(context, list) or context[:1] != [VC_CONTEXT]:
        return [f"@context must be a list starting with {VC_CONTEXT}"]
    problems = []
    protected = set(PROTECTED_TERMS)
    for entry in context[1:]:
        if isinstance(entry, str):
            if entry not in KNOWN_CONTEXTS:
                problems.append(f"the context {entry!r} is not one this registry knows, and it fetches none")
        elif isinstance(entry, Mapping):
            problems += _inline_problems(entry, protected)
        else:
            problems.append("each @context entry must be a URL or an object")
    return problems


def _inline_problems(context: Mapping[str, Any], protected: set[str]) -> list[str]:
    """An inline context names terms by URL, redefines no protected term, and plays no ``@vocab`` games;
    its own terms become protected when it says ``@protected``."""
    problems = []
    unsafe = [k for k in context if k in UNSAFE_KEYWORDS]
    terms = {k: v for k, v in context.items() if not k.startswith("@")}
    redefined = sorted(k for k in terms if k in protected)
    not_urls = sorted(k for k, v in terms.items() if not is_url(v.get("@id") if isinstance(v, Mapping) else v))
    if unsafe:
        problems.append(f"an inline context may not use {', '.join(unsafe)}: its terms would mean anything")
    if redefined:
        problems.append(f"an inline context may not redefine the protected terms {', '.join(redefined)}")
    if not_urls:
        problems.append(f"an inline context must map each term to a URL: {', '.join(not_urls)}")
    if context.get("@protected") is True:
        protected.update(terms)
    return problems


def _language_values_problems(document: Mapping[str, Any], what: str) -> list[str]:
    """``name`` and ``description``: a string, a language value object, or a list of them (VC DM 2.0 §4.6)."""
    problems = []
    for member in ("name", "description"):
        if member not in document:
            continue
        value = document[member]
        values = value if isinstance(value, list) else [value]
        if not all(
            isinstance(v, str)
            or (isinstance(v, Mapping) and isinstance(v.get("@value"), str) and set(v) <= LANGUAGE_VALUE)
            for v in values
        ):
            problems.append(
                f"{what}{member} must be a string or language value objects (@value, @language, @direction)"
            )
    return problems


def _typed_problems(credential: Mapping[str, Any]) -> list[str]:
    """Evidence, terms of use, refresh services, schemas and status entries are objects with a ``type``; a schema's
    ``id`` is a URL (VC DM 2.0 §4.10-§5)."""
    problems = []
    for member in TYPED_MEMBERS:
        if member not in credential:
            continue
        value = credential[member]
        for entry in value if isinstance(value, list) else [value]:
            if not (isinstance(entry, Mapping) and isinstance(entry.get("type"), str | list) and entry["type"]):
                problems.append(f"each {member} must be an object with a type")
            elif member == "credentialSchema" and not is_url(entry.get("id")):
                problems.append("each credentialSchema must have a URL id")
    return problems


def _types_problems(types: object, required: str) -> list[str]:
    if isinstance(types, str):
        types = [types]
    if not (isinstance(types, list) and required in types and all(isinstance(t, str) for t in types)):
        return [f"type must include {required}"]
    return []


def _identified(value: object, what: str) -> list[str]:
    """A URL, or an object whose ``id`` is one."""
    named = value.get("id") if isinstance(value, Mapping) else value
    return [] if is_url(named) else [f"{what} must be a URL or an object with a URL id"]


def _moment(value: str) -> datetime | None:
    if not _DATETIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def credential_problems(credential: Mapping[str, Any]) -> list[str]:
    """What keeps ``credential`` from being a VC 2.0 credential, without fetching anything."""
    problems = context_problems(credential.get("@context"))
    problems += _types_problems(credential.get("type"), "VerifiableCredential")
    if "id" in credential and not is_url(credential["id"]):
        problems.append("id must be a single URL")
    problems += _identified(credential.get("issuer"), "issuer")
    problems += _language_values_problems(credential, "")
    if isinstance(credential.get("issuer"), Mapping):
        problems += _language_values_problems(credential["issuer"], "issuer.")
    problems += _typed_problems(credential)
    subjects = credential.get("credentialSubject")
    subjects = subjects if isinstance(subjects, list) else [subjects]
    if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
        problems.append("credentialSubject must be one or more objects making claims")
    elif any("id" in s and not is_url(s["id"]) for s in subjects):
        problems.append("a credentialSubject id must be a URL")
    moments = {}
    for name in ("validFrom", "validUntil"):
        if name in credential:
            value = credential[name]
            moments[name] = _moment(value) if isinstance(value, str) else None
            if moments[name] is None:
                problems.append(f"{name} must be an XML Schema dateTime")
    start, end = moments.get("validFrom"), moments.get("validUntil")
    if start is not None and end is not None and (start.tzinfo is None) == (end.tzinfo is None) and end < start:
        problems.append("validUntil is before validFrom")
    return problems


def presentation_problems(presentation: Mapping[str, Any]) -> list[str]:
    """What keeps ``presentation`` from being a VC 2.0 presentation (its credentials are verified on their own)."""
    problems = context_problems(presentation.get("@context"))
    problems += _types_problems(presentation.get("type"), "VerifiablePresentation")
    if "id" in presentation and not is_url(presentation["id"]):
        problems.append("id must be a single URL")
    if "holder" in presentation:
        problems += _identified(presentation["holder"], "holder")
    credentials = presentation.get("verifiableCredential", [])
    credentials = credentials if isinstance(credentials, list) else [credentials]
    if not all(isinstance(c, Mapping) for c in credentials):
        problems.append("verifiableCredential must hold credential objects, not strings, numbers or URLs")
    return problems
