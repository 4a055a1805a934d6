"""GraphQL's ``credentialsByIdentifier``: REST's ``POST /v1/lookup/credentials`` (``api/credential_lookup.py``), the
same arguments, the same rules, the same answers."""

from __future__ import annotations

from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from mcreg.api.credential_lookup import FoundCredentials, find_credentials
from mcreg.api.graphql.context import GraphQLContext
from mcreg.api.graphql.paging import BadInput, parse_id
from mcreg.api.graphql.types import CredentialObject
from mcreg.registry.errors import DomainError

CODES = {403: "FORBIDDEN", 404: "NOT_FOUND"}
"""The GraphQL error code of a refusal, by the status REST answers it with; any other is BAD_USER_INPUT."""


@strawberry.type(name="CredentialsFound")
class CredentialsFoundObject:
    identifier: str = strawberry.field(description="scheme:value, the value as the scheme compares it")
    provider_id: strawberry.ID = strawberry.field(description="The provider whose systems gave the identifier")
    credential_ids: list[strawberry.ID] = strawberry.field(description="In the order of their ids; none is an answer")
    next: strawberry.ID | None = strawberry.field(
        description="Ask again with `after` set to this for the next page; null on the last"
    )

    @strawberry.field(
        description="The credentials found, as the credentials' read model holds them (one it has not caught up "
        "with yet is left out)."
    )
    async def credentials(self, info: Info[GraphQLContext, None]) -> list[CredentialObject]:
        rows = await info.context.credentials.load_many([UUID(i) for i in self.credential_ids])
        return [CredentialObject.of(row) for row in rows if row is not None]

    @staticmethod
    def of(found: FoundCredentials) -> CredentialsFoundObject:
        return CredentialsFoundObject(
            identifier=found.identifier,
            provider_id=strawberry.ID(str(found.provider_id)),
            credential_ids=[strawberry.ID(str(i)) for i in found.credential_ids],
            next=strawberry.ID(str(found.next)) if found.next else None,
        )


@strawberry.type
class CredentialLookupQuery:
    """The ``credentialsByIdentifier`` field of the schema's ``Query``."""

    @strawberry.field(
        description="A provider's credentials by a course, LTI context or resource link, or student number its own "
        "systems gave them (identifier: scheme:value; sis_course, lti_context, lti_resource_link or sis_student), as "
        "POST /v1/lookup/credentials answers: within one provider (the calling provider's own by default), for the "
        "provider, the operator and its country's national authority only (FORBIDDEN for anyone else). Asked in a "
        "POST only: a student number must not sit in a URL."
    )
    async def credentials_by_identifier(
        self,
        info: Info[GraphQLContext, None],
        identifier: str,
        provider: strawberry.ID | None = None,
        after: strawberry.ID | None = None,
        limit: int = 100,
    ) -> CredentialsFoundObject:
        if getattr(info.context.request, "method", "POST") != "POST":  # over a socket: not in a URL either
            raise BadInput("credentialsByIdentifier: ask in a POST: a student number must not sit in a URL")
        context = info.context
        try:
            found = await run_in_threadpool(
                find_credentials,
                context.registry,
                context.read_models,
                context.actor,
                identifier,
                parse_id(provider, "provider") if provider is not None else None,
                after=parse_id(after, "after") if after is not None else None,
                limit=limit,
            )
        except DomainError as error:
            raise BadInput(error.detail, CODES.get(error.status, "BAD_USER_INPUT")) from None
        return CredentialsFoundObject.of(found)
