"""Credentials as portable documents: the signed Open Badges 3.0 / VC 2.0 credential and the ELM one.

``GET /v1/credentials/{id}/vc`` answers the credential signed by its
provider's key, with ``eddsa-rdfc-2022`` or ``eddsa-jcs-2022`` as asked, the
provider being the issuer (``did:web:{host}:issuers:{id}``), and ``…/elm``
the European Learning Model one; both carry the learner's name, so only the
issuing provider, the operator and the national authority of the provider's
country may export them (the provider hands them to the learner).
``mcreg.services.exports`` builds them; exporting again gives the same bytes
while the provider's key is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from mcreg.api.deps import Exports, Visitor
from mcreg.api.problems import MEDIA_TYPE, Problem, ProblemError
from mcreg.api.rest.common import PROBLEM_RESPONSES
from mcreg.api.rest.status_lists import VC_MEDIA_TYPE, SignedWith, etag
from mcreg.registry.trust.data_integrity import canonicalize
from mcreg.services.exports import EXPORT_CRYPTOSUITE, RETRY_AFTER_SECONDS, NotPlacedYet

router = APIRouter(tags=["credentials"], responses=PROBLEM_RESPONSES)

ELM_MEDIA_TYPE = "application/ld+json"
PRIVATE = {"Cache-Control": "private, no-store"}  # the learner's name is in them

NOT_PLACED = {
    "model": Problem,
    "description": "A state conflict (`state-conflict`): the learner was forgotten, so the credential can no longer "
    "be exported; or the status lists have not placed the credential yet (they follow the log within "
    "milliseconds of the issuance), which `Retry-After` and `retry_after_ms` say to retry after.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying, when the credential is not placed yet",
            "schema": {"type": "integer"},
        }
    },
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _document_response(export: Callable[[], dict[str, Any]], media_type: str) -> Response:
    """The exported document, canonicalised; a not-yet-placed credential is a 409 with ``Retry-After``."""
    try:
        body = canonicalize(export())
    except NotPlacedYet as conflict:  # a problem with Retry-After (problem documents carry no headers of their own)
        raise ProblemError(
            "state-conflict", conflict.detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, **conflict.extensions
        ) from None
    return Response(body, media_type=media_type, headers=PRIVATE | {"ETag": etag(body)})


@router.get(
    "/v1/credentials/{credential_id}/vc",
    summary="The credential as an Open Badges 3.0 / W3C VC 2.0 credential signed by its provider (Data Integrity)",
    description="For the issuing provider (to hand to the learner), the operator and the national authority of the "
    "provider's country. The provider is the issuer, as `did:web:{host}:issuers:{id}` (its DID document is "
    "`/issuers/{id}/did.json`), and signs with its current key (made when the provider was accredited or first "
    "issued), with the cryptosuite `cryptosuite` names. `credentialStatus` names its place on the provider's "
    "revocation list (one status, as Open Badges 3.0 has it): it stands at the same place on the provider's "
    "suspension list. The same credential exports to the same bytes while the provider's key is the same. Right "
    "after issuance the status lists may not have placed it yet: a 409 to retry after `Retry-After`.",
    response_class=Response,
    responses={200: {"content": {VC_MEDIA_TYPE: {"schema": {"type": "object"}}}}, 409: NOT_PLACED},
)
def export_vc(
    credential_id: UUID, actor: Visitor, exports: Exports, cryptosuite: SignedWith = EXPORT_CRYPTOSUITE
) -> Response:
    return _document_response(lambda: exports.signed_vc(actor, credential_id, cryptosuite), VC_MEDIA_TYPE)


@router.get(
    "/v1/credentials/{credential_id}/elm",
    summary="The credential as a European Learning Model v3 (Europass EDC) credential, unsigned",
    description="Same access as `/vc`. The provider is the issuer: it seals the document with its own eSeal.",
    response_class=Response,
    responses={200: {"content": {ELM_MEDIA_TYPE: {"schema": {"type": "object"}}}}, 409: NOT_PLACED},
)
def export_elm(credential_id: UUID, actor: Visitor, exports: Exports) -> Response:
    return _document_response(lambda: exports.elm(actor, credential_id), ELM_MEDIA_TYPE)
