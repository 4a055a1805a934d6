"""API keys over HTTP: the operator (or a national authority, for its country's organisations) hands them out.

The token is in the creation answer only; afterwards a key is known by its prefix.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from fastapi import APIRouter, Response
from pydantic import Field

from mcreg.api.deps import Caller, Governor, Keys, Registered
from mcreg.api.rest.common import PROBLEM_RESPONSES, CountryCode, Input, Output
from mcreg.registry import validate as v
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import Registry
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound
from mcreg.registry.permissions import require_governs
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.stores.api_keys import ApiKey, ApiKeys, MadeApiKey

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=PROBLEM_RESPONSES)

ORGANISATIONS: dict[Role, type[Agency | Provider]] = {
    Role.QA_AGENCY: Agency,
    Role.PROVIDER: Provider,
    Role.INSTITUTION: Provider,
}


class NewKey(Input):
    role: Role
    org: UUID | None = Field(
        default=None, description="The agency or provider id for those roles; a new organisation id when not given"
    )
    country: CountryCode | None = Field(
        default=None, description="Required for a national authority: the country it governs"
    )
    name: str = Field(examples=["grading system, production"], description="What the key is for")
    expires_at: datetime | None = None


class ApiKeyOut(Output):
    prefix: str
    org: UUID
    role: Role
    country: str | None
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class CreatedKey(ApiKeyOut):
    token: str = Field(description="Shown once: store it now; the registry keeps only its hash")


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


def new_key(keys: ApiKeys, registry: Registry, actor: Actor, body: NewKey) -> MadeApiKey:
    """A key for ``body``'s organisation and role, if ``actor`` may hand it out."""
    country = None
    if body.role == Role.NATIONAL_AUTHORITY:
        country = v.country("country", body.country)
    elif body.country is not None:
        raise InvalidInput("country", "is given only for a national authority")
    if body.role in ORGANISATIONS and body.org is None:
        raise InvalidInput("org", f"is required for role {body.role.value}")
    if body.role == Role.PUBLIC:
        raise InvalidInput("role", "the public needs no key")
    org = body.org or uuid4()
    require_may_manage(actor, body.role, organisation_country(registry, body.role, org) or country)
    name = v.text("name", body.name, max_length=200)
    return keys.create(org, body.role, name=name, country=country, expires_at=body.expires_at)


@router.post("", status_code=201, summary="Create an API key for an organisation")
def create_key(body: NewKey, response: Response, actor: Governor, keys: Keys, registry: Registered) -> CreatedKey:
    made = new_key(keys, registry, actor, body)
    response.headers["Location"] = f"/v1/keys/{made.key.prefix}"
    return CreatedKey(**ApiKeyOut.model_validate(made.key).model_dump(), token=made.token)


def _managed_key(keys: ApiKeys, registry: Registry, actor: Actor, prefix: str) -> ApiKey:
    key = keys.get(prefix)
    if key is None:
        raise NotFound("API key", prefix)
    if actor.org != key.org:
        require_may_manage(actor, key.role, key.country or organisation_country(registry, key.role, key.org))
    return key


@router.get("/{prefix}", summary="An API key (never its token)")
def get_key(prefix: str, actor: Caller, keys: Keys, registry: Registered) -> ApiKeyOut:
    return ApiKeyOut.model_validate(_managed_key(keys, registry, actor, prefix))


@router.post("/{prefix}/revoke", summary="Revoke an API key now (an organisation may revoke its own)")
def revoke_key(prefix: str, actor: Caller, keys: Keys, registry: Registered) -> ApiKeyOut:
    _managed_key(keys, registry, actor, prefix)
    keys.revoke(prefix)
    revoked = keys.get(prefix)
    assert revoked is not None
    return ApiKeyOut.model_validate(revoked)
