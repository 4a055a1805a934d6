"""``mcreg export`` and ``mcreg restore``: the event log out to a file, and back into an empty registry."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import structlog
import typer

from mcreg.cli.help import Command
from mcreg.cli.shared import console, position_bar, start

app = typer.Typer()


@app.command("export", cls=Command, epilog="Example: mcreg export -o registry-2026-12-04.jsonl")
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write; standard output if not given."),
) -> None:
    """Export the whole event log as JSON lines (positions and stored bytes kept): the registry's backup."""
    from mcreg.services.backup import export_events

    services = start()
    try:
        with output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout) as out:
            written = export_events(services, out)
        structlog.get_logger(__name__).info("log.exported", events=written, file=str(output) if output else "stdout")
    finally:
        services.close()


@app.command("restore", cls=Command, epilog="Example: mcreg restore registry-2026-12-04.jsonl && mcreg rebuild")
def restore(source: Path = typer.Argument(..., help="A file written by `mcreg export`.")) -> None:
    """Load an exported event log into an empty registry, keeping every position; then rebuild the read models.

    Exits 2 when the registry already holds events or the file is not an export.
    """
    from mcreg.services.backup import RestoreRefused, restore_events

    services = start()
    try:
        with source.open(encoding="utf-8") as lines, position_bar("restoring") as progress:
            loaded = restore_events(services, lines, lambda n: progress(n, n))
        console.print(f"restored {loaded:,} events; run `mcreg rebuild` (or start `mcreg serve`) to project them")
    except RestoreRefused as refusal:
        console.print(f"[red]{refusal}[/]")
        raise typer.Exit(2) from None
    finally:
        services.close()
