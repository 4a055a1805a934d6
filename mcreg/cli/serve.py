"""``mcreg serve``: the HTTP API in one or more processes, with ``mcreg project`` as a child keeping the read
models up to date (or in this process's threads, or nowhere)."""

from __future__ import annotations

import gc
import os
import signal
from types import FrameType
from typing import TYPE_CHECKING

import typer

from mcreg.bootstrap import (
    Services,
    coalesce_commits,
    deliverer,
    followers,
    open_leases,
    open_read_models,
    open_transparency_log,
    open_webhooks,
)
from mcreg.cli.children import ProjectChild, die_with_parent
from mcreg.cli.help import Command
from mcreg.cli.shared import start
from mcreg.settings import LOOPBACK_FOR, http_url

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mcreg.projections.read_models import ReadModels
    from mcreg.projections.transparency_log import TransparencyLog

app = typer.Typer()

API_PROCESS = "mcreg.cli.serve:api_process"
"""The factory each of ``--workers`` API processes builds its application with."""

WORKER_HEALTHCHECK = 60
"""Seconds uvicorn waits for an API process to answer its ping before it kills and replaces it. Its default, 5,
is shorter than a start on a busy machine (the ping is answered only once the process has imported the
command line): every process was killed while starting, and none ever answered."""


@app.command("serve", cls=Command, epilog="Example: mcreg serve --host 0.0.0.0 --port 8080 --workers 2")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    projections: bool = typer.Option(
        True,
        help="Keep the read models up to date and deliver webhooks, in a child `mcreg project`"
        " (off when `mcreg project` runs elsewhere).",
    ),
    in_process: bool = typer.Option(
        False, "--in-process", help="Keep them up to date in this process's threads instead of a child process."
    ),
    workers: int = typer.Option(
        1, min=1, help="API processes answering on the port, each with its own connections (not with --in-process)."
    ),
) -> None:
    """Serve the HTTP API: REST under /v1, OpenAPI docs at /docs, GraphQL at /graphql, /healthz and /metrics.

    With MCREG_READ_DATABASE_URL, reads are served from that replica (MCREG-Position asks for read-your-writes).
    The OpenAPI document is at /openapi.json; /readyz says whether the database answers and how far
    behind each read model is. Links (problem types, DIDs, status lists) name the address served, 127.0.0.1
    for 0.0.0.0, unless MCREG_PUBLIC_URL names another. The read models are kept by a child `mcreg project`,
    stopped with serve, so requests never wait behind projection work. SIGTERM stops it as Ctrl+C does.
    """
    if in_process and workers > 1:
        hint = "the read models are kept in one process: leave them to a child (the default)"
        raise typer.BadParameter(hint, param_hint="--workers")
    signal.signal(signal.SIGTERM, end_as_interrupted)
    services = start(address=(host, port))
    public_url = services.settings.public_url
    typer.echo(f"listening on {http_url(host, port)}; public URL {public_url}")
    if host in LOOPBACK_FOR and public_url == http_url(LOOPBACK_FOR[host], port):
        typer.echo(f"{host} is every interface, no link can name it: set MCREG_PUBLIC_URL to the address clients use")
    # Children build their own composition root from the environment: the public URL worked out here goes with it.
    env = os.environ | {"MCREG_PUBLIC_URL": public_url}
    child = ProjectChild(env) if projections and not in_process else None
    try:
        if child:
            child.start()
        if workers > 1:
            serve_processes(env, host, port, workers)
        else:
            serve_here(services, host, port, projections and in_process)
    finally:
        if child:
            child.stop()
        services.close()


def serve_here(services: Services, host: str, port: int, projections: bool) -> None:
    """Answer on ``host:port`` in this process; with ``projections``, keep the read models here too."""
    import uvicorn

    from mcreg.api.app import create_app

    coalesce_commits(services)
    read_models = open_read_models(services)
    transparency_log = open_transparency_log(services)
    webhooks = open_webhooks(services)
    leases = open_leases(services)
    replica = open_replica(services)
    worker = followers(read_models, transparency_log, webhooks, leases) if projections else None
    delivery = deliverer(services, webhooks) if projections else None
    try:
        if worker and delivery:
            worker.start()
            delivery.start()
        api = create_app(services, read_models, transparency_log, webhooks, replica)
        freeze_what_lives_on()
        uvicorn.run(api, host=host, port=port, log_config=None)
    finally:
        if worker and delivery:
            worker.stop()
            delivery.stop()
            worker.join()
            delivery.join()
            delivery.view.close()
        leases.close()
        if replica:
            for side in replica:
                side.close()
        webhooks.view.close()
        transparency_log.close()
        read_models.close()


def serve_processes(env: dict[str, str], host: str, port: int, workers: int) -> None:
    """Answer on ``host:port`` from ``workers`` API processes sharing its socket, each built by ``api_process``."""
    import uvicorn

    os.environ.update(env)  # what the processes uvicorn spawns start from
    uvicorn.run(
        API_PROCESS,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK,
    )


def api_process() -> FastAPI:
    """One API process of ``serve --workers``: its own composition root, connections and views, over the same
    database (the embedded server joined, decision 42); it ends when serve does, however serve ends."""
    from mcreg.api.app import create_app

    die_with_parent()
    services = start()
    coalesce_commits(services)
    api = create_app(services, open_read_models(services), replica=open_replica(services))
    freeze_what_lives_on()
    return api


def open_replica(services: Services) -> tuple[ReadModels, TransparencyLog] | None:
    """The read models and log on the replica that MCREG_READ_DATABASE_URL names, if it names one; opened after
    the primary's, whose tables they read there."""
    if not services.read_database:
        return None
    return open_read_models(services, replica=True), open_transparency_log(services, replica=True)


def freeze_what_lives_on() -> None:
    """What is alive once an API process is built (modules, the app, its schemas and templates) lives as long as
    the process: frozen, a full pass of the cyclic collector no longer traces it; each pass was a request's tail
    (decision 71). Not in ``create_app``: tests build many apps, and what is frozen is never freed."""
    gc.collect()
    gc.freeze()


def end_as_interrupted(signum: int, _frame: FrameType | None) -> None:
    """Leave on SIGTERM through the ``finally`` blocks and exit hooks that stop the workers and the database.

    uvicorn shuts down gracefully on SIGTERM, then raises it again under the handler found before it started.
    """
    raise SystemExit(128 + signum)
