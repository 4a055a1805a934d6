"""GraphQL types built from read-model rows: credentials, agencies, providers and their QA, catalogue, recognitions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID

import strawberry
from strawberry.types import Info

from mcreg.api.graphql.context import GraphQLContext
from mcreg.projections.audit_timeline import TimelineEntry
from mcreg.projections.catalogue import CatalogueRow
from mcreg.projections.credential_status import CredentialStatusRow
from mcreg.projections.provider_standing_queries import AccreditationRow, AgencyRow, ProviderRow, ReviewRow
from mcreg.projections.recognitions import RecognitionRow
from mcreg.registry.application import Registry
from mcreg.registry.quality import QAStanding

T = TypeVar("T")


@strawberry.type(name="QABasis")
class QABasisObject:
    kind: str
    id: strawberry.ID
    version: int


@strawberry.type(name="QAStanding")
class QAStandingObject:
    """Where a credential's QA decision stood on a date: in_force, expired, suspended, withdrawn, …"""

    standing: str
    basis: QABasisObject | None

    @staticmethod
    def of(standing: QAStanding) -> QAStandingObject:
        basis = standing.basis
        return QAStandingObject(
            standing=standing.standing.value,
            basis=QABasisObject(kind=basis.kind.value, id=strawberry.ID(str(basis.id)), version=basis.version)
            if basis
            else None,
        )


@strawberry.type(name="Credential")
class CredentialObject:
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
    qa_basis: QABasisObject

    @staticmethod
    def of(row: CredentialStatusRow) -> CredentialObject:
        return copied(
            CredentialObject,
            row,
            id=strawberry.ID(str(row.credential_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            micro_credential_id=strawberry.ID(str(row.microcredential_id)),
            qa_basis=QABasisObject(
                kind=row.qa_basis_kind, id=strawberry.ID(str(row.qa_basis_id)), version=row.qa_basis_version
            ),
        )

    @strawberry.field(description="The issuing provider.")
    async def provider(self, info: Info[GraphQLContext, None]) -> ProviderObject | None:
        row = await info.context.providers.load(UUID(self.provider_id))
        return ProviderObject.of(row) if row else None

    @strawberry.field(
        description="The micro-credential, as currently specified (``specVersion`` says which one it was issued under)."
    )
    async def micro_credential(self, info: Info[GraphQLContext, None]) -> MicroCredentialObject | None:
        row = await info.context.micro_credentials.load(UUID(self.micro_credential_id))
        return MicroCredentialObject.of(row) if row else None


@strawberry.type(name="CredentialStanding")
class CredentialStandingObject:
    """A credential's status and QA standing on ``asOf``, as the registry had recorded them at ``knownAt``."""

    credential_id: strawberry.ID
    as_of: date
    known_at: datetime | None
    status: str | None = strawberry.field(description="None before the issue date")
    verdict: str = strawberry.field(
        description="The registry record's verdict on asOf: valid | valid_with_warnings (QA lapsed, expired or "
        "withdrawn after the issue date) | not_valid (not active, expired, or not quality-assured on the issue date). "
        "REST's /verify adds the checks of the signed export."
    )
    issued_on: date
    qa_at_issue: QAStandingObject
    qa_as_of: QAStandingObject


@strawberry.type(name="Event")
class EventObject:
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
    def of(row: TimelineEntry) -> EventObject:
        return copied(
            EventObject,
            row,
            position=row.notification_id,
            aggregate_id=strawberry.ID(str(row.aggregate_id)),
            version=row.aggregate_version,
            actor_org=strawberry.ID(str(row.actor_org)),
            effective=row.effective_on,
        )


@strawberry.type(name="LangString")
class LangStringObject:
    """A text in one language (ISO 639-1)."""

    lang: str
    text: str


def lang_strings(texts: Mapping[str, str]) -> list[LangStringObject]:
    return [LangStringObject(lang=lang, text=text) for lang, text in sorted(texts.items())]


def copied(cls: Callable[..., T], row: object, **converted: object) -> T:
    """A ``cls`` whose fields are ``row``'s attributes of the same names, except those ``converted`` (ids, nested
    objects): a field is declared on the read model's row and on the GraphQL type, and copied here once."""
    fields = dataclasses.fields(cast(Any, cls))
    return cls(**{f.name: converted[f.name] if f.name in converted else getattr(row, f.name) for f in fields if f.init})


def optional_id(value: UUID | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type(name="Agency")
class AgencyObject:
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
    def of(row: AgencyRow) -> AgencyObject:
        return copied(AgencyObject, row, id=strawberry.ID(str(row.agency_id)), esg_activities=list(row.esg_activities))


@strawberry.type(name="AccreditationScope")
class AccreditationScopeObject:
    """What an accreditation covers: EQF levels, ISCED-F fields, jurisdictions, and whether micro-credentials."""

    eqf_levels: list[int]
    isced_fields: list[str]
    jurisdictions: list[str]
    micro_credentials: bool


@strawberry.type(name="AccreditationCondition")
class AccreditationConditionObject:
    """A condition attached to an accreditation, with its deadline and when it was fulfilled."""

    number: int
    text: str
    deadline: date
    fulfilled_on: date | None


@strawberry.type(name="Accreditation")
class AccreditationObject:
    """A provider's accreditation by a QA agency (or its national authority), as last recorded."""

    id: strawberry.ID
    provider_id: strawberry.ID
    granted_by: strawberry.ID
    agency_id: strawberry.ID | None = strawberry.field(description="None when a national authority granted it")
    local_identifier: str | None
    outcome: str
    scope: AccreditationScopeObject
    valid_from: date
    valid_to: date
    report_url: str | None
    decided_on: date
    suspended_since: date | None = strawberry.field(description="The start of an open suspension")
    suspension_reason: str | None
    withdrawn_on: date | None
    withdrawal_reason: str | None
    conditions: list[AccreditationConditionObject]

    @staticmethod
    def of(row: AccreditationRow) -> AccreditationObject:
        return copied(
            AccreditationObject,
            row,
            id=strawberry.ID(str(row.accreditation_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            granted_by=strawberry.ID(str(row.granted_by)),
            agency_id=optional_id(row.agency_id),
            scope=AccreditationScopeObject(
                eqf_levels=list(row.eqf_levels),
                isced_fields=list(row.isced_fields),
                jurisdictions=list(row.jurisdictions),
                micro_credentials=row.micro_credentials,
            ),
            conditions=[copied(AccreditationConditionObject, c) for c in row.conditions],
        )

    @strawberry.field(description="The agency that granted it; None when a national authority did.")
    async def agency(self, info: Info[GraphQLContext, None]) -> AgencyObject | None:
        if self.agency_id is None:
            return None
        row = await info.context.agencies.load(UUID(self.agency_id))
        return AgencyObject.of(row) if row else None


@strawberry.type(name="Review")
class ReviewObject:
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
    def of(row: ReviewRow) -> ReviewObject:
        return copied(
            ReviewObject,
            row,
            id=strawberry.ID(str(row.review_id)),
            agency_id=strawberry.ID(str(row.agency_id)),
            micro_credential_id=strawberry.ID(str(row.microcredential_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
        )

    @strawberry.field(description="The reviewing agency.")
    async def agency(self, info: Info[GraphQLContext, None]) -> AgencyObject | None:
        row = await info.context.agencies.load(UUID(self.agency_id))
        return AgencyObject.of(row) if row else None

    @strawberry.field(description="The reviewed micro-credential, as currently specified.")
    async def micro_credential(self, info: Info[GraphQLContext, None]) -> MicroCredentialObject | None:
        row = await info.context.micro_credentials.load(UUID(self.micro_credential_id))
        return MicroCredentialObject.of(row) if row else None


@strawberry.type(name="Provider")
class ProviderObject:
    """A provider: an issuer of micro-credentials, a recognising institution, or both."""

    id: strawberry.ID
    names: list[LangStringObject]
    country: str
    provider_type: str
    deqar_id: str | None
    eter_id: str | None
    schac: str | None
    erasmus_code: str | None
    registered_on: date
    closed_on: date | None

    @staticmethod
    def of(row: ProviderRow) -> ProviderObject:
        return copied(ProviderObject, row, id=strawberry.ID(str(row.provider_id)), names=lang_strings(row.names))

    @strawberry.field(description="Its accreditations with their conditions, oldest validity first.")
    async def accreditations(self, info: Info[GraphQLContext, None]) -> list[AccreditationObject]:
        return [AccreditationObject.of(row) for row in await info.context.accreditations.load(UUID(self.id))]

    @strawberry.field(description="The reviews of its micro-credentials, oldest first.")
    async def reviews(self, info: Info[GraphQLContext, None]) -> list[ReviewObject]:
        return [ReviewObject.of(row) for row in await info.context.reviews.load(UUID(self.id))]


@strawberry.type(name="LearningOutcome")
class LearningOutcomeObject:
    text: str
    esco_uri: str | None


@strawberry.type(name="MicroCredential")
class MicroCredentialObject:
    """A micro-credential's current standard elements (Annex I of the Council Recommendation)."""

    id: strawberry.ID
    provider_id: strawberry.ID
    provider_country: str
    specified_on: date
    spec_version: int = strawberry.field(description="The number of specifications it has had")
    in_force_from: date = strawberry.field(description="When the current specification took effect")
    retired_on: date | None
    title: list[LangStringObject]
    learning_outcomes: list[LearningOutcomeObject]
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
    def of(row: CatalogueRow) -> MicroCredentialObject:
        return copied(
            MicroCredentialObject,
            row,
            id=strawberry.ID(str(row.microcredential_id)),
            provider_id=strawberry.ID(str(row.provider_id)),
            title=lang_strings(row.title),
            learning_outcomes=[
                LearningOutcomeObject(text=str(o["text"]), esco_uri=o.get("esco_uri")) for o in row.learning_outcomes
            ],
            languages=list(row.languages),
        )

    @strawberry.field(description="The provider that offers it.")
    async def provider(self, info: Info[GraphQLContext, None]) -> ProviderObject | None:
        row = await info.context.providers.load(UUID(self.provider_id))
        return ProviderObject.of(row) if row else None


@strawberry.type(name="SubstantialDifference")
class SubstantialDifferenceObject:
    difference: str | None = strawberry.field(description="None once the learner has been forgotten (GDPR erasure)")
    reason: str | None = strawberry.field(description="None once the learner has been forgotten (GDPR erasure)")


@strawberry.type(name="Recognition")
class RecognitionObject:
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
    differences: list[SubstantialDifferenceObject]
    decided_on: date | None
    credential_status: str | None = strawberry.field(description="As the institution recorded it on the decision date")
    qa_basis: QABasisObject | None
    qa_standing: str | None = strawberry.field(description="The standing of that QA basis on the decision date")
    appeal: str | None = strawberry.field(description="None if never appealed, else pending, withdrawn or its outcome")
    appeal_lodged_on: date | None
    withdrawn_on: date | None

    @staticmethod
    def of(row: RecognitionRow, registry: Registry) -> RecognitionObject:
        """The row, its substantial differences opened under the learner's key."""
        return copied(
            RecognitionObject,
            row,
            id=strawberry.ID(str(row.recognition_id)),
            credential_id=strawberry.ID(str(row.credential_id)),
            institution_id=strawberry.ID(str(row.institution_id)),
            issuer_id=strawberry.ID(str(row.issuer_id)),
            differences=[
                SubstantialDifferenceObject(difference=d, reason=r)
                for d, r in registry.opened_differences(row.recognition_id, row.substantial_differences)
            ],
            qa_basis=QABasisObject(
                kind=row.qa_basis_kind, id=strawberry.ID(str(row.qa_basis_id)), version=row.qa_basis_version
            )
            if row.qa_basis_kind and row.qa_basis_id and row.qa_basis_version is not None
            else None,
        )

    @strawberry.field(description="The recognised credential, as last recorded.")
    async def credential(self, info: Info[GraphQLContext, None]) -> CredentialObject | None:
        row = await info.context.credentials.load(UUID(self.credential_id))
        return CredentialObject.of(row) if row else None

    @strawberry.field(description="The recognising institution.")
    async def institution(self, info: Info[GraphQLContext, None]) -> ProviderObject | None:
        row = await info.context.providers.load(UUID(self.institution_id))
        return ProviderObject.of(row) if row else None
