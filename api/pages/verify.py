"""Verifying a credential as a person: ``/verify`` takes a pasted or uploaded VC (JSON), ``/verify/{id}`` one the
registry holds (the link its QR code encodes).

The checks are ``mcreg.services.verification``'s, as the API makes them: a pasted credential is what ``POST
/v1/verify`` answers, a recorded one what ``GET /v1/credentials/{id}/verify`` answers. The page gives the verdict
in words, each check by its name (the templates explain it), the issuer and the QA chain behind the credential.
What cannot be verified here is a page with its status: not JSON (400), not a credential or not one of this
registry's issuers' (422), larger than the API takes (413).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mcreg.api.deps import Configured, Registered, Verifier, Visitor
from mcreg.api.observability import BodyTooLarge
from mcreg.api.pages.assets import templates
from mcreg.api.pages.credential_facts import credential_facts, recorded
from mcreg.api.pages.languages import PageLanguage
from mcreg.services.checks import CheckName

router = APIRouter(include_in_schema=False)

FORM = "verify.html"
RESULT = "verify_result.html"


def refused(request: Request, problem: str, status: int, **facts: Any) -> HTMLResponse:
    """The form again, saying why what was sent cannot be verified (``problem`` names it for the template)."""
    return templates.TemplateResponse(request, FORM, {"problem": problem, **facts}, status_code=status)


async def submitted_text(request: Request, limit: int) -> str | None:
    """The credential sent: the uploaded file if one was chosen, else the pasted text; None if neither. A field may
    be as large as the whole body may (``limit``): the body's limit is the one that refuses."""
    async with request.form(max_part_size=limit) as form:
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
            if content.strip():
                return content.decode("utf-8")
        pasted = form.get("credential")
        return pasted if isinstance(pasted, str) and pasted.strip() else None


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, _: Visitor) -> HTMLResponse:
    """A form to paste or upload a credential."""
    return templates.TemplateResponse(request, FORM, {})


@router.post("/verify", response_class=HTMLResponse)
async def verify_presented(
    request: Request, _: Visitor, verifier: Verifier, registry: Registered, settings: Configured
) -> HTMLResponse:
    """The verdict on a pasted or uploaded credential, check by check."""
    try:
        text = await submitted_text(request, settings.max_body_bytes)
    except BodyTooLarge:
        return refused(request, "too_large", 413, limit=settings.max_body_bytes)
    except HTTPException:  # a multipart body python-multipart cannot parse
        return refused(request, "unreadable", 400)
    except UnicodeDecodeError:
        return refused(request, "not_json", 400)
    if text is None:
        return refused(request, "empty", 400)
    try:
        document = json.loads(text)
    except ValueError:
        return refused(request, "not_json", 400, pasted=text)
    except RecursionError:
        return refused(request, "not_credential", 422)
    if not isinstance(document, dict):
        return refused(request, "not_credential", 422, pasted=text)
    verdict = await run_in_threadpool(verifier.presented, document)
    outcomes = {check.check: check.outcome for check in verdict.checks}
    if outcomes.get(CheckName.DOCUMENT) == "failed":
        return refused(request, "not_credential", 422, pasted=text)
    if outcomes.get(CheckName.ISSUER) == "failed":
        return refused(request, "foreign", 422, pasted=text, issuer=verdict.issuer)
    facts = (
        await run_in_threadpool(credential_facts, registry, verdict.credential_id) if verdict.credential_id else None
    )
    context = {"verdict": verdict.verdict, "checks": verdict.checks, "facts": facts, "presented": verdict}
    return templates.TemplateResponse(request, RESULT, context)


@router.get("/verify/{credential_id}", response_class=HTMLResponse)
def verify_recorded(
    request: Request, credential_id: str, _: Visitor, verifier: Verifier, registry: Registered, language: PageLanguage
) -> HTMLResponse:
    """The verdict on a credential the registry holds, as ``GET /v1/credentials/{id}/verify`` gives it."""
    facts = recorded(registry, credential_id, language)
    evidence = verifier.stored(facts.standing)
    context = {"verdict": evidence.checks.verdict, "checks": evidence.checks.made, "facts": facts, "presented": None}
    return templates.TemplateResponse(request, RESULT, context)
