"""Finding an organisation by an identifier another register gives it (``GET /v1/lookup``), and a provider's
credentials by the identifiers its own systems give them (``POST /v1/lookup/credentials``, a query in a body)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from mcreg.api.credential_lookup import MAX_LIMIT, find_credentials
from mcreg.api.deps import ReadSide, Registered, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES, Input, Output
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.errors import NotFound
from mcreg.registry.schemes import identifier_of, schemes_of

router = APIRouter(prefix="/v1/lookup", tags=["lookup"], responses=PROBLEM_RESPONSES)

ORGANISATION_SCHEMES = schemes_of("organisation")
CREDENTIAL_SCHEMES = schemes_of("credential")


class Found(Output):
    identifier: str = Field(description="scheme:value, the value as the scheme compares it", examples=["eter:BE0035"])
    kind: Literal["provider", "agency"]
    id: UUID
    href: str = Field(examples=["/v1/providers/3f2b8c1e-5d4a-4f6b-9c7d-2e1a0b9c8d7f"])


@router.get(
    "",
    summary="The provider or agency an identifier from another register names",
    description=f"Schemes: {ORGANISATION_SCHEMES} (SCHAC home organisation, Erasmus code, ETER id, DEQAR id), each "
    "checked to its format (422 naming the rule). A provider's SCHAC, Erasmus, ETER and DEQAR ids are unique: "
    "recording one another provider holds is a 409. 404 when no organisation holds it.",
)
def lookup(
    _: Visitor,
    registry: Registered,
    identifier_: Annotated[
        str, Query(alias="identifier", description="scheme:value", examples=["erasmus:NL GRONING03"])
    ],
) -> Found:
    scheme, value = identifier_of("identifier", identifier_, "organisation")
    found = registry.organisation_by(scheme, value)
    if found is None:
        raise NotFound("organisation", f"{scheme.value}:{value}")
    cls, organisation_id = found
    kind: Literal["provider", "agency"] = "agency" if cls is Agency else "provider"
    href = f"/v1/{'agencies' if cls is Agency else 'providers'}/{organisation_id}"
    return Found(identifier=f"{scheme.value}:{value}", kind=kind, id=organisation_id, href=href)


class FoundCredential(Output):
    id: UUID
    href: str = Field(examples=["/v1/credentials/3f2b8c1e-5d4a-4f6b-9c7d-2e1a0b9c8d7f"])


class FoundCredentials(Output):
    identifier: str = Field(
        description="scheme:value, the value as the scheme compares it", examples=["sis_course:MATH-101"]
    )
    provider_id: UUID = Field(description="The provider whose system gave the identifier")
    credentials: list[FoundCredential] = Field(description="In the order of their ids; none is a 200 too")
    next: str | None = Field(
        default=None, description="Ask again with `after` set to this for the next page; null on the last"
    )


class CredentialLookup(Input):
    identifier: str = Field(description="scheme:value", examples=["sis_course:MATH-101"])
    provider: UUID | None = Field(
        default=None, description="The provider whose identifier it is; a provider's own by default"
    )
    after: UUID | None = Field(default=None, description="The `next` of the page before")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT, description="Credentials per page")


@router.post(
    "/credentials",
    summary="A provider's credentials by a course, LTI context or resource link, or student number its systems gave",
    description=f"Schemes: {CREDENTIAL_SCHEMES} (the student-information system's course id, the learning "
    "platform's LTI 1.3 context id and resource link id, the SIS student number), each checked to its format (422 "
    "naming the rule). These are unique only within one provider's systems, so a lookup is within one `provider`: "
    "the calling provider's own by default. Only the provider, the operator and the national authority of the "
    "provider's country may look up (403 for anyone else, the public included). The student number is never stored: "
    "it is found through a keyed hash, scoped to the provider, and finds nothing once its learner is forgotten. A "
    "POST that writes nothing, so that a student number never sits in a URL, where proxies and browsers log it. "
    "GraphQL's `credentialsByIdentifier` answers the same.",
)
def lookup_credentials(
    body: CredentialLookup, actor: Visitor, registry: Registered, read_models: ReadSide
) -> FoundCredentials:
    found = find_credentials(
        registry, read_models, actor, body.identifier, body.provider, after=body.after, limit=body.limit
    )
    return FoundCredentials(
        identifier=found.identifier,
        provider_id=found.provider_id,
        credentials=[FoundCredential(id=c, href=f"/v1/credentials/{c}") for c in found.credential_ids],
        next=str(found.next) if found.next else None,
    )
