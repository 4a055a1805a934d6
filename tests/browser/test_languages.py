"""The pages' languages in a real browser: a German browser reads German, and the picker, used with the keyboard
alone, turns every page French and keeps it so; each page stays accessible in the language it is in."""

from __future__ import annotations

from playwright.sync_api import Page

from mcreg.api.pages.languages import catalogue
from tests.browser.conftest import Site, assert_accessible

TITLE = "The micro-credential QA and recognition registry"


def test_a_german_browser_reads_the_home_page_in_german(browser_page: Page, site: Site) -> None:
    # browser_page's context speaks en-GB, as a German browser speaks German: every request asks in German instead.
    browser_page.route(
        "**/*", lambda route: route.fallback(headers={**route.request.headers, "accept-language": "de-DE,de;q=0.9"})
    )
    browser_page.goto(site.url("/"))
    assert browser_page.locator("html").get_attribute("lang") == "de"
    assert browser_page.locator("h1").inner_text() == catalogue("de").gettext(TITLE)
    assert browser_page.locator("#language-picker").input_value() == "de"
    assert_accessible(browser_page, "home-de")


def test_the_picker_works_with_the_keyboard_alone_and_is_remembered(browser_page: Page, site: Site) -> None:
    browser_page.goto(site.url("/"))
    assert browser_page.locator("html").get_attribute("lang") == "en"
    for _ in range(20):  # Tab through the header to the picker, as a keyboard user does
        browser_page.keyboard.press("Tab")
        if browser_page.evaluate("document.activeElement.id") == "language-picker":
            break
    else:
        raise AssertionError("Tab never reaches the language picker")
    browser_page.keyboard.press("ArrowDown")  # English, Deutsch, Français, Español
    browser_page.keyboard.press("ArrowDown")
    assert browser_page.locator("#language-picker").input_value() == "fr"
    browser_page.keyboard.press("Tab")
    assert browser_page.evaluate("document.activeElement.type") == "submit"
    with browser_page.expect_navigation():
        browser_page.keyboard.press("Enter")
    assert browser_page.locator("html").get_attribute("lang") == "fr"
    assert browser_page.locator("h1").inner_text() == catalogue("fr").gettext(TITLE)

    # The cookie keeps the choice: the home page, reached again by its link, is still French.
    with browser_page.expect_navigation():
        browser_page.get_by_role("link", name=catalogue("fr").gettext("Home")).click()
    assert "lang=" not in browser_page.url
    assert browser_page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(browser_page, "home-fr")
