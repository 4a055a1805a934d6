"""``python -m mcreg``: the command line, as the ``mcreg`` script runs it (how ``serve`` starts its children)."""

from mcreg.cli import app

app(prog_name="mcreg")
