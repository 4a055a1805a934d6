"""Quality assurance: accreditations of providers and reviews of micro-credentials, and the QA cover they give."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from uuid import UUID

from mcreg.registry import validate as v
from mcreg.registry.aggregates.accreditation import Accreditation, Condition, Scope
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.microcredential import MicroCredential, Specification
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.review import Decision, Report, Review
from mcreg.registry.application.core import Context, command
from mcreg.registry.application.keys import IssuerKeyCommands
from mcreg.registry.errors import InvalidInput, StateConflict
from mcreg.registry.permissions import require_governs, require_owner, require_role
from mcreg.registry.quality import BasisKind, QABasis, QAStanding
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import QA_COVER, AppealOutcome, QADecision, Role, Standing

DEFAULT_VALIDITY = timedelta(days=6 * 365)
"""DEQAR assumes a QA decision is valid for six years when no end is given."""


def granted_it(actor: Actor, accreditation: Accreditation) -> None:
    """The agency, or the national authority, that granted the accreditation."""
    role = Role.QA_AGENCY if accreditation.agency_id else Role.NATIONAL_AUTHORITY
    require_owner(actor, role, accreditation.granted_by, "accreditation")


def conducts(actor: Actor, review: Review) -> None:
    """The agency conducting the review."""
    require_owner(actor, Role.QA_AGENCY, review.agency_id, "review")


class QualityAssuranceCommands(IssuerKeyCommands):
    """Commands on accreditations and reviews; which decision quality-assures issuing, and where it stands."""

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
        if accreditation.scope.micro_credentials:  # QA cover for issuing: the provider's key comes now
            self.provide_issuer_key(ctx, provider.id)
        return accreditation.id

    @command
    def fulfil_accreditation_condition(
        self, ctx: Context, accreditation_id: UUID, *, condition: int, effective: date | None = None
    ) -> UUID:
        with self.changing(ctx, Accreditation, accreditation_id, granted_it) as accreditation:
            accreditation.fulfil_condition(ctx.stamp_on("effective", effective), condition)
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
        with self.changing(ctx, Accreditation, accreditation_id, granted_it) as accreditation:
            accreditation.renew(
                ctx.stamp_on("effective", effective), v.day("valid_to", valid_to), v.url("report_url", report_url)
            )
        return accreditation.id

    @command
    def suspend_accreditation(
        self, ctx: Context, accreditation_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        with self.changing(ctx, Accreditation, accreditation_id, granted_it) as accreditation:
            accreditation.suspend(ctx.stamp_on("effective", effective), v.text("reason", reason))
        return accreditation.id

    @command
    def reinstate_accreditation(self, ctx: Context, accreditation_id: UUID, *, effective: date | None = None) -> UUID:
        with self.changing(ctx, Accreditation, accreditation_id, granted_it) as accreditation:
            accreditation.reinstate(ctx.stamp_on("effective", effective))
        return accreditation.id

    @command
    def withdraw_accreditation(
        self, ctx: Context, accreditation_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        with self.changing(ctx, Accreditation, accreditation_id, granted_it) as accreditation:
            accreditation.withdraw(ctx.stamp_on("effective", effective), v.text("reason", reason))
        return accreditation.id

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
            stamp=ctx.stamp_on("opened_on", opened_on),
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
        with self.changing(ctx, Review, review_id, conducts) as review:
            published_on = ctx.past("published_on", published_on)
            report = Report(v.url("url", url), v.optional_text("summary", summary, max_length=20000), published_on)
            if report.url is None and report.summary is None:
                raise InvalidInput("url", "a report needs a URL or a summary")
            review.publish_report(ctx.stamp(published_on), report)
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
        with self.changing(ctx, Review, review_id, conducts) as review:
            decided_on = ctx.past("decided_on", decided_on)
            review.decide(ctx.stamp(decided_on), qa_decision(decision, valid_from or decided_on, valid_to, conditions))
        return review.id

    @command
    def appeal_review(self, ctx: Context, review_id: UUID, *, grounds: str, effective: date | None = None) -> UUID:
        with self.changing(ctx, Review, review_id, conducts) as review:
            review.appeal(ctx.stamp_on("effective", effective), v.text("grounds", grounds, max_length=20000))
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
        with self.changing(ctx, Review, review_id, conducts) as review:
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
        return review.id

    @command
    def withdraw_review(self, ctx: Context, review_id: UUID, *, reason: str, effective: date | None = None) -> UUID:
        with self.changing(ctx, Review, review_id, conducts) as review:
            review.withdraw(ctx.stamp_on("effective", effective), v.text("reason", reason))
        return review.id

    # QA cover and standing --------------------------------------------------

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

    def basis_decision(self, basis: QABasis, known_at: datetime | None = None) -> Accreditation | Review:
        """The accreditation or review a QA basis names, as recorded at ``known_at`` (now if None)."""
        if basis.kind == BasisKind.ACCREDITATION:
            return self.known_at(Accreditation, basis.id, known_at)
        return self.known_at(Review, basis.id, known_at)

    def qa_standing(self, basis: QABasis | None, day: date, known_at: datetime | None = None) -> QAStanding:
        """Where the decision a credential relied on stands on ``day``, as recorded at ``known_at`` (now if None)."""
        if basis is None:
            return QAStanding(None, Standing.NEGATIVE)
        decision = self.basis_decision(basis, known_at)
        standing = decision.standing(day)
        if standing == Standing.IN_FORCE and not self.agency_in_good_standing(decision.agency_id, day, known_at):
            standing = Standing.AGENCY_NOT_IN_GOOD_STANDING
        return QAStanding(basis, standing)


def qa_decision(decision: str, valid_from: date, valid_to: date | None, conditions: str | None) -> Decision:
    valid_from = v.day("valid_from", valid_from)
    valid_to = v.day("valid_to", valid_to) if valid_to else valid_from + DEFAULT_VALIDITY
    v.period("valid_from", valid_from, "valid_to", valid_to)
    chosen = v.choice("decision", decision, QADecision)
    conditions = v.optional_text("conditions", conditions, max_length=20000)
    if chosen == QADecision.POSITIVE_WITH_CONDITIONS and not conditions:
        raise InvalidInput("conditions", "must state the conditions of a conditional decision")
    return Decision(chosen, valid_from, valid_to, conditions)
