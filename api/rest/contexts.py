"""mcreg's JSON-LD context and vocabulary, as every registry publishes them.

Exported credentials name the context by its fixed URL (``mcreg.services.jsonld_contexts``); each
registry serves the same bytes under ``/contexts/mcreg/``, which never change once published: a new
term is a new version, so they are cached for a year.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response

from mcreg.api.deps import Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES
from mcreg.api.rest.status_lists import etag
from mcreg.services.jsonld_contexts import (
    CONTEXT_PATH,
    JSONLD_MEDIA_TYPE,
    MCREG_CONTEXT_URL,
    VOCABULARY_PATH,
    context_document,
    vocabulary_document,
)

router = APIRouter(tags=["trust"], responses=PROBLEM_RESPONSES)

IMMUTABLE = "public, max-age=31536000, immutable"
_DOCUMENT: dict[int | str, dict[str, Any]] = {200: {"content": {JSONLD_MEDIA_TYPE: {"schema": {"type": "object"}}}}}


def _published(document: Callable[[], bytes]) -> Response:
    body = document()
    return Response(body, media_type=JSONLD_MEDIA_TYPE, headers={"Cache-Control": IMMUTABLE, "ETag": etag(body)})


@router.get(
    CONTEXT_PATH,
    summary="mcreg's JSON-LD context, version 1: the terms of exported credentials no published context defines",
    description=f"Credentials name it as `{MCREG_CONTEXT_URL}`; every registry serves the same bytes here, and "
    "they never change (a new term is a new version).",
    response_class=Response,
    responses=_DOCUMENT,
)
def get_mcreg_context(_: Visitor) -> Response:
    return _published(context_document)


@router.get(
    VOCABULARY_PATH,
    summary="mcreg's vocabulary: what each term of its JSON-LD context means (RDF Schema)",
    response_class=Response,
    responses=_DOCUMENT,
)
def get_mcreg_vocabulary(_: Visitor) -> Response:
    return _published(vocabulary_document)
