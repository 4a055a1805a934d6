"""The national dashboard page: every indicator a chart, its table and its CSV, with the numbers GraphQL answers
for the same arguments; bad arguments give a 400 page naming the field, never a 500."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mcreg.api.pages.dashboard import INDICATORS
from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from tests.projections.histories import record_history

INDICATORS_QUERY = """
query Dashboard($country: String, $asOf: Date, $knownAt: Date) {
  dashboard(country: $country, asOf: $asOf, knownAt: $knownAt) {
    today knownAt
    indicators {
      asOf knownAt
      providersByStatus { category count }
      agenciesByStatus { category count }
      reviewsByMonth { month category count }
      specificationsByEqfLevel { category count }
      specificationsByField { category count }
      specificationsByEcts { category count }
      issuedByMonth { month count }
      revokedByMonth { month category count }
      suspendedByMonth { month count }
      credentialsByQaStanding { category count }
      credentialsQaLapsedOrWithdrawn
      recognitionFlows { recognisingCountry issuerCountry outcome count }
      recognitionOutcomes { category count }
      decisionTime { decided medianDays p90Days byBand { category count } }
      appeals { subject result count }
      learnersErased
    }
  }
}
"""


def counted(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[str(value) for value in row.values()] for row in rows]


def graphql_rows(indicators: dict[str, Any]) -> dict[str, list[list[str]]]:
    """Each indicator's rows as GraphQL answers them, in the page's columns."""
    return {
        "providers": counted(indicators["providersByStatus"]),
        "agencies": counted(indicators["agenciesByStatus"]),
        "reviews": counted(indicators["reviewsByMonth"]),
        "specifications-eqf": counted(indicators["specificationsByEqfLevel"]),
        "specifications-field": counted(indicators["specificationsByField"]),
        "specifications-ects": counted(indicators["specificationsByEcts"]),
        "issued": counted(indicators["issuedByMonth"]),
        "revoked": counted(indicators["revokedByMonth"]),
        "suspended": counted(indicators["suspendedByMonth"]),
        "credentials-qa": counted(indicators["credentialsByQaStanding"]),
        "recognitions": counted(indicators["recognitionFlows"]),
        "recognition-outcomes": counted(indicators["recognitionOutcomes"]),
        "decision-time": counted(indicators["decisionTime"]["byBand"]),
        "appeals": counted(indicators["appeals"]),
        "learners-erased": [["erased", str(indicators["learnersErased"])]],
    }


class DashboardPage(HTMLParser):
    """What the test reads of the page: each table's last column (the numbers), the charts, the figures."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, str] = {}
        self.charts: list[dict[str, str]] = []
        self.chart_parts: list[set[str]] = []
        self.h1 = 0
        self.table: str | None = None
        self.figure: str | None = None
        self.in_svg = False
        self.in_body = False
        self.cell: list[str] | None = None
        self.row: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "h1":
            self.h1 += 1
        elif tag == "table":
            self.table = found["data-indicator"]
            self.tables[self.table] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag == "dd" and "data-figure" in found:
            self.figure = found["data-figure"]
        elif tag == "svg":
            self.charts.append(found)
            self.chart_parts.append(set())
            self.in_svg = True
        elif self.in_svg:
            self.chart_parts[-1].add(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "tr" and self.table is not None and self.in_body and len(self.row) > 1:
            self.tables[self.table].append(self.row)
        elif tag == "svg":
            self.in_svg = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.figure is not None:
            self.figures[self.figure] = data.strip()
            self.figure = None


def ask(client: TestClient, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": INDICATORS_QUERY, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    dashboard: dict[str, Any] = body["data"]["dashboard"]
    return dashboard


def csv_rows(client: TestClient, name: str, params: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    response = client.get(f"/dashboard/{name}.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    return header, rows


@pytest.fixture
def recorded(services: Services, read_models: ReadModels) -> None:
    record_history(services.registry)
    read_models.catch_up()


@pytest.mark.parametrize(
    "params",
    [{}, {"country": "NL"}, {"country": "DE", "as_of": "2024-06-20"}, {"as_of": "2023-01-20"}],
    ids=["everywhere", "NL", "DE-before-the-appeal", "before-issuance"],
)
def test_every_number_the_page_shows_is_the_graphql_dashboards(
    client: TestClient, recorded: None, params: dict[str, str]
) -> None:
    response = client.get("/dashboard", params=params)
    assert response.status_code == 200, response.text
    page = DashboardPage(response.text)
    variables = {"country": params.get("country"), "asOf": params.get("as_of")}
    answer = ask(client, **variables)
    expected = graphql_rows(answer["indicators"])

    assert page.h1 == 1
    assert set(page.tables) == {indicator.name for indicator in INDICATORS} == set(expected)
    for indicator in INDICATORS:
        header, rows = csv_rows(client, indicator.name, params)
        assert header == list(indicator.columns)
        assert rows == expected[indicator.name], indicator.name
        assert [row[-1] for row in page.tables[indicator.name]] == [row[-1] for row in rows], indicator.name
    indicators = answer["indicators"]
    assert page.figures["credentialsQaLapsedOrWithdrawn"] == str(indicators["credentialsQaLapsedOrWithdrawn"])
    assert page.figures["learnersErased"] == str(indicators["learnersErased"])
    assert page.figures["decided"] == str(indicators["decisionTime"]["decided"])
    for figure in ("medianDays", "p90Days"):
        days = indicators["decisionTime"][figure]
        assert page.figures[figure] == (str(days) if days is not None else "–")


def test_the_whole_registry_as_of_now_shows_every_indicator_with_data(client: TestClient, recorded: None) -> None:
    page = DashboardPage(client.get("/dashboard").text)
    assert len(page.charts) == len(INDICATORS)
    for chart, parts in zip(page.charts, page.chart_parts, strict=True):
        assert chart["role"] == "img"
        assert {"title", "desc"} <= parts
    empty = [name for name, rows in page.tables.items() if not rows]
    assert empty == ["agencies"] or empty == [], empty  # every indicator of the history has numbers
    assert page.tables["issued"] == [["2024-03", "3"], ["2024-04", "1"], ["2024-05", "2"]]
    assert page.figures["medianDays"] == "29"


def test_as_known_at_yesterday_the_registry_knew_nothing_of_today(client: TestClient, recorded: None) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    page = DashboardPage(client.get("/dashboard", params={"known_at": yesterday}).text)
    assert page.tables["issued"] == []
    assert all(row[-1] == "0" for rows in page.tables.values() for row in rows)  # bands and erasures count 0
    assert ask(client, knownAt=yesterday)["knownAt"] == yesterday


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "<script>alert(1)</script>"}, "country"),
        ({"as_of": "2024-13-01"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"known_at": "2999-01-01"}, "known_at"),
    ],
)
def test_bad_arguments_give_a_400_page_naming_the_field(client: TestClient, params: dict[str, str], field: str) -> None:
    for path in ("/dashboard", "/dashboard/issued.csv"):
        response = client.get(path, params=params)
        assert response.status_code == 400, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert f"{field}:" in response.text
        assert "<script>alert" not in response.text


def test_a_refusal_is_worded_in_the_pages_language(client: TestClient) -> None:
    """The 400 and 404 pages speak the reader's language, as the dashboard itself does."""
    german = {"Accept-Language": "de"}
    refused = client.get("/dashboard", params={"as_of": "2024-13-01"}, headers=german)
    assert refused.status_code == 400
    assert "as_of: muss ein Datum im Format JJJJ-MM-TT sein" in refused.text
    unknown = client.get("/dashboard/nonsense.csv", headers=german)
    assert unknown.status_code == 404 and "must" not in unknown.text and "No such indicator" not in unknown.text


def test_graphql_refuses_a_known_at_day_in_the_future(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": INDICATORS_QUERY, "variables": {"knownAt": "2999-01-01"}}).json()
    assert body["errors"][0]["message"].startswith("knownAt: must not be in the future")


def test_an_unknown_indicator_has_no_csv(client: TestClient) -> None:
    response = client.get("/dashboard/nonsense.csv")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_the_dashboard_form_works_without_script_and_labels_each_field(client: TestClient) -> None:
    html = client.get("/dashboard").text
    assert "<script" not in html
    assert '<form class="dashboard-form" method="get" action="/dashboard">' in html
    for field in ("country", "as_of", "known_at"):
        assert f'<label for="{field}">' in html and f'id="{field}" name="{field}"' in html


def test_the_figures_name_their_country_and_day_in_the_readers_language(client: TestClient) -> None:
    """The sentence over the charts names the country, not its code, and the days as the reader writes them."""
    params = {"country": "NL", "as_of": "2024-06-20", "known_at": "2024-07-01"}
    english = " ".join(client.get("/dashboard", params=params).text.split())
    assert "Figures for Netherlands, as of Jun 20, 2024, as the registry knew them at the end of Jul 1, 2024" in english
    german = " ".join(client.get("/dashboard", params=params, headers={"Accept-Language": "de"}).text.split())
    assert "Zahlen für das Land: Niederlande" in german and "20.06.2024" in german
