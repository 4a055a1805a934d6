"""The pages' languages: which one a request reads in, the catalogue that translates into it, and the Jinja
filters that word dates, numbers and the registry's multilingual names in it.

A request reads in the language its ``lang`` query parameter names (the picker in every page's header submits
it, and ``LanguageCookie`` keeps it in a cookie), else the one its ``lang`` cookie names, else the best of its
``Accept-Language`` that the registry speaks, else English, the source language of every text. Translations
are per request, never installed globally: ``page_context`` hands each template its own ``gettext`` and
``ngettext``, and the filters read the template's ``lang``. A handler that words something itself (a
``PageError``) takes ``PageLanguage``. Catalogues are ``.po`` files under ``locales/``, compiled in memory
when first used (docs/decisions.md, "Languages of the pages"); ``mcreg translations update`` refreshes them.

As in Jinja's "newstyle" gettext, a translated text is formatted with its named placeholders
(``_("%(count)s credentials", count=n)``) and ``%%`` stands for a per cent sign.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any, Protocol

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from fastapi import Depends, Request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.datastructures import MutableHeaders, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALES = Path(__file__).parent / "locales"
SOURCE = "en"
LANGUAGES = (SOURCE, "de", "fr", "es")
"""The languages the pages speak: English, in which every text is written, then those with a catalogue."""
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def po_file(code: str, locales: Path = LOCALES) -> Path:
    """Where the catalogue of ``code`` is kept, as gettext lays catalogues out."""
    return locales / code / "LC_MESSAGES" / "messages.po"


@cache
def catalogue(code: str) -> gettext_module.NullTranslations:
    """The translations into ``code``, compiled from its ``.po`` file once per process (English has none).

    Fuzzy entries (guesses ``mcreg translations update`` made from similar texts) are left out, as ``msgfmt`` does:
    the source text shows until a translator confirms them.
    """
    if code == SOURCE:
        return gettext_module.NullTranslations()
    with po_file(code).open("rb") as po:
        compiled = BytesIO()
        write_mo(compiled, read_po(po, locale=code), use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def spoken(tag: str) -> str | None:
    """The language of ours a language tag (``de``, ``de-AT``, ``FR_ca``) asks for, if we speak it."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str) -> str | None:
    """The language we speak that an ``Accept-Language`` header prefers most (RFC 9110 12.5.4), if any.

    Ranges are taken by quality, the header's order breaking ties; ``q=0`` refuses a language, ``*`` and
    malformed qualities are passed over.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, *parameters = item.split(";")
        qualities = [value for name, _, value in (p.partition("=") for p in parameters) if name.strip().lower() == "q"]
        try:
            quality = float(qualities[0]) if qualities else 1.0
        except ValueError:
            continue
        language = spoken(tag)
        if language is not None and 0 < quality <= 1:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def picked(query: QueryParams) -> str | None:
    """The language a request's ``lang`` query parameter picks, if it names one we speak."""
    return spoken(query.get("lang", ""))


def chosen(request: Request) -> str:
    """The language a request reads in: picked, else remembered in its cookie, else negotiated, else English."""
    return (
        picked(request.query_params)
        or spoken(request.cookies.get(COOKIE, ""))
        or negotiate(request.headers.get("accept-language", ""))
        or SOURCE
    )


@dataclass(frozen=True)
class Language:
    """One request's language, and the translations into it for a handler that words something itself."""

    code: str
    translations: gettext_module.NullTranslations

    def gettext(self, message: str, **params: object) -> str:
        """``message`` in this language, its ``%(name)s`` placeholders filled from ``params``."""
        return self.translations.gettext(message) % params

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        """The form for ``n`` in this language; ``%(num)s`` is ``n``."""
        return self.translations.ngettext(singular, plural, n) % {"num": n, **params}


def language(request: Request) -> Language:
    """The language ``request`` reads in (decided once per request)."""
    found = getattr(request.state, "language", None)
    if not isinstance(found, Language):
        code = chosen(request)
        found = Language(code, catalogue(code))
        request.state.language = found
    return found


PageLanguage = Annotated[Language, Depends(language)]


def gettext_functions(translations: gettext_module.NullTranslations) -> dict[str, Callable[..., str]]:
    """``gettext``, ``ngettext``, ``pgettext`` and ``npgettext`` for one template, as Jinja's i18n extension calls
    them in newstyle: a translation is markup the catalogue vouches for; the values put into it are escaped."""

    def finish(context: Context, text: str, params: Mapping[str, object]) -> str:
        return (Markup(text) if context.eval_ctx.autoescape else text) % params

    @pass_context
    def gettext(context: Context, message: str, **params: object) -> str:
        return finish(context, translations.gettext(message), params)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **params: object) -> str:
        return finish(context, translations.ngettext(singular, plural, num), {"num": num, **params})

    @pass_context
    def pgettext(context: Context, meaning: str, message: str, **params: object) -> str:
        return finish(context, translations.pgettext(meaning, message), {"context": meaning, **params})

    @pass_context
    def npgettext(context: Context, meaning: str, singular: str, plural: str, num: int, **params: object) -> str:
        found = translations.npgettext(meaning, singular, plural, num)
        return finish(context, found, {"context": meaning, "num": num, **params})

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext}


@cache
def endonym(code: str) -> str:
    """A language's name in itself, as the picker offers it: "Deutsch", "Français"."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def page_context(request: Request) -> dict[str, Any]:
    """What every page's template gets: its ``lang``, the gettext functions into it, and the picker's choices."""
    current = language(request)
    return {
        "lang": current.code,
        "languages": [(code, endonym(code)) for code in LANGUAGES],
        **gettext_functions(current.translations),
    }


class LangString(Protocol):
    """A text in one language, as GraphQL's ``LangString`` holds it."""

    @property
    def lang(self) -> str: ...
    @property
    def text(self) -> str: ...


class LocalText(str):
    """A text the registry holds in several languages, shown in one: its ``lang`` is the language it is in, for
    the ``lang`` attribute of the element that shows it when it is not the page's."""

    lang: str

    def __new__(cls, text: str, lang: str) -> LocalText:
        made = super().__new__(cls, text)
        made.lang = lang
        return made


def in_one_language(texts: Mapping[str, str] | Iterable[LangString], wanted: str) -> LocalText:
    """``texts`` (ISO 639-1 → text, or GraphQL ``LangString`` objects) in ``wanted``, else in English, else in the
    first language given; an empty text in no language when there is none."""
    by_language = dict(texts) if isinstance(texts, Mapping) else {t.lang: t.text for t in texts}
    for code in (wanted, SOURCE, *by_language):
        if by_language.get(code):
            return LocalText(by_language[code], code)
    return LocalText("", "")


def _moment(value: date | str) -> date:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@pass_context
def in_language(context: Context, texts: Mapping[str, str] | Iterable[LangString], wanted: str | None = None) -> str:
    """Filter ``|in_language``: a multilingual name in the page's language (or ``wanted``), with a fallback."""
    return in_one_language(texts, wanted or context.get("lang", SOURCE))


@pass_context
def date_filter(context: Context, value: date | str, format: str = "medium") -> str:
    """Filter ``|date``: a date (or the date of a datetime, or an ISO 8601 text) as the page's language writes it."""
    moment = _moment(value)
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) and moment.tzinfo else moment
    return format_date(day, format, locale=context.get("lang", SOURCE))


@pass_context
def datetime_filter(context: Context, value: datetime | str, format: str = "medium") -> str:
    """Filter ``|datetime``: a moment in UTC, the registry's time, as the page's language writes it."""
    moment = _moment(value)
    assert isinstance(moment, datetime), moment
    return format_datetime(moment, format, tzinfo=UTC, locale=context.get("lang", SOURCE))


@pass_context
def number(context: Context, value: float, format: str | None = None) -> str:
    """Filter ``|number``: a number with the page's language's separators (``1,234.5``, ``1.234,5``)."""
    return format_decimal(value, format, locale=context.get("lang", SOURCE))


@pass_context
def percent(context: Context, value: float, format: str | None = None) -> str:
    """Filter ``|percent``: a fraction (0.25) as a percentage in the page's language (``25 %`` in German)."""
    return format_percent(value, format, locale=context.get("lang", SOURCE))


@pass_context
def language_name(context: Context, code: str) -> str:
    """Filter ``|language_name``: an ISO 639-1 code as the page's language names that language."""
    return str(Locale.parse(context.get("lang", SOURCE)).languages.get(code.lower(), code))


@pass_context
def country_name(context: Context, code: str) -> str:
    """Filter ``|country_name``: an ISO 3166-1 alpha-2 code as the page's language names that country."""
    return str(Locale.parse(context.get("lang", SOURCE)).territories.get(code.upper(), code))


def install_filters(env: Environment) -> None:
    """Give the pages' templates the filters that word data in the page's language."""
    env.filters.update(
        in_language=in_language,
        date=date_filter,
        datetime=datetime_filter,
        number=number,
        percent=percent,
        language_name=language_name,
        country_name=country_name,
    )


class LanguageCookie:
    """Remember the language a visitor picks, and tell caches that a page's words depend on the language.

    An ASGI middleware: on an HTML response it adds ``Vary: Accept-Language, Cookie`` and the page's
    ``Content-Language``, and, when the request's ``lang`` picks a language we speak, a cookie keeping it (a
    year; the choice is no secret, so a script may read it, and it goes over plain HTTP too, as a closed network
    may serve the registry).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        code = picked(QueryParams(scope.get("query_string", b"")))
        state = scope.setdefault("state", {})  # request.state, where language() keeps the page's language

        async def send_remembering(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.add_vary_header("Accept-Language")
                    headers.add_vary_header("Cookie")
                    if isinstance(shown := state.get("language"), Language):
                        headers["content-language"] = shown.code
                    if code is not None:
                        headers.append("set-cookie", f"{COOKIE}={code}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax")
            await send(message)

        await self.app(scope, receive, send_remembering)
