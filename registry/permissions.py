"""Who may act on what: roles, and ownership of the object acted on.

An organisation acts only on its own objects; national authorities govern
their own country; the operator governs everywhere. Every refusal names the rule.
"""

from __future__ import annotations

from uuid import UUID

from mcreg.registry.errors import Forbidden
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role


def require_governs(actor: Actor, country: str) -> None:
    """The operator, or the national authority for ``country``."""
    if actor.role == Role.OPERATOR:
        return
    if actor.role == Role.NATIONAL_AUTHORITY and actor.country == country:
        return
    raise Forbidden(f"only the operator or the national authority of {country} may do this", rule="governs-country")


def require_owner(actor: Actor, role: Role, owner: UUID, what: str) -> None:
    """The organisation that owns ``what``, acting in ``role``."""
    if actor.role != role or actor.org != owner:
        raise Forbidden(f"only the {role.value.replace('_', ' ')} that owns the {what} may do this", rule="owner")


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"only a caller with role {allowed} may do this", rule="role")


def may_see_private(actor: Actor | None, owner: UUID, owner_role: Role, *countries: str) -> bool:
    """Non-public data (a learner's, a recognition's details): the owning organisation, the operator,
    or the national authority of one of ``countries`` (the owner's, or the other side of a cross-border case)."""
    if actor is None:
        return False
    if actor.role == Role.OPERATOR or (actor.role == owner_role and actor.org == owner):
        return True
    return actor.role == Role.NATIONAL_AUTHORITY and actor.country in countries


def require_private(actor: Actor | None, owner: UUID, owner_role: Role, what: str, *countries: str) -> None:
    if not may_see_private(actor, owner, owner_role, *countries):
        raise Forbidden(
            f"only the {owner_role.value.replace('_', ' ')} concerned, the operator or a national authority concerned"
            f" may read the {what}",
            rule="private",
        )


def private_reach(
    actor: Actor, owner_role: Role, what: str, *, auditors: bool = False
) -> tuple[UUID | None, str | None]:
    """How much of a non-public list (credentials, recognitions) a caller may read, as ``may_see_private`` reads
    one: everything ``(None, None)`` for the operator (and an auditor, when ``auditors``: the change feed already
    names every one), its own ``(org, None)`` for an organisation in ``owner_role``, its country's ``(None,
    country)`` for a national authority; anyone else is refused."""
    if actor.role == Role.OPERATOR or (auditors and actor.role == Role.AUDITOR):
        return None, None
    if actor.role == owner_role:
        return actor.org, None
    if actor.role == Role.NATIONAL_AUTHORITY and actor.country is not None:
        return None, actor.country
    raise Forbidden(
        f"only the {owner_role.value.replace('_', ' ')} concerned, the operator or a national authority may list the "
        f"{what}",
        rule="private",
    )
