"""``mcreg bench``: run the benchmark suite of a source checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from mcreg.cli.help import Command
from mcreg.cli.shared import console

app = typer.Typer()

SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]
"""The checkout's root when mcreg runs from one (``mcreg/cli/bench.py`` is two folders below it)."""


@app.command("bench", cls=Command, epilog="Example: mcreg bench --scale medium --output /tmp/bench-results.json")
def bench(
    scale: str = typer.Option("small", help="small (10k credentials), medium (and 100k) or large (and 1M)."),
    output: Path = typer.Option(
        Path("bench-results.json"),
        help="Where to write the figures (and a .md table beside it); the current folder by default.",
    ),
    clients: int = typer.Option(16, help="Concurrent clients of single commands (a second figure always has 4)."),
) -> None:
    """Measure every figure against the machine's limits: bench/suite.py, from a source checkout."""
    suite = SOURCE_CHECKOUT / "bench" / "suite.py"
    if not suite.exists():
        console.print("[red]mcreg bench needs a source checkout (bench/suite.py is not installed with the package)[/]")
        raise typer.Exit(2)
    # The suite runs in its own folder; the figures land where the caller asked, relative to where they stand.
    command = [
        sys.executable,
        str(suite),
        "--scale",
        scale,
        "--output",
        str(output.resolve()),
        "--clients",
        str(clients),
    ]
    raise typer.Exit(subprocess.run(command, cwd=suite.parent, check=False).returncode)
