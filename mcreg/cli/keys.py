"""``mcreg keys``: the API keys of the organisations that call the registry, and issuers' signing keys."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from uuid import UUID

import structlog
import typer
from rich.table import Table

from mcreg.cli.help import Command, command_group
from mcreg.cli.shared import CLI_OPERATOR, console, start
from mcreg.registry.errors import DomainError
from mcreg.registry.vocabulary import Role
from mcreg.services.api_keys import issue_api_key
from mcreg.services.issuer_key_backfill import key_issuing_providers

app = command_group(
    "API keys of the organisations that call the registry, and issuers' signing keys.",
    epilog="A key's token is shown once, when it is created; the registry keeps only its hash.",
)


class KeyRole(StrEnum):
    """The roles a key can act in: every role but the public, which reads without a key."""

    OPERATOR = Role.OPERATOR
    NATIONAL_AUTHORITY = Role.NATIONAL_AUTHORITY
    QA_AGENCY = Role.QA_AGENCY
    PROVIDER = Role.PROVIDER
    INSTITUTION = Role.INSTITUTION
    AUDITOR = Role.AUDITOR


@app.command(
    "create",
    cls=Command,
    epilog="Example: mcreg keys create --role provider --org 0d5d88ab-b686-57c7-bea0-789afb753ad0 "
    "--name 'grading system' --expires-in-days 365",
)
def keys_create(
    role: KeyRole = typer.Option(..., help="The role the key acts in."),
    name: str = typer.Option(..., help="What the key is for (shown in lists and logs)."),
    org: UUID | None = typer.Option(None, help="The agency or provider id; a new organisation id if not given."),
    country: str | None = typer.Option(None, help="The country a national authority governs."),
    expires_in_days: int | None = typer.Option(None, min=1, help="Expire the key after this many days."),
) -> None:
    """Create an API key and print its token: the only time it is shown."""
    services = start()
    try:
        expires_at = services.registry.clock() + timedelta(days=expires_in_days) if expires_in_days else None
        made = issue_api_key(
            services.keys,
            services.registry,
            CLI_OPERATOR,
            role=Role(role),
            org=org,
            country=country,
            name=name,
            expires_at=expires_at,
        )
        structlog.get_logger(__name__).info("key.created", prefix=made.key.prefix, org=str(made.key.org), role=role)
        console.print(f"[bold]{made.token}[/]", soft_wrap=True)
        console.print(f"key {made.key.prefix}: {role.value} for organisation {made.key.org}; store the token now")
    except DomainError as error:
        console.print(f"[red]{error.detail}[/]")
        raise typer.Exit(2) from None
    finally:
        services.close()


@app.command("list", cls=Command, epilog="Example: mcreg keys list --org 0d5d88ab-b686-57c7-bea0-789afb753ad0")
def keys_list(org: UUID | None = typer.Option(None, help="Only this organisation's keys.")) -> None:
    """List every key (never its token): prefix, organisation, role, state."""
    services = start()
    try:
        table = Table("prefix", "org", "role", "country", "name", "created", "expires", "revoked")
        for key in services.keys.list(org):
            table.add_row(
                key.prefix,
                str(key.org),
                key.role.value,
                key.country or "",
                key.name,
                f"{key.created_at:%Y-%m-%d}",
                f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
        console.print(table)
    finally:
        services.close()


@app.command("revoke", cls=Command, epilog="Example: mcreg keys revoke 3f2b8c1e9a4d")
def keys_revoke(prefix: str = typer.Argument(..., help="The key's prefix, as `mcreg keys list` shows it.")) -> None:
    """Revoke a key now: its next request gets a 401. Exits 1 when no active key has that prefix."""
    services = start()
    try:
        if not services.keys.revoke(prefix):
            console.print(f"no active key {prefix}")
            raise typer.Exit(1)
        structlog.get_logger(__name__).info("key.revoked", prefix=prefix)
        console.print(f"key {prefix} revoked")
    finally:
        services.close()


@app.command("issuers", cls=Command, epilog="Example: mcreg keys issuers")
def keys_issuers() -> None:
    """Give a signing key to every provider that issued credentials and has none valid now.

    For a registry made before keys came with accreditation and issuance; running it again makes nothing.
    """
    services = start()
    try:
        keyed = key_issuing_providers(services.registry, CLI_OPERATOR)
        for provider_id in keyed:
            structlog.get_logger(__name__).info("issuer_key.made", issuer=str(provider_id))
        console.print(f"{len(keyed)} issuing providers given a signing key")
    finally:
        services.close()
