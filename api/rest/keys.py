"""API keys over HTTP: the operator (or a national authority, for its country's organisations) hands them out
(the rules: ``mcreg.services.api_keys``).

The token is in the creation answer only; afterwards a key is known by its prefix.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field

from mcreg.api.deps import Caller, Governor, Keys, Registered
from mcreg.api.rest.common import PROBLEM_RESPONSES, CountryCode, Input, Output
from mcreg.registry.vocabulary import Role
from mcreg.services.api_keys import issue_api_key, managed_key

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=PROBLEM_RESPONSES)


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


@router.post("", status_code=201, summary="Create an API key for an organisation")
def create_key(body: NewKey, response: Response, actor: Governor, keys: Keys, registry: Registered) -> CreatedKey:
    made = issue_api_key(keys, registry, actor, **body.model_dump())
    response.headers["Location"] = f"/v1/keys/{made.key.prefix}"
    return CreatedKey(**ApiKeyOut.model_validate(made.key).model_dump(), token=made.token)


@router.get("/{prefix}", summary="An API key (never its token)")
def get_key(prefix: str, actor: Caller, keys: Keys, registry: Registered) -> ApiKeyOut:
    return ApiKeyOut.model_validate(managed_key(keys, registry, actor, prefix))


@router.post("/{prefix}/revoke", summary="Revoke an API key now (an organisation may revoke its own)")
def revoke_key(prefix: str, actor: Caller, keys: Keys, registry: Registered) -> ApiKeyOut:
    managed_key(keys, registry, actor, prefix)
    keys.revoke(prefix)
    revoked = keys.get(prefix)
    assert revoked is not None
    return ApiKeyOut.model_validate(revoked)
