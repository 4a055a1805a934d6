"""How mcreg's help reads: arguments in capitals, flags without a value type.

Typer 0.27 and later print a required argument as ``{learner_id}`` in the
usage line, and the Rich help panel gives every option its value type, so
flags (``--reset``, even ``--help``) read as if they took a ``<bool>``. The
command and group classes here write the usage line the way command-line
tools have long written it (``LEARNER_ID``, ``[NAME]`` when optional) and give
flags an empty metavar, which the help panel prints instead of a type.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

# The context and parameter types in typer's signatures live in its private ``_click`` module: ``Any`` stands in.


def _metavars(params: list[Any]) -> list[Any]:
    """Capital names for arguments and no value type for flags, unless a metavar was chosen."""
    for param in params:
        if isinstance(param, TyperArgument) and param.metavar is None and param.name:
            param.metavar = param.name.upper()
        elif isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose usage line names its arguments in capitals, as ``mcreg forget-learner LEARNER_ID``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _metavars(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = f"{param.metavar}..." if param.nargs != 1 else str(param.metavar)
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class Group(TyperGroup):
    """A command group whose flags (``--help``, completion) show no value type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _metavars(super().get_params(ctx))


def command_group(help: str, epilog: str | None = None) -> typer.Typer:
    """A group of commands (``mcreg keys ...``) that prints its help when called alone."""
    return typer.Typer(cls=Group, help=help, epilog=epilog, no_args_is_help=True)
