"""``mcreg audit``: check the transparency log against the event store and its signed checkpoints.

``mcreg audit verify`` recomputes every leaf from the stored events, checks
the stored tree, every checkpoint's root, the signatures and consistency of
the checkpoints (a sample when there are many), and, given ``--against``, a
checkpoint the auditor saved earlier. It exits 1 naming the first problem.
``mcreg audit checkpoint`` prints the latest signed checkpoint, to keep.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcreg.bootstrap import open_transparency_log
from mcreg.projections.transparency_log import AUDIT_SAMPLE, AuditReport
from mcreg.registry.trust.signed_note import NoteError, Verifier

audit_app = typer.Typer(help="Check the transparency log: every stored event, proofs, signed checkpoints.")
console = Console()

SHOWN = 20
"""Findings listed in the report; the rest are counted."""


def report_table(report: AuditReport) -> Table:
    table = Table("checked", "", title=f"transparency log {report.origin}", show_header=False)
    table.add_row("leaves", f"{report.leaves:,} (tree size {report.size:,}, up to position {report.position:,})")
    table.add_row("root", report.root.hex())
    table.add_row("events", f"{report.events:,}, {report.pending:,} recorded after the log's position")
    table.add_row("subtree hashes", f"{report.nodes:,}")
    table.add_row("checkpoints", f"{report.checkpoints:,}, {report.signatures:,} signatures verified")
    table.add_row("consistency proofs", f"{report.consistency_proofs:,}")
    if report.against is not None:
        table.add_row("saved checkpoint", f"size {report.against.size:,}")
    return table


def findings_table(report: AuditReport) -> Table:
    table = Table("problem", "position", "leaf", "detail", title="findings")
    for finding in report.findings[:SHOWN]:
        position = "" if finding.position is None else f"{finding.position:,}"
        index = "" if finding.index is None else f"{finding.index:,}"
        table.add_row(finding.kind, position, index, finding.detail)
    more = len(report.findings) - SHOWN + report.more_findings
    if more > 0:
        table.caption = f"and {more:,} more"
    return table


@audit_app.command("verify")
def verify(
    against: Path | None = typer.Option(
        None, "--against", exists=True, dir_okay=False, help="A checkpoint saved earlier: is today's log consistent?"
    ),
    sample: int = typer.Option(
        AUDIT_SAMPLE, min=2, help="Checkpoints whose signature and consistency are checked (first and last always)."
    ),
    log_key: str | None = typer.Option(
        None, help="The log's verifier key (from GET /v1/log/key, kept apart); the registry's own key by default."
    ),
) -> None:
    """Recompute the log from the event store and check its checkpoints; exit 1 naming the first problem."""
    from mcreg.cli import start  # here, not above: the CLI imports this module

    verifier = None
    if log_key is not None:
        try:
            verifier = Verifier.from_key(log_key)
        except NoteError as error:
            raise typer.BadParameter(str(error), param_hint="--log-key") from None
    saved = against.read_bytes() if against is not None else None
    services = start()
    log = open_transparency_log(services)
    try:
        with Progress(
            TextColumn("auditing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("audit", total=None)
            report = log.audit(
                verifier=verifier,
                against=saved,
                sample=sample,
                progress=lambda done, size: bar.update(task, completed=done, total=size),
            )
        console.print(report_table(report))
        first = report.first
        if first is None:
            console.print(
                f"[green]verified:[/] {report.leaves:,} events as logged, "
                f"checkpoint {report.size:,} signed by {report.origin}"
            )
            return
        console.print(findings_table(report))
        where = f" at position {first.position:,}" if first.position is not None else ""
        console.print(f"[red]first problem: {first.kind}{where}:[/] {first.detail}")
        raise typer.Exit(1)
    finally:
        log.close()
        services.close()


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Print the latest signed checkpoint, to keep and check against later with `verify --against`."""
    from mcreg.cli import start

    services = start()
    log = open_transparency_log(services)
    try:
        typer.echo(log.checkpoint(), nl=False)
    finally:
        log.close()
        services.close()
