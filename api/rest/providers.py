"""Providers (and recognising institutions): registered by the operator or their country's national authority."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from mcreg.api.deps import Caller, ReadSide, Registered, Visitor
from mcreg.api.lists import PROVIDER_BROWSE
from mcreg.api.rest.common import PROBLEM_RESPONSES, CountryCode, IdempotencyKey, Input, Output, Ref, created, ref
from mcreg.api.rest.listing import ListOut, ListQuery, item, list_query, served
from mcreg.projections.browsing import ProviderEntry
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.schemes import identifier
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


class ExternalIdentifier(Input):
    identifier: str = Field(
        examples=["erasmus:NL GRONING03"],
        description="scheme:value, the scheme one of schac, erasmus, eter, deqar (GET /v1/lookup finds it)",
    )


@router.post(
    "/{provider_id}/external-identifiers",
    summary="Record an identifier another register gives the provider (by the provider or its country's authority)",
    description="One value per scheme: a provider that has one already keeps it (409 for another). A value another "
    "provider holds is a 409. The value must follow its scheme's format (422 naming the rule).",
)
def add_external_identifier(
    provider_id: UUID, body: ExternalIdentifier, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    scheme, value = identifier("identifier", body.identifier)
    added = registry.add_provider_identifier(actor, provider_id, scheme=scheme, value=value, idempotency_key=key)
    return ref("providers", added)


@router.get("/{provider_id}", summary="A provider, with the accreditations granted to it")
def get_provider(provider_id: UUID, _: Visitor, registry: Registered) -> ProviderOut:
    return ProviderOut.model_validate(registry.get(Provider, provider_id))


class ProviderListed(Output):
    id: UUID = Field(validation_alias="provider_id")
    href: str
    names: dict[str, str]
    country: str
    provider_type: str
    identifiers: Identifiers
    registered_on: date
    closed_on: date | None
    qa_status: str = Field(description="accredited, not_accredited or closed, today")


def provider_listed(entry: ProviderEntry) -> ProviderListed:
    row = entry.provider
    return item(
        ProviderListed,
        row,
        href=f"/v1/providers/{row.provider_id}",
        identifiers=Identifiers.model_validate(row),
        qa_status=entry.qa_status.value,
    )


@router.get(
    "",
    summary="Providers, filtered, with a total and facet counts",
    description="DEQAR-style: by country, kind and accreditation status today, a page at a time in a stable order.",
)
async def list_providers(
    request: Request, _: Visitor, read_models: ReadSide, query: Annotated[ListQuery, list_query(PROVIDER_BROWSE)]
) -> ListOut[ProviderListed]:
    return await served(request, read_models, PROVIDER_BROWSE, query, provider_listed)
