"""The pages' translation catalogues kept in step with the pages: every text the templates and page handlers mark
is extracted (``babel.cfg`` says where and how), merged into each language's ``.po`` file, and checked: each
language must translate each text, keeping its ``%(name)s`` placeholders and its markup.

``mcreg translations update`` and ``mcreg translations check`` run these, and so does a test, so a page whose new
text is not yet translated fails CI until it is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from mcreg.api.pages.languages import LANGUAGES, LOCALES, SOURCE, po_file

PAGES = Path(__file__).parent
MAPPING = PAGES / "babel.cfg"
TRANSLATED = tuple(code for code in LANGUAGES if code != SOURCE)
"""The languages with a catalogue: all but English, the language the texts are written in."""
PLACEHOLDER = re.compile(r"%\((\w+)\)")
TAG = re.compile(r"</?[A-Za-z][^>]*>")
read_mapping: Callable[[IO[str], str], tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]] = parse_mapping_cfg
"""babel's reader of ``babel.cfg`` (babel leaves it unannotated): (pattern, method) pairs and each one's options."""
HEADER = """\
# The texts of mcreg's pages, translated: from the templates and the
# page handlers in api/pages/. Refresh with `mcreg translations update`,
# then fill in every empty msgstr. `mcreg translations check` and the
# tests fail while a text is untranslated or fuzzy, or drops a
# placeholder or a tag."""


def extract() -> Catalog:
    """Every text the pages mark for translation, as a catalogue template (English, untranslated)."""
    with MAPPING.open() as config:
        method_map, options_map = read_mapping(config, str(MAPPING))
    template = Catalog(project="mcreg", msgid_bugs_address="", copyright_holder="mcreg")
    found = extract_from_dir(PAGES, method_map, options_map, comment_tags=("Translators:",), strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(code: str) -> Catalog:
    with po_file(code, LOCALES).open("rb") as po:
        return read_po(po, locale=code)


def update() -> list[Path]:
    """Merge the texts the pages show now into every language's catalogue; return the files written.

    A new text arrives untranslated, never as a fuzzy guess (Babel's guesses from similar texts were wrong for
    every short text of these pages: "QA agency" guessed as "At a glance"); a text the pages no longer show is
    dropped (git keeps it). Line numbers are left out so that moving a text within a template changes no
    catalogue.
    """
    template = extract()
    written = []
    for code in TRANSLATED:
        path = po_file(code, LOCALES)
        if path.exists():
            catalogue = read(code)
        else:
            catalogue = Catalog(
                locale=code,
                header_comment=HEADER,
                project="mcreg",
                version=version("mcreg"),
                copyright_holder="mcreg",
                language_team="mcreg",
                last_translator="mcreg",
                fuzzy=False,
            )
            path.parent.mkdir(parents=True, exist_ok=True)
        catalogue.update(template, no_fuzzy_matching=True, update_creation_date=False)
        with path.open("wb") as po:
            write_po(po, catalogue, ignore_obsolete=True, include_lineno=False)
        written.append(path)
    return written


@dataclass(frozen=True)
class Fault:
    """A text a language's catalogue does not translate as it must."""

    language: str
    message: str
    problem: str


def _texts(value: object) -> list[str]:
    """A message's id or string as its list of forms (one, or a form per plural), a missing form as empty."""
    forms = list(value) if isinstance(value, tuple | list) else [value]
    return [form if isinstance(form, str) else "" for form in forms]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


def fault_of(source: Message, entry: Message | None) -> str | None:
    """What is wrong with ``entry``, the translation of ``source``, if anything."""
    if entry is None:
        return "not in the catalogue: run mcreg translations update"
    if entry.fuzzy:
        return "fuzzy: a guess a translator has not confirmed"
    originals, forms = _texts(source.id), _texts(entry.string)
    if not all(form.strip() for form in forms):
        return "untranslated"
    names = set().union(*(_placeholders(text) for text in originals))
    for form in forms:
        used = _placeholders(form)
        # A plural form may leave out the count ("one credential") but nothing else, and may add nothing.
        if not used <= names or not (names - {"num"}) <= used or (len(forms) == 1 and used != names):
            return f"placeholders differ: {sorted(names)} in English, {sorted(used)} translated"
        if Counter(TAG.findall(form)) != Counter(TAG.findall(originals[-1])):
            return "markup differs: the translation must keep every tag of the English text"
    return None


def check(template: Catalog | None = None) -> list[Fault]:
    """Every way the catalogues fall short of the texts the pages show (``template``, extracted if not given)."""
    template = template or extract()
    faults = []
    for code in TRANSLATED:
        catalogue = read(code)
        for source in template:
            if not source.id:
                continue  # the header
            problem = fault_of(source, catalogue.get(source.id, source.context))
            if problem is not None:
                faults.append(Fault(code, _texts(source.id)[0], problem))
    return faults
