"""The GraphQL schema: types built from read-model rows, queries, and the limits every document must pass.

Resolvers read projection tables only, through the request's DataLoaders;
the one exception is time travel (``credentialStanding``), which replays
aggregates from the event store through the registry.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import strawberry
from graphql import GraphQLError
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import Info

from api.graphql.context import Context
from projections.credential_status import CredentialStatusRow
from registry.errors import DomainError
from registry.quality import QAStanding as DomainQAStanding

MAX_PAGE = 100
"""The most nodes one connection returns: strawberry is slow on large lists, and dashboards need few."""
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000

N = TypeVar("N")


class BadInput(GraphQLError):
    """A client error: shown to the caller with ``extensions.code`` even when errors are masked."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message, extensions={"code": code})


def parse_id(value: strawberry.ID, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(f"{field}: must be a UUID") from None


def page_size(first: int | None) -> int:
    if first is None:
        return 20
    if not 1 <= first <= MAX_PAGE:
        raise BadInput(f"first: must be from 1 to {MAX_PAGE}")
    return first


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode("|".join(map(str, key)).encode()).decode()


def decode_cursor(cursor: str | None, parts: int) -> list[str] | None:
    if cursor is None:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (binascii.Error, UnicodeDecodeError):
        key = []
    if len(key) != parts:
        raise BadInput("after: is not a cursor this query gave")
    return key


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo


@strawberry.type
class QABasis:
    kind: str
    id: strawberry.ID
    version: int


@strawberry.type
class QAStanding:
    """Where a credential's QA decision stood on a date: in_force, expired, suspended, withdrawn, …"""

    standing: str
    basis: QABasis | None

    @staticmethod
    def of(standing: DomainQAStanding) -> QAStanding:
        basis = standing.basis
        return QAStanding(
            standing=standing.standing.value,
            basis=QABasis(kind=basis.kind.value, id=strawberry.ID(str(basis.id)), version=basis.version)
            if basis
            else None,
        )


@strawberry.type
class Credential:
    """A credential as the registry last recorded it (no learner personal data)."""

    id: strawberry.ID
    provider_id: strawberry.ID
    micro_credential_id: strawberry.ID
    spec_version: int
    issued_on: date
    valid_until: date | None
    status: str
    revoked_on: date | None
    revocation_reason: str | None
    suspended_since: date | None
    qa_basis: QABasis

    @staticmethod
    def of(row: CredentialStatusRow) -> Credential:
        return Credential(
            id=strawberry.ID(str(row.credential_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            micro_credential_id=strawberry.ID(str(row.microcredential_id)),
            spec_version=row.spec_version,
            issued_on=row.issued_on,
            valid_until=row.valid_until,
            status=row.status,
            revoked_on=row.revoked_on,
            revocation_reason=row.revocation_reason,
            suspended_since=row.suspended_since,
            qa_basis=QABasis(
                kind=row.qa_basis_kind, id=strawberry.ID(str(row.qa_basis_id)), version=row.qa_basis_version
            ),
        )


@strawberry.type
class CredentialStanding:
    """A credential's status and QA standing on ``asOf``, as the registry had recorded them at ``knownAt``."""

    credential_id: strawberry.ID
    as_of: date
    known_at: datetime | None
    status: str | None = strawberry.field(description="None before the issue date")
    issued_on: date
    qa_at_issue: QAStanding
    qa_as_of: QAStanding


@strawberry.type
class Event:
    """One stored event of an aggregate, with who recorded it and when it takes effect."""

    position: int
    aggregate_id: strawberry.ID
    version: int
    aggregate_type: str
    event_type: str
    actor_org: strawberry.ID
    actor_role: str
    actor_key_id: str | None
    recorded_at: datetime
    effective: date
    idempotency_key: str | None

    @staticmethod
    def of(row: dict[str, Any]) -> Event:
        return Event(
            position=row["notification_id"],
            aggregate_id=strawberry.ID(str(row["aggregate_id"])),
            version=row["aggregate_version"],
            aggregate_type=row["aggregate_type"],
            event_type=row["event_type"],
            actor_org=strawberry.ID(str(row["actor_org"])),
            actor_role=row["actor_role"],
            actor_key_id=row["actor_key_id"],
            recorded_at=row["recorded_at"],
            effective=row["effective_on"],
            idempotency_key=row["idempotency_key"],
        )


@strawberry.type
class Query:
    @strawberry.field(description="A credential by id, as last recorded.")
    async def credential(self, info: Info[Context, None], id: strawberry.ID) -> Credential | None:
        row = await info.context.credentials.load(parse_id(id, "id"))
        return Credential.of(row) if row else None

    @strawberry.field(description="Time travel: status and QA standing on a business date, as known at a moment.")
    async def credential_standing(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        known_at: datetime | None = None,
    ) -> CredentialStanding | None:
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
        return CredentialStanding(
            credential_id=id,
            as_of=standing.as_of,
            known_at=standing.known_at,
            status=standing.status.value if standing.status else None,
            issued_on=standing.credential.issued_on,
            qa_at_issue=QAStanding.of(standing.qa_at_issue),
            qa_as_of=QAStanding.of(standing.qa_as_of),
        )

    @strawberry.field(description="A provider's credentials, oldest first, optionally of one status.")
    async def credentials(
        self,
        info: Info[Context, None],
        provider_id: strawberry.ID,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Credential]:
        limit = page_size(first)
        key = decode_cursor(after, 2)
        view = info.context.read_models["credential_status"].view
        rows = await run_in_threadpool(
            view.by_provider,
            parse_id(provider_id, "providerId"),
            status,
            limit + 1,
            (date.fromisoformat(key[0]), UUID(key[1])) if key else None,
        )
        edges = [Edge(cursor=encode_cursor(r.issued_on, r.credential_id), node=Credential.of(r)) for r in rows[:limit]]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="Every stored event of one aggregate, in order: the audit trail.")
    async def history(
        self, info: Info[Context, None], aggregate_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[Event]:
        limit = page_size(first)
        key = decode_cursor(after, 1)
        view = info.context.read_models["audit_timeline"].view
        rows = await run_in_threadpool(
            view.of_aggregate, parse_id(aggregate_id, "aggregateId"), limit + 1, int(key[0]) if key else 0
        )
        edges = [Edge(cursor=encode_cursor(r["aggregate_version"]), node=Event.of(r)) for r in rows[:limit]]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
        )


def create_schema(*, production: bool) -> strawberry.Schema:
    """The schema with its limits; in production, no introspection and no internal error details."""
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
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
    return strawberry.Schema(query=Query, extensions=extensions)
