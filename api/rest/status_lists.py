"""Issuers' public trust documents: DID documents, signed Bitstring Status Lists, and their keys.

Every issuer the registry hosts is a ``did:web``: the registry at
``/.well-known/did.json`` (and ``/did.json``), each provider at
``/issuers/{id}/did.json`` (``did:web:{host}:issuers:{id}``). A provider's
status lists are built from the ``issuer_status_lists`` read model and signed
with the provider's own key, so a list's issuer is the issuer of the
credentials on it; the proof's ``created`` and the list's ``validFrom`` date
from when its bits last changed, so the same bits give the same bytes while
the key is the same: lists are served with an ``ETag`` and cached for their
``ttl``.

Providers rotate their keys and report a key compromised here; the operator,
who holds every issuer's private keys, may do both for any issuer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Path, Query, Response
from pydantic import Field

from mcreg.api.deps import Caller, Exports, Identity, IssuerKeyring, Log, Registered, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES, IdempotencyKey, Input, Output
from mcreg.registry.aggregates.issuer_keys import REGISTRY_ISSUER_ID, IssuerKey, KeyStatus
from mcreg.registry.application import Registry
from mcreg.registry.errors import NotFound
from mcreg.registry.trust.data_integrity import Cryptosuite, canonicalize
from mcreg.services.documents import STATUS_LIST_TTL_MS, parse_list_name
from mcreg.services.exports import EXPORT_CRYPTOSUITE, published_key
from mcreg.stores.issuer_keys import IssuerKeyStore

router = APIRouter(tags=["trust"], responses=PROBLEM_RESPONSES)

VC_MEDIA_TYPE = "application/vc"
"""VC Data Model 2.0 §6.3: a verifiable credential, here with an embedded proof."""
DID_MEDIA_TYPE = "application/did+ld+json"
LIST_NAME = r"^(revocation|suspension)-(0|[1-9][0-9]{0,9})$"
PUBLIC_CACHE = f"public, max-age={STATUS_LIST_TTL_MS // 1000}"
"""Lists, DID documents and key lists: 5 minutes, so that a revocation or a compromised key is seen within that."""


def etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _cached(body: bytes, media_type: str, if_none_match: str | None) -> Response:
    tag = etag(body)
    headers = {"ETag": tag, "Cache-Control": PUBLIC_CACHE}
    if if_none_match is not None and tag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _document(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": {"type": "object"}}}}, 304: {"description": "Unchanged"}}


SignedWith = Annotated[
    Cryptosuite,
    Query(
        description="The Data Integrity cryptosuite of the proof: RDF canonicalization (`eddsa-rdfc-2022`, what "
        f"Open Badges 3.0 certification accepts) or JSON canonicalization (`eddsa-jcs-2022`). "
        f"By default `{EXPORT_CRYPTOSUITE}`."
    ),
]
IfNoneMatch = Annotated[str | None, Header(description="An ETag from an earlier answer: 304 while unchanged")]
IssuerId = Annotated[UUID, Path(description="The issuer: a provider's id")]


@router.get(
    "/v1/status/{issuer_id}/{list_name}",
    summary="An issuer's signed Bitstring Status List (revocation-N or suspension-N)",
    description="The list a credential's `credentialStatus` entry names, signed by the issuer's key. Each issuer "
    "has lists of 131,072 entries, each credential at a random index; a list takes credentials until it is half "
    "full. Revocations show once the read model has followed the log (milliseconds). Cache it for its `ttl`; "
    "`If-None-Match` answers 304 while the bits are the same. Signed with either cryptosuite (`cryptosuite`).",
    response_class=Response,
    responses=_document(VC_MEDIA_TYPE),
)
def get_status_list(
    issuer_id: IssuerId,
    list_name: Annotated[str, Path(pattern=LIST_NAME, description="`revocation-<n>` or `suspension-<n>`")],
    _: Visitor,
    exports: Exports,
    if_none_match: IfNoneMatch = None,
    cryptosuite: SignedWith = EXPORT_CRYPTOSUITE,
) -> Response:
    place = parse_list_name(list_name)
    signed = exports.signed_status_list(issuer_id, *place, cryptosuite) if place is not None else None
    if signed is None:
        raise NotFound("status list", f"{issuer_id}/{list_name}")
    return _cached(canonicalize(signed), VC_MEDIA_TYPE, if_none_match)


# --- DID documents ---------------------------------------------------------------------------------------------------


def _registry_did_document(
    _: Visitor, identity: Identity, log: Log, store: IssuerKeyring, if_none_match: IfNoneMatch = None
) -> Response:
    log_keys = [announced.key.public_key for announced in log.announced()]
    document = identity.did_document(log_keys, store.keys(REGISTRY_ISSUER_ID))
    return _cached(canonicalize(document), DID_MEDIA_TYPE, if_none_match)


# did:web resolves a bare host to /.well-known/did.json and a host with a path to <path>/did.json; a proxy that
# serves the registry under a path prefix maps the latter to /did.json here. Both answer the same document.
for _path, _name in (
    ("/.well-known/did.json", "get_registry_did_document"),
    ("/did.json", "get_registry_did_document_under_a_path"),
):
    router.add_api_route(
        _path,
        _registry_did_document,
        name=_name,
        methods=["GET"],
        summary="The registry's DID document (did:web): its log keys and its own issuer keys, as Multikeys",
        description="`#log` is the log key in force; `#log-{n}` are the keys it replaced, kept so that checkpoints "
        "they signed before their rotation verify (`GET /v1/log/keys` gives the notes that announced each key).",
        response_class=Response,
        responses=_document(DID_MEDIA_TYPE),
    )


@router.get(
    "/issuers/{issuer_id}/did.json",
    summary="A provider's DID document (did:web:{host}:issuers:{id}): its signing keys, as Multikeys",
    description="Every key the provider has had: retired keys stay (what they signed before retiring verifies); a "
    "key reported compromised stays with `revoked` (since when) and is no `assertionMethod` any more. "
    "A provider has a key from its accreditation or its first credential on.",
    response_class=Response,
    responses=_document(DID_MEDIA_TYPE),
)
def get_issuer_did_document(
    issuer_id: IssuerId, _: Visitor, store: IssuerKeyring, if_none_match: IfNoneMatch = None
) -> Response:
    if issuer_id == REGISTRY_ISSUER_ID or not store.known(issuer_id):
        raise NotFound("issuer", issuer_id)
    return _cached(canonicalize(store.did_document(issuer_id)), DID_MEDIA_TYPE, if_none_match)


# --- keys ------------------------------------------------------------------------------------------------------------


class IssuerKeyOut(Output):
    key_id: str = Field(examples=["key-1"])
    verification_method: str
    public_key_multibase: str = Field(examples=["z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"])
    valid_from: datetime
    retired_on: datetime | None = Field(description="Replaced by a newer key then; what it signed before verifies")
    compromised_since: datetime | None = Field(description="No proof by this key made since then is trusted")
    status: KeyStatus = Field(description="What the key is now")


class IssuerKeysOut(Output):
    issuer_id: UUID
    did: str
    keys: list[IssuerKeyOut]


class Rotation(Input):
    valid_from: datetime | None = Field(
        default=None, description="When the new key starts to sign (now if not given; at most 90 days ahead)"
    )


class Compromise(Input):
    since: datetime = Field(description="Since when the key may have been in other hands (not in the future)")


def _key_out(store: IssuerKeyStore, issuer_id: UUID, key: IssuerKey, now: datetime) -> IssuerKeyOut:
    return IssuerKeyOut.model_validate(published_key(store, issuer_id, key, now))


def _recorded_key(store: IssuerKeyStore, registry: Registry, issuer_id: UUID, key_id: str) -> IssuerKeyOut:
    recorded = registry.issuer_keys(issuer_id)
    key = recorded.key(key_id) if recorded is not None else None
    if key is None:
        raise NotFound("issuer key", f"{issuer_id}#{key_id}")
    return _key_out(store, issuer_id, key, registry.clock())


@router.get(
    "/v1/issuers/{issuer_id}/keys",
    summary="An issuer's signing keys and their life: valid from, retired on, compromised since. For anyone",
    description="A provider's id, or the registry's own issuer id. The DID document says the same for resolvers.",
)
def list_issuer_keys(
    response: Response, issuer_id: IssuerId, _: Visitor, registry: Registered, store: IssuerKeyring
) -> IssuerKeysOut:
    if not store.known(issuer_id):
        raise NotFound("issuer", issuer_id)
    now = registry.clock()
    keys = [_key_out(store, issuer_id, key, now) for key in store.keys(issuer_id)]
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return IssuerKeysOut(issuer_id=issuer_id, did=store.did(issuer_id), keys=keys)


@router.post(
    "/v1/issuers/{issuer_id}/keys",
    status_code=201,
    summary="Rotate: a new signing key for the issuer; the key in use retires when the new one becomes valid",
    description="For the provider itself, and the operator (for the registry and, as the custodian of every "
    "issuer's private key, for any provider). The registry makes the key pair; the private key never leaves it. "
    "Credentials signed with the retired key keep verifying; new exports are signed with the new key.",
)
def rotate_issuer_key(
    response: Response,
    issuer_id: IssuerId,
    actor: Caller,
    registry: Registered,
    store: IssuerKeyring,
    body: Annotated[Rotation | None, Body()] = None,
    key: IdempotencyKey = None,
) -> IssuerKeyOut:
    made = store.rotate(actor, issuer_id, valid_from=(body or Rotation()).valid_from, idempotency_key=key)
    response.headers["Location"] = f"/v1/issuers/{issuer_id}/keys"
    return _recorded_key(store, registry, issuer_id, made.key_id)


@router.post(
    "/v1/issuers/{issuer_id}/keys/{key_id}/compromised",
    summary="Report a key compromised since a moment: proofs it made since then are no longer trusted",
    description="For the provider itself and the operator. The key stays in the DID document, marked `revoked` "
    "since then; credentials it signed earlier stay valid when the registry recorded them earlier too. When it "
    "was the key in use, the same command makes its replacement, which signs the next export.",
)
def report_key_compromised(
    issuer_id: IssuerId,
    key_id: Annotated[str, Path(pattern=r"^key-[1-9][0-9]{0,5}$", examples=["key-1"])],
    body: Compromise,
    actor: Caller,
    registry: Registered,
    store: IssuerKeyring,
    key: IdempotencyKey = None,
) -> IssuerKeyOut:
    registry.report_key_compromised(actor, issuer_id, key_id=key_id, since=body.since, idempotency_key=key)
    return _recorded_key(store, registry, issuer_id, key_id)
