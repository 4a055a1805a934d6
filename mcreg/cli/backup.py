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

    The log keeps its origin and keys, sealed in the export: restoring them needs the same key-encryption key.
    Exits 2 when the registry already holds events, the file is not an export, or the log's keys do not open.
    """
    from mcreg.services.backup import RestoreRefused, restore_events

    services = start()
    try:
        with source.open(encoding="utf-8") as lines, position_bar("restoring") as progress:
            restored = restore_events(services, lines, lambda n: progress(n, n))
        console.print(
            f"restored {restored.events:,} events; run `mcreg rebuild` (or start `mcreg serve`) to project them"
        )
        if restored.log_origin is not None:
            console.print(f"the transparency log {restored.log_origin} keeps its keys")
        else:
            console.print(
                "[yellow]this export predates the log's keys in backups: the restored log signs under a new key; "
                "auditors need its key (GET /v1/log/key)[/]"
            )
    except RestoreRefused as refusal:
        console.print(f"[red]{refusal}[/]")
        raise typer.Exit(2) from None
    finally:
        services.close()
