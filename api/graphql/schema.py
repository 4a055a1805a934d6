"""The GraphQL schema: types built from read-model rows, queries, and the limits every document must pass.

Resolvers read projection tables only, through the request's DataLoaders;
the one exception is time travel (``credentialStanding``), which replays
aggregates from the event store through the registry.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Generic, TypeVar
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
from projections.catalogue import CatalogueRow
from projections.credential_status import CredentialStatusRow
from projections.dashboard import DashboardFigures
from projections.dashboard import QACoverage as DashboardCoverage
from projections.dashboard import Volumes as DashboardVolumes
from projections.listing import Page
from projections.provider_standing import AccreditationRow, AgencyRow, ProviderRow, ReviewRow
from projections.recognitions import RecognitionRow
from registry import validate as v
from registry.errors import DomainError, InvalidInput
from registry.quality import QAStanding as DomainQAStanding
from registry.vocabulary import ProviderType, RecognitionStatus

MAX_PAGE = 100
"""The most nodes one connection returns: strawberry is slow on large lists, and dashboards need few."""
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_SEARCH = 200
"""The longest catalogue search text."""

N = TypeVar("N")
R = TypeVar("R")
T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


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


def after_id(cursor: str | None) -> UUID | None:
    """The id a cursor of an id-ordered list holds."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    try:
        return UUID(key[0])
    except ValueError:
        raise BadInput("after: is not a cursor this query gave") from None


def after_issue(cursor: str | None) -> tuple[date, UUID] | None:
    """The (issue date, id) a cursor of a list in issue order holds."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    try:
        return date.fromisoformat(key[0]), UUID(key[1])
    except ValueError:
        raise BadInput("after: is not a cursor this query gave") from None


def after_position(cursor: str | None) -> int | None:
    """The position a cursor of a list in the order of the log holds."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not key[0].isdigit():
        raise BadInput("after: is not a cursor this query gave")
    return int(key[0])


def connection(page: Page[R], node: Callable[[R], N], key: Callable[[R], Any]) -> Connection[N]:
    """A connection of a read model's keyset page, each edge's cursor holding its row's key."""
    edges = [Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in page.rows]
    return Connection(
        edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None)
    )


def checked(check: Callable[[str, Any], T], field: str, value: Any) -> T | None:
    """A filter checked by the registry's own vocabulary rule, None when not given."""
    if value is None:
        return None
    try:
        return check(field, value)
    except InvalidInput as error:
        raise BadInput(error.detail) from None


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    if not MONTH.fullmatch(value):
        raise BadInput(f"{field}: must be a month as YYYY-MM, e.g. 2024-03")
    return date(int(value[:4]), int(value[5:]), 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


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

    @strawberry.field(description="The issuing provider.")
    async def provider(self, info: Info[Context, None]) -> Provider | None:
        row = await info.context.providers.load(UUID(self.provider_id))
        return Provider.of(row) if row else None

    @strawberry.field(
        description="The micro-credential, as currently specified (``specVersion`` says which one it was issued under)."
    )
    async def micro_credential(self, info: Info[Context, None]) -> MicroCredential | None:
        row = await info.context.micro_credentials.load(UUID(self.micro_credential_id))
        return MicroCredential.of(row) if row else None


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
class LangString:
    """A text in one language (ISO 639-1)."""

    lang: str
    text: str


def lang_strings(texts: Mapping[str, str]) -> list[LangString]:
    return [LangString(lang=lang, text=text) for lang, text in sorted(texts.items())]


def optional_id(value: UUID | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type
class Agency:
    """A QA agency and where its registration stands: registered, suspended or deregistered."""

    id: strawberry.ID
    name: str
    acronym: str | None
    country: str
    deqar_id: str | None
    esg_activities: list[str]
    registered_on: date
    status: str
    suspended_since: date | None
    suspension_reason: str | None
    deregistered_on: date | None
    deregistration_reason: str | None

    @staticmethod
    def of(row: AgencyRow) -> Agency:
        return Agency(
            id=strawberry.ID(str(row.agency_id)),
            name=row.name,
            acronym=row.acronym,
            country=row.country,
            deqar_id=row.deqar_id,
            esg_activities=list(row.esg_activities),
            registered_on=row.registered_on,
            status=row.status,
            suspended_since=row.suspended_since,
            suspension_reason=row.suspension_reason,
            deregistered_on=row.deregistered_on,
            deregistration_reason=row.deregistration_reason,
        )


@strawberry.type
class AccreditationScope:
    """What an accreditation covers: EQF levels, ISCED-F fields, jurisdictions, and whether micro-credentials."""

    eqf_levels: list[int]
    isced_fields: list[str]
    jurisdictions: list[str]
    micro_credentials: bool


@strawberry.type
class AccreditationCondition:
    """A condition attached to an accreditation, with its deadline and when it was fulfilled."""

    number: int
    text: str
    deadline: date
    fulfilled_on: date | None


@strawberry.type
class Accreditation:
    """A provider's accreditation by a QA agency (or its national authority), as last recorded."""

    id: strawberry.ID
    provider_id: strawberry.ID
    granted_by: strawberry.ID
    agency_id: strawberry.ID | None = strawberry.field(description="None when a national authority granted it")
    local_identifier: str | None
    outcome: str
    scope: AccreditationScope
    valid_from: date
    valid_to: date
    report_url: str | None
    decided_on: date
    suspended_since: date | None = strawberry.field(description="The start of an open suspension")
    suspension_reason: str | None
    withdrawn_on: date | None
    withdrawal_reason: str | None
    conditions: list[AccreditationCondition]

    @staticmethod
    def of(row: AccreditationRow) -> Accreditation:
        return Accreditation(
            id=strawberry.ID(str(row.accreditation_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            granted_by=strawberry.ID(str(row.granted_by)),
            agency_id=optional_id(row.agency_id),
            local_identifier=row.local_identifier,
            outcome=row.outcome,
            scope=AccreditationScope(
                eqf_levels=list(row.eqf_levels),
                isced_fields=list(row.isced_fields),
                jurisdictions=list(row.jurisdictions),
                micro_credentials=row.micro_credentials,
            ),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            report_url=row.report_url,
            decided_on=row.decided_on,
            suspended_since=row.suspended_since,
            suspension_reason=row.suspension_reason,
            withdrawn_on=row.withdrawn_on,
            withdrawal_reason=row.withdrawal_reason,
            conditions=[
                AccreditationCondition(number=c.number, text=c.text, deadline=c.deadline, fulfilled_on=c.fulfilled_on)
                for c in row.conditions
            ],
        )

    @strawberry.field(description="The agency that granted it; None when a national authority did.")
    async def agency(self, info: Info[Context, None]) -> Agency | None:
        if self.agency_id is None:
            return None
        row = await info.context.agencies.load(UUID(self.agency_id))
        return Agency.of(row) if row else None


@strawberry.type
class Review:
    """An agency's review of one specification of a micro-credential: report, decision and appeal."""

    id: strawberry.ID
    agency_id: strawberry.ID
    micro_credential_id: strawberry.ID
    provider_id: strawberry.ID
    spec_version: int
    local_identifier: str | None
    opened_on: date
    report_url: str | None
    report_summary: str | None
    report_published_on: date | None
    decision: str | None = strawberry.field(description="None until decided; an overturning appeal replaces it")
    valid_from: date | None
    valid_to: date | None
    conditions: str | None
    decided_on: date | None
    appeal: str | None = strawberry.field(description="None if never appealed, else pending, withdrawn or its outcome")
    appeal_lodged_on: date | None
    withdrawn_on: date | None
    withdrawal_reason: str | None

    @staticmethod
    def of(row: ReviewRow) -> Review:
        return Review(
            id=strawberry.ID(str(row.review_id)),
            agency_id=strawberry.ID(str(row.agency_id)),
            micro_credential_id=strawberry.ID(str(row.microcredential_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            spec_version=row.spec_version,
            local_identifier=row.local_identifier,
            opened_on=row.opened_on,
            report_url=row.report_url,
            report_summary=row.report_summary,
            report_published_on=row.report_published_on,
            decision=row.decision,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            conditions=row.conditions,
            decided_on=row.decided_on,
            appeal=row.appeal,
            appeal_lodged_on=row.appeal_lodged_on,
            withdrawn_on=row.withdrawn_on,
            withdrawal_reason=row.withdrawal_reason,
        )

    @strawberry.field(description="The reviewing agency.")
    async def agency(self, info: Info[Context, None]) -> Agency | None:
        row = await info.context.agencies.load(UUID(self.agency_id))
        return Agency.of(row) if row else None

    @strawberry.field(description="The reviewed micro-credential, as currently specified.")
    async def micro_credential(self, info: Info[Context, None]) -> MicroCredential | None:
        row = await info.context.micro_credentials.load(UUID(self.micro_credential_id))
        return MicroCredential.of(row) if row else None


@strawberry.type
class Provider:
    """A provider: an issuer of micro-credentials, a recognising institution, or both."""

    id: strawberry.ID
    names: list[LangString]
    country: str
    provider_type: str
    deqar_id: str | None
    eter_id: str | None
    schac: str | None
    erasmus_code: str | None
    registered_on: date
    closed_on: date | None

    @staticmethod
    def of(row: ProviderRow) -> Provider:
        return Provider(
            id=strawberry.ID(str(row.provider_id)),
            names=lang_strings(row.names),
            country=row.country,
            provider_type=row.provider_type,
            deqar_id=row.deqar_id,
            eter_id=row.eter_id,
            schac=row.schac,
            erasmus_code=row.erasmus_code,
            registered_on=row.registered_on,
            closed_on=row.closed_on,
        )

    @strawberry.field(description="Its accreditations with their conditions, oldest validity first.")
    async def accreditations(self, info: Info[Context, None]) -> list[Accreditation]:
        return [Accreditation.of(row) for row in await info.context.accreditations.load(UUID(self.id))]

    @strawberry.field(description="The reviews of its micro-credentials, oldest first.")
    async def reviews(self, info: Info[Context, None]) -> list[Review]:
        return [Review.of(row) for row in await info.context.reviews.load(UUID(self.id))]


@strawberry.type
class LearningOutcome:
    text: str
    esco_uri: str | None


@strawberry.type
class MicroCredential:
    """A micro-credential's current standard elements (Annex I of the Council Recommendation)."""

    id: strawberry.ID
    provider_id: strawberry.ID
    provider_country: str
    specified_on: date
    spec_version: int = strawberry.field(description="The number of specifications it has had")
    in_force_from: date = strawberry.field(description="When the current specification took effect")
    retired_on: date | None
    title: list[LangString]
    learning_outcomes: list[LearningOutcome]
    ects: Decimal
    eqf_level: int | None
    isced_field: str
    assessment: str
    participation: str
    qa_type: str
    languages: list[str]
    prerequisites: str | None
    supervision: str | None
    stackability: str
    stackable_towards: str | None
    further_information: str | None

    @staticmethod
    def of(row: CatalogueRow) -> MicroCredential:
        return MicroCredential(
            id=strawberry.ID(str(row.microcredential_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            provider_country=row.provider_country,
            specified_on=row.specified_on,
            spec_version=row.spec_version,
            in_force_from=row.in_force_from,
            retired_on=row.retired_on,
            title=lang_strings(row.title),
            learning_outcomes=[
                LearningOutcome(text=str(o["text"]), esco_uri=o.get("esco_uri")) for o in row.learning_outcomes
            ],
            ects=row.ects,
            eqf_level=row.eqf_level,
            isced_field=row.isced_field,
            assessment=row.assessment,
            participation=row.participation,
            qa_type=row.qa_type,
            languages=list(row.languages),
            prerequisites=row.prerequisites,
            supervision=row.supervision,
            stackability=row.stackability,
            stackable_towards=row.stackable_towards,
            further_information=row.further_information,
        )

    @strawberry.field(description="The provider that offers it.")
    async def provider(self, info: Info[Context, None]) -> Provider | None:
        row = await info.context.providers.load(UUID(self.provider_id))
        return Provider.of(row) if row else None


@strawberry.type
class SubstantialDifference:
    difference: str
    reason: str


@strawberry.type
class Recognition:
    """A recognition request and the decision in force on it (free-text grounds and reasons are not shown)."""

    id: strawberry.ID
    credential_id: strawberry.ID
    institution_id: strawberry.ID
    institution_country: str
    issuer_id: strawberry.ID
    issuer_country: str
    purpose: str
    requested_by: str = strawberry.field(description="learner or institution")
    requested_on: date
    status: str
    outcome: str | None = strawberry.field(description="None until decided")
    ects_recognised: Decimal | None
    differences: list[SubstantialDifference]
    decided_on: date | None
    credential_status: str | None = strawberry.field(description="As the institution recorded it on the decision date")
    qa_basis: QABasis | None
    qa_standing: str | None = strawberry.field(description="The standing of that QA basis on the decision date")
    appeal: str | None = strawberry.field(description="None if never appealed, else pending, withdrawn or its outcome")
    appeal_lodged_on: date | None
    withdrawn_on: date | None

    @staticmethod
    def of(row: RecognitionRow) -> Recognition:
        return Recognition(
            id=strawberry.ID(str(row.recognition_id)),
            credential_id=strawberry.ID(str(row.credential_id)),
            institution_id=strawberry.ID(str(row.institution_id)),
            institution_country=row.institution_country,
            issuer_id=strawberry.ID(str(row.issuer_id)),
            issuer_country=row.issuer_country,
            purpose=row.purpose,
            requested_by=row.requested_by,
            requested_on=row.requested_on,
            status=row.status,
            outcome=row.outcome,
            ects_recognised=row.ects_recognised,
            differences=[
                SubstantialDifference(difference=d["difference"], reason=d["reason"]) for d in row.differences or ()
            ],
            decided_on=row.decided_on,
            credential_status=row.credential_status,
            qa_basis=QABasis(
                kind=row.qa_basis_kind, id=strawberry.ID(str(row.qa_basis_id)), version=row.qa_basis_version
            )
            if row.qa_basis_kind and row.qa_basis_id and row.qa_basis_version is not None
            else None,
            qa_standing=row.qa_standing,
            appeal=row.appeal,
            appeal_lodged_on=row.appeal_lodged_on,
            withdrawn_on=row.withdrawn_on,
        )

    @strawberry.field(description="The recognised credential, as last recorded.")
    async def credential(self, info: Info[Context, None]) -> Credential | None:
        row = await info.context.credentials.load(UUID(self.credential_id))
        return Credential.of(row) if row else None

    @strawberry.field(description="The recognising institution.")
    async def institution(self, info: Info[Context, None]) -> Provider | None:
        row = await info.context.providers.load(UUID(self.institution_id))
        return Provider.of(row) if row else None


@strawberry.type
class Counts:
    """Credentials issued, and how many of those are revoked now."""

    issued: int
    revoked: int


@strawberry.type
class CountryCounts:
    country: str
    issued: int
    revoked: int


@strawberry.type
class LevelCounts:
    eqf_level: int | None = strawberry.field(description="None: no EQF level applies")
    issued: int
    revoked: int


@strawberry.type
class FieldCounts:
    isced_broad_field: str
    issued: int
    revoked: int


@strawberry.type
class MonthCounts:
    month: str = strawberry.field(description="YYYY-MM")
    issued: int
    revoked: int


@strawberry.type
class Volumes:
    """Credentials issued (and of those, revoked), in total and by issuer country, EQF level, field and month."""

    total: Counts
    by_country: list[CountryCounts]
    by_eqf_level: list[LevelCounts]
    by_isced_broad_field: list[FieldCounts]
    by_month: list[MonthCounts]

    @staticmethod
    def of(volumes: DashboardVolumes) -> Volumes:
        return Volumes(
            total=Counts(issued=volumes.total.issued, revoked=volumes.total.revoked),
            by_country=[
                CountryCounts(country=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_country)
            ],
            by_eqf_level=[
                LevelCounts(eqf_level=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_eqf_level)
            ],
            by_isced_broad_field=[
                FieldCounts(isced_broad_field=k, issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_field)
            ],
            by_month=[
                MonthCounts(month=month_text(k), issued=c.issued, revoked=c.revoked)
                for k, c in sorted_counts(volumes.by_month)
            ],
        )


def sorted_counts(counts: Mapping[K, V]) -> list[tuple[K, V]]:
    """Counts in the order of their keys, None last."""
    return sorted(counts.items(), key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0))


@strawberry.type
class StandingCount:
    standing: str
    credentials: int


@strawberry.type
class QACoverage:
    """Credentials by the kind of QA they were issued under, and by where that QA basis stands today."""

    under_accreditation: int
    under_review: int
    total: int
    positive_share: float | None = strawberry.field(
        description="The share whose QA basis is in force today, with its agency in good standing"
    )
    by_standing: list[StandingCount]

    @staticmethod
    def of(coverage: DashboardCoverage) -> QACoverage:
        return QACoverage(
            under_accreditation=coverage.under_accreditation,
            under_review=coverage.under_review,
            total=coverage.total,
            positive_share=coverage.positive_share,
            by_standing=[StandingCount(standing=s, credentials=n) for s, n in sorted_counts(coverage.by_standing)],
        )


@strawberry.type
class OutcomeCount:
    outcome: str
    recognitions: int
    share: float = strawberry.field(description="Of the decided recognitions counted together")


def outcome_counts(outcomes: Mapping[str, int]) -> list[OutcomeCount]:
    decided = sum(outcomes.values())
    return [OutcomeCount(outcome=o, recognitions=n, share=n / decided) for o, n in sorted_counts(outcomes)]


@strawberry.type
class RecognitionRate:
    """One recognising country's decided recognitions by outcome."""

    country: str
    decided: int
    outcomes: list[OutcomeCount]


@strawberry.type
class CrossBorderFlow:
    """Decided recognitions of credentials issued in one country by institutions of another, by outcome."""

    from_country: str
    to_country: str
    total: int
    outcomes: list[OutcomeCount]


@strawberry.type
class Dashboard:
    """A national authority's figures: no learner personal data, only counts."""

    country: str | None
    from_month: str | None = strawberry.field(name="from", description="YYYY-MM; null: open-ended")
    to_month: str | None = strawberry.field(name="to", description="YYYY-MM; null: open-ended")
    today: date = strawberry.field(description="The day QA standing is counted as of")
    issued: Volumes
    qa_coverage: QACoverage
    recognition_rates: list[RecognitionRate]
    cross_border: list[CrossBorderFlow]

    @staticmethod
    def of(figures: DashboardFigures) -> Dashboard:
        return Dashboard(
            country=figures.country,
            from_month=month_text(figures.from_month) if figures.from_month else None,
            to_month=month_text(figures.to_month) if figures.to_month else None,
            today=figures.today,
            issued=Volumes.of(figures.volumes),
            qa_coverage=QACoverage.of(figures.qa_coverage),
            recognition_rates=[
                RecognitionRate(country=r.country, decided=r.decided, outcomes=outcome_counts(r.outcomes))
                for r in sorted(figures.recognitions, key=lambda r: r.country)
            ],
            cross_border=[
                CrossBorderFlow(
                    from_country=f.from_country,
                    to_country=f.to_country,
                    total=f.total,
                    outcomes=outcome_counts(f.outcomes),
                )
                for f in sorted(figures.cross_border, key=lambda f: (f.from_country, f.to_country))
            ],
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
        view = info.context.read_models["credential_status"].view
        rows = await run_in_threadpool(
            view.by_provider, parse_id(provider_id, "providerId"), status, limit + 1, after_issue(after)
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
        view = info.context.read_models["audit_timeline"].view
        rows = await run_in_threadpool(
            view.of_aggregate, parse_id(aggregate_id, "aggregateId"), limit + 1, after_position(after) or 0
        )
        edges = [Edge(cursor=encode_cursor(r["aggregate_version"]), node=Event.of(r)) for r in rows[:limit]]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="A QA agency by id.")
    async def agency(self, info: Info[Context, None], id: strawberry.ID) -> Agency | None:
        row = await info.context.agencies.load(parse_id(id, "id"))
        return Agency.of(row) if row else None

    @strawberry.field(description="QA agencies, of one country if given, in a stable order.")
    async def agencies(
        self, info: Info[Context, None], country: str | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Agency]:
        limit = page_size(first)
        page = await run_in_threadpool(
            info.context.view("provider_standing").agencies,
            checked(v.country, "country", country),
            after=after_id(after),
            limit=limit,
        )
        return connection(page, Agency.of, lambda row: row.agency_id)

    @strawberry.field(description="A provider by id, with its accreditations and reviews.")
    async def provider(self, info: Info[Context, None], id: strawberry.ID) -> Provider | None:
        row = await info.context.providers.load(parse_id(id, "id"))
        return Provider.of(row) if row else None

    @strawberry.field(description="Providers, of one country and type if given, in a stable order.")
    async def providers(
        self,
        info: Info[Context, None],
        country: str | None = None,
        type_: Annotated[str | None, strawberry.argument(name="type")] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Provider]:
        limit = page_size(first)
        provider_type = checked(lambda field, value: v.choice(field, value, ProviderType), "type", type_)
        page = await run_in_threadpool(
            info.context.view("provider_standing").providers,
            checked(v.country, "country", country),
            provider_type.value if provider_type else None,
            after=after_id(after),
            limit=limit,
        )
        return connection(page, Provider.of, lambda row: row.provider_id)

    @strawberry.field(description="A micro-credential by id, as currently specified.")
    async def micro_credential(self, info: Info[Context, None], id: strawberry.ID) -> MicroCredential | None:
        row = await info.context.micro_credentials.load(parse_id(id, "id"))
        return MicroCredential.of(row) if row else None

    @strawberry.field(
        description="The catalogue: micro-credentials matching every filter given, in a stable order. "
        "``search`` matches titles in any language containing each word (the last may be a word's start); "
        "``iscedField`` is an ISCED-F code or its start; ``skill`` an ESCO URI of a learning outcome."
    )
    async def micro_credentials(
        self,
        info: Info[Context, None],
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
    ) -> Connection[MicroCredential]:
        limit = page_size(first)
        if search is not None and len(search) > MAX_SEARCH:
            raise BadInput(f"search: must be at most {MAX_SEARCH} characters")
        low, high = checked(v.ects, "ectsMin", ects_min), checked(v.ects, "ectsMax", ects_max)
        if low is not None and high is not None and low > high:
            raise BadInput("ectsMax: must not be less than ectsMin")
        page = await run_in_threadpool(
            partial(
                info.context.view("catalogue").search,
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
        return connection(page, MicroCredential.of, lambda row: row.microcredential_id)

    @strawberry.field(description="A recognition by id.")
    async def recognition(self, info: Info[Context, None], id: strawberry.ID) -> Recognition | None:
        row = await info.context.recognitions.load(parse_id(id, "id"))
        return Recognition.of(row) if row else None

    @strawberry.field(
        description="The recognitions of one credential, or of one institution (of one status if given), "
        "in the order they were requested."
    )
    async def recognitions(
        self,
        info: Info[Context, None],
        credential_id: strawberry.ID | None = None,
        institution_id: strawberry.ID | None = None,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Recognition]:
        limit = page_size(first)
        if (credential_id is None) == (institution_id is None):
            raise BadInput("recognitions: give either credentialId or institutionId")
        view = info.context.view("recognitions")
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
        return connection(page, Recognition.of, lambda row: row.requested_at_position)

    @strawberry.field(
        description="A national authority's dashboard: for one country if given (issuer country for credentials, "
        "recognising country for recognition rates, either end for cross-border flows), between two months "
        "(YYYY-MM, inclusive, open-ended if not given); QA standing as of today."
    )
    async def dashboard(
        self,
        info: Info[Context, None],
        country: str | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
    ) -> Dashboard:
        from_month, to_month = parse_month(from_, "from"), parse_month(to, "to")
        if from_month and to_month and from_month > to_month:
            raise BadInput("to: must not be before from")
        figures = await run_in_threadpool(
            info.context.view("dashboard").dashboard, checked(v.country, "country", country), from_month, to_month
        )
        return Dashboard.of(figures)


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
