"""The catalogue page: a learner browses micro-credentials and providers, narrowing by filters whose values show
how many entries each would leave; a bad filter value is a page naming the filter, never a trace."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import SPEC, World


class Catalogue(HTMLParser):
    """What a person reads on the page: headings, links (text → address), table cells and form labels."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.h1: list[str] = []
        self.links: dict[str, str] = {}
        self.captions = 0
        self.labels: set[str] = set()
        self.inputs: set[str] = set()
        self._in: list[str] = []
        self._href: str | None = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self._in.append(tag)
        if tag == "a":
            self._href, self._text = found.get("href"), ""
        elif tag == "caption":
            self.captions += 1
        elif tag == "label":
            self.labels.add(found["for"])
        elif tag == "input" and found.get("type") != "hidden":
            self.inputs.add(found["id"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links[" ".join(self._text.split())] = self._href
            self._href = None
        if self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data
        if self._in and self._in[-1] == "h1":
            self.h1.append(data)


def get(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, f"{path}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")
    return response.text


@pytest.fixture
def be_provider(services: Services, world: World) -> UUID:
    """A Belgian provider, not accredited, offering a French micro-credential at EQF level 5, 10 ECTS."""
    provider_id = world.register_provider("BE", "Haute École Exemple")
    services.registry.specify_microcredential(
        Actor(provider_id, Role.PROVIDER, key_id="be"),
        provider_id=provider_id,
        specified_on=date(2022, 1, 1),
        **{**SPEC, "title": {"fr": "Gestion de projet"}, "eqf_level": 5, "ects": "10", "languages": ["fr"]},
    )
    return provider_id


def test_a_learner_sees_each_micro_credential_with_its_elements_and_where_it_leads(
    client: TestClient, world: World, be_provider: UUID, read_models: ReadModels
) -> None:
    read_models.catch_up()
    html = get(client, "/catalogue")
    page = Catalogue(html)

    assert "".join(page.h1) == "Catalogue"
    assert "2 entries match." in html
    assert page.links["Data analysis with Python"] == f"/history/{world.microcredential_id}"
    assert page.links["Universiteit Voorbeeld"] == f"/history/{world.provider_id}"
    assert page.links["Gestion de projet"].startswith("/history/")
    row = html[html.index("Data analysis with Python") : html.index("</tr>", html.index("Data analysis with Python"))]
    for shown in (
        "(Netherlands)",
        "<td>6</td>",
        "<td>5</td>",
        "<td>0613</td>",
        "<td>English</td>",
        "Provider accredited for it",
    ):
        assert shown in row, shown
    assert "Not quality-assured" in html, "the Belgian provider holds no accreditation"
    assert page.captions == 1 and {"q", "ects_min", "ects_below"} <= page.labels & page.inputs


def test_each_filter_shows_how_many_entries_its_values_leave_and_links_them(
    client: TestClient, world: World, be_provider: UUID, read_models: ReadModels
) -> None:
    read_models.catch_up()
    page = Catalogue(get(client, "/catalogue?country=BE"))

    # The country facet counts every country (the other filters only); the others count Belgian entries.
    assert page.links["Netherlands (1)"] == "/catalogue?country=NL"
    assert page.links["Belgium (1) chosen; follow to remove"] == "/catalogue"
    assert "Level 6 (1)" not in page.links and "Level 5 (1)" in page.links
    assert "French (1)" in page.links and "English (1)" not in page.links
    narrowed = get(client, page.links["Level 5 (1)"])
    assert "1 entries match." in narrowed and "Gestion de projet" in narrowed
    band = parse_qs(urlsplit(Catalogue(narrowed).links["10 to under 15 (1)"]).query)
    assert (band["ects_min"], band["ects_below"]) == (["10"], ["15"])
    assert "0 entries match." in get(client, "/catalogue?country=BE&qa=institution_accredited")


def test_providers_are_listed_with_their_accreditation(
    client: TestClient, world: World, be_provider: UUID, read_models: ReadModels
) -> None:
    read_models.catch_up()
    html = get(client, "/catalogue?listing=providers&q=exemple")
    page = Catalogue(html)

    assert "1 entries match." in html
    assert page.links["Haute École Exemple"] == f"/history/{be_provider}"
    assert "Not accredited" in html
    assert "Accredited (1)" in Catalogue(get(client, "/catalogue?listing=providers")).links


def test_pages_follow_one_another(client: TestClient, world: World, services: Services, read_models: ReadModels):
    for n in range(26):
        services.registry.specify_microcredential(
            world.provider, provider_id=world.provider_id, **{**SPEC, "title": {"en": f"Module {n}"}}
        )
    read_models.catch_up()
    first = Catalogue(get(client, "/catalogue"))
    second = get(client, first.links["Next page"])
    assert "27 entries match." in second
    assert len(re.findall(r'<th scope="row">', second)) == 2
    assert "Next page" not in Catalogue(second).links and "First page" in Catalogue(second).links


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("eqf=9", "eqf"),
        ("eqf=six", "eqf"),
        ("eqf=" + "9" * 5000, "eqf"),  # more digits than Python's int() takes
        ("country=Narnia", "country"),
        ("isced=12345", "isced"),
        ("isced=06%25", "isced"),
        ("ects_min=-1", "ects_min"),
        ("ects_below=NaN", "ects_below"),
        ("language=klingon", "language"),
        ("qa=excellent", "qa"),
        ("listing=providers&qa=programme_reviewed", "qa"),
        ("listing=providers&type=castle", "type"),
        ("retired=sometimes", "retired"),
        ("after=not-a-uuid", "after"),
        ("q=" + "x" * 201, "q"),
        ("q=tab%00null", "q"),
    ],
)
def test_a_bad_filter_value_is_a_page_naming_the_filter(client: TestClient, query: str, field: str) -> None:
    html = get(client, f"/catalogue?{query}", status=400)
    assert "Bad filter" in html and f'The filter "{field}" cannot be' in html
    assert "Traceback" not in html


def test_what_a_person_types_is_shown_as_text(client: TestClient, world: World, read_models: ReadModels) -> None:
    read_models.catch_up()
    html = get(client, "/catalogue?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    refused = get(client, "/catalogue?country=%3Cscript%3E", status=400)
    assert "<script>" not in refused and "&lt;script&gt;" in refused


def test_a_refusal_is_worded_in_the_pages_language(client: TestClient) -> None:
    response = client.get("/catalogue?eqf=9", headers={"Accept-Language": "de"})
    assert response.status_code == 400
    assert "Ungültiger Filter" in response.text and "Bad filter" not in response.text
