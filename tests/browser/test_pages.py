"""The pages that exist for everyone, in headless Chromium against ``mcreg serve`` on the demo registry.

The home page, the API explorers (Swagger UI, ReDoc, GraphiQL running a query) and the page for an unknown
address: each loads from the registry alone (``browser_page`` refuses any other host), and axe finds no serious
or critical violation. Then the keyboard: a person who cannot use a mouse reaches the skip link first, lands in
the main content with it, and reaches every link with Tab, seeing where the focus is.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, assert_accessible

FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])"
LOOK = """(e => { const s = getComputedStyle(e);
    return [s.outlineStyle, s.outlineColor, s.outlineWidth, s.boxShadow, s.backgroundColor, s.color]; })"""
"""How an element looks, in the properties a focus style changes."""


def test_the_home_page_shows_the_registry_at_a_glance(site: Site, browser_page: Page) -> None:
    page = browser_page
    response = page.goto(site.url("/"))
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text("registry")
    for explorer in ("/docs", "/redoc", "/graphql"):
        expect(page.locator(f"main a[href='{explorer}']")).to_be_visible()
    assert_accessible(page, "home")


def test_swagger_ui_shows_the_rest_api_from_local_assets(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/docs"))
    expect(page.locator(".swagger-ui .information-container .title")).to_contain_text("mcreg")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.get_by_text("/v1/credentials/{credential_id}/verify").first).to_be_attached()
    assert_accessible(page, "docs")


def test_swagger_ui_tries_out_a_verification(site: Site, browser_page: Page) -> None:
    """An operation opened, tried out and executed: the registry's answer shows, and the open form passes axe."""
    page = browser_page
    credential = site.credential(lambda report: report["verdict"] == "valid")
    page.goto(site.url("/docs"))
    operation = page.locator("#operations-credentials-verify_credential")
    operation.locator(".opblock-summary-control").click()
    operation.locator(".try-out__btn").click()
    operation.locator("input[placeholder='credential_id']").fill(credential)
    operation.locator(".execute").click()
    answer = operation.locator(".live-responses-table")
    expect(answer.locator("tr.response .response-col_status")).to_have_text("200")
    expect(answer).to_contain_text(credential)
    assert_accessible(page, "docs-try-out")


def test_redoc_shows_the_rest_api_reference_from_local_assets(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/redoc"))
    expect(page.locator("h1").first).to_contain_text("mcreg")
    expect(page.get_by_text("/v1/credentials/{credential_id}/verify").first).to_be_attached()
    assert_accessible(page, "redoc")


def test_graphiql_runs_a_query_against_the_registry(site: Site, browser_page: Page) -> None:
    """GraphiQL renders (it stayed blank when the page called React 18's createRoot on the React 17 served) and
    runs a shared query (``?q=``) against the registry."""
    page = browser_page
    query = "{ providers(first: 2) { edges { node { id } } } }"
    page.goto(site.url("/graphql?" + urlencode({"q": query}, quote_via=quote)))
    page.locator(".graphiql-execute-button").click()
    response = page.locator(".graphiql-response")
    first_id = site.graphql(query)["providers"]["edges"][0]["node"]["id"]
    expect(response).to_contain_text(first_id)
    assert_accessible(page, "graphiql")


def test_an_unknown_page_says_so_with_a_404(site: Site, browser_page: Page) -> None:
    page = browser_page
    response = page.goto(site.url("/no-such-page"))
    assert response is not None and response.status == 404
    assert "Traceback" not in page.content()
    assert_accessible(page, "not-found")


OUR_PAGES = ["/", "/no-such-page", "/dashboard", "/verify"]
"""The pages built on base.html so far; each page's own tests add its keyboard checks."""


@pytest.mark.parametrize("path", OUR_PAGES)
def test_a_page_reflows_on_a_narrow_screen_with_no_sideways_scroll(site: Site, browser_page: Page, path: str) -> None:
    """WCAG 1.4.10: at 320 CSS pixels wide (a phone, or 1280 at 400 % zoom) nothing needs a horizontal scroll."""
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(site.url(path))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("path", OUR_PAGES)
def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_main(
    site: Site, browser_page: Page, path: str
) -> None:
    page = browser_page
    page.goto(site.url(path))
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert re.search(r"#main$", page.url)


@pytest.mark.parametrize("path", OUR_PAGES)
def test_tab_reaches_every_link_and_shows_where_the_focus_is(site: Site, browser_page: Page, path: str) -> None:
    page = browser_page
    page.goto(site.url(path))
    # Number what a keyboard should reach, in document order, and note how each looks without focus.
    unfocused = page.evaluate(
        f"""() => [...document.querySelectorAll({FOCUSABLE!r})]
            .filter(e => !e.disabled)
            .map((e, i) => {{ e.dataset.tabOrder = i; return {LOOK}(e); }})"""
    )
    reached: list[int] = []
    for _ in range(3 * len(unfocused) + 1):  # a date field takes a Tab per part (day, month, year)
        page.keyboard.press("Tab")
        order = page.evaluate("document.activeElement.dataset.tabOrder")
        if reached and order is not None and int(order) == reached[-1]:
            continue
        if order is None or int(order) in reached:
            break
        reached.append(int(order))
        focused = page.evaluate(f"{LOOK}(document.activeElement)")
        assert focused != unfocused[int(order)], f"focus is not visible on element {order}: {focused}"
    assert reached == list(range(len(unfocused)))


def test_the_demo_site_holds_a_credential_of_each_standing_the_pages_explain(site: Site) -> None:
    """What the verification and credential pages' tests look for (``site.credential``) is in the demo."""
    valid = site.credential(lambda report: report["verdict"] == "valid")
    revoked = site.credential(lambda report: report["status"] == "revoked")
    suspended = site.credential(lambda report: report["status"] == "suspended")
    lapsed = site.credential(lambda report: report["qa_as_of"]["standing"] != "in_force")
    assert len({valid, revoked, suspended, lapsed}) == 4
    assert site.verifications()[revoked]["verdict"] == "not_valid"
