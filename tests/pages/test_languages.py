"""The pages in the visitor's language: German, French and Spanish besides English, by the browser's
``Accept-Language`` or the picker in every page's header, never mixed up between visitors; dates, numbers and the
registry's multilingual names worded in the page's language; and catalogues that translate every text the pages
show, keeping its placeholders and markup.
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from gettext import NullTranslations
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Message
from fastapi import APIRouter
from fastapi.testclient import TestClient

from mcreg.api.graphql.types import lang_strings
from mcreg.api.pages import catalogues
from mcreg.api.pages.assets import templates
from mcreg.api.pages.errors import PageError
from mcreg.api.pages.languages import (
    LANGUAGES,
    SOURCE,
    PageLanguage,
    catalogue,
    gettext_functions,
    in_one_language,
    negotiate,
)
from mcreg.projections.read_models import ReadModels
from tests.world import OPERATOR, World

TITLE = "The micro-credential QA and recognition registry"


def heading(code: str) -> str:
    """The home page's heading as the registry words it in ``code``."""
    return catalogue(code).gettext(TITLE)


class Form(HTMLParser):
    """The language a page is in, and its language picker: the form's fields, the labels, the options offered."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.fields: dict[str, dict[str, str]] = {}
        self.hidden: list[tuple[str, str]] = []
        self.labels: set[str] = set()
        self.options: dict[str, dict[str, str]] = {}
        self.scripts = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "input" and found.get("type") == "hidden":
            self.hidden.append((found["name"], found["value"]))
        elif tag in ("select", "input", "button"):
            self.fields[found.get("name", tag)] = found
        elif tag == "label":
            self.labels.add(found.get("for", ""))
        elif tag == "option":
            self.options[found["value"]] = found
        elif tag == "script":
            self.scripts += 1


def home(client: TestClient, **headers: str) -> tuple[str, Form]:
    response = client.get("/", headers=headers)
    assert response.status_code == 200, response.text[:300]
    return response.text, Form(response.text)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("es-ES", "es"),
        ("en-GB,en;q=0.9", "en"),
        ("nl-BE, fr;q=0.7, de;q=0.9", "de"),  # Dutch is not spoken: German is preferred over French
    ],
)
def test_the_browsers_accept_language_picks_the_pages_language(
    client: TestClient, accept_language: str, expected: str
) -> None:
    text, page = home(client, **{"Accept-Language": accept_language})
    assert page.lang == expected
    assert f"<h1>{heading(expected)}</h1>" in text
    if expected != SOURCE:
        assert heading(expected) != TITLE and TITLE not in text


@pytest.mark.parametrize("code", catalogues.TRANSLATED)
def test_every_text_of_the_home_page_is_in_the_chosen_language(client: TestClient, code: str) -> None:
    text = client.get("/", headers={"Accept-Language": code}).text
    pages = {"templates/base.html", "templates/home.html"}
    shown = [m for m in catalogues.extract() if m.id and pages & {path for path, _ in m.locations}]
    assert len(shown) > 15
    for message in shown:
        translated = catalogue(code).pgettext(message.context, message.id) if message.context else None
        translated = translated or catalogue(code).gettext(message.id)
        assert translated in text, (code, message.id)
        if translated != message.id:  # "Dashboard" is German too, "Catalogue" French: a translation may be the same
            assert message.id not in text, f"{message.id!r} shows in English"


def test_a_page_that_depends_on_the_language_tells_caches_so(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "de"})
    assert {"accept-language", "cookie"} <= {v.strip().lower() for v in response.headers["vary"].split(",")}
    assert response.headers["content-language"] == "de"
    assert "set-cookie" not in response.headers, "negotiating is no choice to remember"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en;q=0.2, fr;q=0.8", "fr"),  # quality beats order
        ("de;q=0, fr;q=0.1", "fr"),  # q=0 refuses
        ("fr;q=0.5, es;q=0.5", "fr"),  # a tie goes to the first
        ("de;q=abc, es;q=0.3", "es"),  # a malformed quality is passed over
        ("de;q=1.5", None),  # so is one out of range
        ("*", None),
        ("", None),
        ("tlh, x-klingon;q=0.9", None),
        ("FR_ca", "fr"),
        ("de;level=1;q=0.2, es;q=0.5", "es"),  # the quality is found among other parameters
    ],
)
def test_accept_language_is_read_as_rfc_9110_says(accept_language: str, expected: str | None) -> None:
    assert negotiate(accept_language) == expected


def test_the_picker_overrides_the_browser_and_is_remembered(client: TestClient) -> None:
    response = client.get("/?lang=fr", headers={"Accept-Language": "de"})
    page = Form(response.text)
    assert page.lang == "fr" and f"<h1>{heading('fr')}</h1>" in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=fr;") and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie

    # The browser keeps the cookie: the next page, without ?lang=, stays French though the browser asks for German.
    again = client.get("/", headers={"Accept-Language": "de"})
    assert Form(again.text).lang == "fr"
    client.cookies.clear()
    assert Form(client.get("/", headers={"Accept-Language": "de"}).text).lang == "de"


def test_the_picker_is_a_labelled_form_that_needs_no_script(client: TestClient) -> None:
    _, page = home(client, **{"Accept-Language": "es"})
    picker = page.fields["lang"]
    assert picker["id"] in page.labels, "the picker has a label"
    assert "button" in page.fields, "a button submits it: no script changes the page"
    assert page.scripts == 0
    assert set(page.options) == set(LANGUAGES)
    assert "selected" in page.options["es"], "the page's language is the one selected"
    for code, option in page.options.items():
        assert option["lang"] == code, "each language is named in itself, and marked so for screen readers"


def test_the_picker_keeps_the_pages_other_parameters_escaped(client: TestClient) -> None:
    attack = '"><script>alert(1)</script>'
    response = client.get("/", params={"as_of": "2024-01-01", "q": attack, "lang": "de"})
    page = Form(response.text)
    assert ("as_of", "2024-01-01") in page.hidden and ("q", attack) in page.hidden
    assert all(name != "lang" for name, _ in page.hidden), "the picker's own choice replaces the old one"
    assert "<script>" not in response.text and page.scripts == 0


@pytest.mark.parametrize("asked", [{"lang": "xx"}, {"lang": "<b>"}, {"lang": ""}])
def test_a_language_we_do_not_speak_falls_back_to_english(client: TestClient, asked: dict[str, str]) -> None:
    response = client.get("/", params=asked, headers={"Accept-Language": "tlh, ja;q=0.5"})
    assert Form(response.text).lang == SOURCE and f"<h1>{TITLE}</h1>" in response.text
    assert "set-cookie" not in response.headers, "only a language we speak is remembered"


def test_a_cookie_naming_a_language_we_do_not_speak_is_passed_over(client: TestClient) -> None:
    client.cookies.set("lang", "zz")
    assert Form(client.get("/", headers={"Accept-Language": "es"}).text).lang == "es"
    assert Form(client.get("/").text).lang == SOURCE


def test_concurrent_visitors_in_two_languages_each_read_their_own(client: TestClient) -> None:
    """Forty pages at once, German and French interleaved (the 404 page: it reads no database, so only the
    language is at stake): each is wholly in the language asked for."""

    def visit(code: str) -> tuple[str, str]:
        response = client.get("/nowhere", headers={"Accept": "text/html", "Accept-Language": code})
        assert response.status_code == 404, response.text[:300]
        return code, response.text

    codes = ["de", "fr"] * 20
    with ThreadPoolExecutor(max_workers=8) as pool:
        visits = list(pool.map(visit, codes))
    for code, text in visits:
        other = "fr" if code == "de" else "de"
        assert Form(text).lang == code
        for shown in ("Page not found", "Skip to main content", "Back to the home page"):
            assert catalogue(code).gettext(shown) in text and catalogue(other).gettext(shown) not in text


def test_a_page_error_is_worded_in_the_visitors_language(client: TestClient) -> None:
    router = APIRouter(include_in_schema=False)

    @router.get("/test-unknown")
    def unknown(language: PageLanguage) -> None:
        raise PageError(404, language.gettext("Home"), language.gettext("Back to the home page"))

    client.app.include_router(router)  # type: ignore[attr-defined]
    response = client.get("/test-unknown", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert Form(response.text).lang == "fr"
    assert "<h1>Accueil</h1>" in response.text and "Retour à la page d’accueil" in response.text


def test_an_unknown_address_is_answered_in_the_visitors_language(client: TestClient) -> None:
    response = client.get("/nirgendwo/<b>x</b>", headers={"Accept": "text/html", "Accept-Language": "de"})
    assert response.status_code == 404 and Form(response.text).lang == "de"
    assert "<h1>Seite nicht gefunden</h1>" in response.text
    assert "Das Register hat keine Seite unter /nirgendwo/&lt;b&gt;x&lt;/b&gt;." in response.text


def render(source: str, lang: str, **context: Any) -> str:
    return templates.env.from_string(source).render(lang=lang, **gettext_functions(catalogue(lang)), **context)


@pytest.mark.parametrize(
    ("lang", "number", "day", "moment", "share"),
    [
        ("en", "1,234,567.5", "Dec 4, 2026", "Dec 4, 2026, 7:05:00\u202fPM", "25%"),
        ("de", "1.234.567,5", "04.12.2026", "04.12.2026, 19:05:00", "25\xa0%"),
        ("fr", "1\u202f234\u202f567,5", "4 déc. 2026", "4 déc. 2026, 19:05:00", "25\xa0%"),
        ("es", "1.234.567,5", "4 dic 2026", "4 dic 2026, 19:05:00", "25\xa0%"),
    ],
)
def test_numbers_and_dates_are_written_as_the_language_writes_them(
    lang: str, number: str, day: str, moment: str, share: str
) -> None:
    assert render("{{ 1234567.5|number }}", lang) == number
    assert render("{{ d|date }}", lang, d=date(2026, 12, 4)) == day
    assert render("{{ d|date }}", lang, d="2026-12-04") == day
    # A moment is shown in UTC, the registry's time, whatever zone it was given in.
    assert render("{{ t|datetime }}", lang, t=datetime(2026, 12, 4, 19, 5, tzinfo=UTC)) == moment
    assert render("{{ 0.25|percent }}", lang) == share


def test_country_and_language_codes_are_named_in_the_pages_language() -> None:
    assert render("{{ 'NL'|country_name }}, {{ 'nl'|language_name }}", "de") == "Niederlande, Niederländisch"
    assert render("{{ 'nl'|country_name }}, {{ 'NL'|language_name }}", "fr") == "Pays-Bas, néerlandais"
    assert render("{{ 'QQ'|country_name }}", "es") == "QQ", "an unknown code is shown as it is"


def test_a_translation_is_markup_but_the_values_put_into_it_are_escaped() -> None:
    shown = render('{{ _("Hello %(name)s", name=who) }}|{{ _("%(n)s%% done", n=5) }}', "de", who="<script>x</script>")
    assert shown == "Hello &lt;script&gt;x&lt;/script&gt;|5% done"
    plural = "{% trans count=n %}one credential{% pluralize %}{{ count }} credentials{% endtrans %}"
    assert render(plural, "en", n=1) == "one credential" and render(plural, "en", n=3) == "3 credentials"


def test_the_registrys_multilingual_names_are_shown_in_the_pages_language(
    world: World, read_models: ReadModels
) -> None:
    names = {"nl": "Hanzehogeschool Groningen", "en": "Hanze University of Applied Sciences", "de": "Hanze Hochschule"}
    provider_id = world.registry.register_provider(OPERATOR, names=names, country="NL", registered_on=date(2015, 1, 1))
    read_models.catch_up()
    row = read_models.provider_standing.provider(provider_id)
    assert row is not None
    shown = '<span lang="{{ n.lang }}">{{ n }}</span>'
    source = "{% set n = names|in_language %}" + shown
    assert render(source, "de", names=row.names) == '<span lang="de">Hanze Hochschule</span>'
    assert render(source, "fr", names=row.names) == '<span lang="en">Hanze University of Applied Sciences</span>'
    assert render("{{ names|in_language('nl') }}", "de", names=row.names) == "Hanzehogeschool Groningen"
    # As GraphQL hands them (LangString objects), and with neither the page's language nor English: the first.
    dutch_only = lang_strings({"nl": "Hanzehogeschool Groningen"})
    assert render(source.replace("names", "texts"), "es", texts=dutch_only) == (
        '<span lang="nl">Hanzehogeschool Groningen</span>'
    )
    assert render("{{ names|in_language }}", "de", names={"de": "", "en": "<b>Bold</b>"}) == "&lt;b&gt;Bold&lt;/b&gt;"
    assert in_one_language({}, "de") == "" and in_one_language({}, "de").lang == ""


def test_every_text_the_pages_show_is_translated_into_every_language() -> None:
    template = catalogues.extract()
    found = {path for message in template if message.id for path, _ in message.locations}
    assert {"templates/base.html", "templates/home.html", "templates/error.html"} <= found
    faults = catalogues.check(template)
    listed = "\n".join(f"{f.language}: {f.message!r}: {f.problem}" for f in faults)
    assert not faults, f"run `mcreg translations update`, then translate:\n{listed}"


def test_every_translation_keeps_the_placeholders_and_markup_of_the_english() -> None:
    def kept(text: str) -> list[str]:
        return sorted(re.findall(r"%\(\w+\)\w|</?[A-Za-z][^>]*>", text))

    with_markup = 0
    for message in catalogues.extract():
        if not message.id or not isinstance(message.id, str):
            continue
        with_markup += bool(kept(message.id))
        for code in catalogues.TRANSLATED:
            entry = catalogues.read(code).get(message.id, message.context)
            assert entry is not None and entry.string, (code, message.id)  # the same word is a translation too
            assert kept(entry.string) == kept(message.id), (code, message.id)
    assert with_markup, "some text carries a link: the test would prove nothing"


@pytest.mark.parametrize(
    ("english", "translated", "problem"),
    [
        ("%(count)s credentials", "%(count)s Nachweise", None),
        ("Issued by %(issuer)s on %(day)s", "Am %(day)s von %(issuer)s ausgestellt", None),
        ("%(count)s credentials", "Nachweise", "placeholders differ"),
        ("%(count)s credentials", "%(anzahl)s Nachweise", "placeholders differ"),
        ("%(count)s credentials", "%(count)s Nachweise von %(issuer)s", "placeholders differ"),
        ('<a href="/docs">The API</a>', "Die API", "markup differs"),
        ('<a href="/docs">The API</a>', '<a href="/redoc">Die API</a>', "markup differs"),
        ("Home", "", "untranslated"),
        ("Home", "   ", "untranslated"),
    ],
)
def test_the_check_finds_a_translation_that_drops_or_changes_a_placeholder_or_a_tag(
    english: str, translated: str, problem: str | None
) -> None:
    fault = catalogues.fault_of(Message(english), Message(english, translated))
    assert (fault or "").startswith(problem or "") and (fault is None) == (problem is None), fault


def test_the_check_reads_plural_forms_and_fuzzy_guesses() -> None:
    source = Message(("one credential", "%(num)s credentials"))
    assert catalogues.fault_of(source, Message(source.id, ("ein Nachweis", "%(num)s Nachweise"))) is None
    assert catalogues.fault_of(source, Message(source.id, ("ein Nachweis", ""))) == "untranslated"
    wrong = catalogues.fault_of(source, Message(source.id, ("ein Nachweis", "%(n)s Nachweise")))
    assert wrong is not None and wrong.startswith("placeholders differ")
    guess = Message("Home", "Startseite", flags=["fuzzy"])
    assert (catalogues.fault_of(Message("Home"), guess) or "").startswith("fuzzy")
    assert (catalogues.fault_of(Message("Home"), None) or "").startswith("not in the catalogue")


def test_the_catalogues_are_what_mcreg_translations_update_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running the update again changes nothing: the committed catalogues hold every text, and only them."""
    committed, copy = catalogues.LOCALES, tmp_path / "locales"
    shutil.copytree(committed, copy)
    monkeypatch.setattr(catalogues, "LOCALES", copy)
    written = catalogues.update()
    assert sorted(path.relative_to(copy).parts[0] for path in written) == sorted(catalogues.TRANSLATED)
    for path in written:
        assert path.read_bytes() == (committed / path.relative_to(copy)).read_bytes(), path


def test_english_is_the_source_and_needs_no_catalogue() -> None:
    assert isinstance(catalogue(SOURCE), NullTranslations)
    assert catalogue(SOURCE).gettext(TITLE) == TITLE
