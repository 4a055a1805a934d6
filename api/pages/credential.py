"""The public page of one credential, ``/credentials/{id}``: the micro-credential, its provider, the dates, its
status and QA chain, a QR code of its verification link, its documents and an "Add to LinkedIn profile" link.

Public fields only. The learner's name shows only through the holder's link (``?holder=``, a token only the
registry can make and only from the learner's key: decision "The holder's link"); that view is never cached and
sends no referrer, so the token does not leave the page.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from mcreg.api.deps import Configured, Registered, Visitor
from mcreg.api.pages.assets import templates
from mcreg.api.pages.credential_facts import CredentialFacts, recorded
from mcreg.api.pages.languages import PageLanguage

router = APIRouter(include_in_schema=False)

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
"""LinkedIn's add-to-profile address; its parameters are LinkedIn's documented ones (``startTask`` and the rest)."""
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def qr_code(url: str) -> Markup:
    """``url`` as a QR code, inline SVG (segno writes modules as one path: nothing of ``url`` appears as text)."""
    return Markup(
        segno.make(url, error="m").svg_inline(scale=4, svgclass="qr", lineclass=None, dark="#000", light="#fff")
    )


def linkedin_link(facts: CredentialFacts, page_url: str, lang: str) -> str:
    """An "Add to LinkedIn profile" link for the credential, as a certification."""
    credential = facts.credential
    title = facts.title.get(lang) or facts.title.get("en") or next(iter(facts.title.values()))
    names = facts.provider.names
    parameters = {
        "startTask": "CERTIFICATION_NAME",
        "name": title,
        "organizationName": names.get(lang) or names.get("en") or next(iter(names.values())),
        "issueYear": credential.issued_on.year,
        "issueMonth": credential.issued_on.month,
        "certUrl": page_url,
        "certId": str(credential.id),
    }
    if credential.valid_until is not None:
        parameters |= {"expirationYear": credential.valid_until.year, "expirationMonth": credential.valid_until.month}
    return f"{LINKEDIN_ADD}?{urlencode(parameters)}"


@router.get("/credentials/{credential_id}", response_class=HTMLResponse)
def credential_page(
    request: Request,
    credential_id: str,
    _: Visitor,
    registry: Registered,
    settings: Configured,
    language: PageLanguage,
    holder: str | None = None,
) -> HTMLResponse:
    """A credential's public facts; with its holder's link, the learner's name too."""
    facts = recorded(registry, credential_id, language)
    public_url = settings.public_url.rstrip("/")
    page_url = f"{public_url}/credentials/{facts.credential.id}"
    verify_url = f"{public_url}/verify/{facts.credential.id}"
    learner = registry.holder_data(facts.credential.id, holder) if holder else None
    context = {
        "facts": facts,
        "learner": learner,
        "holder_link_given": holder is not None,
        "verify_url": verify_url,
        "qr": qr_code(verify_url),
        "linkedin": linkedin_link(facts, page_url, str(templates.env.globals.get("lang", "en"))),
    }
    headers = PRIVATE if holder is not None else None
    return templates.TemplateResponse(request, "credential.html", context, headers=headers)
