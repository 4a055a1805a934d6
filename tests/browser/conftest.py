"""The registry's pages in a real browser: a live ``mcreg serve`` over a demo registry, headless Chromium, axe.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``), driven by Playwright's Python package through its
``executable_path``: nothing downloads a browser. Playwright over Selenium because it waits for what a test
asks about by itself, takes full-page screenshots, types keys and reads focus in one API, and lets a test see
and refuse every request a page makes (see ``browser_page``); axe-core comes bundled in ``axe-playwright-python``.

Fixtures and helpers, for every ``tests/browser/test_*.py``:

- ``site`` (session): ``mcreg demo --reset --credentials 300 --seed 7`` on a data folder of its own (embedded
  PostgreSQL), then ``mcreg serve`` over it on a free loopback port. ``site.url(path)`` is a page's address;
  ``site.get(path)``, ``site.get_json(path)``, ``site.graphql(query, **variables)`` and
  ``site.each(connection, selection, **arguments)`` (every node of a GraphQL connection) read it over HTTP;
  ``site.verifications()`` is ``GET /v1/credentials/{id}/verify`` of every credential the demo issued, and
  ``site.credential(where)`` the id of the first whose report passes ``where``, e.g.
  ``site.credential(lambda report: report["status"] == "revoked")``; ``site.operator_key`` is an operator's
  API key, ``site.log`` the server's output. Nothing starts until a test asks for it.
- ``browser_page`` (function): a new Playwright page in a context of its own (no cookies or storage shared
  between tests). A request to any host but the site's is refused and fails the test: the registry must run
  in a closed network.
- ``assert_accessible(page, name)``: saves a full-page screenshot ``<name>.png`` in ``SCREENSHOTS`` and runs
  axe-core in the page; fails, listing them, on any serious or critical violation.

Without ``/usr/bin/chromium`` the browser tests are skipped, saying so, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Playwright, Request, Route, expect, sync_playwright

from tests.serving import MCREG, data_folder, free_port, fresh_machine, no_postmaster_left, serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
"""Where ``assert_accessible`` saves each page's screenshot (git-ignored; CI keeps the folder as an artefact)."""

DEMO_CREDENTIALS = 300
"""Enough for the demo to revoke, suspend and lapse some (seed 7: 6 revoked, 3 suspended), small enough to build
in seconds."""

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox will not start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
"""How long a page or an expectation may take before the test gives up: a bound on waiting, not a speed to reach.
The explorers' bundles are megabytes, and ReDoc lays out every operation before it shows a heading: on two busy
cores that took more than 20 s (a CI run failed on it)."""
BLOCKING = ("serious", "critical")
"""The axe impacts that fail a page (issue 16: 0 serious or critical violations on every page)."""
SHOWN_NODES = 5
"""Elements listed per violation when a page fails: the first few say what to fix."""


MISSING = f"{CHROMIUM} is missing: install Debian's chromium and chromium-driver packages"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``browser`` (and ``postgres``: ``mcreg serve`` runs an embedded server) every test in this folder, and
    put them in one xdist group;
    without Chromium, skip them before anything starts (under ``CI=true`` the ``playwright`` fixture fails them)."""
    here = Path(__file__).parent
    skip = not CHROMIUM.exists() and os.environ.get("CI") != "true"
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.postgres)
            # One worker runs them all under pytest-xdist (--dist loadgroup): one live server, one browser.
            item.add_marker(pytest.mark.xdist_group("browser"))
            if skip:
                item.add_marker(pytest.mark.skip(reason=MISSING))


@dataclass
class Site:
    """A live ``mcreg serve`` over the demo registry."""

    base: str
    operator_key: str
    log: Path
    """``mcreg serve``'s output (JSON lines), for a test to show when a page fails."""
    http: httpx.Client = field(repr=False)
    _verifications: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        """The address of ``path`` (``/``, ``/verify``, ...) on the site."""
        return self.base + path

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """``GET path``, which must answer 200, as JSON."""
        response = self.http.get(path, **kwargs)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of a GraphQL query, asked with the operator's key (a provider's credentials are listed to
        those who may read them only), which must answer without errors."""
        headers = {"Authorization": f"Bearer {self.operator_key}"}
        response = self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def each(self, connection: str, selection: str = "id", **arguments: str) -> list[dict[str, Any]]:
        """Every node of a GraphQL connection, page after page: ``site.each("credentials", providerId=id)``."""
        given = "".join(f"{name}: {json.dumps(value)}, " for name, value in arguments.items())
        query = (
            f"query($after: String) {{ {connection}({given}first: 100, after: $after)"
            f" {{ edges {{ node {{ {selection} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        )
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.graphql(query, after=after)[connection]
            nodes += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return nodes
            after = page["pageInfo"]["endCursor"]

    def credential_ids(self) -> list[str]:
        """Every credential the demo issued, provider by provider, through GraphQL's connections."""
        return [
            credential["id"]
            for provider in self.each("providers")
            for credential in self.each("credentials", providerId=provider["id"])
        ]

    def verifications(self) -> dict[str, dict[str, Any]]:
        """``GET /v1/credentials/{id}/verify`` of every credential, by id (read once, then kept)."""
        if self._verifications is None:
            self._verifications = {id_: self.get_json(f"/v1/credentials/{id_}/verify") for id_ in self.credential_ids()}
        return self._verifications

    def credential(self, where: Callable[[dict[str, Any]], bool]) -> str:
        """The id of the first credential whose verification report passes ``where``."""
        for id_, report in self.verifications().items():
            if where(report):
                return id_
        raise AssertionError("no credential in the demo registry matches")


def mcreg(env: dict[str, str], *arguments: str) -> str:
    """Run ``mcreg ARGUMENTS`` to completion; its standard output."""
    done = subprocess.run([MCREG, *arguments], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mcreg {' '.join(arguments)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_until_projected(http: httpx.Client) -> None:
    """Until every read model has caught up with the demo's events, so pages show all of it."""
    for _ in range(600):
        ready = http.get("/readyz")
        if ready.status_code == 200 and not any(ready.json()["lag"].values()):
            return
        time.sleep(0.1)
    raise AssertionError(f"the read models did not catch up: {ready.text}")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``mcreg demo`` then ``mcreg serve`` on a fresh machine's data folder, as a person tries the registry."""
    log = tmp_path_factory.mktemp("site") / "serve.log"
    with data_folder() as data:
        env = fresh_machine(data)
        mcreg(env, "demo", "--reset", "--credentials", str(DEMO_CREDENTIALS), "--seed", "7")
        made = mcreg(env, "keys", "create", "--role", "operator", "--name", "browser tests")
        operator_key = next(word for word in made.split() if word.startswith("mcreg_"))
        port = free_port()
        server = serve(env, port, log)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=30) as http:
                wait_until_projected(http)
                yield Site(base, operator_key, log, http)
        finally:
            server.terminate()
            server.wait(timeout=60)
        assert no_postmaster_left(data, within=30), "the served registry's PostgreSQL outlived it"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(MISSING)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium, on a fresh temporary profile (Playwright makes one per launch and removes it)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def browser_page(browser: Browser, site: Site) -> Iterator[Page]:
    """A page in a browser context of its own, on which a request to any other host than the site's fails the test."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    offsite: list[str] = []
    ours = urlsplit(site.base).netloc

    def closed_network(route: Route, request: Request) -> None:
        if urlsplit(request.url).netloc == ours or request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            offsite.append(request.url)
            route.abort("blockedbyclient")

    context.route("**/*", closed_network)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()
    assert not offsite, f"the page asked for addresses outside the registry: {offsite}"


def assert_accessible(page: Page, name: str) -> None:
    """Save a full-page screenshot ``SCREENSHOTS/<name>.png``, then fail on any serious or critical axe violation."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    violations = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not violations, f"axe on {page.url} ({name}):\n" + "\n".join(map(described, violations))


def described(violation: dict[str, Any]) -> str:
    """One axe violation as a person reads it: the rule, its impact, and where and why on the page."""
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"]
    nodes = violation["nodes"]
    for node in nodes[:SHOWN_NODES]:
        lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
        lines += [f"      {line}" for line in node.get("failureSummary", "").splitlines()]
    if len(nodes) > SHOWN_NODES:
        lines.append(f"    and {len(nodes) - SHOWN_NODES} more elements")
    return "\n".join(lines)
