"""Finding an organisation by an identifier another register gives it (``GET /v1/lookup``), and a provider's
credentials by the identifiers its own systems give them (``POST /v1/lookup/credentials``, a query in a body)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from mcreg.api.deps import ReadSide, Registered, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES, Input, Output
from mcreg.projections.credential_identifiers import Column
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound
from mcreg.registry.schemes import RULES, IdentifierScheme, identifier
from mcreg.registry.vocabulary import Role

router = APIRouter(prefix="/v1/lookup", tags=["lookup"], responses=PROBLEM_RESPONSES)

ORGANISATION_SCHEMES = ", ".join(f"`{s.value}`" for s in IdentifierScheme if RULES[s].names == "organisation")
CREDENTIAL_SCHEMES = ", ".join(f"`{s.value}`" for s in IdentifierScheme if RULES[s].names == "credential")
COLUMNS: dict[IdentifierScheme, Column] = {
    IdentifierScheme.SIS_COURSE: "course_id",
    IdentifierScheme.LTI_CONTEXT: "lti_context_id",
    IdentifierScheme.SIS_STUDENT: "student_digest",
}


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
    scheme, value = identifier("identifier", identifier_)
    if RULES[scheme].names != "organisation":
        raise InvalidInput("identifier", f"must name an organisation's identifier: {ORGANISATION_SCHEMES}")
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
    limit: int = Field(default=100, ge=1, le=1000, description="Credentials per page")


@router.post(
    "/credentials",
    summary="A provider's credentials by a course, LTI context or student number its own systems gave them",
    description=f"Schemes: {CREDENTIAL_SCHEMES} (the student-information system's course id, the learning "
    "platform's LTI 1.3 context id, the SIS student number), each checked to its format (422 naming the rule). "
    "These are unique only within one provider's systems, so a lookup is within one `provider`: the calling "
    "provider's own by default. Only the provider, the operator and the national authority of the provider's "
    "country may look up (403 for anyone else, the public included). The student number is never stored: it is "
    "found through a keyed hash, scoped to the provider, and finds nothing once its learner is forgotten. A POST "
    "that writes nothing, so that a student number never sits in a URL, where proxies and browsers log it.",
)
def lookup_credentials(
    body: CredentialLookup, actor: Visitor, registry: Registered, read_models: ReadSide
) -> FoundCredentials:
    provider, after, limit = body.provider, body.after, body.limit
    scheme, value = identifier("identifier", body.identifier)
    column = COLUMNS.get(scheme)
    if column is None:
        raise InvalidInput("identifier", f"must name a credential's identifier: {CREDENTIAL_SCHEMES}")
    if provider is None and actor is not None:
        if actor.role != Role.PROVIDER:
            raise InvalidInput("provider", "must name the provider whose identifier it is")
        provider = actor.org
    if actor is None or provider is None:
        raise Forbidden("only a provider, the operator or a national authority may look credentials up", rule="private")
    registry.check_reads_credentials_of(actor, provider)
    key = registry.student_digest(provider, value) if scheme == IdentifierScheme.SIS_STUDENT else value
    found = read_models.credential_identifiers.find(provider, column, key, after=after, limit=limit)
    following = str(found[-1].credential_id) if len(found) == limit else None
    if scheme == IdentifierScheme.SIS_STUDENT:  # a learner forgotten a moment ago, before the read model heard of it
        remembered = registry.learners_remembered({c.learner_id for c in found if c.learner_id})
        found = [c for c in found if c.learner_id in remembered]
    return FoundCredentials(
        identifier=f"{scheme.value}:{value}",
        provider_id=provider,
        credentials=[FoundCredential(id=c.credential_id, href=f"/v1/credentials/{c.credential_id}") for c in found],
        next=following,
    )
