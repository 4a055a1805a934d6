"""The national dashboard in headless Chromium against ``mcreg serve`` on the demo registry.

Every chart has data wherever GraphQL's dashboard has numbers for it, the form works without script (a country
picked, the page reloaded for it), a bad date gives a 400 page, and axe finds no serious or critical violation.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, assert_accessible

INDICATOR_ROWS = """{ dashboard { indicators {
  providersByStatus { count } issuedByMonth { count } revokedByMonth { count } suspendedByMonth { count }
  credentialsByQaStanding { count } recognitionFlows { count } specificationsByEqfLevel { count }
} } }"""
ALWAYS = {
    "providers": "providersByStatus",
    "issued": "issuedByMonth",
    "revoked": "revokedByMonth",
    "suspended": "suspendedByMonth",
    "credentials-qa": "credentialsByQaStanding",
    "recognitions": "recognitionFlows",
    "specifications-eqf": "specificationsByEqfLevel",
}
"""Indicators the demo registry always has numbers for, and their GraphQL fields."""


def test_every_chart_of_the_dashboard_has_data(site: Site, browser_page: Page) -> None:
    page = browser_page
    response = page.goto(site.url("/dashboard"))
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_count(1)
    indicators = site.graphql(INDICATOR_ROWS)["dashboard"]["indicators"]
    for name, field in ALWAYS.items():
        assert indicators[field], f"the demo has no {field}: the test would prove nothing"
        section = page.locator(f"section#{name}")
        chart = section.locator("svg[role='img']")
        expect(chart).to_have_count(1)
        expect(chart.locator("title").first).not_to_be_empty()
        expect(chart.locator("rect").first).to_be_attached()
        shown = sum(int(cell) for cell in section.locator("tbody td.number").all_inner_texts())
        assert shown == sum(row["count"] for row in indicators[field]), name
    assert_accessible(page, "dashboard")


def test_the_form_picks_a_country_without_script(site: Site, browser_page: Page) -> None:
    page = browser_page
    page.goto(site.url("/dashboard"))
    country = site.graphql("{ providers(first: 1) { edges { node { country } } } }")["providers"]["edges"][0]
    code = country["node"]["country"]
    label = page.locator(f"#country option[value='{code}']").inner_text()  # "Netherlands (NL)"
    page.get_by_label("Country", exact=True).select_option(code)
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url(f"**/dashboard?country={code}*")
    expect(page.locator("h1 + p")).to_contain_text(f"Figures for {label.removesuffix(f' ({code})')},")
    assert_accessible(page, f"dashboard-{code}")


def test_a_bad_date_gives_a_400_page_naming_the_field(site: Site, browser_page: Page) -> None:
    page = browser_page
    response = page.goto(site.url("/dashboard?as_of=2024-13-45"))
    assert response is not None and response.status == 400
    expect(page.locator("[role='alert']")).to_contain_text("as_of")
    assert "Traceback" not in page.content()
    assert_accessible(page, "dashboard-bad-date")
