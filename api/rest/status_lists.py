"""The registry's public trust documents: its DID document and its signed Bitstring Status Lists.

A status list is built from the ``status_lists`` read model and signed with the
registry's key, its proof ``created`` and ``validFrom`` the time its bits last
changed: the same bits always give the same bytes, so the list is served with
an ``ETag`` and cached for its ``ttl``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from api.bootstrap import Services
from api.credential_documents import STATUS_LIST_TTL_MS, status_list_document, xsd_datetime
from api.rest.common import PROBLEM_RESPONSES, Visitor
from projections.read_models import ReadModels
from registry.data_integrity import add_proof, canonicalize
from registry.errors import NotFound

router = APIRouter(tags=["trust"], responses=PROBLEM_RESPONSES)

VC_MEDIA_TYPE = "application/vc"
"""VC Data Model 2.0 §6.3: a verifiable credential, here with an embedded proof."""
DID_MEDIA_TYPE = "application/did+ld+json"
MAX_LIST_NUMBER = 2**46  # a bigint log position over 131,072 bits per list

Purpose = Literal["revocation", "suspension"]


def signed_status_list(services: Services, read_models: ReadModels, purpose: str, number: int) -> dict[str, Any] | None:
    """The signed list credential, or None while no credential is on the list."""
    state = read_models["status_lists"].view.list_state(purpose, number)
    if state is None:
        return None
    key = services.signing_key
    document = status_list_document(
        services.settings.public_url, key.did, purpose, number, state.bits, state.changed_at
    )
    created = xsd_datetime(state.changed_at, microseconds=True)
    return add_proof(document, key.private_key, key.verification_method, created=created)


def etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@router.get(
    "/v1/status-lists/{purpose}/{number}",
    summary="A signed Bitstring Status List of the registry (revocation or suspension)",
    description="The list a credential's `credentialStatus` entry names. A credential's bit is its `Issued` event's "
    "log position modulo 131,072, in list number position ÷ 131,072. Cache it for its `ttl`; `If-None-Match` "
    "answers 304 while the bits are the same.",
    response_class=Response,
    responses={200: {"content": {VC_MEDIA_TYPE: {"schema": {"type": "object"}}}}, 304: {"description": "Unchanged"}},
)
def get_status_list(
    request: Request,
    purpose: Purpose,
    number: Annotated[int, Path(ge=0, le=MAX_LIST_NUMBER)],
    _: Visitor,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    signed = signed_status_list(request.app.state.services, request.app.state.read_models, purpose, number)
    if signed is None:
        raise NotFound("status list", f"{purpose}/{number}")
    body = canonicalize(signed)
    tag = etag(body)
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={STATUS_LIST_TTL_MS // 1000}"}
    if if_none_match is not None and tag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=VC_MEDIA_TYPE, headers=headers)


def _did_document(request: Request, _: Visitor) -> JSONResponse:
    document = request.app.state.services.signing_key.did_document()
    return JSONResponse(document, media_type=DID_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=3600"})


# did:web resolves a bare host to /.well-known/did.json and a host with a path to <path>/did.json; a proxy that
# serves the registry under a path prefix maps the latter to /did.json here. Both answer the same document.
router.add_api_route(
    "/.well-known/did.json",
    _did_document,
    methods=["GET"],
    summary="The registry's DID document (did:web): its public key, as a Multikey",
    response_class=JSONResponse,
    responses={200: {"content": {DID_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
router.add_api_route(
    "/did.json",
    _did_document,
    methods=["GET"],
    summary="The registry's DID document, where did:web looks when the public URL has a path",
    response_class=JSONResponse,
    responses={200: {"content": {DID_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
