"""Providers (and recognising institutions): registered by the operator or their country's national authority."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field

from mcreg.api.deps import Caller, Registered, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES, CountryCode, IdempotencyKey, Input, Output, Ref, created, ref
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.vocabulary import ProviderType

router = APIRouter(prefix="/v1/providers", tags=["providers"], responses=PROBLEM_RESPONSES)


class NewProvider(Input):
    names: dict[str, str] = Field(description="ISO 639-1 → official name", examples=[{"nl": "Hanzehogeschool"}])
    country: CountryCode
    provider_type: ProviderType = ProviderType.HIGHER_EDUCATION
    deqar_id: str | None = Field(default=None, examples=["DEQARINST0245"])
    eter_id: str | None = Field(default=None, examples=["NL0020"])
    schac: str | None = Field(default=None, examples=["hanze.nl"])
    erasmus_code: str | None = Field(default=None, examples=["NL GRONING03"])
    registered_on: date | None = None
    legal_identifier: str | None = Field(
        default=None,
        examples=["01043009"],
        description="The provider's number in its country's business register (its eIDAS legal identifier)",
    )


class Identifiers(Output):
    deqar_id: str | None
    eter_id: str | None
    schac: str | None
    erasmus_code: str | None
    legal_identifier: str | None = None


class ProviderOut(Output):
    id: UUID
    version: int
    names: dict[str, str]
    country: str
    provider_type: str
    identifiers: Identifiers
    closed_on: date | None = None
    accreditation_ids: list[UUID]


@router.post("", status_code=201, summary="Register a provider or recognising institution")
def register_provider(
    body: NewProvider,
    response: Response,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    return created(response, "providers", registry.register_provider(actor, **body.model_dump(), idempotency_key=key))


class LocalIdentifier(Input):
    identifier: str = Field(examples=["S003"], description="The calling agency's own identifier for the provider")


@router.post(
    "/{provider_id}/identifiers",
    summary="Record the calling QA agency's own identifier for a provider (DEQAR reports may name it so)",
)
def claim_identifier(
    provider_id: UUID, body: LocalIdentifier, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    claimed = registry.claim_local_identifier(actor, provider_id, identifier=body.identifier, idempotency_key=key)
    return ref("providers", claimed)


@router.get("/{provider_id}", summary="A provider, with the accreditations granted to it")
def get_provider(provider_id: UUID, _: Visitor, registry: Registered) -> ProviderOut:
    return ProviderOut.model_validate(registry.get(Provider, provider_id))
