"""The catalogue and the history pages in headless Chromium against ``mcreg serve`` on the demo registry.

A learner narrows the catalogue with the keyboard and by facet links, and each facet's count is the number of
entries its link then lists; an auditor opens a record's history from the catalogue, looks back to a date and
follows an event's inclusion proof. What a person types is shown as text and never runs. axe finds no serious
or critical violation on either page.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, assert_accessible
from tests.browser.test_pages import FOCUSABLE, LOOK

INJECTED = "<script>window.injected = true</script><img src=x onerror='window.injected = true'>"


def matching(page: Page) -> int:
    """The number of entries the page says match."""
    found = re.search(r"([\d,]+) entries match", page.locator("[role=status]").inner_text())
    assert found, page.locator("[role=status]").inner_text()
    return int(found.group(1).replace(",", ""))


def test_the_catalogue_lists_micro_credentials_with_facet_counts_that_hold(site: Site, browser_page: Page) -> None:
    page = browser_page
    response = page.goto(site.url("/catalogue"))
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_count(1)
    total = matching(page)
    assert total > 0
    rows = page.locator(".results tbody tr")
    expect(rows.first).to_be_visible()
    assert_accessible(page, "catalogue")

    # Each country's count is what its link lists, and the countries add up to the total.
    countries = page.locator("#facet-country + ul a")
    counted = []
    for i in range(countries.count()):
        link = countries.nth(i)
        counted.append((link.get_attribute("href"), int(re.findall(r"\((\d+)\)", link.inner_text())[-1])))
    assert sum(n for _, n in counted) == total
    href, count = counted[0]
    page.goto(site.url(href or ""))
    assert matching(page) == count
    expect(page.locator("#facet-country + ul a[aria-current]")).to_have_count(1)


def test_a_learner_searches_the_catalogue_with_the_keyboard(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/catalogue"))
    title = page.locator(".results tbody th a").first.inner_text()
    word = re.findall(r"\w+", title)[0]
    page.locator("#q").focus()
    page.keyboard.type(word)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=" + re.escape(quote(word))))
    assert matching(page) > 0
    for shown in page.locator(".results tbody th a").all_inner_texts():
        assert word.lower() in shown.lower()


def test_the_providers_listing_is_accessible(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/catalogue?listing=providers"))
    assert matching(page) > 0
    expect(page.locator("#facet-qa_status + ul a").first).to_be_visible()
    assert_accessible(page, "catalogue-providers")


def test_a_bad_filter_is_a_page_naming_it(site: Site, browser_page: Page) -> None:
    page = browser_page
    response = page.goto(site.url("/catalogue?eqf=9"))
    assert response is not None and response.status == 400
    expect(page.locator("[role=alert]")).to_contain_text('"eqf"')
    assert_accessible(page, "catalogue-bad-filter")


def test_typed_script_is_shown_and_never_runs(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/catalogue?q=" + quote(INJECTED)))
    expect(page.locator("#q")).to_have_value(INJECTED)
    page.goto(site.url("/catalogue?country=" + quote(INJECTED)))
    expect(page.locator("[role=alert]")).to_contain_text("<script>")
    page.goto(site.url("/history/" + quote(INJECTED)))
    expect(page.locator("[role=alert]")).to_contain_text("<img")
    assert page.evaluate("window.injected") is None


def test_a_record_s_history_from_the_catalogue_to_an_inclusion_proof(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/catalogue"))
    page.locator(".results tbody th a").first.click()
    expect(page.locator("h1")).to_have_text("History of a micro-credential")
    events = page.locator(".events tbody tr")
    expect(events.first).to_contain_text("The micro-credential was specified")
    assert_accessible(page, "history")

    # Looking back to before it was specified: no specification was in force yet.
    effective = events.first.locator("td").nth(1).inner_text()
    page.locator("#as_of").fill("2000-01-01")
    page.locator("#as_of").press("Enter")
    expect(page.locator("#state")).to_have_text("As it stood on 2000-01-01")
    assert effective > "2000-01-01"
    expect(page.locator(".state")).not_to_contain_text("Title")

    proof = events.first.locator("a", has_text="inclusion proof")
    href = proof.get_attribute("href")
    assert href is not None
    body = site.get_json(href)
    assert body["index"] == int(re.findall(r"Leaf (\d+)", proof.inner_text())[0])
    assert len(body["root"]) == 64


def test_a_credential_s_history_shows_no_learner(site: Site, browser_page: Page) -> None:
    revoked = site.credential(lambda report: report["status"] == "revoked")
    page = browser_page
    page.goto(site.url(f"/history/{revoked}"))
    expect(page.locator("h1")).to_have_text("History of a credential")
    expect(page.locator(".events")).to_contain_text("The credential was revoked")
    held = site.get_json(f"/v1/credentials/{revoked}", headers={"Authorization": f"Bearer {site.operator_key}"})
    assert held["learner"]["name"] and held["learner"]["name"] not in page.content()
    assert_accessible(page, "history-credential")


def addresses(site: Site) -> list[str]:
    """The catalogue's two listings, and the history of the first micro-credential and of its provider."""
    page = site.get("/catalogue").text
    first = re.findall(r'href="(/history/[0-9a-f-]+)"', page)[:2]
    return ["/catalogue", "/catalogue?listing=providers", *first]


@pytest.mark.parametrize("which", range(4))
def test_each_page_reflows_at_320_pixels_and_tab_reaches_every_control_visibly(
    site: Site, browser_page: Page, which: int
) -> None:
    """WCAG 1.4.10 (a wide table scrolls in its own region, the page does not) and 2.4.7, as for every page."""
    path = addresses(site)[which]
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(site.url(path))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path

    page.set_viewport_size({"width": 1280, "height": 800})
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    unfocused = page.evaluate(
        f"""() => [...document.querySelectorAll({FOCUSABLE!r})]
            .filter(e => !e.disabled && e.type !== "hidden")
            .map((e, i) => {{ e.dataset.tabOrder = i; return {LOOK}(e); }})"""
    )
    reached = [0]
    for _ in range(4 * len(unfocused)):  # Tab steps through a date field's day, month and year first
        page.keyboard.press("Tab")
        order = page.evaluate("document.activeElement.dataset.tabOrder")
        if order is not None and int(order) == reached[-1]:
            continue
        if order is None or int(order) in reached:
            break
        reached.append(int(order))
        focused = page.evaluate(f"{LOOK}(document.activeElement)")
        assert focused != unfocused[int(order)], f"{path}: focus is not visible on element {order}: {focused}"
    assert reached == list(range(len(unfocused))), path
