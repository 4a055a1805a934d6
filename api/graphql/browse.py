"""GraphQL's faceted lists: ``search…`` connections with ``totalCount`` and ``facets``, beside the older lists.

The same lists, filters and checks as REST's (``mcreg.api.lists``): a bad
value is a ``BAD_USER_INPUT`` error naming the argument. ``totalCount`` and
``facets`` are counted once per connection, and only when asked for.
Credentials and recognitions list only what the caller may read
(``registry.permissions.private_reach``); anyone else gets ``FORBIDDEN``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from mcreg.api.graphql.context import GraphQLContext
from mcreg.api.graphql.paging import BadInput, Edge, PageInfo, page_size
from mcreg.api.graphql.types import (
    AccreditationObject,
    AgencyObject,
    CredentialObject,
    MicroCredentialObject,
    ProviderObject,
    RecognitionObject,
    ReviewObject,
)
from mcreg.api.lists import (
    ACCREDITATION_BROWSE,
    AGENCY_BROWSE,
    CREDENTIAL_BROWSE,
    MICROCREDENTIAL_BROWSE,
    PROVIDER_BROWSE,
    RECOGNITION_BROWSE,
    REVIEW_BROWSE,
    Browse,
)
from mcreg.projections.faceted import Facets
from mcreg.registry.errors import DomainError, InvalidInput
from mcreg.registry.permissions import private_reach
from mcreg.registry.vocabulary import Role

N = TypeVar("N")


def camel(name: str) -> str:
    """``eqf_level`` → ``eqfLevel``, ``microcredential_id`` → ``microCredentialId``: an argument as GraphQL names
    it."""
    spelt = name.replace("microcredential", "micro_credential")
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), spelt)


@strawberry.type(name="FacetValue")
class FacetValueObject:
    value: str | None = strawberry.field(description="None: the entries without one")
    count: int = strawberry.field(description="The entries this value would list, given the other filters")


@strawberry.type(name="Facet")
class FacetObject:
    name: str
    values: list[FacetValueObject] = strawberry.field(description="Most entries first")


@strawberry.type
class FacetedConnection(Generic[N]):
    """A page of a faceted list, with how many match in all and per facet value."""

    edges: list[Edge[N]]
    page_info: PageInfo
    counting: strawberry.Private[Callable[[], Facets]]
    counted: strawberry.Private[list[Facets]]

    async def _facets(self) -> Facets:
        if not self.counted:
            self.counted.append(await run_in_threadpool(self.counting))
        return self.counted[0]

    @strawberry.field(description="Entries matching every filter given")
    async def total_count(self) -> int:
        return (await self._facets()).total

    @strawberry.field(description="Per facet, each value's entries given the filters other than the facet's own")
    async def facets(self) -> list[FacetObject]:
        return [
            FacetObject(name=name, values=[FacetValueObject(value=c.value, count=c.count) for c in counts])
            for name, counts in (await self._facets()).counts.items()
        ]


async def browsed(
    info: Info[GraphQLContext, None],
    browse: Browse,
    given: Mapping[str, Any],
    first: int | None,
    after: str | None,
    node: Callable[[Any], N],
    scope: Mapping[str, Any] | None = None,
) -> FacetedConnection[N]:
    """A connection of ``browse``'s list: its filters ``given`` by their REST names, checked as REST checks them."""
    limit = page_size(first)
    try:
        params = browse.params(given, datetime.now(UTC).date()) | dict(scope or {})
        key = browse.after(after)
    except InvalidInput as error:
        raise BadInput(f"{camel(error.field)}: {error.rule}") from None
    queries = info.context.read_models.browsing
    page = await run_in_threadpool(queries.page, browse.listing, params, after=key, limit=limit)
    nodes = await run_in_threadpool(lambda: [node(entry) for entry in page.rows])
    edges = [Edge(cursor=browse.cursor(page_key), node=n) for n, page_key in zip(nodes, page.keys, strict=True)]
    return FacetedConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        counting=lambda: queries.facets(browse.listing, params),
        counted=[],
    )


def readable_scope(
    info: Info[GraphQLContext, None], owner: Role, what: str, *, auditors: bool = False
) -> dict[str, Any]:
    """The part of a private list the caller may read, as ``scope_*`` parameters; FORBIDDEN for anyone else."""
    actor = info.context.actor
    if actor is None:
        raise BadInput(f"{what}: only callers with a key that may read them may list them", "FORBIDDEN")
    try:
        org, country = private_reach(actor, owner, what, auditors=auditors)
    except DomainError as error:
        raise BadInput(error.detail, "FORBIDDEN") from None
    return {"org": org, "country": country}


@strawberry.type
class BrowseQuery:
    """The ``search…`` fields of the schema's ``Query``."""

    @strawberry.field(description="QA agencies, filtered as GET /v1/agencies, with totalCount and facets.")
    async def search_agencies(
        self,
        info: Info[GraphQLContext, None],
        q: str | None = None,
        country: str | None = None,
        status: str | None = None,
        esg_activity: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[AgencyObject]:
        given = {"q": q, "country": country, "status": status, "esg_activity": esg_activity}
        return await browsed(info, AGENCY_BROWSE, given, first, after, AgencyObject.of)

    @strawberry.field(description="Providers, filtered as GET /v1/providers, with totalCount and facets.")
    async def search_providers(
        self,
        info: Info[GraphQLContext, None],
        q: str | None = None,
        country: str | None = None,
        provider_type: str | None = None,
        qa_status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[ProviderObject]:
        given = {"q": q, "country": country, "provider_type": provider_type, "qa_status": qa_status}
        return await browsed(info, PROVIDER_BROWSE, given, first, after, lambda e: ProviderObject.of(e.provider))

    @strawberry.field(
        description="Micro-credentials, filtered as GET /v1/microcredentials, with totalCount and facets. "
        "``retired``: exclude (the default), only or include."
    )
    async def search_micro_credentials(
        self,
        info: Info[GraphQLContext, None],
        q: str | None = None,
        provider_id: strawberry.ID | None = None,
        country: str | None = None,
        eqf_level: int | None = None,
        isced_field: str | None = None,
        ects_min: Decimal | None = None,
        ects_max: Decimal | None = None,
        language: str | None = None,
        qa_status: str | None = None,
        retired: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[MicroCredentialObject]:
        given = {
            "q": q,
            "provider_id": provider_id,
            "country": country,
            "eqf_level": eqf_level,
            "isced_field": isced_field,
            "ects_min": ects_min,
            "ects_max": ects_max,
            "language": language,
            "qa_status": qa_status,
            "retired": retired,
        }
        return await browsed(
            info, MICROCREDENTIAL_BROWSE, given, first, after, lambda e: MicroCredentialObject.of(e.entry)
        )

    @strawberry.field(description="Accreditations, filtered as GET /v1/accreditations, with totalCount and facets.")
    async def search_accreditations(
        self,
        info: Info[GraphQLContext, None],
        provider_id: strawberry.ID | None = None,
        agency_id: strawberry.ID | None = None,
        country: str | None = None,
        status: str | None = None,
        outcome: str | None = None,
        eqf_level: int | None = None,
        decided_from: date | None = None,
        decided_to: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[AccreditationObject]:
        given = {
            "provider_id": provider_id,
            "agency_id": agency_id,
            "country": country,
            "status": status,
            "outcome": outcome,
            "eqf_level": eqf_level,
            "decided_from": decided_from,
            "decided_to": decided_to,
        }
        return await browsed(info, ACCREDITATION_BROWSE, given, first, after, lambda e: AccreditationObject.of(e.row))

    @strawberry.field(description="Reviews, filtered as GET /v1/reviews, with totalCount and facets.")
    async def search_reviews(
        self,
        info: Info[GraphQLContext, None],
        provider_id: strawberry.ID | None = None,
        agency_id: strawberry.ID | None = None,
        micro_credential_id: strawberry.ID | None = None,
        country: str | None = None,
        status: str | None = None,
        decision: str | None = None,
        eqf_level: int | None = None,
        opened_from: date | None = None,
        opened_to: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[ReviewObject]:
        given = {
            "provider_id": provider_id,
            "agency_id": agency_id,
            "microcredential_id": micro_credential_id,
            "country": country,
            "status": status,
            "decision": decision,
            "eqf_level": eqf_level,
            "opened_from": opened_from,
            "opened_to": opened_to,
        }
        return await browsed(info, REVIEW_BROWSE, given, first, after, lambda e: ReviewObject.of(e.row))

    @strawberry.field(
        description="Credentials, filtered as GET /v1/credentials, with totalCount and facets: a provider's own, a "
        "national authority's country's, all of them for the operator and auditors; nobody else's (FORBIDDEN)."
    )
    async def search_credentials(
        self,
        info: Info[GraphQLContext, None],
        provider_id: strawberry.ID | None = None,
        micro_credential_id: strawberry.ID | None = None,
        country: str | None = None,
        status: str | None = None,
        eqf_level: int | None = None,
        isced_field: str | None = None,
        include_revoked: bool | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[CredentialObject]:
        reach = readable_scope(info, Role.PROVIDER, "credentials", auditors=True)
        given = {
            "provider_id": provider_id,
            "microcredential_id": micro_credential_id,
            "country": country,
            "status": status,
            "eqf_level": eqf_level,
            "isced_field": isced_field,
            "include_revoked": include_revoked,
            "issued_from": issued_from,
            "issued_to": issued_to,
        }
        scope = {"scope_provider": reach["org"], "scope_country": reach["country"]}
        return await browsed(info, CREDENTIAL_BROWSE, given, first, after, lambda e: CredentialObject.of(e.row), scope)

    @strawberry.field(
        description="Recognitions, filtered as GET /v1/recognitions, with totalCount and facets: an institution's "
        "own, a national authority's (its country the institution's or the issuer's), all for the operator."
    )
    async def search_recognitions(
        self,
        info: Info[GraphQLContext, None],
        credential_id: strawberry.ID | None = None,
        institution_id: strawberry.ID | None = None,
        issuer_id: strawberry.ID | None = None,
        status: str | None = None,
        outcome: str | None = None,
        purpose: str | None = None,
        institution_country: str | None = None,
        issuer_country: str | None = None,
        requested_from: date | None = None,
        requested_to: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FacetedConnection[RecognitionObject]:
        reach = readable_scope(info, Role.INSTITUTION, "recognitions")
        given = {
            "credential_id": credential_id,
            "institution_id": institution_id,
            "issuer_id": issuer_id,
            "status": status,
            "outcome": outcome,
            "purpose": purpose,
            "institution_country": institution_country,
            "issuer_country": issuer_country,
            "requested_from": requested_from,
            "requested_to": requested_to,
        }
        scope = {"scope_institution": reach["org"], "scope_country": reach["country"]}
        registry = info.context.registry  # a node opens the sealed differences: it reads the vault
        return await browsed(
            info, RECOGNITION_BROWSE, given, first, after, lambda row: RecognitionObject.of(row, registry), scope
        )
