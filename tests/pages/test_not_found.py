"""An address the registry does not serve: a page saying so for a person's browser, a problem for a program."""

from __future__ import annotations

from fastapi.testclient import TestClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_at_an_unknown_address_gets_a_404_page_that_names_it(client: TestClient) -> None:
    response = client.get("/no-such-page/<script>alert(1)</script>", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in response.text
    assert response.text.count("<h1>") == 1
    assert "/no-such-page/&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text


def test_a_program_at_an_unknown_address_still_gets_the_problem_document(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no such resource"


def test_a_browser_asking_for_what_the_api_does_not_hold_gets_the_problem_document(client: TestClient) -> None:
    """Only the router's own 404 becomes a page: a missing credential stays the API's problem."""
    response = client.get("/v1/credentials/00000000-0000-4000-8000-000000000000", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
