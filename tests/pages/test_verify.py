"""An employer checks a credential at ``/verify``: pasted, uploaded or opened by its link (the QR code's).

The page's verdict and checks are the API's: for a recorded credential what ``GET /v1/credentials/{id}/verify``
answers (valid, revoked, suspended, QA lapsed), for a pasted one what ``POST /v1/verify`` answers. What cannot be
verified gets a page saying why, with its status, never a 500: not JSON, not a credential, too large, another
registry's; whatever is pasted comes back escaped.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from tests.api.rest import As
from tests.trust.test_verdicts import presented
from tests.world import NEVER_ISSUED, World

HTML = {"Accept": "text/html"}


class VerdictPage(HTMLParser):
    """What a verification page says: its verdict box (class and role), and each check's row (name, outcome)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.verdict: str | None = None
        self.live_role: str | None = None
        self.checks: list[tuple[str, str]] = []
        self.alerts = 0
        self.scripts = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        if tag == "script":
            self.scripts += 1
        if "verdict" in classes:
            (verdict,) = [c.removeprefix("verdict-") for c in classes if c.startswith("verdict-")]
            self.verdict, self.live_role = verdict, found.get("role")
        if found.get("role") == "alert":
            self.alerts += 1
        if tag == "tr" and "data-check" in found:
            (outcome,) = [c.removeprefix("outcome-") for c in classes if c.startswith("outcome-")]
            self.checks.append((found["data-check"], outcome))


def page_of(response: Any, status: int = 200) -> VerdictPage:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    page = VerdictPage(response.text)
    assert page.scripts == 0, "the page needs no script"
    return page


def api_checks(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(check["check"], check["outcome"]) for check in answer["checks"]]


def paste(client: TestClient, text: str) -> Any:
    return client.post("/verify", data={"credential": text}, headers=HTML)


# The form --------------------------------------------------------------------------------------------------------


def test_the_form_takes_a_pasted_credential_or_a_file_without_script(client: TestClient) -> None:
    response = client.get("/verify", headers=HTML)
    page = page_of(response)
    assert page.verdict is None
    html = response.text
    assert '<form method="post" action="/verify" enctype="multipart/form-data"' in html
    assert '<label for="credential">' in html and '<textarea id="credential" name="credential"' in html
    assert '<label for="file">' in html and 'name="file" type="file"' in html
    assert html.count("<h1>") == 1


# A recorded credential, by its link ------------------------------------------------------------------------------


def make_valid(services: Services, world: World, provider: As) -> UUID:
    return world.issue(date(2024, 3, 1))


def make_revoked(services: Services, world: World, provider: As) -> UUID:
    credential_id = world.issue(date(2024, 3, 1))
    assert provider.post(f"/v1/credentials/{credential_id}/revoke", {"reason": "fraud"}).status_code == 200
    return credential_id


def make_suspended(services: Services, world: World, provider: As) -> UUID:
    credential_id = world.issue(date(2024, 3, 1))
    assert provider.post(f"/v1/credentials/{credential_id}/suspend", {"reason": "inquiry"}).status_code == 200
    return credential_id


def make_qa_lapsed(services: Services, world: World, provider: As) -> UUID:
    credential_id = world.issue(date(2024, 3, 1))
    services.registry.withdraw_accreditation(
        world.agency, world.accreditation_id, reason="agency review overdue", effective=date(2025, 1, 1)
    )
    return credential_id


@pytest.mark.parametrize(
    ("make", "verdict"),
    [
        (make_valid, "valid"),
        (make_revoked, "not_valid"),
        (make_suspended, "not_valid"),
        (make_qa_lapsed, "valid_with_warnings"),
    ],
    ids=["valid", "revoked", "suspended", "qa-lapsed"],
)
def test_the_verdict_by_link_is_the_apis(
    make: Any, verdict: str, services: Services, world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    credential_id = make(services, world, provider)
    read_models.catch_up()
    answer = public.get(f"/v1/credentials/{credential_id}/verify").json()
    assert answer["verdict"] == verdict, answer

    page = page_of(public.client.get(f"/verify/{credential_id}", headers=HTML))

    assert page.verdict == answer["verdict"]
    assert page.checks == api_checks(answer), "the same checks, in the same order, with the same outcomes"
    assert page.live_role == ("alert" if verdict == "not_valid" else "status"), "announced to screen readers"


def test_a_recorded_credential_shows_its_issuer_qa_chain_and_dates(
    client: TestClient, world: World, read_models: ReadModels
) -> None:
    credential_id = world.issue(date(2024, 3, 1), valid_until=date(2029, 2, 28))
    read_models.catch_up()
    html = client.get(f"/verify/{credential_id}", headers=HTML).text
    assert "Data analysis with Python" in html and "Universiteit Voorbeeld, Netherlands" in html
    assert "Quality Agency (QA), Netherlands" in html, "the agency that took the QA decision"
    assert "Accreditation of the provider" in html and "2020-12-01" in html, "the decision and its date"
    assert "from 2021-01-01 to 2026-12-31" in html
    assert "2024-03-01" in html and "2029-02-28" in html, "the credential's dates"
    assert f'href="/credentials/{credential_id}"' in html
    assert "Ada Lovelace" not in html, "no learner data on a public page"


def test_a_revoked_credential_says_so_with_the_failed_checks_explained(
    services: Services, world: World, provider: As, client: TestClient, read_models: ReadModels
) -> None:
    credential_id = make_revoked(services, world, provider)
    read_models.catch_up()
    html = client.get(f"/verify/{credential_id}", headers=HTML).text
    assert "Not valid" in html
    assert "The issuer has revoked it" in html
    assert "revoked on" in html and "fraud" in html


@pytest.mark.parametrize("path", [f"/verify/{NEVER_ISSUED}", "/verify/not-a-credential-id"])
def test_an_unknown_credential_is_a_404_page(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    page_of(response, 404)
    assert "No such credential" in response.text


# A pasted or uploaded credential ----------------------------------------------------------------------------------


def test_a_pasted_credential_gets_the_verdict_post_v1_verify_gives(
    world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    vc = presented(provider, read_models, world.issue(date(2024, 3, 1)))
    answer = public.post("/v1/verify", vc).json()

    response = paste(public.client, json.dumps(vc, indent=2))

    page = page_of(response)
    assert (page.verdict, page.checks) == (answer["verdict"], api_checks(answer))
    assert answer["verdict"] in ("valid", "valid_with_warnings")
    assert page.live_role == "status"
    assert "Data analysis with Python" in response.text and "Quality Agency (QA), Netherlands" in response.text
    assert "Ada Lovelace" not in response.text


def test_an_uploaded_credential_file_is_verified_as_a_pasted_one(
    world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    vc = presented(provider, read_models, world.issue(date(2024, 3, 1)))
    answer = public.post("/v1/verify", vc).json()
    upload = {"file": ("credential.json", json.dumps(vc).encode(), "application/json")}

    response = public.client.post("/verify", files=upload, data={"credential": ""}, headers=HTML)

    assert page_of(response).verdict == answer["verdict"]


def test_a_tampered_credential_is_not_valid_and_the_failed_signature_is_explained(
    world: World, provider: As, client: TestClient, read_models: ReadModels
) -> None:
    tampered = copy.deepcopy(presented(provider, read_models, world.issue(date(2024, 3, 1))))
    tampered["validUntil"] = "2099-01-01T00:00:00Z"

    response = paste(client, json.dumps(tampered))

    page = page_of(response)
    assert page.verdict == "not_valid" and page.live_role == "alert"
    assert ("proof", "failed") in page.checks
    assert "The digital signature does not match the document" in response.text
    assert "PROOF_VERIFICATION_ERROR" in response.text


# What cannot be verified -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "says"),
    [
        ("this is not JSON {", 400, "This is not a JSON document"),
        ("[1, 2, 3]", 422, "This is not a credential"),
        ('{"name": "Ada", "grade": "A"}', 422, "This is not a credential"),
        ("   ", 400, "Nothing to verify"),
        ("[" * 100_000 + "]" * 100_000, 422, "This is not a credential"),
    ],
    ids=["not-json", "json-array", "json-not-a-credential", "empty", "nested-too-deep"],
)
def test_what_is_not_a_credential_gets_a_page_saying_so(client: TestClient, text: str, status: int, says: str) -> None:
    response = paste(client, text)
    page = page_of(response, status)
    assert says in response.text
    assert page.verdict is None and page.alerts == 1
    assert '<textarea id="credential"' in response.text, "the form again, to try once more"


ODD = [
    "null",
    '"a string"',
    "1e999",
    "\u0000{}",
    '{"@context": 1}',
    '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": 5}',
    '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "issuer": {"id": []},'
    ' "credentialSubject": [], "proof": [{}, {}], "credentialStatus": "x", "validFrom": "yesterday"}',
    '{"proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2024-01-01"}}',
]


@pytest.mark.parametrize("text", ODD)
def test_odd_documents_get_a_page_never_a_500(client: TestClient, text: str) -> None:
    response = paste(client, text)
    assert response.status_code in (200, 400, 422), response.text[:500]
    page_of(response, response.status_code)


def test_a_document_larger_than_the_api_takes_is_a_413_page(client: TestClient, services: Services) -> None:
    limit = services.settings.max_body_bytes
    response = paste(client, json.dumps({"padding": "x" * limit}))
    page_of(response, 413)
    assert "This document is too large" in response.text and f"{limit} bytes" in response.text


def test_an_uploaded_file_that_is_not_text_or_too_large_gets_a_page_saying_so(
    client: TestClient, services: Services
) -> None:
    binary = {"file": ("photo.json", b"\xff\xd8\xff\xe0 not UTF-8", "application/json")}
    response = client.post("/verify", files=binary, headers=HTML)
    page_of(response, 400)
    assert "This is not a JSON document" in response.text

    huge = {"file": ("huge.json", b" " * (services.settings.max_body_bytes + 1), "application/json")}
    response = client.post("/verify", files=huge, headers=HTML)
    page_of(response, 413)
    assert "This document is too large" in response.text


def test_a_credential_of_another_registry_is_a_page_saying_this_one_cannot_vouch_for_it(
    world: World, provider: As, client: TestClient, read_models: ReadModels
) -> None:
    foreign = copy.deepcopy(presented(provider, read_models, world.issue(date(2024, 3, 1))))
    foreign["issuer"] = {"id": "did:web:registry.example.org:issuers:42", "name": "Elsewhere"}

    response = paste(client, json.dumps(foreign))

    page_of(response, 422)
    assert "This credential was not issued through this registry" in response.text
    assert "did:web:registry.example.org:issuers:42" in response.text


SCRIPT = "<script>alert('pasted')</script>"


@pytest.mark.parametrize(
    "text",
    [
        SCRIPT,  # not JSON: echoed in the form
        json.dumps({"@context": SCRIPT, "type": SCRIPT}),  # not a credential
        json.dumps(  # a credential of an issuer no one hosts, named by a script
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "issuer": SCRIPT,
                "credentialSubject": {"name": SCRIPT},
            }
        ),
    ],
    ids=["not-json", "not-a-credential", "issuer"],
)
def test_pasted_script_comes_back_escaped_never_as_a_script(client: TestClient, text: str) -> None:
    response = paste(client, text)
    assert response.status_code in (400, 422)
    page = page_of(response, response.status_code)
    assert page.scripts == 0 and "<script" not in response.text.lower()
    assert "&lt;script&gt;alert(" in response.text, "shown to the person, as text"
