"""The home page, and the API explorers loading everything they need from the registry itself.

A ministry's closed network reaches no CDN: a page whose script or stylesheet lives on another host is blank
there. Every page is parsed here, and each script, stylesheet and icon it loads must be a local path that the
registry answers with the right content type.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from mcreg.projections.read_models import ReadModels
from tests.world import World

PAGES = ["/", "/docs", "/redoc", "/graphql"]
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class Page(HTMLParser):
    """The parts of an HTML page these tests read: what it loads, where it links, its language and landmarks."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.lang: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags.add(tag)
        if "id" in found:
            self.ids.add(found["id"])
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "script" and "src" in found:
            self.loads.append(found["src"])
        elif tag == "link" and "href" in found:
            self.loads.append(found["href"])
        elif tag == "a" and "href" in found:
            self.links.append(found["href"])


def get_page(client: TestClient, path: str) -> Page:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, f"{path}: {response.text[:200]}"
    assert response.headers["content-type"].startswith("text/html"), path
    return Page(response.text)


def test_the_home_page_says_what_the_registry_is_and_links_what_it_serves(
    client: TestClient, world: World, read_models: ReadModels
) -> None:
    world.issue()
    read_models.catch_up()
    response = client.get("/")
    page = get_page(client, "/")
    assert "micro-credential QA and recognition registry" in response.text
    assert page.lang == "en"
    assert page.links[0] == "#main" and "main" in page.ids, "a skip link to the main content comes first"
    assert {"header", "nav", "main", "footer"} <= page.tags
    assert "script" not in page.tags, "the page needs no JavaScript"
    for target in ("/docs", "/redoc", "/openapi.json", "/graphql", "/.well-known/did.json", "/v1/log/checkpoint"):
        assert target in page.links, target
        assert client.get(target, headers={"Accept": "text/html"}).status_code == 200, target
    assert "<dt>Credentials issued</dt><dd>1</dd>" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_a_page_loads_its_scripts_and_styles_from_the_registry(client: TestClient, path: str) -> None:
    page = get_page(client, path)
    assert page.loads, f"{path} loads nothing: the test would prove nothing"
    for asset in page.loads:
        assert asset.startswith("/") and not asset.startswith("//"), f"{path} loads {asset} from another host"
        response = client.get(asset)
        assert response.status_code == 200, f"{path}: {asset}"
        suffix = asset[asset.rindex(".") :]
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), f"{path}: {asset}"


def test_graphiql_calls_the_explorer_plugin_by_what_the_served_bundle_exports(client: TestClient) -> None:
    """The bundle served is the explorer plugin's 0.x build, whose hook is ``useExplorerPlugin``; strawberry's page
    was written for 1.x (``explorerPlugin``): a call to a name the bundle does not define leaves GraphiQL blank."""
    html = client.get("/graphql", headers={"Accept": "text/html"}).text
    (bundle_path,) = [asset for asset in Page(html).loads if "plugin-explorer" in asset]
    bundle = client.get(bundle_path).text
    called = set(re.findall(r"GraphiQLPluginExplorer\.(\w+)", html))
    assert called, "the page uses the explorer plugin"
    for name in called:
        assert re.search(rf"\.{name}=", bundle), f"the served plugin defines no {name}"


def test_the_pages_are_not_part_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/docs", "/redoc"} & set(paths)
