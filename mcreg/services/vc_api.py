"""The W3C VC-API's issuing and its request shapes: what a provider may have signed, and what a request must hold.

``VcApiIssuer.issue`` signs a VC 2.0 credential a provider posts to
``/credentials/issue`` with the provider's current key, under the key's
``did:key`` (``did:key:`` + the key's ``publicKeyMultibase``, as the provider's
DID document lists it). Nothing is recorded: the registry's micro-credentials
are issued by ``POST /v1/credentials`` and name the provider's ``did:web``, so
this refuses a credential naming that ``did:web``, one with a status entry or a
proof, and one not in the shape ``mcreg.services.credential_shape`` asks; a
verifier tells a signed-only credential by its ``did:key`` issuer and warns
that the registry did not record it (docs/decisions.md, "The W3C VC-API").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcreg.registry.errors import DomainError, Forbidden
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import Cryptosuite, add_proof
from mcreg.registry.trust.errors import ProofTransformationError
from mcreg.registry.vocabulary import Role
from mcreg.services.credential_shape import credential_problems
from mcreg.services.documents import xsd_datetime
from mcreg.stores.issuer_keys import IssuerKeyStore

ISSUE_OPTIONS = frozenset({"cryptosuite"})
"""The ``options`` ``/credentials/issue`` understands; any other is refused rather than ignored."""
ISSUE_CRYPTOSUITE = Cryptosuite.EDDSA_JCS_2022
"""What ``/credentials/issue`` signs with unless ``options.cryptosuite`` names the other suite: jcs signs any
JSON, so a credential naming a context the registry does not ship (the W3C suites' examples) can be issued;
eddsa-rdfc-2022, in safe mode, signs only what the shipped contexts define."""


class VcApiRequestInvalid(DomainError):
    """The body is not the request the VC-API defines for the endpoint, or the credential cannot be issued this way."""

    type = "vc-api-invalid-input"
    title = "Invalid VC-API request"
    status = 400


def request_object(body: object, member: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The object ``body[member]`` and the request's ``options`` (an object, or absent)."""
    if not isinstance(body, Mapping):
        raise VcApiRequestInvalid(f"the body must be a JSON object with {member!r} and 'options'")
    document = body.get(member)
    if not isinstance(document, Mapping):
        raise VcApiRequestInvalid(f"{member!r} must be a JSON object")
    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise VcApiRequestInvalid("'options' must be a JSON object")
    unknown = sorted(set(body) - {member, "options"})
    if unknown:
        raise VcApiRequestInvalid(f"the request holds members the VC-API does not define: {', '.join(unknown)}")
    return document, options


def issuer_named(document: Mapping[str, Any]) -> object:
    issuer = document.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


@dataclass(frozen=True)
class VcApiIssuer:
    """Signs credentials for the providers that hold keys in one registry."""

    issuer_keys: IssuerKeyStore

    def issue(self, actor: Actor, credential: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
        """``credential`` signed by the actor's current key under its ``did:key``, ``created`` now, to the second."""
        if actor.role != Role.PROVIDER:
            raise Forbidden("only a provider issues through the VC-API, with its own key")
        unknown = sorted(set(options) - ISSUE_OPTIONS)
        if unknown:
            raise VcApiRequestInvalid(f"options not supported: {', '.join(unknown)}")
        named_suite = options.get("cryptosuite", ISSUE_CRYPTOSUITE)
        if named_suite not in tuple(Cryptosuite):
            raise VcApiRequestInvalid(f"the cryptosuite {named_suite!r} is not offered: {', '.join(Cryptosuite)}")
        problems = credential_problems(credential)
        if "proof" in credential:
            problems.append("the credential already has a proof")
        if "credentialStatus" in credential:
            problems.append("status lists hold the registry's recorded credentials only: drop credentialStatus")
        if problems:
            raise VcApiRequestInvalid("; ".join(problems))
        store = self.issuer_keys
        named = issuer_named(credential)
        if not (isinstance(named, str) and named.startswith("did:key:")):
            web = store.did(actor.org)
            why = "names the registry's recorded credentials (POST /v1/credentials)" if named == web else "is not one"
            raise VcApiRequestInvalid(f"the issuer {named} {why}: the VC-API signs under a did:key of yours")
        if store.issuer_of(named) != actor.org:
            raise Forbidden(f"the issuer {named} is not a key of yours")
        key = store.signing_key(actor.org)
        multikey = key.key.public_key_multibase
        did = f"did:key:{multikey}"
        if named != did:
            raise VcApiRequestInvalid(f"{named} is a key of yours that no longer signs: your did:key is now {did}")
        created = xsd_datetime(store.registry.clock())
        try:
            return add_proof(
                credential, key.private_key, f"{did}#{multikey}", cryptosuite=Cryptosuite(named_suite), created=created
            )
        except ProofTransformationError as error:
            raise VcApiRequestInvalid(f"{named_suite} cannot sign this credential: {error}") from error
