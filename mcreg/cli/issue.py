"""``mcreg issue --csv``: issue a provider's cohort from a CSV file, with a progress bar and a report of every row."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import typer

from mcreg.cli.help import Command
from mcreg.cli.shared import console, progress_bar, start
from mcreg.registry.application import RowStatus
from mcreg.registry.errors import DomainError
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.services.csv_issuance import CsvOptions, RowReport, import_csv

app = typer.Typer()


@app.command(
    "issue",
    cls=Command,
    epilog="Example: mcreg issue --csv cohort.csv --provider 3f2b8c1e-5d4a-4f6b-9c7d-2e1a0b9c8d7f --report out.jsonl",
)
def issue(
    csv_file: Path = typer.Option(..., "--csv", exists=True, dir_okay=False, help="The CSV file (columns: /docs)."),
    provider: UUID = typer.Option(..., help="The issuing provider's id: the rows are issued as it."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and write nothing."),
    partial: bool = typer.Option(False, "--partial", help="Issue the valid rows even if others are refused."),
    delimiter: str | None = typer.Option(None, help="The cell separator, , or ; (taken from the header if not given)."),
    report: Path | None = typer.Option(None, help="Write every row's outcome here, one JSON object a line."),
) -> None:
    """Issue credentials from a CSV file as POST /v1/credentials:import does, on this machine's registry.

    Exits 1 when a row is refused, 2 when the file is refused as a whole (nothing written).
    """
    if delimiter not in (None, ",", ";"):
        raise typer.BadParameter("must be , or ;", param_hint="--delimiter")
    services = start()
    actor = Actor(provider, Role.PROVIDER, key_id="cli")
    options = CsvOptions(
        dry_run=dry_run,
        all_or_nothing=not partial,
        delimiter=delimiter,  # type: ignore[arg-type]  # checked above
        max_rows=services.settings.max_csv_rows,
        chunk_rows=min(services.settings.max_batch_rows, CsvOptions().chunk_rows),
    )
    out = report.open("w", encoding="utf-8") if report else None
    shown = 0

    def sink(row: RowReport) -> None:
        nonlocal shown
        if out:
            line = {k: str(v) if isinstance(v, UUID) else v for k, v in row.__dict__.items() if v is not None}
            out.write(json.dumps(line) + "\n")
        if row.status == RowStatus.REFUSED and shown < 20:
            shown += 1
            console.print(f"row {row.row} ({row.column or 'row'}): {row.problem}: {row.message}")

    try:
        with csv_file.open("rb") as source, progress_bar("issuing") as bar:
            task = bar.add_task("issuing", total=None)
            summary = import_csv(
                services.registry,
                actor,
                source,
                options,
                sink,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]: nothing was written")
        raise typer.Exit(2) from None
    finally:
        if out:
            out.close()
        services.close()
    counts = ", ".join(f"{n} {status.value}" for status, n in summary.counts.items() if n)
    console.print(f"{summary.rows} rows: {counts}")
    if summary.counts[RowStatus.REFUSED]:
        raise typer.Exit(1)
