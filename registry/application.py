"""The registry application: takes commands, checks cross-aggregate rules, saves events.

Every command takes the acting organisation first and an optional
``idempotency_key``; it returns an id (or a batch result). Its events, and the
receipt of its idempotency key, are saved in one transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from mcreg.registry import transcodings
from mcreg.registry import validate as v
from mcreg.registry.aggregates.accreditation import Accreditation, Condition, Scope
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.identifiers import ProviderIdentifier, ProviderName, Scheme, normalised
from mcreg.registry.aggregates.issuer_keys import MAX_LEAD as KEY_MAX_LEAD
from mcreg.registry.aggregates.issuer_keys import REGISTRY_ISSUER_ID, IssuerKeys, whole_second
from mcreg.registry.aggregates.learners import (
    Erasure,
    LearnerVault,
    MemoryLearnerVault,
    PersonalData,
    SealedPersonalData,
    seal,
    unseal,
)
from mcreg.registry.aggregates.microcredential import LearningOutcome, MicroCredential, Specification
from mcreg.registry.aggregates.provider import Provider, ProviderIdentifiers
from mcreg.registry.aggregates.receipt import Receipt
from mcreg.registry.aggregates.recognition import Recognition, SubstantialDifference, Verdict
from mcreg.registry.aggregates.review import Decision, Report, Review
from mcreg.registry.errors import (
    ConcurrentUpdate,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NoQualityAssurance,
    NotFound,
    StateConflict,
)
from mcreg.registry.periods import Interruption
from mcreg.registry.permissions import require_governs, require_owner, require_role
from mcreg.registry.quality import BasisKind, QABasis, QAStanding
from mcreg.registry.stamp import Actor, Stamp
from mcreg.registry.trust.data_integrity import MultikeyError, decode_public_multikey
from mcreg.registry.vocabulary import (
    QA_COVER,
    AppealOutcome,
    AssessmentType,
    CredentialStatus,
    ESGActivity,
    Participation,
    ProviderType,
    QADecision,
    QAType,
    RecognitionOutcome,
    RecognitionPurpose,
    Requester,
    RevocationReason,
    Role,
    Stackability,
    Standing,
    Supervision,
)

A = TypeVar("A", bound=Aggregate)

_command_reads: ContextVar[dict[UUID, Aggregate] | None] = ContextVar("command_reads", default=None)
"""The aggregates the running command has read, by id (see ``Registry.get``)."""

DEFAULT_VALIDITY = timedelta(days=6 * 365)
"""DEQAR assumes a QA decision is valid for six years when no end is given."""


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    rule: str


@dataclass(frozen=True)
class BatchResult:
    """Per-row outcome of a bulk issuance: ids of issued rows, errors of refused rows."""

    issued: tuple[UUID | None, ...]
    errors: tuple[RowError, ...] = ()


class BatchRejected(InvalidInput):
    """Some rows are invalid and the caller did not ask for a partial batch: nothing was written."""

    type = "batch-rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        first = errors[0]
        super().__init__(f"rows[{first.row}].{first.field}", first.rule)
        self.detail = f"{len(errors)} row(s) refused; nothing was written"
        self.extensions["errors"] = [e.__dict__ for e in errors]


@dataclass(frozen=True)
class CredentialStanding:
    """A credential's standing on one business date, as recorded at one moment."""

    credential: Credential
    as_of: date
    known_at: datetime | None
    status: CredentialStatus | None  # None before the issue date
    qa_at_issue: QAStanding
    qa_as_of: QAStanding


@dataclass(frozen=True)
class IssueRow:
    """One credential of a bulk issuance."""

    microcredential_id: UUID
    learner: PersonalData
    issued_on: date
    grade: str | None = None
    valid_until: date | None = None
    learner_id: UUID | None = None


@dataclass
class Context:
    """What a command knows while it runs: who acts, with which key, on which day."""

    actor: Actor
    idempotency_key: str | None
    today: date
    changed: list[Aggregate] = field(default_factory=list)
    relied_on: dict[UUID, int] = field(default_factory=dict)

    def stamp(self, effective: date | None = None) -> Stamp:
        return Stamp(self.actor, effective or self.today, self.idempotency_key)

    def past(self, name: str, day: date | None) -> date:
        """A business date that must not lie in the future; today by default."""
        return v.past_day(name, day, self.today) if day is not None else self.today

    def save(self, *aggregates: Aggregate) -> None:
        self.changed.extend(aggregates)

    def rely_on(self, *aggregates: Aggregate) -> None:
        """The command's decision rests on these aggregates as read: the save fails if one changed meanwhile."""
        self.relied_on.update((a.id, a.version) for a in aggregates)


def command(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method(ctx, ...)`` as a command of the acting ``actor``, saved atomically and once per key."""

    @functools.wraps(method)
    def run(self: Registry, actor: Actor, *args: Any, idempotency_key: str | None = None, **kwargs: Any) -> Any:
        return self.execute(method, actor, idempotency_key, args, kwargs)

    return run


class Registry(Application[UUID]):
    """The micro-credential registry."""

    name = "Registry"
    # Agencies and providers live as long as the registry; the rest stay short.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {Agency: 100, Provider: 100}
    # Recently used aggregates stay in memory and catch up with new events on
    # each read (one query instead of two), which keeps issuance's QA checks cheap.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
    value_types: ClassVar[tuple[type, ...]] = (
        Actor,
        Stamp,
        Interruption,
        ProviderIdentifiers,
        Scope,
        Condition,
        Report,
        Decision,
        LearningOutcome,
        Specification,
        SealedPersonalData,
        QABasis,
        QAStanding,
        SubstantialDifference,
        Verdict,
        RowError,
        BatchResult,
    )

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        vault: LearnerVault | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(env)
        self.vault = vault if vault is not None else MemoryLearnerVault()
        self.clock = clock

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register(transcoder, *self.value_types)

    def today(self) -> date:
        return self.clock().date()

    # Running commands ------------------------------------------------------

    def execute(
        self,
        method: Callable[..., Any],
        actor: Actor,
        key: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        name = method.__name__
        fingerprint = ""
        receipt_id = None
        if key:
            request = json.dumps([name, args, kwargs], sort_keys=True, separators=(",", ":"), default=_plain)
            fingerprint = hmac.new(self.vault.fingerprint_key(), request.encode(), hashlib.sha256).hexdigest()
            receipt_id = Receipt.create_id(actor.org, key)
            if earlier := self._receipt(receipt_id):
                return self._replay(earlier, name, fingerprint)
        ctx = Context(actor, key, self.today())
        reads = _command_reads.set({})
        try:
            result = method(self, ctx, *args, **kwargs)
        finally:
            _command_reads.reset(reads)
        if key:
            ctx.save(Receipt(ctx.stamp(), actor.org, key, name, fingerprint, result))
        try:
            self.save(*ctx.changed, read_versions=ctx.relied_on)
        except IntegrityError:
            if receipt_id and (earlier := self._receipt(receipt_id)):
                return self._replay(earlier, name, fingerprint)
            raise ConcurrentUpdate("another command changed the same object first; retry") from None
        return result

    def _receipt(self, receipt_id: UUID) -> Receipt | None:
        try:
            return self.repository.get(receipt_id)
        except AggregateNotFoundError:
            return None

    @staticmethod
    def _replay(receipt: Receipt, command: str, fingerprint: str) -> Any:
        if receipt.command != command or receipt.fingerprint != fingerprint:
            raise IdempotencyKeyReused("this idempotency key was used for a different request")
        return receipt.result

    def get(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate of that class, or NotFound naming the kind.

        Within one command each aggregate is read once: a second ``get`` answers the same object, so
        the command sees one state of it (and its own changes), and pays for one query.
        """
        kind = cls.__name__.lower()
        reads = _command_reads.get() if version is None else None
        aggregate = reads.get(aggregate_id) if reads is not None else None
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, version=version)
            except AggregateNotFoundError:
                raise NotFound(kind, aggregate_id) from None
            if reads is not None:
                reads[aggregate_id] = aggregate
        if not isinstance(aggregate, cls):
            raise NotFound(kind, aggregate_id)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    # Agencies ---------------------------------------------------------------

    @command
    def register_agency(
        self,
        ctx: Context,
        *,
        name: str,
        country: str,
        acronym: str | None = None,
        deqar_id: str | None = None,
        esg_activities: Iterable[str] = (),
        registered_on: date | None = None,
    ) -> UUID:
        country = v.country("country", country)
        require_governs(ctx.actor, country)
        deqar_id = v.identifier("deqar_id", deqar_id)
        agency = Agency(
            stamp=ctx.stamp(ctx.past("registered_on", registered_on)),
            name=v.text("name", name, max_length=300),
            acronym=v.optional_text("acronym", acronym, max_length=50),
            country=country,
            deqar_id=deqar_id,
            esg_activities=tuple(dict.fromkeys(v.choice("esg_activities", a, ESGActivity) for a in esg_activities)),
        )
        if self._exists(agency.id):
            raise StateConflict(f"an agency with DEQAR id {deqar_id} is already registered", id=str(agency.id))
        ctx.save(agency)
        return agency.id

    def _govern_agency(self, ctx: Context, agency_id: UUID) -> Agency:
        agency = self.get(Agency, agency_id)
        require_governs(ctx.actor, agency.country)
        return agency

    @command
    def suspend_agency(self, ctx: Context, agency_id: UUID, *, reason: str, effective: date | None = None) -> UUID:
        agency = self._govern_agency(ctx, agency_id)
        agency.suspend(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(agency)
        return agency.id

    @command
    def reinstate_agency(self, ctx: Context, agency_id: UUID, *, effective: date | None = None) -> UUID:
        agency = self._govern_agency(ctx, agency_id)
        agency.reinstate(ctx.stamp(ctx.past("effective", effective)))
        ctx.save(agency)
        return agency.id

    @command
    def deregister_agency(self, ctx: Context, agency_id: UUID, *, reason: str, effective: date | None = None) -> UUID:
        agency = self._govern_agency(ctx, agency_id)
        agency.deregister(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(agency)
        return agency.id

    # Providers --------------------------------------------------------------

    @command
    def register_provider(
        self,
        ctx: Context,
        *,
        names: Mapping[str, str],
        country: str,
        provider_type: str = ProviderType.HIGHER_EDUCATION,
        deqar_id: str | None = None,
        eter_id: str | None = None,
        schac: str | None = None,
        erasmus_code: str | None = None,
        registered_on: date | None = None,
    ) -> UUID:
        """Registered by the operator, the country's national authority, or a registered QA agency
        (which, as in DEQAR, may report on an institution the registry does not hold yet)."""
        country = v.country("country", country)
        if ctx.actor.role == Role.QA_AGENCY:
            self.get(Agency, ctx.actor.org).check_registered()
        else:
            require_governs(ctx.actor, country)
        identifiers = ProviderIdentifiers(
            deqar_id=v.identifier("deqar_id", deqar_id),
            eter_id=v.identifier("eter_id", eter_id),
            schac=v.identifier("schac", schac),
            erasmus_code=v.identifier("erasmus_code", erasmus_code),
        )
        provider = Provider(
            stamp=ctx.stamp(ctx.past("registered_on", registered_on)),
            names=v.multilingual("names", names, max_length=300),
            country=country,
            provider_type=v.choice("provider_type", provider_type, ProviderType),
            identifiers=identifiers,
        )
        if self._exists(provider.id):
            raise StateConflict(
                f"a provider with DEQAR id {identifiers.deqar_id} is already registered", id=str(provider.id)
            )
        ctx.save(provider)  # first: events are saved in the order they happened
        for field_name, scheme, value in (
            ("eter_id", Scheme.ETER, identifiers.eter_id),
            ("schac", Scheme.SCHAC, identifiers.schac),
            ("erasmus_code", Scheme.ERASMUS, identifiers.erasmus_code),
        ):
            if value:
                self._claim(ctx, provider.id, scheme, value, None, field_name)
        self._list_names(ctx, provider)
        return provider.id

    def _claim(
        self, ctx: Context, provider_id: UUID, scheme: Scheme, value: str, issuer: UUID | None, field_name: str
    ) -> None:
        claim_id = ProviderIdentifier.create_id(scheme, value, issuer)
        if self._exists(claim_id):
            held = self.get(ProviderIdentifier, claim_id).provider_id
            if held != provider_id:
                raise StateConflict(f"{field_name} {value} already names another provider", id=str(held))
            return
        ctx.save(ProviderIdentifier(ctx.stamp(), scheme, value, issuer, provider_id))

    def _list_names(self, ctx: Context, provider: Provider) -> None:
        """List the provider under each of its names that it is not listed under yet."""
        for name in dict.fromkeys(normalised(n) for n in provider.names.values()):
            listing_id = ProviderName.create_id(provider.country, name)
            listing = self.get(ProviderName, listing_id) if self._exists(listing_id) else None
            if listing is None:
                listing = ProviderName(ctx.stamp(), provider.country, name)
            if provider.id not in listing.provider_ids:
                listing.add(ctx.stamp(), provider.id)
                ctx.save(listing)

    def provider_by(self, scheme: Scheme, value: str, issuer: UUID | None = None) -> UUID | None:
        """The provider an outside identifier names, if any (``issuer``: the agency of an agency-local one)."""
        claim_id = ProviderIdentifier.create_id(scheme, value, issuer)
        return self.get(ProviderIdentifier, claim_id).provider_id if self._exists(claim_id) else None

    def providers_named(self, country: str, name: str) -> list[UUID]:
        """Every provider registered or renamed under ``name`` in ``country`` (case and spacing ignored)."""
        listing_id = ProviderName.create_id(country, name)
        return list(self.get(ProviderName, listing_id).provider_ids) if self._exists(listing_id) else []

    @command
    def claim_local_identifier(self, ctx: Context, provider_id: UUID, *, identifier: str) -> UUID:
        """A QA agency records its own identifier for a provider (as DEQAR keeps them), to name it by in reports."""
        require_role(ctx.actor, Role.QA_AGENCY)
        self.get(Agency, ctx.actor.org).check_registered()
        provider = self.get(Provider, provider_id)
        value = v.identifier("identifier", identifier)
        if value is None:
            raise InvalidInput("identifier", "is required")
        self._claim(ctx, provider.id, Scheme.AGENCY_LOCAL, value, ctx.actor.org, "identifier")
        return provider.id

    def _manage_provider(self, ctx: Context, provider_id: UUID) -> Provider:
        provider = self.get(Provider, provider_id)
        if not (ctx.actor.role == Role.PROVIDER and ctx.actor.org == provider.id):
            require_governs(ctx.actor, provider.country)
        return provider

    @command
    def rename_provider(self, ctx: Context, provider_id: UUID, *, names: Mapping[str, str]) -> UUID:
        provider = self._manage_provider(ctx, provider_id)
        provider.rename(ctx.stamp(), v.multilingual("names", names, max_length=300))
        ctx.save(provider)
        self._list_names(ctx, provider)
        return provider.id

    @command
    def close_provider(self, ctx: Context, provider_id: UUID, *, effective: date | None = None) -> UUID:
        provider = self.get(Provider, provider_id)
        require_governs(ctx.actor, provider.country)
        provider.close(ctx.stamp(ctx.past("effective", effective)))
        ctx.save(provider)
        return provider.id

    # Accreditations ---------------------------------------------------------

    @command
    def grant_accreditation(
        self,
        ctx: Context,
        *,
        provider_id: UUID,
        outcome: str,
        valid_from: date,
        valid_to: date | None = None,
        local_identifier: str | None = None,
        eqf_levels: Iterable[int] = (),
        isced_fields: Iterable[str] = (),
        jurisdictions: Iterable[str] = (),
        micro_credentials: bool = True,
        conditions: Iterable[tuple[str, date]] = (),
        report_url: str | None = None,
        decided_on: date | None = None,
    ) -> UUID:
        """Granted by the calling QA agency, or by the provider's national authority."""
        provider = self.get(Provider, provider_id)
        provider.check_open()
        require_role(ctx.actor, Role.QA_AGENCY, Role.NATIONAL_AUTHORITY)
        decided_on = ctx.past("decided_on", decided_on)
        agency_id = None
        if ctx.actor.role == Role.QA_AGENCY:
            agency = self.get(Agency, ctx.actor.org)
            if not agency.in_good_standing(decided_on):
                raise StateConflict("an agency not in good standing on the decision date cannot grant accreditations")
            agency_id = agency.id
        else:
            require_governs(ctx.actor, provider.country)
        valid_from = v.day("valid_from", valid_from)
        valid_to = v.day("valid_to", valid_to) if valid_to else valid_from + DEFAULT_VALIDITY
        v.period("valid_from", valid_from, "valid_to", valid_to)
        outcome = v.choice("outcome", outcome, QADecision)
        if outcome not in QA_COVER:
            raise InvalidInput("outcome", "an accreditation is granted only on a positive outcome")
        condition_list = tuple(
            Condition(v.text(f"conditions[{i}].text", text), v.day(f"conditions[{i}].deadline", deadline))
            for i, (text, deadline) in enumerate(conditions)
        )
        if outcome == QADecision.POSITIVE_WITH_CONDITIONS and not condition_list:
            raise InvalidInput("conditions", "must list the conditions of a conditional outcome")
        accreditation = Accreditation(
            stamp=ctx.stamp(decided_on),
            provider_id=provider.id,
            granted_by=ctx.actor.org,
            agency_id=agency_id,
            local_identifier=v.identifier("local_identifier", local_identifier),
            outcome=outcome,
            scope=Scope(
                eqf_levels=v.eqf_levels("eqf_levels", eqf_levels),
                isced_fields=v.isced_fields("isced_fields", isced_fields),
                jurisdictions=v.countries("jurisdictions", jurisdictions),
                micro_credentials=bool(micro_credentials),
            ),
            conditions=condition_list,
            valid_from=valid_from,
            valid_to=valid_to,
            report_url=v.url("report_url", report_url),
        )
        if self._exists(accreditation.id):
            raise StateConflict(
                f"an accreditation with local identifier {local_identifier} already exists",
                id=str(accreditation.id),
            )
        provider.link_accreditation(ctx.stamp(decided_on), accreditation.id)
        ctx.save(accreditation, provider)
        return accreditation.id

    def _granted_by_caller(self, ctx: Context, accreditation_id: UUID) -> Accreditation:
        accreditation = self.get(Accreditation, accreditation_id)
        role = Role.QA_AGENCY if accreditation.agency_id else Role.NATIONAL_AUTHORITY
        require_owner(ctx.actor, role, accreditation.granted_by, "accreditation")
        return accreditation

    @command
    def fulfil_accreditation_condition(
        self, ctx: Context, accreditation_id: UUID, *, condition: int, effective: date | None = None
    ) -> UUID:
        accreditation = self._granted_by_caller(ctx, accreditation_id)
        accreditation.fulfil_condition(ctx.stamp(ctx.past("effective", effective)), condition)
        ctx.save(accreditation)
        return accreditation.id

    @command
    def renew_accreditation(
        self,
        ctx: Context,
        accreditation_id: UUID,
        *,
        valid_to: date,
        report_url: str | None = None,
        effective: date | None = None,
    ) -> UUID:
        accreditation = self._granted_by_caller(ctx, accreditation_id)
        accreditation.renew(
            ctx.stamp(ctx.past("effective", effective)), v.day("valid_to", valid_to), v.url("report_url", report_url)
        )
        ctx.save(accreditation)
        return accreditation.id

    @command
    def suspend_accreditation(
        self, ctx: Context, accreditation_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        accreditation = self._granted_by_caller(ctx, accreditation_id)
        accreditation.suspend(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(accreditation)
        return accreditation.id

    @command
    def reinstate_accreditation(self, ctx: Context, accreditation_id: UUID, *, effective: date | None = None) -> UUID:
        accreditation = self._granted_by_caller(ctx, accreditation_id)
        accreditation.reinstate(ctx.stamp(ctx.past("effective", effective)))
        ctx.save(accreditation)
        return accreditation.id

    @command
    def withdraw_accreditation(
        self, ctx: Context, accreditation_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        accreditation = self._granted_by_caller(ctx, accreditation_id)
        accreditation.withdraw(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(accreditation)
        return accreditation.id

    # Micro-credentials ------------------------------------------------------

    @command
    def specify_microcredential(
        self, ctx: Context, *, provider_id: UUID, specified_on: date | None = None, **elements: Any
    ) -> UUID:
        """A new micro-credential whose specification is in force from ``specified_on`` (today by default)."""
        provider = self.get(Provider, provider_id)
        require_owner(ctx.actor, Role.PROVIDER, provider.id, "provider")
        provider.check_open()
        microcredential = MicroCredential(
            ctx.stamp(ctx.past("specified_on", specified_on)), provider.id, specification(**elements)
        )
        ctx.save(microcredential)
        return microcredential.id

    def _own_microcredential(self, ctx: Context, microcredential_id: UUID) -> MicroCredential:
        microcredential = self.get(MicroCredential, microcredential_id)
        require_owner(ctx.actor, Role.PROVIDER, microcredential.provider_id, "micro-credential")
        return microcredential

    @command
    def revise_microcredential(
        self, ctx: Context, microcredential_id: UUID, *, effective: date | None = None, **elements: Any
    ) -> UUID:
        """A new specification, in force from ``effective``; credentials issued before keep the old one."""
        microcredential = self._own_microcredential(ctx, microcredential_id)
        microcredential.revise(ctx.stamp(ctx.past("effective", effective)), specification(**elements))
        ctx.save(microcredential)
        return microcredential.id

    @command
    def retire_microcredential(self, ctx: Context, microcredential_id: UUID, *, effective: date | None = None) -> UUID:
        microcredential = self._own_microcredential(ctx, microcredential_id)
        microcredential.retire(ctx.stamp(ctx.past("effective", effective)))
        ctx.save(microcredential)
        return microcredential.id

    # Reviews ----------------------------------------------------------------

    @command
    def open_review(
        self,
        ctx: Context,
        *,
        microcredential_id: UUID,
        local_identifier: str | None = None,
        opened_on: date | None = None,
    ) -> UUID:
        """Opened by the calling QA agency."""
        require_role(ctx.actor, Role.QA_AGENCY)
        agency = self.get(Agency, ctx.actor.org)
        agency.check_registered()
        microcredential = self.get(MicroCredential, microcredential_id)
        review = Review(
            stamp=ctx.stamp(ctx.past("opened_on", opened_on)),
            agency_id=agency.id,
            microcredential_id=microcredential.id,
            provider_id=microcredential.provider_id,
            spec_version=microcredential.spec_version,
            local_identifier=v.identifier("local_identifier", local_identifier),
        )
        if self._exists(review.id):
            raise StateConflict(f"a review with local identifier {local_identifier} already exists", id=str(review.id))
        microcredential.link_review(ctx.stamp(), review.id)
        ctx.save(review, microcredential)
        return review.id

    def _own_review(self, ctx: Context, review_id: UUID) -> Review:
        review = self.get(Review, review_id)
        require_owner(ctx.actor, Role.QA_AGENCY, review.agency_id, "review")
        return review

    @command
    def publish_review_report(
        self,
        ctx: Context,
        review_id: UUID,
        *,
        url: str | None = None,
        summary: str | None = None,
        published_on: date | None = None,
    ) -> UUID:
        review = self._own_review(ctx, review_id)
        published_on = ctx.past("published_on", published_on)
        report = Report(v.url("url", url), v.optional_text("summary", summary, max_length=20000), published_on)
        if report.url is None and report.summary is None:
            raise InvalidInput("url", "a report needs a URL or a summary")
        review.publish_report(ctx.stamp(published_on), report)
        ctx.save(review)
        return review.id

    @command
    def decide_review(
        self,
        ctx: Context,
        review_id: UUID,
        *,
        decision: str,
        valid_from: date | None = None,
        valid_to: date | None = None,
        conditions: str | None = None,
        decided_on: date | None = None,
    ) -> UUID:
        review = self._own_review(ctx, review_id)
        decided_on = ctx.past("decided_on", decided_on)
        review.decide(ctx.stamp(decided_on), qa_decision(decision, valid_from or decided_on, valid_to, conditions))
        ctx.save(review)
        return review.id

    @command
    def appeal_review(self, ctx: Context, review_id: UUID, *, grounds: str, effective: date | None = None) -> UUID:
        review = self._own_review(ctx, review_id)
        review.appeal(ctx.stamp(ctx.past("effective", effective)), v.text("grounds", grounds, max_length=20000))
        ctx.save(review)
        return review.id

    @command
    def decide_review_appeal(
        self,
        ctx: Context,
        review_id: UUID,
        *,
        outcome: str,
        decision: str | None = None,
        valid_from: date | None = None,
        valid_to: date | None = None,
        conditions: str | None = None,
        decided_on: date | None = None,
    ) -> UUID:
        review = self._own_review(ctx, review_id)
        decided_on = ctx.past("decided_on", decided_on)
        outcome = v.choice("outcome", outcome, AppealOutcome)
        new_decision = None
        if outcome == AppealOutcome.OVERTURNED:
            if decision is None:
                raise InvalidInput("decision", "is required when the appeal overturns the decision")
            new_decision = qa_decision(decision, valid_from or decided_on, valid_to, conditions)
        elif decision is not None:
            raise InvalidInput("decision", "must be empty when the appeal upholds the decision")
        review.decide_appeal(ctx.stamp(decided_on), outcome, new_decision)
        ctx.save(review)
        return review.id

    @command
    def withdraw_review(self, ctx: Context, review_id: UUID, *, reason: str, effective: date | None = None) -> UUID:
        review = self._own_review(ctx, review_id)
        review.withdraw(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(review)
        return review.id

    # Credentials ------------------------------------------------------------

    @command
    def issue_credential(
        self,
        ctx: Context,
        *,
        microcredential_id: UUID,
        learner: PersonalData,
        issued_on: date | None = None,
        grade: str | None = None,
        valid_until: date | None = None,
        learner_id: UUID | None = None,
    ) -> UUID:
        row = IssueRow(microcredential_id, learner, ctx.past("issued_on", issued_on), grade, valid_until, learner_id)
        issuance = _Issuance(self, ctx)
        (checked,) = issuance.check([row])
        if isinstance(checked, DomainError):
            raise checked
        (credential,) = issuance.credentials([checked])
        ctx.save(credential)
        return credential.id

    @command
    def issue_credentials(self, ctx: Context, rows: Sequence[IssueRow], *, partial: bool = False) -> BatchResult:
        """Issue many credentials in one transaction; invalid rows fail the batch unless ``partial``."""
        if not rows:
            raise InvalidInput("rows", "must hold at least one credential")
        issuance = _Issuance(self, ctx)
        checked = issuance.check(rows)
        errors = [
            RowError(index, getattr(c, "field", c.type), getattr(c, "rule", c.detail))
            for index, c in enumerate(checked)
            if isinstance(c, DomainError)
        ]
        if errors and not partial:
            raise BatchRejected(errors)
        credentials = issuance.credentials([c for c in checked if isinstance(c, _Checked)])
        ctx.save(*credentials)
        ids = iter(c.id for c in credentials)
        issued = tuple(None if isinstance(c, DomainError) else next(ids) for c in checked)
        return BatchResult(issued, tuple(errors))

    def _own_credential(self, ctx: Context, credential_id: UUID) -> Credential:
        credential = self.get(Credential, credential_id)
        require_owner(ctx.actor, Role.PROVIDER, credential.provider_id, "credential")
        return credential

    @command
    def suspend_credential(
        self, ctx: Context, credential_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        credential = self._own_credential(ctx, credential_id)
        credential.suspend(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(credential)
        return credential.id

    @command
    def reinstate_credential(self, ctx: Context, credential_id: UUID, *, effective: date | None = None) -> UUID:
        credential = self._own_credential(ctx, credential_id)
        credential.reinstate(ctx.stamp(ctx.past("effective", effective)))
        ctx.save(credential)
        return credential.id

    @command
    def revoke_credential(
        self,
        ctx: Context,
        credential_id: UUID,
        *,
        reason: str,
        note: str | None = None,
        effective: date | None = None,
    ) -> UUID:
        credential = self._own_credential(ctx, credential_id)
        credential.revoke(
            ctx.stamp(ctx.past("effective", effective)),
            v.choice("reason", reason, RevocationReason),
            v.optional_text("note", note),
        )
        ctx.save(credential)
        return credential.id

    # Recognitions -----------------------------------------------------------

    @command
    def request_recognition(
        self,
        ctx: Context,
        *,
        credential_id: UUID,
        institution_id: UUID,
        purpose: str,
        requested_by: str = Requester.LEARNER,
        requested_on: date | None = None,
    ) -> UUID:
        """Recorded by the recognising institution, on a learner's request or its own."""
        institution = self.get(Provider, institution_id)
        require_owner(ctx.actor, Role.INSTITUTION, institution.id, "institution")
        credential = self.get(Credential, credential_id)
        requested_on = ctx.past("requested_on", requested_on)
        if requested_on < credential.issued_on:
            raise InvalidInput("requested_on", "must be on or after the credential's issue date")
        recognition = Recognition(
            stamp=ctx.stamp(requested_on),
            credential_id=credential.id,
            institution_id=institution.id,
            purpose=v.choice("purpose", purpose, RecognitionPurpose),
            requested_by=v.choice("requested_by", requested_by, Requester),
        )
        ctx.save(recognition)
        return recognition.id

    def _own_recognition(self, ctx: Context, recognition_id: UUID) -> Recognition:
        recognition = self.get(Recognition, recognition_id)
        require_owner(ctx.actor, Role.INSTITUTION, recognition.institution_id, "recognition")
        return recognition

    def _verdict(
        self,
        ctx: Context,
        recognition: Recognition,
        day: date,
        outcome: str,
        ects_recognised: Any,
        differences: Iterable[tuple[str, str]],
    ) -> Verdict:
        """A decision as the institution makes it, recording the credential's status and QA standing that day."""
        credential = self.get(Credential, recognition.credential_id)
        ctx.rely_on(credential)  # a revocation or suspension meanwhile would make the recorded status wrong
        microcredential = self.get(MicroCredential, credential.microcredential_id)
        verdict = Verdict(
            outcome=v.choice("outcome", outcome, RecognitionOutcome),
            ects_recognised=v.ects("ects_recognised", ects_recognised),
            differences=tuple(
                SubstantialDifference(
                    v.text(f"differences[{i}].difference", d, max_length=2000),
                    v.text(f"differences[{i}].reason", r, max_length=4000),
                )
                for i, (d, r) in enumerate(differences)
            ),
            credential_status=credential.status_on(day),
            qa_standing=self.qa_standing(credential.qa_basis, day),
        )
        verdict.check(microcredential.specification_at(credential.spec_version).ects)
        return verdict

    @command
    def decide_recognition(
        self,
        ctx: Context,
        recognition_id: UUID,
        *,
        outcome: str,
        ects_recognised: Any,
        differences: Iterable[tuple[str, str]] = (),
        decided_on: date | None = None,
    ) -> UUID:
        recognition = self._own_recognition(ctx, recognition_id)
        decided_on = ctx.past("decided_on", decided_on)
        verdict = self._verdict(ctx, recognition, decided_on, outcome, ects_recognised, differences)
        recognition.decide(ctx.stamp(decided_on), verdict)
        ctx.save(recognition)
        return recognition.id

    @command
    def appeal_recognition(
        self, ctx: Context, recognition_id: UUID, *, grounds: str, effective: date | None = None
    ) -> UUID:
        """Recorded by the institution when the learner lodges an appeal."""
        recognition = self._own_recognition(ctx, recognition_id)
        recognition.appeal(ctx.stamp(ctx.past("effective", effective)), v.text("grounds", grounds, max_length=20000))
        ctx.save(recognition)
        return recognition.id

    @command
    def decide_recognition_appeal(
        self,
        ctx: Context,
        recognition_id: UUID,
        *,
        outcome: str,
        recognition_outcome: str | None = None,
        ects_recognised: Any = None,
        differences: Iterable[tuple[str, str]] = (),
        decided_on: date | None = None,
    ) -> UUID:
        recognition = self._own_recognition(ctx, recognition_id)
        decided_on = ctx.past("decided_on", decided_on)
        appeal = v.choice("outcome", outcome, AppealOutcome)
        verdict = None
        if appeal == AppealOutcome.OVERTURNED:
            if recognition_outcome is None:
                raise InvalidInput("recognition_outcome", "is required when the appeal overturns the decision")
            verdict = self._verdict(ctx, recognition, decided_on, recognition_outcome, ects_recognised, differences)
        elif recognition_outcome is not None:
            raise InvalidInput("recognition_outcome", "must be empty when the appeal upholds the decision")
        recognition.decide_appeal(ctx.stamp(decided_on), appeal, verdict)
        ctx.save(recognition)
        return recognition.id

    @command
    def withdraw_recognition(
        self, ctx: Context, recognition_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        recognition = self._own_recognition(ctx, recognition_id)
        recognition.withdraw(ctx.stamp(ctx.past("effective", effective)), v.text("reason", reason))
        ctx.save(recognition)
        return recognition.id

    # Quality assurance ------------------------------------------------------

    def agency_in_good_standing(self, agency_id: UUID | None, day: date, known_at: datetime | None = None) -> bool:
        """National authorities (no agency) are always in good standing."""
        return agency_id is None or self.known_at(Agency, agency_id, known_at).in_good_standing(day)

    def qa_cover(self, microcredential: MicroCredential, spec: Specification, day: date) -> QABasis | None:
        """The decision that quality-assures issuing ``microcredential`` on ``day``, if any.

        A positive review of the micro-credential itself comes first; otherwise an
        accreditation of its provider whose scope covers the EQF level and field.
        Either counts only while the deciding agency is in good standing.
        """
        for review_id in microcredential.review_ids:
            review = self.get(Review, review_id)
            if review.standing(day) == Standing.IN_FORCE and self.agency_in_good_standing(review.agency_id, day):
                return QABasis(BasisKind.REVIEW, review.id, review.version)
        provider = self.get(Provider, microcredential.provider_id)
        for accreditation_id in provider.accreditation_ids:
            accreditation = self.get(Accreditation, accreditation_id)
            if (
                accreditation.standing(day) == Standing.IN_FORCE
                and accreditation.scope.covers(spec.eqf_level, spec.isced_field, provider.country)
                and self.agency_in_good_standing(accreditation.agency_id, day)
            ):
                return QABasis(BasisKind.ACCREDITATION, accreditation.id, accreditation.version)
        return None

    def qa_standing(self, basis: QABasis | None, day: date, known_at: datetime | None = None) -> QAStanding:
        """Where the decision a credential relied on stands on ``day``, as recorded at ``known_at`` (now if None)."""
        if basis is None:
            return QAStanding(None, Standing.NEGATIVE)
        decision: Accreditation | Review = (
            self.known_at(Accreditation, basis.id, known_at)
            if basis.kind == BasisKind.ACCREDITATION
            else self.known_at(Review, basis.id, known_at)
        )
        standing = decision.standing(day)
        if standing == Standing.IN_FORCE and not self.agency_in_good_standing(decision.agency_id, day, known_at):
            standing = Standing.AGENCY_NOT_IN_GOOD_STANDING
        return QAStanding(basis, standing)

    # Time travel --------------------------------------------------------------

    def known_at(self, cls: type[A], aggregate_id: UUID, at: datetime | None) -> A:
        """The aggregate as the registry had recorded it at system time ``at`` (now if None).

        Replayed from the stored events, never read from a projection, so an
        auditor gets what the registry said then, not a later correction.
        """
        if at is None:
            return self.get(cls, aggregate_id)
        aggregate = None
        for domain_event in self.events.get(aggregate_id):
            if domain_event.timestamp > at:
                break
            aggregate = domain_event.mutate(aggregate)
        if not isinstance(aggregate, cls):
            raise NotFound(cls.__name__.lower(), aggregate_id)
        return aggregate

    def credential_standing(
        self, credential_id: UUID, as_of: date | None = None, known_at: datetime | None = None
    ) -> CredentialStanding:
        """A credential's status and QA standing on the business date ``as_of`` (today if None),
        as the registry had recorded them at ``known_at`` (now if None)."""
        as_of = as_of or self.today()
        credential = self.known_at(Credential, credential_id, known_at)
        return CredentialStanding(
            credential=credential,
            as_of=as_of,
            known_at=known_at,
            status=credential.status_on(as_of) if as_of >= credential.issued_on else None,
            qa_at_issue=self.qa_standing(credential.qa_basis, credential.issued_on, known_at),
            qa_as_of=self.qa_standing(credential.qa_basis, as_of, known_at),
        )

    # Learners ---------------------------------------------------------------

    def learner_data(self, credential_id: UUID) -> PersonalData | None:
        """The learner's personal data, or None once the learner has been forgotten."""
        sealed = self.get(Credential, credential_id).learner
        key = self.vault.key(sealed.learner_id)
        return unseal(sealed, key) if key is not None else None

    def forget_learner(self, actor: Actor, learner_id: UUID) -> bool:
        """Erase a learner's personal data (GDPR) by destroying their key; True if a key was destroyed.

        The erasure is recorded first (an event with the learner id only), so an
        interrupted erasure is finished by asking again.
        """
        require_role(actor, Role.OPERATOR)
        erasure_id = Erasure.create_id(learner_id)
        if erasure_id not in self.repository and self.vault.key(learner_id) is not None:
            with contextlib.suppress(IntegrityError):  # someone recorded the same erasure just now
                self.save(Erasure(Stamp(actor, self.today()), learner_id))
        return self.vault.destroy(learner_id)

    # Issuer keys ------------------------------------------------------------
    # An issuer (a provider, or the registry itself) records the public half of each signing key; the private
    # half stays outside the event store (api/issuer_keys.py). The registry holds every issuer's private keys,
    # so the operator, as their custodian, may rotate and report compromised any issuer's keys, e.g. after a leak.

    def check_manages_issuer_keys(self, actor: Actor, issuer_id: UUID) -> None:
        """The issuer itself (a provider) or the operator; NotFound for an issuer the registry does not hold.
        Checked before a new key pair is made, so a refused caller leaves no key behind."""
        if issuer_id == REGISTRY_ISSUER_ID:
            require_role(actor, Role.OPERATOR)
            return
        self.get(Provider, issuer_id)
        if actor.role != Role.OPERATOR:
            require_owner(actor, Role.PROVIDER, issuer_id, "issuer keys")

    def _issuer_keys(self, ctx: Context, issuer_id: UUID) -> IssuerKeys | None:
        """The issuer's keys (None before its first), for the issuer itself (a provider) or the operator."""
        self.check_manages_issuer_keys(ctx.actor, issuer_id)
        return self.issuer_keys(issuer_id)

    def issuer_keys(self, issuer_id: UUID) -> IssuerKeys | None:
        """The issuer's keys as recorded now; None if it has none yet. One query (the aggregate is cached)."""
        try:
            return self.get(IssuerKeys, IssuerKeys.create_id(issuer_id))
        except NotFound:
            return None

    @command
    def rotate_issuer_key(
        self, ctx: Context, issuer_id: UUID, *, public_key_multibase: str, valid_from: datetime | None = None
    ) -> str:
        """Add a signing key, valid from ``valid_from`` (now if None, at most 90 days ahead, never in the past);
        the keys in use then retire. Returns the new key's id (``key-<n>``)."""
        keys = self._issuer_keys(ctx, issuer_id)
        try:
            decode_public_multikey(public_key_multibase)
        except (MultikeyError, TypeError):
            raise InvalidInput("public_key_multibase", "must be an Ed25519 public Multikey (z6Mk…)") from None
        # A key in use retires when the new one becomes valid: at a whole second after every proof it made so
        # far (proofs are dated to the second). With none in use, the new key is valid from the current second.
        clock = self.clock()
        in_use = keys is not None and any(k.in_use_after(clock) for k in keys.keys)
        now = whole_second(clock, up=in_use)
        moment = now if valid_from is None else whole_second(valid_from, up=True)
        if moment < now:
            raise InvalidInput("valid_from", "may not be in the past")
        if moment > now + KEY_MAX_LEAD:
            raise InvalidInput("valid_from", f"may be at most {KEY_MAX_LEAD.days} days ahead")
        if keys is None:
            keys = IssuerKeys(ctx.stamp(), issuer_id)
        key_id = keys.add(ctx.stamp(), public_key_multibase, moment)
        ctx.save(keys)
        return key_id

    @command
    def report_key_compromised(self, ctx: Context, issuer_id: UUID, *, key_id: str, since: datetime) -> str:
        """No proof by the key made at or after ``since`` (which must have happened) is trusted any more."""
        keys = self._issuer_keys(ctx, issuer_id)
        if keys is None or keys.key(key_id) is None:
            raise NotFound("issuer key", f"{issuer_id}#{key_id}")
        moment = whole_second(since)
        if moment > self.clock():
            raise InvalidInput("since", "may not be in the future")
        keys.report_compromised(ctx.stamp(), key_id, moment)
        ctx.save(keys)
        return key_id


@dataclass(frozen=True)
class _Checked:
    """An issuance row that passed every rule, waiting for its learner's key."""

    microcredential: MicroCredential
    spec_version: int
    row: IssueRow
    learner: PersonalData
    learner_id: UUID
    basis: QABasis


class _Issuance:
    """Builds credentials for one command, reading each micro-credential and QA cover once."""

    def __init__(self, registry: Registry, ctx: Context) -> None:
        self.registry = registry
        self.ctx = ctx
        self.microcredentials: dict[UUID, MicroCredential] = {}
        self.covers: dict[tuple[UUID, date], QABasis | None] = {}

    def check(self, rows: Iterable[IssueRow]) -> list[_Checked | DomainError]:
        """Each row checked against every rule: ready to issue, or the error that refuses it.

        A caller who may not issue a row at all is refused for the whole command (``Forbidden``), never
        as one bad row among good ones: who may act is not a property of the data.
        """
        require_role(self.ctx.actor, Role.PROVIDER)
        checked: list[_Checked | DomainError] = []
        for row in rows:
            try:
                checked.append(self.check_row(row))
            except Forbidden:
                raise
            except DomainError as error:
                checked.append(error)
        return checked

    def credentials(self, checked: Sequence[_Checked]) -> list[Credential]:
        """Credentials for rows that passed, their learners' keys made in one call."""
        keys = self.registry.vault.create_keys(c.learner_id for c in checked)
        return [self.credential(c, keys[c.learner_id]) for c in checked]

    def microcredential(self, microcredential_id: UUID) -> MicroCredential:
        if microcredential_id not in self.microcredentials:
            microcredential = self.registry.get(MicroCredential, microcredential_id)
            require_owner(self.ctx.actor, Role.PROVIDER, microcredential.provider_id, "micro-credential")
            provider = self.registry.get(Provider, microcredential.provider_id)
            provider.check_open()
            self.ctx.rely_on(microcredential, provider)  # not retired, not closed, meanwhile
            self.microcredentials[microcredential_id] = microcredential
        return self.microcredentials[microcredential_id]

    def rely_on_decision(self, basis: QABasis | None) -> None:
        """Issuance fails (409, retry) if the decision it relies on, or its agency, changed before it committed."""
        if basis is None:
            return
        decision = self.registry.get(Accreditation if basis.kind == BasisKind.ACCREDITATION else Review, basis.id)
        self.ctx.rely_on(decision)
        if decision.agency_id is not None:
            self.ctx.rely_on(self.registry.get(Agency, decision.agency_id))

    def check_row(self, row: IssueRow) -> _Checked:
        today = self.ctx.today
        microcredential = self.microcredential(row.microcredential_id)
        issued_on = v.past_day("issued_on", row.issued_on, today)
        if microcredential.retired_on is not None and microcredential.retired_on <= issued_on:
            raise StateConflict("the micro-credential was retired before the issue date")
        if row.valid_until is not None and v.day("valid_until", row.valid_until) <= issued_on:
            raise InvalidInput("valid_until", "must be after the issue date")
        v.optional_text("grade", row.grade, max_length=50)
        learner = personal_data(row.learner, today)
        if row.learner_id is not None and Erasure.create_id(row.learner_id) in self.registry.repository:
            raise InvalidInput("learner_id", "names a forgotten learner; issue to a new learner id")
        spec_version = microcredential.spec_version_on(issued_on)
        if spec_version is None:
            raise InvalidInput("issued_on", "is before the micro-credential was specified")
        cover_key = (microcredential.id, issued_on)
        if cover_key not in self.covers:
            spec = microcredential.specification_at(spec_version)
            self.covers[cover_key] = self.registry.qa_cover(microcredential, spec, issued_on)
            self.rely_on_decision(self.covers[cover_key])
        basis = self.covers[cover_key]
        if basis is None:
            raise NoQualityAssurance(f"no accreditation or positive review covers this micro-credential on {issued_on}")
        return _Checked(microcredential, spec_version, row, learner, row.learner_id or uuid4(), basis)

    def credential(self, checked: _Checked, key: bytes) -> Credential:
        row = checked.row
        return Credential(
            stamp=self.ctx.stamp(row.issued_on),
            provider_id=checked.microcredential.provider_id,
            microcredential_id=checked.microcredential.id,
            spec_version=checked.spec_version,
            learner=seal(checked.learner_id, checked.learner, key),
            grade=v.optional_text("grade", row.grade, max_length=50),
            valid_until=row.valid_until,
            qa_basis=checked.basis,
        )


def _plain(value: Any) -> Any:
    """How a request argument appears in its fingerprint: the same request, the same text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def personal_data(data: PersonalData, today: date) -> PersonalData:
    if not isinstance(data, PersonalData):
        raise InvalidInput("learner", "must give the learner's name, and optionally birth date and email")
    return PersonalData(
        name=v.text("learner.name", data.name, max_length=300),
        birth_date=v.past_day("learner.birth_date", data.birth_date, today) if data.birth_date else None,
        email=v.email("learner.email", data.email),
    )


def qa_decision(decision: str, valid_from: date, valid_to: date | None, conditions: str | None) -> Decision:
    valid_from = v.day("valid_from", valid_from)
    valid_to = v.day("valid_to", valid_to) if valid_to else valid_from + DEFAULT_VALIDITY
    v.period("valid_from", valid_from, "valid_to", valid_to)
    chosen = v.choice("decision", decision, QADecision)
    conditions = v.optional_text("conditions", conditions, max_length=20000)
    if chosen == QADecision.POSITIVE_WITH_CONDITIONS and not conditions:
        raise InvalidInput("conditions", "must state the conditions of a conditional decision")
    return Decision(chosen, valid_from, valid_to, conditions)


def specification(
    *,
    title: Mapping[str, str],
    learning_outcomes: Iterable[Mapping[str, Any]],
    ects: Any,
    isced_field: str,
    assessment: str,
    participation: str,
    qa_type: str,
    languages: Iterable[str],
    eqf_level: int | None = None,
    prerequisites: str | None = None,
    supervision: str | None = None,
    stackability: str = Stackability.STAND_ALONE,
    stackable_towards: str | None = None,
    further_information: str | None = None,
) -> Specification:
    """The standard elements, each checked against its rule."""
    outcome_list = [] if isinstance(learning_outcomes, str | Mapping) else list(learning_outcomes)
    if not outcome_list or not all(isinstance(o, Mapping) for o in outcome_list):
        raise InvalidInput("learning_outcomes", "must be a list of outcomes, each with a text and an optional esco_uri")
    outcomes = tuple(
        LearningOutcome(
            text=v.text(f"learning_outcomes[{i}].text", o.get("text"), max_length=2000),
            esco_uri=v.esco_uri(f"learning_outcomes[{i}].esco_uri", o["esco_uri"]) if o.get("esco_uri") else None,
        )
        for i, o in enumerate(outcome_list)
    )
    return Specification(
        title=v.multilingual("title", title),
        learning_outcomes=outcomes,
        ects=v.ects("ects", ects),
        eqf_level=v.eqf_level("eqf_level", eqf_level),
        isced_field=v.isced_field("isced_field", isced_field),
        assessment=v.choice("assessment", assessment, AssessmentType),
        participation=v.choice("participation", participation, Participation),
        qa_type=v.choice("qa_type", qa_type, QAType),
        languages=v.languages("languages", languages),
        prerequisites=v.optional_text("prerequisites", prerequisites),
        supervision=v.choice("supervision", supervision, Supervision) if supervision else None,
        stackability=v.choice("stackability", stackability, Stackability),
        stackable_towards=v.optional_text("stackable_towards", stackable_towards, max_length=500),
        further_information=v.optional_text("further_information", further_information),
    )
