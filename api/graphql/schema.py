"""The GraphQL schema: its queries and the limits every document must pass.

Types live in ``types.py`` and ``dashboard.py``, each class named after its
GraphQL type with ``Object`` appended (``CredentialObject`` is ``Credential``);
input checks, cursors and pages in ``paging.py``; the faceted ``search…`` lists in ``browse.py``;
``credentialsByIdentifier`` in ``credential_lookup.py``.

Resolvers read projection tables only, through the request's DataLoaders;
the one exception is time travel (``credentialStanding``), which replays
aggregates from the event store through the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import Info

from mcreg.api.graphql.browse import BrowseQuery, readable_scope
from mcreg.api.graphql.context import GraphQLContext
from mcreg.api.graphql.credential_lookup import CredentialLookupQuery
from mcreg.api.graphql.dashboard import DashboardObject
from mcreg.api.graphql.indicators import checked_days
from mcreg.api.graphql.outage import DatabaseOutage
from mcreg.api.graphql.paging import (
    MAX_SEARCH,
    BadInput,
    Connection,
    Edge,
    PageInfo,
    after_id,
    after_issue,
    after_position,
    checked,
    connection,
    encode_cursor,
    page_size,
    parse_id,
    parse_month,
)
from mcreg.api.graphql.types import (
    AgencyObject,
    CredentialObject,
    CredentialStandingObject,
    EventObject,
    MicroCredentialObject,
    ProviderObject,
    QAStandingObject,
    RecognitionObject,
)
from mcreg.projections.listing import Page
from mcreg.registry import validate as v
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.errors import DomainError, InvalidInput
from mcreg.registry.schemes import identifier
from mcreg.registry.vocabulary import CredentialStatus, ProviderType, RecognitionStatus, Role

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
KEPT_DOCUMENTS = 256
"""Distinct query texts whose parsed document, and what validating it found, are kept: clients send a few texts
with variables."""


@strawberry.type
class Query(BrowseQuery, CredentialLookupQuery):
    @strawberry.field(description="A credential by id, as last recorded.")
    async def credential(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> CredentialObject | None:
        row = await info.context.credentials.load(parse_id(id, "id"))
        return CredentialObject.of(row) if row else None

    @strawberry.field(description="Time travel: status and QA standing on a business date, as known at a moment.")
    async def credential_standing(
        self,
        info: Info[GraphQLContext, None],
        id: strawberry.ID,
        as_of: date | None = None,
        known_at: datetime | None = None,
    ) -> CredentialStandingObject | None:
        if known_at is not None and known_at.tzinfo is None:
            raise BadInput("knownAt: must carry a time zone, e.g. 2025-01-31T12:00:00Z")
        try:
            standing = await run_in_threadpool(
                info.context.registry.credential_standing, parse_id(id, "id"), as_of, known_at
            )
        except DomainError as error:
            if error.status == 404:
                return None
            raise BadInput(error.detail) from None
        return CredentialStandingObject(
            credential_id=id,
            as_of=standing.as_of,
            known_at=standing.known_at,
            status=standing.status.value if standing.status else None,
            verdict=standing.credential.verdict_on(
                standing.as_of, standing.qa_at_issue.standing, standing.qa_as_of.standing
            ).value,
            issued_on=standing.credential.issued_on,
            qa_at_issue=QAStandingObject.of(standing.qa_at_issue),
            qa_as_of=QAStandingObject.of(standing.qa_as_of),
        )

    @strawberry.field(
        description="A provider's credentials, oldest first, optionally of one status: for the provider itself, its "
        "country's national authority, the operator and auditors (FORBIDDEN for anyone else, the public included)."
    )
    async def credentials(
        self,
        info: Info[GraphQLContext, None],
        provider_id: strawberry.ID,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CredentialObject]:
        limit = page_size(first)
        view = info.context.read_models.credential_status
        chosen = checked(lambda field, value: v.choice(field, value, CredentialStatus), "status", status)
        provider = parse_id(provider_id, "providerId")
        reach = readable_scope(info, Role.PROVIDER, "credentials", auditors=True)
        country = row.country if (row := await info.context.providers.load(provider)) else None
        if reach["org"] not in (None, provider) or reach["country"] not in (None, country):
            raise BadInput(
                "credentials: only the provider itself or its country's authority may list these", "FORBIDDEN"
            )
        rows = await run_in_threadpool(
            view.by_provider,
            provider,
            chosen.value if chosen else None,
            limit + 1,
            after_issue(after),
        )
        edges = [
            Edge(cursor=encode_cursor(r.issued_on, r.credential_id), node=CredentialObject.of(r)) for r in rows[:limit]
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(
        description="Every stored event of one aggregate, in order: the audit trail. Anyone may read an agency's, "
        "provider's, accreditation's, review's, micro-credential's or credential's; a recognition's only its parties, "
        "an auditor or the operator; any other only an auditor or the operator."
    )
    async def history(
        self,
        info: Info[GraphQLContext, None],
        aggregate_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[EventObject]:
        limit = page_size(first)
        view = info.context.read_models.audit_timeline
        aggregate = parse_id(aggregate_id, "aggregateId")
        rows = await run_in_threadpool(view.of_aggregate, aggregate, limit + 1, after_position(after) or 0)
        if rows and not await run_in_threadpool(info.context.may_read_history, rows[0].aggregate_type, aggregate):
            raise BadInput(
                "history: only an auditor, the operator or, for a recognition, its parties may read this history",
                "FORBIDDEN",
            )
        edges = [Edge(cursor=encode_cursor(r.aggregate_version), node=EventObject.of(r)) for r in rows[:limit]]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="A QA agency by id.")
    async def agency(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> AgencyObject | None:
        row = await info.context.agencies.load(parse_id(id, "id"))
        return AgencyObject.of(row) if row else None

    @strawberry.field(
        description="The agency a DEQAR id names (identifier: deqar:value, as GET /v1/lookup takes it), if any."
    )
    async def agency_by_identifier(self, info: Info[GraphQLContext, None], identifier: str) -> AgencyObject | None:
        found = await organisation_by(info, identifier)
        row = await info.context.agencies.load(found[1]) if found and found[0] is Agency else None
        return AgencyObject.of(row) if row else None

    @strawberry.field(
        description="The provider an identifier from another register names (scheme:value; schac, erasmus, eter or "
        "deqar, as GET /v1/lookup takes it), if any."
    )
    async def provider_by_identifier(self, info: Info[GraphQLContext, None], identifier: str) -> ProviderObject | None:
        found = await organisation_by(info, identifier)
        row = await info.context.providers.load(found[1]) if found and found[0] is Provider else None
        return ProviderObject.of(row) if row else None

    @strawberry.field(description="QA agencies, of one country if given, in a stable order.")
    async def agencies(
        self,
        info: Info[GraphQLContext, None],
        country: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AgencyObject]:
        limit = page_size(first)
        page = await run_in_threadpool(
            info.context.read_models.provider_standing.agencies,
            checked(v.country, "country", country),
            after=after_id(after),
            limit=limit,
        )
        return connection(page, AgencyObject.of, lambda row: row.agency_id)

    @strawberry.field(description="A provider by id, with its accreditations and reviews.")
    async def provider(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> ProviderObject | None:
        row = await info.context.providers.load(parse_id(id, "id"))
        return ProviderObject.of(row) if row else None

    @strawberry.field(description="Providers, of one country and type if given, in a stable order.")
    async def providers(
        self,
        info: Info[GraphQLContext, None],
        country: str | None = None,
        type_: Annotated[str | None, strawberry.argument(name="type")] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ProviderObject]:
        limit = page_size(first)
        provider_type = checked(lambda field, value: v.choice(field, value, ProviderType), "type", type_)
        page = await run_in_threadpool(
            info.context.read_models.provider_standing.providers,
            checked(v.country, "country", country),
            provider_type.value if provider_type else None,
            after=after_id(after),
            limit=limit,
        )
        return connection(page, ProviderObject.of, lambda row: row.provider_id)

    @strawberry.field(description="A micro-credential by id, as currently specified.")
    async def micro_credential(
        self, info: Info[GraphQLContext, None], id: strawberry.ID
    ) -> MicroCredentialObject | None:
        row = await info.context.micro_credentials.load(parse_id(id, "id"))
        return MicroCredentialObject.of(row) if row else None

    @strawberry.field(
        description="The catalogue: micro-credentials matching every filter given, in a stable order. "
        "``search`` matches titles in any language containing each word (the last may be a word's start); "
        "``iscedField`` is an ISCED-F code or its start; ``skill`` an ESCO URI of a learning outcome."
    )
    async def micro_credentials(
        self,
        info: Info[GraphQLContext, None],
        search: str | None = None,
        country: str | None = None,
        provider_id: strawberry.ID | None = None,
        eqf_level: int | None = None,
        isced_field: str | None = None,
        ects_min: Decimal | None = None,
        ects_max: Decimal | None = None,
        skill: str | None = None,
        retired: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[MicroCredentialObject]:
        limit = page_size(first)
        if search is not None and len(search) > MAX_SEARCH:
            raise BadInput(f"search: must be at most {MAX_SEARCH} characters")
        low, high = checked(v.ects, "ectsMin", ects_min), checked(v.ects, "ectsMax", ects_max)
        if low is not None and high is not None and low > high:
            raise BadInput("ectsMax: must not be less than ectsMin")
        page = await run_in_threadpool(
            partial(
                info.context.read_models.catalogue.search,
                search,
                country=checked(v.country, "country", country),
                provider_id=parse_id(provider_id, "providerId") if provider_id is not None else None,
                eqf_level=checked(v.eqf_level, "eqfLevel", eqf_level),
                isced_field=checked(v.isced_field, "iscedField", isced_field),
                ects_min=low,
                ects_max=high,
                esco_uri=checked(v.esco_uri, "skill", skill),
                retired=retired,
                after=after_id(after),
                limit=limit,
            )
        )
        return connection(page, MicroCredentialObject.of, lambda row: row.microcredential_id)

    @strawberry.field(
        description="A recognition by id: for its institution, the operator and the national authorities of the "
        "institution's and the issuer's countries (send their key as a bearer token)."
    )
    async def recognition(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> RecognitionObject | None:
        row = await info.context.recognitions.load(parse_id(id, "id"))
        if row and not info.context.may_read(row):
            raise BadInput("recognition: only its institution or an authority concerned may read it", "FORBIDDEN")
        return await run_in_threadpool(RecognitionObject.of, row, info.context.registry) if row else None

    @strawberry.field(
        description="The recognitions of one credential, or of one institution (of one status if given), "
        "in the order they were requested; only those the caller may read (see `recognition`)."
    )
    async def recognitions(
        self,
        info: Info[GraphQLContext, None],
        credential_id: strawberry.ID | None = None,
        institution_id: strawberry.ID | None = None,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RecognitionObject]:
        limit = page_size(first)
        if (credential_id is None) == (institution_id is None):
            raise BadInput("recognitions: give either credentialId or institutionId")
        view = info.context.read_models.recognitions
        if credential_id is not None:
            if status is not None:
                raise BadInput("status: filters an institution's recognitions only")
            page = await run_in_threadpool(
                partial(
                    view.of_credential,
                    parse_id(credential_id, "credentialId"),
                    after=after_position(after),
                    limit=limit,
                )
            )
        elif institution_id is not None:
            chosen = checked(lambda field, value: v.choice(field, value, RecognitionStatus), "status", status)
            page = await run_in_threadpool(
                partial(
                    view.of_institution,
                    parse_id(institution_id, "institutionId"),
                    chosen.value if chosen else None,
                    after=after_position(after),
                    limit=limit,
                )
            )
        readable = Page(tuple(row for row in page.rows if info.context.may_read(row)), page.after)
        node = partial(RecognitionObject.of, registry=info.context.registry)  # opens sealed text: reads the vault
        return await run_in_threadpool(connection, readable, node, lambda row: row.requested_at_position)

    @strawberry.field(
        description="A national authority's dashboard: for one country if given (issuer country for credentials, "
        "recognising country for recognition rates, either end for cross-border flows), between two months "
        "(YYYY-MM, inclusive, open-ended if not given); QA standing, and the indicators, as of asOf (today if not "
        "given); the indicators as known at knownAt (only what the registry had recorded by the end of that day, UTC)."
    )
    async def dashboard(
        self,
        info: Info[GraphQLContext, None],
        country: str | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        as_of: date | None = None,
        known_at: date | None = None,
    ) -> DashboardObject:
        from_month, to_month = parse_month(from_, "from"), parse_month(to, "to")
        if from_month and to_month and from_month > to_month:
            raise BadInput("to: must not be before from")
        try:
            today = checked_days(as_of, known_at, info.context.registry.today(), ("asOf", "knownAt"))
        except InvalidInput as error:
            raise BadInput(error.detail) from None
        figures = await run_in_threadpool(
            partial(
                info.context.read_models.dashboard.dashboard,
                checked(v.country, "country", country),
                from_month,
                to_month,
                today=today,
            )
        )
        return DashboardObject.of(figures, known_at)


async def organisation_by(info: Info[GraphQLContext, None], text: str) -> tuple[type[Agency | Provider], UUID] | None:
    """The organisation ``scheme:value`` names, as the registry finds it; bad input as GraphQL's error."""
    try:
        scheme, value = identifier("identifier", text)
    except DomainError as error:
        raise BadInput(error.detail) from None
    return await run_in_threadpool(info.context.registry.organisation_by, scheme, value)


def create_schema(*, production: bool) -> strawberry.Schema:
    """The schema with its limits; in production, no introspection and no internal error details."""
    # The limits' rules are made once, here: each limiter makes a new rule class, the validation cache is keyed by
    # the rules, and limiters made per request made every request validate its document again (decision 79).
    limits = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        # A document is parsed once per distinct text (bounded LRU): a dashboard's parse made a few hundred
        # objects in reference cycles per request, which the cyclic collector then had to find (decision 71).
        lambda: ParserCache(maxsize=KEPT_DOCUMENTS),
        # ... and validated once: what the rules found (the limits' refusals included) is kept with it.
        lambda: ValidationCache(maxsize=KEPT_DOCUMENTS),
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ]
    if production:
        extensions += [
            DisableIntrospection,
            # Unexpected failures only: client errors (validation, BadInput) have no original error to hide.
            lambda: MaskErrors(
                should_mask_error=lambda error: (
                    error.original_error is not None and not isinstance(error.original_error, BadInput)
                )
            ),
        ]
    # Last, so that it runs first after execution: what it answers has no original error for MaskErrors to hide.
    extensions.append(DatabaseOutage)
    return strawberry.Schema(query=Query, extensions=extensions)
