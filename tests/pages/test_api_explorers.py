"""The API explorers' pages as served, checked without a browser (tests/browser/test_pages.py runs them in one).

What each page calls must exist in the bundle served beside it, and nothing may reach for another host, not even
an image the bundle itself asks for.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.pages.test_home import Page

HTML = {"Accept": "text/html"}


def test_graphiql_calls_only_what_the_served_react_dom_defines(client: TestClient) -> None:
    """The React served is 17, which has no ``createRoot``: strawberry's page called it, and GraphiQL stayed blank."""
    html = client.get("/graphql", headers=HTML).text
    (bundle_path,) = [asset for asset in Page(html).loads if "react-dom" in asset]
    bundle = client.get(bundle_path).text
    called = set(re.findall(r"ReactDOM\.(\w+)", html))
    assert called, "the page renders GraphiQL through ReactDOM"
    for name in called:
        assert re.search(rf"\.{name}=", bundle), f"the served react-dom defines no {name}"


def test_redoc_may_load_images_from_the_registry_alone(client: TestClient) -> None:
    """ReDoc's side menu shows Redocly's logo from cdn.redoc.ly whatever its options say: the policy forbids it."""
    response = client.get("/redoc", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "img-src 'self' data:"


def test_swagger_ui_asks_no_validator_for_a_badge(client: TestClient) -> None:
    """On any host but localhost Swagger UI shows a badge fetched from validator.swagger.io, unless told not to."""
    html = client.get("/docs", headers=HTML).text
    assert "validatorUrl: null" in html


def test_the_explorers_say_their_language(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/graphql"):
        assert Page(client.get(path, headers=HTML).text).lang == "en", path
