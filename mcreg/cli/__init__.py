"""The ``mcreg`` command line: one module per command group, assembled here into ``app``.

``serve`` (the HTTP API), ``project`` and ``rebuild`` (read models), ``export``
and ``restore`` (backups), ``forget-learner``, ``issue --csv``, ``demo``, ``bench``, and the
groups ``db``, ``keys``, ``audit``, ``log`` and ``translations``. ``help`` makes their help read alike;
``shared`` holds what they share (starting the services, the console, progress bars).
"""

from __future__ import annotations

from importlib.metadata import version

import typer

from mcreg.cli import audit, backup, bench, db, demo, issue, keys, learners, log, projections, serve, translations
from mcreg.cli.help import Group


def show_version(show: bool) -> None:
    if show:
        typer.echo(f"mcreg {version('mcreg')}")
        raise typer.Exit()


app = typer.Typer(
    cls=Group,
    epilog="Start with: mcreg demo --reset, then mcreg serve, and open http://127.0.0.1:8000/docs",
    no_args_is_help=True,
)


@app.callback()
def main(
    _version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="Print mcreg's version and exit."
    ),
) -> None:
    """mcreg: the micro-credential QA and recognition registry.

    Every step of a credential's life (accreditation, review, issuance, revocation, recognition) is an event.

    Settings come from MCREG_* variables; without MCREG_DATABASE_URL mcreg runs an embedded PostgreSQL.
    """


for commands in (serve, projections, backup, learners, issue, demo, bench):
    app.add_typer(commands.app)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(log.app, name="log")
app.add_typer(translations.app, name="translations")
