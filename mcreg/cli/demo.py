"""``mcreg demo``: build a synthetic registry and print what it holds, ending with its credentials' verdict mix."""

from __future__ import annotations

import time
from collections import Counter

import structlog
import typer
from rich.table import Table

from mcreg.bootstrap import Services
from mcreg.cli.help import Command
from mcreg.cli.shared import console, progress_bar, start
from mcreg.database import reset_embedded
from mcreg.settings import Settings

app = typer.Typer()


def event_counts(services: Services, page: int = 10_000) -> Counter[str]:
    """Stored events per type (``Aggregate.Event``), read through the notification log."""
    counts: Counter[str] = Counter()
    recorder = services.registry.recorder
    start_id = 1
    while notifications := recorder.select_notifications(start=start_id, limit=page):
        counts.update(n.topic.rsplit(":", 1)[-1] for n in notifications)
        start_id = notifications[-1].id + 1
    return counts


@app.command(cls=Command, epilog="Example: mcreg demo --reset --credentials 10000 --seed 7")
def demo(
    credentials: int = typer.Option(1000, min=0, help="How many credentials to issue."),
    seed: int = typer.Option(1, help="Same seed, same registry."),
    batch_size: int = typer.Option(1000, min=1, help="Credentials per issuance command (1 = one per transaction)."),
    reset: bool = typer.Option(False, help="Empty the embedded database first."),
) -> None:
    """Build a realistic synthetic registry through the application services and print what it holds.

    Twelve QA agencies, forty providers in fifteen countries, their accreditations and reviews,
    micro-credentials, the credentials issued, and what befalls some of them afterwards, dated over
    the years up to today. Ends with how many credentials verify valid, valid with warnings and not valid today.
    """
    from mcreg.demo import build_demo, verdict_mix  # the demo's data tables load only for this command

    settings = Settings()
    if reset:
        if settings.database_url or settings.postgres_host:
            raise typer.BadParameter("--reset only empties the embedded database", param_hint="--reset")
        reset_embedded(settings)
    services = start(settings)
    try:
        if services.registry.recorder.max_notification_id():
            console.print("[red]The registry already holds events.[/] Run with --reset to start again (embedded only).")
            raise typer.Exit(1)
        began = time.perf_counter()
        with progress_bar("issuing") as progress:
            task = progress.add_task("issue", total=credentials)
            summary = build_demo(
                services.registry,
                credentials=credentials,
                seed=seed,
                batch_size=batch_size,
                progress=lambda n: progress.advance(task, n),
            )
        elapsed = time.perf_counter() - began
        counts = event_counts(services)
        table = Table("event", "count", title=f"mcreg demo (seed {seed}) on {services.database.kind} PostgreSQL")
        for topic, count in sorted(counts.items()):
            table.add_row(topic, f"{count:,}")
        total = sum(counts.values())
        table.add_row("all events", f"[bold]{total:,}")
        console.print(table)
        console.print(summary)
        console.print(f"{total:,} events in {elapsed:.1f} s: {total / elapsed:,.0f} events/s")
        mix = verdict_mix(services.registry)
        sampled = "" if mix.verified == mix.issued else f" (a sample of {mix.verified:,} of {mix.issued:,})"
        console.print(
            f"verdicts today{sampled}: {mix.valid:,} valid, {mix.valid_with_warnings:,} valid with warnings, "
            f"{mix.not_valid:,} not valid"
        )
        structlog.get_logger(__name__).info(
            "demo.built",
            events=total,
            seconds=round(elapsed, 2),
            seed=seed,
            valid=mix.valid,
            valid_with_warnings=mix.valid_with_warnings,
            not_valid=mix.not_valid,
        )
    finally:
        services.close()
