"""``mcreg project`` and ``mcreg rebuild``: keep the read models up to date, or build them again from the log."""

from __future__ import annotations

import signal
import threading
import time

import typer
from rich.table import Table

from mcreg.bootstrap import followers, open_read_models, open_transparency_log
from mcreg.cli.help import Command
from mcreg.cli.shared import console, position_bar, start
from mcreg.projections.engine import PAGE_SIZE
from mcreg.projections.read_models import ReadModels
from mcreg.projections.rebuild import Comparison

app = typer.Typer()


def lag_table(read_models: ReadModels, title: str) -> Table:
    table = Table("read model", "lag (events)", title=title)
    for name, lag in read_models.lag().items():
        table.add_row(name, f"{lag:,}")
    return table


@app.command(
    "project", cls=Command, epilog="Example: mcreg project --page-size 500 (beside mcreg serve --no-projections)"
)
def project(
    page_size: int = typer.Option(PAGE_SIZE, min=1, help="Most events applied in one transaction."),
) -> None:
    """Keep the read models up to date: catch up, then follow new events until Ctrl-C or SIGTERM.

    Exits 1 when a read model failed on the way.
    """
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


@app.command("rebuild", cls=Command, epilog="Examples: mcreg rebuild; mcreg rebuild --check credential_status")
def rebuild(
    name: str | None = typer.Argument(
        None, help="The read model to rebuild, or transparency_log; all of them and the log by default."
    ),
    check: bool = typer.Option(False, "--check", help="Rebuild aside and compare with the live tables only."),
    page_size: int = typer.Option(PAGE_SIZE, min=1, help="Events applied in one transaction."),
) -> None:
    """Rebuild read models from the first event and swap them in; with --check, only compare (exit 1 if different).

    The transparency log's tree is rebuilt the same way; the checkpoints it has signed stay.
    """
    services = start()
    read_models = open_read_models(services)
    log = open_transparency_log(services)
    try:
        if name is not None and name not in (*read_models.names, log.name):
            raise typer.BadParameter(f"must be one of {', '.join([*read_models.names, log.name])}", param_hint="NAME")
        names = [n for n in read_models.names if name in (None, n)]
        with_log = name in (None, log.name)
        began = time.perf_counter()
        read = 0
        comparisons: list[Comparison] = []
        with position_bar("checking" if check else "rebuilding") as progress:
            if check:
                if names:
                    result = read_models.check(names, page_size=page_size, progress=progress)
                    read, comparisons = result.events, list(result.comparisons)
                if with_log:
                    comparisons.append(log.check(page_size=page_size, progress=progress))
            else:
                if names:
                    read = read_models.rebuild(names, page_size=page_size, progress=progress)
                if with_log:
                    read = max(read, log.rebuild(page_size=page_size, progress=progress))
        elapsed = time.perf_counter() - began
        rebuilt = [*names, log.name] if with_log else names
        console.print(f"{', '.join(rebuilt)}: {read:,} events in {elapsed:.1f} s ({read / elapsed:,.0f} events/s)")
        for comparison in comparisons:
            if comparison.equal:
                console.print(f"{comparison.projection}: [green]equal[/] at position {comparison.position:,}")
            else:
                only_live, only_rebuilt = sum(comparison.only_live.values()), sum(comparison.only_rebuilt.values())
                console.print(
                    f"{comparison.projection}: [red]different[/] at position {comparison.position:,}: "
                    f"{only_live:,} rows only in the live tables, {only_rebuilt:,} only in the rebuild"
                )
        if not all(c.equal for c in comparisons):
            raise typer.Exit(1)
    finally:
        log.close()
        read_models.close()
        services.close()
