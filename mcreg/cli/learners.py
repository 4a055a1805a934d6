"""``mcreg forget-learner``: erase a learner's personal data."""

from __future__ import annotations

from uuid import UUID

import structlog
import typer

from mcreg.cli.help import Command
from mcreg.cli.shared import CLI_OPERATOR, console, start

app = typer.Typer()


@app.command("forget-learner", cls=Command, epilog="Example: mcreg forget-learner 3f2b8c1e-5d4a-4f6b-9c7d-2e1a0b9c8d7f")
def forget_learner(learner_id: UUID = typer.Argument(..., help="The learner's id, as credentials name it.")) -> None:
    """Erase a learner's personal data (GDPR): destroys their key; every other fact still verifies.

    Exits 1 when the registry holds no key for the learner (unknown, or already forgotten).
    """
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
