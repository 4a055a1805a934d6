"""``mcreg log``: the transparency log's signing key.

``mcreg log rotate-key`` makes a new key, announced by a note the key in force
signs; ``mcreg log keys`` lists every key the log has had.
"""

from __future__ import annotations

import structlog
import typer
from rich.table import Table

from mcreg.cli.help import Command, command_group
from mcreg.cli.shared import console, start
from mcreg.registry.trust.key_rotation import Rotation
from mcreg.registry.trust.signed_note import Verifier, parse_note
from mcreg.services.log_keys import rotate_log_key
from mcreg.stores.issuer_keys import KeyUnavailable

app = command_group(
    "The transparency log's signing key: rotate it, list the keys it has had.",
    epilog="Checkpoints signed before a rotation still verify: the old key signed a note announcing the new one "
    "(GET /v1/log/keys), and mcreg audit verify follows them.",
)


@app.command("rotate-key", cls=Command, epilog="Example: mcreg log rotate-key")
def rotate_key() -> None:
    """Make a new log key; the key in force signs a note announcing it and the last tree size it signs.

    Needs the key-encryption key that sealed the key in force; exits 2, writing nothing, when it does not open.
    """
    services = start()
    try:
        made = rotate_log_key(services)
    except KeyUnavailable as error:
        console.print(f"[red]the log key was not rotated: {error}[/]")
        raise typer.Exit(2) from None
    finally:
        services.close()
    assert made.announcement is not None
    rotation = Rotation.parse(parse_note(made.announcement)[0])
    structlog.get_logger(__name__).info("log_key.rotated", number=made.number, last_size=rotation.last_size)
    console.print(f"log key {made.number} signs from size {rotation.last_size + 1:,} on: {rotation.new_key.key()}")


@app.command("keys", cls=Command, epilog="Example: mcreg log keys")
def keys() -> None:
    """List every key the log has had, as signed-note verifier keys, and the last tree size each signs."""
    services = start()
    try:
        stored = services.log_keys.all_keys()
        origin = services.identity.log_origin
    finally:
        services.close()
    table = Table("number", "verifier key", "signs up to size", title=f"keys of the transparency log {origin}")
    last_sizes = [Rotation.parse(parse_note(k.announcement)[0]).last_size for k in stored if k.announcement]
    for number, key in enumerate(stored):
        last_size = f"{last_sizes[number]:,}" if number < len(last_sizes) else "now"
        table.add_row(str(key.number), Verifier(origin, key.public_key).key(), last_size)
    console.print(table)
