"""The ``mcreg`` command line."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mcreg.bootstrap import Services, bootstrap, followers, open_read_models, open_transparency_log
from mcreg.database import reset_embedded
from mcreg.logs import configure_logging
from mcreg.projections.engine import PAGE_SIZE
from mcreg.projections.read_models import ReadModels
from mcreg.registry.errors import DomainError
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.services.audit import audit_app
from mcreg.settings import Settings

app = typer.Typer(help="mcreg: the micro-credential QA and recognition registry.", no_args_is_help=True)
db_app = typer.Typer(help="The database mcreg stores its events in.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
keys_app = typer.Typer(help="API keys of the organisations that call the registry.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
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
    from mcreg.demo import build_demo  # the demo's data tables load only for this command

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
        structlog.get_logger(__name__).info("demo.built", events=total, seconds=round(elapsed, 2), seed=seed)
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
        forgotten = services.registry.forget_learner(CLI_OPERATOR, learner_id)
        structlog.get_logger(__name__).info("learner.forget", learner_id=str(learner_id), key_destroyed=forgotten)
        if forgotten:
            console.print(f"learner {learner_id}: key destroyed; personal data now reads as erased")
        else:
            console.print(f"learner {learner_id}: no key held (unknown, or already forgotten)")
            raise typer.Exit(1)
    finally:
        services.close()


@keys_app.command("create")
def keys_create(
    role: Role = typer.Option(..., help="The role the key acts in."),
    name: str = typer.Option(..., help="What the key is for (shown in lists and logs)."),
    org: UUID | None = typer.Option(None, help="The agency or provider id; a new organisation id if not given."),
    country: str | None = typer.Option(None, help="The country a national authority governs."),
    expires_in_days: int | None = typer.Option(None, min=1, help="Expire the key after this many days."),
) -> None:
    """Create an API key and print its token: the only time it is shown."""
    from mcreg.api.rest.keys import NewKey, new_key

    services = start()
    try:
        expires_at = services.registry.clock() + timedelta(days=expires_in_days) if expires_in_days else None
        body = NewKey(role=role, org=org, country=country, name=name, expires_at=expires_at)
        made = new_key(services.keys, services.registry, CLI_OPERATOR, body)
        structlog.get_logger(__name__).info("key.created", prefix=made.key.prefix, org=str(made.key.org), role=role)
        console.print(f"[bold]{made.token}[/]", soft_wrap=True)
        console.print(f"key {made.key.prefix}: {role.value} for organisation {made.key.org}; store the token now")
    except DomainError as error:
        console.print(f"[red]{error.detail}[/]")
        raise typer.Exit(2) from None
    finally:
        services.close()


@keys_app.command("list")
def keys_list(org: UUID | None = typer.Option(None, help="Only this organisation's keys.")) -> None:
    """Every key (never its token): prefix, organisation, role, state."""
    services = start()
    try:
        table = Table("prefix", "org", "role", "country", "name", "created", "expires", "revoked")
        for key in services.keys.list(org):
            table.add_row(
                key.prefix,
                str(key.org),
                key.role.value,
                key.country or "",
                key.name,
                f"{key.created_at:%Y-%m-%d}",
                f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
        console.print(table)
    finally:
        services.close()


@keys_app.command("revoke")
def keys_revoke(prefix: str) -> None:
    """Revoke a key now: its next request gets a 401."""
    services = start()
    try:
        if not services.keys.revoke(prefix):
            console.print(f"no active key {prefix}")
            raise typer.Exit(1)
        structlog.get_logger(__name__).info("key.revoked", prefix=prefix)
        console.print(f"key {prefix} revoked")
    finally:
        services.close()


@app.command("export")
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


@app.command()
def restore(source: Path = typer.Argument(..., help="A file written by `mcreg export`.")) -> None:
    """Load an exported event log into an empty registry, keeping every position; then rebuild the read models."""
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


@app.command()
def bench(
    scale: str = typer.Option("small", help="small (10k credentials), medium (and 100k) or large (and 1M)."),
    output: Path = typer.Option(Path("bench-results.json"), help="Where to write the figures (and a .md table)."),
) -> None:
    """Measure every figure against the machine's limits: bench/suite.py, from a source checkout."""
    suite = Path(__file__).resolve().parents[1] / "bench" / "suite.py"
    if not suite.exists():
        console.print("[red]mcreg bench needs a source checkout (bench/suite.py is not installed with the package)[/]")
        raise typer.Exit(2)
    command = [sys.executable, str(suite), "--scale", scale, "--output", str(output)]
    raise typer.Exit(subprocess.run(command, cwd=suite.parent, check=False).returncode)


def lag_table(read_models: ReadModels, title: str) -> Table:
    table = Table("read model", "lag (events)", title=title)
    for name, lag in read_models.lag().items():
        table.add_row(name, f"{lag:,}")
    return table


@contextmanager
def position_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over positions in the event log, and the callback (position, head) that moves it."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(label, total=None)
        yield lambda at, head: bar.update(task, completed=at, total=head)


@app.command()
def project(
    page_size: int = typer.Option(PAGE_SIZE, min=1, help="Most events applied in one transaction."),
) -> None:
    """Keep the read models up to date: catch up, then follow new events until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    services = start()
    read_models = open_read_models(services)
    transparency_log = open_transparency_log(services)
    try:
        console.print(lag_table(read_models, "on start"))
        began = time.perf_counter()
        with position_bar("catching up") as progress:
            read = read_models.catch_up(page_size=page_size, stop=stop, progress=progress)
        elapsed = time.perf_counter() - began
        console.print(f"caught up: {read:,} events in {elapsed:.1f} s ({read / elapsed:,.0f} events/s)")
        worker = followers(read_models, transparency_log, stop=stop, page_size=page_size)
        worker.start()
        if not stop.is_set():
            console.print("following new events; Ctrl-C or SIGTERM stops")
        # Polled, not ``stop.wait()``: the signal handler sets ``stop`` in this thread, and would
        # deadlock on the event's lock if the signal came while ``wait`` held it.
        while not stop.is_set():
            time.sleep(0.2)
        worker.join()
        console.print(lag_table(read_models, "on stop"))
        for name, error in worker.errors.items():
            console.print(f"[red]{name} failed:[/] {error!r}")
        if worker.errors:
            raise typer.Exit(1)
    finally:
        transparency_log.close()
        read_models.close()
        services.close()


@app.command()
def rebuild(
    name: str | None = typer.Argument(None, help="The read model to rebuild; all of them by default."),
    check: bool = typer.Option(False, "--check", help="Rebuild aside and compare with the live tables only."),
    page_size: int = typer.Option(PAGE_SIZE, min=1, help="Events applied in one transaction."),
) -> None:
    """Rebuild read models from the first event and swap them in; with --check, only compare (exit 1 if different)."""
    services = start()
    read_models = open_read_models(services)
    try:
        if name is not None and name not in read_models.names:
            raise typer.BadParameter(f"must be one of {', '.join(read_models.names)}", param_hint="NAME")
        names = [name] if name else read_models.names
        began = time.perf_counter()
        with position_bar("checking" if check else "rebuilding") as progress:
            if check:
                result = read_models.check(names, page_size=page_size, progress=progress)
                read = result.events
            else:
                read = read_models.rebuild(names, page_size=page_size, progress=progress)
        elapsed = time.perf_counter() - began
        console.print(f"{', '.join(names)}: {read:,} events in {elapsed:.1f} s ({read / elapsed:,.0f} events/s)")
        if check:
            for comparison in result.comparisons:
                if comparison.equal:
                    console.print(f"{comparison.projection}: [green]equal[/] at position {comparison.position:,}")
                else:
                    only_live, only_rebuilt = sum(comparison.only_live.values()), sum(comparison.only_rebuilt.values())
                    console.print(
                        f"{comparison.projection}: [red]different[/] at position {comparison.position:,}: "
                        f"{only_live:,} rows only in the live tables, {only_rebuilt:,} only in the rebuild"
                    )
            if not result.equal:
                raise typer.Exit(1)
    finally:
        read_models.close()
        services.close()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    projections: bool = typer.Option(
        True, help="Keep the read models up to date in this process (off when `mcreg project` runs beside it)."
    ),
) -> None:
    """Serve the HTTP API (GraphQL at /graphql, /healthz), with the read models kept up to date in-process."""
    import uvicorn

    from mcreg.api.app import create_app

    services = start()
    read_models = open_read_models(services)
    transparency_log = open_transparency_log(services)
    worker = followers(read_models, transparency_log) if projections else None
    try:
        if worker:
            worker.start()
        app = create_app(services, read_models, transparency_log)
        uvicorn.run(app, host=host, port=port, log_config=None)
    finally:
        if worker:
            worker.stop()
            worker.join()
        transparency_log.close()
        read_models.close()
        services.close()
