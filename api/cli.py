"""The ``mcreg`` command line."""

from __future__ import annotations

import time
from collections import Counter
from uuid import NAMESPACE_URL, UUID, uuid5

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.bootstrap import Services, bootstrap
from api.database import reset_embedded
from api.logs import configure_logging
from api.settings import Settings
from registry.stamp import Actor
from registry.vocabulary import Role

app = typer.Typer(help="mcreg: the micro-credential QA and recognition registry.", no_args_is_help=True)
db_app = typer.Typer(help="The database mcreg stores its events in.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()

CLI_OPERATOR = Actor(uuid5(NAMESPACE_URL, "mcreg:operator:cli"), Role.OPERATOR, key_id="cli")
"""The registry operator, acting from a shell on the registry's own machine."""


def start(settings: Settings | None = None) -> Services:
    settings = settings or Settings()
    configure_logging(settings)
    return bootstrap(settings)


def event_counts(services: Services, page: int = 10_000) -> Counter[str]:
    """Stored events per type (``Aggregate.Event``), read through the notification log."""
    counts: Counter[str] = Counter()
    recorder = services.registry.recorder
    start_id = 1
    while notifications := recorder.select_notifications(start=start_id, limit=page):
        counts.update(n.topic.rsplit(":", 1)[-1] for n in notifications)
        start_id = notifications[-1].id + 1
    return counts


@app.command()
def demo(
    credentials: int = typer.Option(1000, min=0, help="How many credentials to issue."),
    seed: int = typer.Option(1, help="Same seed, same registry."),
    batch_size: int = typer.Option(1000, min=1, help="Credentials per issuance command (1 = one per transaction)."),
    reset: bool = typer.Option(False, help="Empty the embedded database first."),
) -> None:
    """Build a realistic synthetic registry through the application services and print what it holds."""
    from api.demo import build_demo  # the demo's data tables load only for this command

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
        with Progress(
            TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
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
        table.add_row("[bold]all events", f"[bold]{total:,}")
        console.print(table)
        console.print(summary)
        console.print(f"{total:,} events in {elapsed:.1f} s: {total / elapsed:,.0f} events/s")
    finally:
        services.close()


@db_app.command("info")
def db_info() -> None:
    """Which database mcreg uses and what it holds."""
    services = start()
    try:
        console.print(f"server:   {services.database.kind} PostgreSQL {services.database.server_version()}")
        console.print(f"database: {services.database.describe()}")
        if services.database.kind == "embedded":
            console.print(f"data dir: {services.settings.data_dir}")
        console.print(f"events:   {services.registry.recorder.max_notification_id() or 0:,}")
    finally:
        services.close()


@app.command("forget-learner")
def forget_learner(learner_id: UUID) -> None:
    """Erase a learner's personal data (GDPR): destroys their key; every other fact still verifies."""
    services = start()
    try:
        if services.registry.forget_learner(CLI_OPERATOR, learner_id):
            console.print(f"learner {learner_id}: key destroyed; personal data now reads as erased")
        else:
            console.print(f"learner {learner_id}: no key held (unknown, or already forgotten)")
            raise typer.Exit(1)
    finally:
        services.close()
