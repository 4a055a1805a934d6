"""``mcreg serve``: the HTTP API, with the read models kept up to date in the same process."""

from __future__ import annotations

import typer

from mcreg.bootstrap import followers, open_read_models, open_transparency_log
from mcreg.cli.help import Command
from mcreg.cli.shared import start

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
    behind each read model is.
    """
    import uvicorn

    from mcreg.api.app import create_app

    services = start()
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
