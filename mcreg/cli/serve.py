"""``mcreg serve``: the HTTP API, with the read models kept up to date in the same process."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from mcreg.bootstrap import followers, open_read_models, open_transparency_log
from mcreg.cli.help import Command
from mcreg.cli.shared import start
from mcreg.settings import LOOPBACK_FOR, http_url

app = typer.Typer()


@app.command("serve", cls=Command, epilog="Example: mcreg serve --host 0.0.0.0 --port 8080")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    projections: bool = typer.Option(
        True, help="Keep the read models up to date in this process (off when `mcreg project` runs beside it)."
    ),
) -> None:
    """Serve the HTTP API: REST under /v1, OpenAPI docs at /docs, GraphQL at /graphql, /healthz and /metrics.

    The OpenAPI document is at /openapi.json; /readyz says whether the database answers and how far
    behind each read model is. Links (problem types, DIDs, status lists) name the address served, 127.0.0.1
    for 0.0.0.0, unless MCREG_PUBLIC_URL names another. SIGTERM stops it as Ctrl+C does.
    """
    import uvicorn

    from mcreg.api.app import create_app

    signal.signal(signal.SIGTERM, end_as_interrupted)
    services = start(address=(host, port))
    public_url = services.settings.public_url
    typer.echo(f"listening on {http_url(host, port)}; public URL {public_url}")
    if host in LOOPBACK_FOR and public_url == http_url(LOOPBACK_FOR[host], port):
        typer.echo(f"{host} is every interface, no link can name it: set MCREG_PUBLIC_URL to the address clients use")
    read_models = open_read_models(services)
    transparency_log = open_transparency_log(services)
    worker = followers(read_models, transparency_log) if projections else None
    try:
        if worker:
            worker.start()
        api = create_app(services, read_models, transparency_log)
        uvicorn.run(api, host=host, port=port, log_config=None)
    finally:
        if worker:
            worker.stop()
            worker.join()
        transparency_log.close()
        read_models.close()
        services.close()


def end_as_interrupted(signum: int, _frame: FrameType | None) -> None:
    """Leave on SIGTERM through the ``finally`` blocks and exit hooks that stop the workers and the database.

    uvicorn shuts down gracefully on SIGTERM, then raises it again under the handler found before it started.
    """
    raise SystemExit(128 + signum)
