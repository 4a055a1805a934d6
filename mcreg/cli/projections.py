"""``mcreg project`` and ``mcreg rebuild``: keep the read models up to date, or build them again from the log.

``mcreg project --skip POSITION`` and ``--retry`` act on an event a read model could not apply and holds in
quarantine, each action recorded as an event in the registry (decision 55).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from typing import Any

import typer
from rich.table import Table

from mcreg.bootstrap import (
    WORKER_REGISTRY_POOL,
    Services,
    deliverer,
    followers,
    open_leases,
    open_read_models,
    open_transparency_log,
    open_webhooks,
    open_worker_views,
)
from mcreg.cli.help import Command
from mcreg.cli.shared import CLI_OPERATOR, console, position_bar, start
from mcreg.projections.engine import PAGE_SIZE, Projector, catch_up
from mcreg.projections.lease import LeaseLost
from mcreg.projections.quarantine import PoisonEvent, Quarantined, State
from mcreg.projections.read_models import ReadModels
from mcreg.projections.rebuild import Comparison
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.webhooks.subscriptions import Webhooks

app = typer.Typer()


def lag_table(read_models: ReadModels, log: TransparencyLog, title: str) -> Table:
    """Each read model's lag, and the event it is stopped before, if any."""
    table = Table("read model", "lag (events)", "stopped before", title=title)
    held = read_models.quarantine.held()
    for name, lag in (read_models.lag() | {log.name: log.lag()}).items():
        table.add_row(name, f"{lag:,}", f"[red]{describe(held[name])}[/]" if name in held else "")
    return table


def deliveries_line(webhooks: Webhooks) -> str:
    """How webhook deliveries fare, in one line (as /readyz counts them)."""
    h = webhooks.health()
    line = f"webhooks: outbox lag {h.lag:,} events; {h.owed:,} deliveries owed, {h.behind:,} events behind"
    if not (h.retrying or h.disabled):
        return line
    return line + f"; [red]{h.retrying} retrying, {h.disabled} disabled[/] (their owners see why: GET /v1/webhooks)"


def describe(held: Quarantined) -> str:
    return f"the event at position {held.position:,} ({held.error_class}: {held.error_message})"


@app.command(
    "project",
    cls=Command,
    epilog="Examples: mcreg project --page-size 500 (beside mcreg serve --no-projections);"
    " mcreg project --skip 1234 --read-model dashboard",
)
def project(
    page_size: int = typer.Option(PAGE_SIZE, min=1, help="Most events applied in one transaction."),
    skip: int | None = typer.Option(
        None, "--skip", min=1, metavar="POSITION", help="Have the read model holding this event step over it."
    ),
    retry: bool = typer.Option(False, "--retry", help="Have the stopped read models try their held event again."),
    read_model: str | None = typer.Option(
        None, "--read-model", metavar="NAME", help="With --skip or --retry: only this read model."
    ),
) -> None:
    """Keep the read models up to date: catch up, then follow new events and deliver webhooks until Ctrl-C or
    SIGTERM.

    Run as many as you like, on any machines: each read model, the transparency log and the webhook outbox is
    kept by one of them at a time (the holder of its lease); the others take over within seconds when it ends.
    A read model that cannot apply an event stops before it, holds it in quarantine and says so here, in
    /readyz and in /metrics; the others go on. With --skip or --retry, act on that event (recorded as an event
    of the registry), catch the read models acted on up, and exit: 1 if one is still stopped. Exits 1 when a
    read model failed on the way.
    """
    if skip is not None and retry:
        raise typer.BadParameter("give --skip or --retry, not both", param_hint="--skip")
    if read_model is not None and skip is None and not retry:
        raise typer.BadParameter("only with --skip or --retry", param_hint="--read-model")
    stop = threading.Event()
    stop_on_signals(stop)
    # Every session of the process says whose it is in pg_stat_activity, as its lease session does (libpq's setting).
    os.environ.setdefault("PGAPPNAME", f"mcreg project pid {os.getpid()} on {socket.gethostname()}")
    services = start(registry_pool=WORKER_REGISTRY_POOL)
    views = open_worker_views(services)  # every view's writer on one pool (decision 81)
    read_models = open_read_models(services, views=views)
    transparency_log = open_transparency_log(services, views=views)
    webhooks = open_webhooks(services, views=views)
    leases = open_leases(services)
    try:
        if skip is not None or retry:
            act(services, read_models, transparency_log, skip, read_model, page_size)
            return
        console.print(lag_table(read_models, transparency_log, "on start"))
        console.print(deliveries_line(webhooks))
        worker = followers(read_models, transparency_log, webhooks, leases, stop=stop, page_size=page_size)
        leased = [name for name in read_models.names if leases.lease(name).acquire()]
        began = time.perf_counter()
        try:
            with position_bar("catching up") as progress:
                read = read_models.catch_up(leased, page_size=page_size, stop=stop, progress=progress)
        except LeaseLost as lost:
            read = 0
            console.print(f"[yellow]{lost}[/]: its worker tries for it again")
        elapsed = time.perf_counter() - began
        console.print(f"caught up: {read:,} events in {elapsed:.1f} s ({read / elapsed:,.0f} events/s)")
        if others := [name for name in read_models.names if name not in leased]:
            console.print(f"held by other processes, taken over if they end: {', '.join(others)}")
        for name, held in read_models.quarantine.held().items():
            console.print(f"[red]{name} stopped[/] before {describe(held)}; mcreg project --skip or --retry")
        delivery = deliverer(services, webhooks, stop=stop)
        worker.start()
        delivery.start()
        if not stop.is_set():
            console.print("following new events; Ctrl-C or SIGTERM stops")
        # Polled in short sleeps, so the main thread is free to run the signal handler at once.
        while not stop.is_set():
            time.sleep(0.2)
        worker.join()
        delivery.join()
        delivery.view.close()
        console.print(lag_table(read_models, transparency_log, "on stop"))
        console.print(deliveries_line(webhooks))
        for name, error in worker.errors.items():
            console.print(f"[red]{name} failed:[/] {error!r}")
        if worker.errors:
            raise typer.Exit(1)
    finally:
        leases.close()
        transparency_log.close()
        read_models.close()
        views.close()
        services.close()


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGINT or SIGTERM. From another thread: the handler runs in the main thread, which may hold
    the event's lock at that moment (inside ``Event.wait``), and setting it there would wait for that lock forever."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: threading.Thread(target=stop.set, name="stop", daemon=True).start())


def act(
    services: Services,
    read_models: ReadModels,
    log: TransparencyLog,
    skip: int | None,
    read_model: str | None,
    page_size: int,
) -> None:
    """Skip the held event at ``skip`` (or retry every held event), of ``read_model`` or of every read model
    holding one; record each action; then catch the read models acted on up. Nothing is written when there is
    nothing to act on."""
    projectors: dict[str, Projector[Any]] = {**read_models.projectors, log.name: log}
    if read_model is not None and read_model not in projectors:
        raise typer.BadParameter(f"must be one of {', '.join(projectors)}", param_hint="--read-model")
    held = [
        entry
        for entry in read_models.quarantine.entries(read_model)
        if entry.state is State.HELD and skip in (None, entry.position) and entry.read_model in projectors
    ]
    if not held:
        what = f"the event at position {skip:,}" if skip is not None else "any event"
        who = f"the read model {read_model} does not hold" if read_model else "no read model holds"
        raise typer.BadParameter(f"{who} {what} in quarantine", param_hint="--skip" if skip else "--retry")
    if skip is not None and any(not projectors[e.read_model].projection.skippable for e in held):
        raise typer.BadParameter(f"{log.name} cannot step over an event: every event is a leaf", param_hint="--skip")
    acted = []
    for entry in held:
        projector = projectors[entry.read_model]
        if skip is not None:
            services.registry.record_event_skipped(CLI_OPERATOR, entry.read_model, entry.position, entry.error_class)
            projector.skip(entry.position)
            console.print(f"{entry.read_model}: steps over {describe(entry)}")
        else:
            services.registry.record_event_retried(CLI_OPERATOR, entry.read_model, entry.position, entry.error_class)
            projector.retry(entry.position)
            console.print(f"{entry.read_model}: tries the event at position {entry.position:,} again")
        acted.append(projector)
    catch_up(services.registry, acted, page_size=page_size)
    console.print(lag_table(read_models, log, "after"))
    if any(p.stopped for p in acted):
        raise typer.Exit(1)


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
        stopped: list[Quarantined] = []
        with position_bar("checking" if check else "rebuilding") as progress:
            if check:
                if names:
                    result = read_models.check(names, page_size=page_size, progress=progress)
                    read, comparisons = result.events, list(result.comparisons)
                if with_log:
                    comparisons.append(log.check(page_size=page_size, progress=progress))
            else:
                if names:
                    try:
                        read = read_models.rebuild(names, page_size=page_size, progress=progress)
                    except PoisonEvent as poison:
                        stopped.extend(poison.held)
                if with_log:
                    try:
                        read = max(read, log.rebuild(page_size=page_size, progress=progress))
                    except PoisonEvent as poison:
                        stopped.extend(poison.held)
        elapsed = time.perf_counter() - began
        rebuilt = [*names, log.name] if with_log else names
        console.print(f"{', '.join(rebuilt)}: {read:,} events in {elapsed:.1f} s ({read / elapsed:,.0f} events/s)")
        for held in stopped:
            console.print(f"{held.read_model}: [red]stopped[/] before {describe(held)} (swapped in if live was too)")
        for comparison in comparisons:
            skipped = f", both stepping over skipped events {list(comparison.skipped)}" if comparison.skipped else ""
            if comparison.stopped is not None:
                console.print(f"{comparison.projection}: [red]stopped[/] before {describe(comparison.stopped)}")
            elif comparison.equal:
                console.print(f"{comparison.projection}: [green]equal[/] at position {comparison.position:,}{skipped}")
            else:
                only_live, only_rebuilt = sum(comparison.only_live.values()), sum(comparison.only_rebuilt.values())
                console.print(
                    f"{comparison.projection}: [red]different[/] at position {comparison.position:,}: "
                    f"{only_live:,} rows only in the live tables, {only_rebuilt:,} only in the rebuild{skipped}"
                )
        if stopped or not all(c.equal for c in comparisons):
            raise typer.Exit(1)
    finally:
        log.close()
        read_models.close()
        services.close()
