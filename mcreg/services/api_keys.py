"""Handing out API keys: who may give which organisation a key in which role, and the key made.

The operator manages every key; a national authority those of its own country's agencies and
providers; an organisation may read and revoke its own. ``POST /v1/keys`` and ``mcreg keys create``
both come here, so the rules are the same on either path.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from mcreg.registry import validate as v
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import Registry
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound
from mcreg.registry.permissions import require_governs
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.stores.api_keys import ApiKey, ApiKeys, MadeApiKey

ORGANISATIONS: dict[Role, type[Agency | Provider]] = {
    Role.QA_AGENCY: Agency,
    Role.PROVIDER: Provider,
    Role.INSTITUTION: Provider,
}
"""Roles whose keys speak for a registered organisation, and the aggregate that organisation is."""


def organisation_country(registry: Registry, role: Role, org: UUID) -> str | None:
    """The country of the registered organisation a key speaks for (None for operators and auditors)."""
    kind = ORGANISATIONS.get(role)
    if kind is None:
        return None
    try:
        return registry.get(kind, org).country
    except NotFound:
        raise InvalidInput("org", f"must be a registered {kind.__name__.lower()} for role {role.value}") from None


def require_may_manage(actor: Actor, key_role: Role, country: str | None) -> None:
    """The operator manages every key; a national authority those of its country's agencies and providers."""
    if actor.role == Role.OPERATOR:
        return
    if key_role not in ORGANISATIONS or country is None:
        raise Forbidden("only the operator manages keys of operators, authorities and auditors", rule="role")
    require_governs(actor, country)


def issue_api_key(
    keys: ApiKeys,
    registry: Registry,
    actor: Actor,
    *,
    role: Role,
    org: UUID | None,
    country: str | None,
    name: str,
    expires_at: datetime | None,
) -> MadeApiKey:
    """A key for ``org`` (a new organisation id when None) acting in ``role``, if ``actor`` may hand it out."""
    governed = None
    if role == Role.NATIONAL_AUTHORITY:
        governed = v.country("country", country)
    elif country is not None:
        raise InvalidInput("country", "is given only for a national authority")
    if role in ORGANISATIONS and org is None:
        raise InvalidInput("org", f"is required for role {role.value}")
    if role == Role.PUBLIC:
        raise InvalidInput("role", "the public needs no key")
    org = org or uuid4()
    require_may_manage(actor, role, organisation_country(registry, role, org) or governed)
    text = v.text("name", name, max_length=200)
    return keys.create(org, role, name=text, country=governed, expires_at=expires_at)


def managed_key(keys: ApiKeys, registry: Registry, actor: Actor, prefix: str) -> ApiKey:
    """The key ``prefix``, if ``actor`` is its organisation or may manage it."""
    key = keys.get(prefix)
    if key is None:
        raise NotFound("API key", prefix)
    if actor.org != key.org:
        require_may_manage(actor, key.role, key.country or organisation_country(registry, key.role, key.org))
    return key
