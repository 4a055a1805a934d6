"""``mcreg translations``: the pages' gettext catalogues (``api/pages/locales/``), one per language.

``mcreg translations update`` extracts every text the pages mark and merges it into each catalogue;
``mcreg translations check`` lists what a language does not yet translate, and fails if anything.
Run them in a checkout: they write and read the catalogues beside the templates.
"""

from __future__ import annotations

import typer
from rich.table import Table

from mcreg.api.pages import catalogues
from mcreg.cli.help import Command, command_group
from mcreg.cli.shared import console

app = command_group(
    "The pages' translations: extract their texts into each language's catalogue, and check them.",
    epilog="A translator edits api/pages/locales/LANGUAGE/LC_MESSAGES/messages.po (Poedit, or any editor); the "
    "registry compiles the catalogues when it starts.",
)


def show_faults() -> int:
    """Print what the catalogues lack, as a table; return how many faults there are."""
    faults = catalogues.check()
    if not faults:
        languages = ", ".join(catalogues.TRANSLATED)
        console.print(f"every text the pages show is translated into {languages}")
        return 0
    table = Table("language", "text", "problem", title="texts left to translate")
    for fault in faults:
        table.add_row(fault.language, fault.message, fault.problem)
    console.print(table)
    return len(faults)


@app.command("update", cls=Command, epilog="Example: mcreg translations update")
def update() -> None:
    """Extract every text the pages mark for translation and merge it into each language's catalogue.

    New texts arrive untranslated (or as fuzzy guesses to confirm); texts no page shows any more are dropped.
    Then lists what is left to translate.
    """
    for path in catalogues.update():
        console.print(f"updated {path}")
    show_faults()


@app.command("check", cls=Command, epilog="Example: mcreg translations check")
def check() -> None:
    """Check that every language translates every text the pages show, keeping placeholders and markup.

    Exits 1, listing each text and what is wrong with it, if any language falls short.
    """
    if show_faults():
        raise typer.Exit(1)
