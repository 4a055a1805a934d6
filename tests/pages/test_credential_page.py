"""A credential's public page, ``/credentials/{id}``: what anyone may see of it, a QR code of its verification link,
its documents for those allowed, an "Add to LinkedIn profile" link; the learner's name only through the holder's
link, which the provider hands to the learner and which stops showing the name once the learner is forgotten.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from mcreg.api.pages.credential import qr_code
from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.projections.status_lists import StatusListsProjection
from tests.api.rest import As
from tests.world import NEVER_ISSUED, OPERATOR, World

HTML = {"Accept": "text/html"}


class CredentialPage(HTMLParser):
    """The links, the alerts and the images of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.alerts = 0
        self.images: list[str] = []
        self.tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        if tag == "a":
            self.links.append(found["href"])
        if found.get("role") == "alert":
            self.alerts += 1
        if found.get("role") == "img":
            self.images.append(found.get("aria-labelledby", ""))


def get_page(client: TestClient, path: str, status: int = 200) -> tuple[str, CredentialPage, Any]:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    page = CredentialPage(response.text)
    assert "script" not in page.tags and page.tags.count("h1") == 1
    return response.text, page, response


def public_url(services: Services) -> str:
    return services.settings.public_url.rstrip("/")


def test_anyone_sees_the_public_facts_and_not_the_learner(
    client: TestClient, world: World, read_models: ReadModels
) -> None:
    credential_id = world.issue(date(2024, 3, 1), grade="9/10", valid_until=date(2029, 2, 28))

    html, page, response = get_page(client, f"/credentials/{credential_id}")

    for fact in ("Data analysis with Python", "5.00 ECTS", "EQF level", "0613", "Universiteit Voorbeeld, Netherlands"):
        assert fact in html, fact
    assert "2024-03-01" in html and "2029-02-28" in html and "Active" in html
    assert "Quality Agency (QA), Netherlands" in html and "from 2021-01-01 to 2026-12-31" in html
    assert "Ada Lovelace" not in html and "ada@example.org" not in html and "9/10" not in html
    assert "1995-12-10" not in html
    assert page.alerts == 0
    assert f"/verify/{credential_id}" in page.links
    assert "private" not in response.headers.get("cache-control", "")


def test_the_qr_code_is_inline_svg_of_the_absolute_verification_link(
    client: TestClient, services: Services, world: World
) -> None:
    credential_id = world.issue()
    verify_url = f"{public_url(services)}/verify/{credential_id}"

    html, page, _ = get_page(client, f"/credentials/{credential_id}")

    assert page.images == ["qr-caption"], "the QR code is an image with a text alternative"
    assert str(qr_code(verify_url)) in html, "the code encodes the absolute /verify link"
    assert verify_url in page.links
    assert "<svg" in html and "<img" not in html


def test_the_documents_link_to_the_exports_which_only_those_allowed_may_download(
    client: TestClient, world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    credential_id = world.issue()
    read_models.catch_up([StatusListsProjection.name])

    html, page, _ = get_page(client, f"/credentials/{credential_id}")

    for document in ("vc", "elm"):
        path = f"/v1/credentials/{credential_id}/{document}"
        assert path in page.links
        assert provider.get(path).status_code == 200
        assert public.get(path).status_code == 403
    assert "only the issuing provider, the registry's operator and the national authority" in html


def test_add_to_linkedin_is_a_link_with_linkedins_documented_parameters(
    client: TestClient, services: Services, world: World
) -> None:
    credential_id = world.issue(date(2024, 3, 1), valid_until=date(2029, 2, 28))

    _, page, _ = get_page(client, f"/credentials/{credential_id}")

    (linkedin,) = [link for link in page.links if link.startswith("https://www.linkedin.com/")]
    address = urlsplit(linkedin)
    assert (address.netloc, address.path) == ("www.linkedin.com", "/profile/add")
    assert {name: values for name, values in parse_qs(address.query).items()} == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Data analysis with Python"],
        "organizationName": ["Universiteit Voorbeeld"],
        "issueYear": ["2024"],
        "issueMonth": ["3"],
        "expirationYear": ["2029"],
        "expirationMonth": ["2"],
        "certUrl": [f"{public_url(services)}/credentials/{credential_id}"],
        "certId": [str(credential_id)],
    }


def test_a_revoked_credential_says_so_plainly(client: TestClient, world: World, provider: As) -> None:
    credential_id = world.issue(date(2024, 3, 1))
    assert provider.post(f"/v1/credentials/{credential_id}/revoke", {"reason": "fraud"}).status_code == 200

    html, page, _ = get_page(client, f"/credentials/{credential_id}")

    assert page.alerts == 1
    assert "This credential was revoked on" in html and "(fraud)" in html and "It is no longer valid." in html


def test_a_suspended_credential_says_so(client: TestClient, world: World, provider: As) -> None:
    credential_id = world.issue(date(2024, 3, 1))
    assert provider.post(f"/v1/credentials/{credential_id}/suspend", {"reason": "inquiry"}).status_code == 200

    html, page, _ = get_page(client, f"/credentials/{credential_id}")

    assert page.alerts == 1 and "This credential is suspended" in html


@pytest.mark.parametrize("path", [f"/credentials/{NEVER_ISSUED}", "/credentials/12345", "/credentials/%3Cscript%3E"])
def test_an_unknown_credential_is_a_404_page(client: TestClient, path: str) -> None:
    html, _, _ = get_page(client, path, 404)
    assert "No such credential" in html


# The holder's link -----------------------------------------------------------------------------------------------


def holder_link(caller: As, credential_id: UUID) -> str:
    response = caller.get(f"/v1/credentials/{credential_id}/holder-link")
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def test_the_holders_link_shows_the_learners_name_to_whoever_holds_it(
    client: TestClient, services: Services, world: World, provider: As, public: As
) -> None:
    credential_id = world.issue()
    url = holder_link(provider, credential_id)
    assert url.startswith(f"{public_url(services)}/credentials/{credential_id}?holder=")
    path = url.removeprefix(public_url(services))

    html, page, response = get_page(client, path)

    assert "Awarded to Ada Lovelace." in html
    assert "ada@example.org" not in html and "1995-12-10" not in html, "the name only"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer", "the token never leaves in a Referer"
    linkedin = next(link for link in page.links if link.startswith("https://www.linkedin.com/"))
    assert "holder" not in linkedin, "what is shared is the public page"
    # Only those who may export the credential get the link.
    assert public.get(f"/v1/credentials/{credential_id}/holder-link").status_code == 403


def test_a_link_made_up_or_of_another_credential_shows_no_name(client: TestClient, world: World, provider: As) -> None:
    credential_id, other = world.issue(), world.issue()
    token = holder_link(provider, other).split("?holder=")[1]

    for holder in (token, "made-up", "<script>alert(1)</script>"):
        html, _, _ = get_page(client, f"/credentials/{credential_id}?holder={holder}")
        assert "Ada Lovelace" not in html
        assert "link shows no name" in html
        assert "<script>alert" not in html


def test_forgetting_the_learner_ends_what_the_holders_link_shows(
    client: TestClient, services: Services, world: World, provider: As
) -> None:
    credential_id = world.issue()
    path = holder_link(provider, credential_id).removeprefix(public_url(services))
    learner_id = services.registry.credential_standing(credential_id).credential.learner_id

    services.registry.forget_learner(OPERATOR, learner_id)

    html, _, _ = get_page(client, path)
    assert "Ada Lovelace" not in html and "link shows no name" in html
    refused = provider.get(f"/v1/credentials/{credential_id}/holder-link")
    assert refused.status_code == 409 and refused.json()["type"].endswith("/problems/state-conflict")


def test_an_unknown_credential_is_refused_in_the_pages_language(client: TestClient) -> None:
    german = {"Accept-Language": "de"}
    for path in ("/credentials/00000000-0000-4000-8000-000000000000", "/verify/not-an-id"):
        response = client.get(path, headers=german)
        assert response.status_code == 404 and "Nachweis nicht gefunden" in response.text, path
