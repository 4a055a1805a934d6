"""``mcreg audit``: check the transparency log against the event store and its signed checkpoints.

``mcreg audit verify`` prints what the audit checked and exits 1 naming the
first problem; ``mcreg audit checkpoint`` prints the latest signed checkpoint, to keep.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mcreg.cli.help import Command, command_group
from mcreg.cli.shared import console, position_bar, start
from mcreg.projections.transparency_log import AUDIT_SAMPLE, AuditReport
from mcreg.registry.trust.signed_note import NoteError, Verifier
from mcreg.services.audit import audit_log, latest_checkpoint

app = command_group(
    "Check the transparency log: every stored event, proofs, signed checkpoints.",
    epilog="Keep a checkpoint now (mcreg audit checkpoint > saved.txt); later, "
    "mcreg audit verify --against saved.txt shows the log only grew.",
)

SHOWN = 20
"""Findings listed in the report; the rest are counted."""


def report_table(report: AuditReport) -> Table:
    table = Table("checked", "", title=f"transparency log {report.origin}", show_header=False)
    table.add_row("leaves", f"{report.leaves:,} (tree size {report.size:,}, up to position {report.position:,})")
    table.add_row("root", report.root.hex())
    table.add_row("events", f"{report.events:,}, {report.pending:,} recorded after the log's position")
    table.add_row("subtree hashes", f"{report.nodes:,}")
    table.add_row("checkpoints", f"{report.checkpoints:,}, {report.signatures:,} signatures verified")
    table.add_row("log keys", f"{report.keys:,} keys, each after the first announced by the one before")
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


@app.command("verify", cls=Command, epilog="Example: mcreg audit verify --against saved-checkpoint.txt")
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
    verifier = None
    if log_key is not None:
        try:
            verifier = Verifier.from_key(log_key)
        except NoteError as error:
            raise typer.BadParameter(str(error), param_hint="--log-key") from None
    saved = against.read_bytes() if against is not None else None
    services = start()
    try:
        with position_bar("auditing") as progress:
            report = audit_log(services, verifier=verifier, against=saved, sample=sample, progress=progress)
    finally:
        services.close()
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


@app.command("checkpoint", cls=Command, epilog="Example: mcreg audit checkpoint > saved-checkpoint.txt")
def checkpoint() -> None:
    """Print the latest signed checkpoint, to keep and check against later with `verify --against`."""
    services = start()
    try:
        typer.echo(latest_checkpoint(services), nl=False)
    finally:
        services.close()
