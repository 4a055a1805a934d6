"""``mcreg db``: the database mcreg stores its events in."""

from __future__ import annotations

from mcreg.cli.help import Command, command_group
from mcreg.cli.shared import console, start

app = command_group(
    "The database mcreg stores its events in.",
    epilog="Embedded by default (in the data folder); set MCREG_DATABASE_URL for a PostgreSQL server.",
)


@app.command("info", cls=Command, epilog="Example: MCREG_DATABASE_URL=postgresql://mcreg@db/mcreg mcreg db info")
def db_info() -> None:
    """Which database mcreg uses and what it holds: server, connection (without password), events stored."""
    services = start()
    try:
        console.print(f"server:   {services.database.kind} PostgreSQL {services.database.server_version()}")
        console.print(f"database: {services.database.describe()}")
        if services.database.kind == "embedded":
            console.print(f"data dir: {services.settings.data_dir}")
        console.print(f"events:   {services.registry.recorder.max_notification_id() or 0:,}")
    finally:
        services.close()
