"""What the command groups share: starting the services, the console, progress bars, the operator's actor."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from uuid import NAMESPACE_URL, uuid5

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mcreg.bootstrap import Services, bootstrap
from mcreg.logs import configure_logging
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings

console = Console()

CLI_OPERATOR = Actor(uuid5(NAMESPACE_URL, "mcreg:operator:cli"), Role.OPERATOR, key_id="cli")
"""The registry operator, acting from a shell on the registry's own machine."""


def start(
    settings: Settings | None = None,
    *,
    address: tuple[str, int] | None = None,
    registry_pool: Mapping[str, str] | None = None,
) -> Services:
    """The services a command works with, built from the environment's settings, logging configured.

    ``address`` is where the command serves HTTP, which links name unless ``MCREG_PUBLIC_URL`` is set;
    ``registry_pool`` sizes the event store's pool (``bootstrap``).
    """
    settings = settings or Settings()
    configure_logging(settings)
    return bootstrap(settings, address=address, registry_pool=registry_pool)


def progress_bar(label: str) -> Progress:
    """A bar that counts done out of a total, with the time elapsed."""
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)


@contextmanager
def position_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over positions in the event log, and the callback (position, head) that moves it."""
    with progress_bar(label) as bar:
        task = bar.add_task(label, total=None)
        yield lambda at, head: bar.update(task, completed=at, total=head)
