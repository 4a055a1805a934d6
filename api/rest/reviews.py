"""Reviews: a QA agency's review of a micro-credential, from opening to decision and appeal; only that agency acts."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from mcreg.api.deps import Caller, ReadSide, Registered, Visitor
from mcreg.api.lists import REVIEW_BROWSE
from mcreg.api.rest.common import (
    PROBLEM_RESPONSES,
    IdempotencyKey,
    Input,
    NewAppeal,
    Output,
    Reasoned,
    Ref,
    created,
    ref,
)
from mcreg.api.rest.listing import ListOut, ListQuery, item, list_query, served
from mcreg.projections.faceted import Listed
from mcreg.projections.provider_standing_queries import ReviewRow
from mcreg.registry.aggregates.review import Review
from mcreg.registry.vocabulary import AppealOutcome, QADecision

router = APIRouter(prefix="/v1/reviews", tags=["reviews"], responses=PROBLEM_RESPONSES)


class NewReview(Input):
    microcredential_id: UUID
    local_identifier: str | None = Field(default=None, description="The agency's own report id; unique per agency")
    opened_on: date | None = None


class NewReport(Input):
    url: str | None = Field(default=None, examples=["https://agency.example/reports/2026-17.pdf"])
    summary: str | None = None
    published_on: date | None = None


class NewDecision(Input):
    decision: QADecision = Field(examples=["positive"])
    valid_from: date | None = Field(default=None, description="The decision date when not given")
    valid_to: date | None = Field(default=None, description="Six years after valid_from when not given")
    conditions: str | None = Field(default=None, description="Required for positive_with_conditions")
    decided_on: date | None = None


class AppealDecision(Input):
    outcome: AppealOutcome = Field(examples=["upheld"])
    decision: QADecision | None = Field(
        default=None, description="The new decision, when the appeal overturns the old one"
    )
    valid_from: date | None = None
    valid_to: date | None = None
    conditions: str | None = None
    decided_on: date | None = None


class ReportOut(Output):
    url: str | None
    summary: str | None
    published_on: date


class DecisionOut(Output):
    decision: str
    valid_from: date
    valid_to: date
    conditions: str | None


class ReviewOut(Output):
    id: UUID
    version: int
    agency_id: UUID
    microcredential_id: UUID
    provider_id: UUID
    spec_version: int
    local_identifier: str | None
    opened_on: date
    report: ReportOut | None
    decision: DecisionOut | None
    decided_on: date | None
    appeal_lodged_on: date | None
    appeal_outcome: str | None
    withdrawn_on: date | None


@router.post("", status_code=201, summary="Open a review of a micro-credential (as the calling agency)")
def open_review(
    body: NewReview, response: Response, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return created(response, "reviews", registry.open_review(actor, **body.model_dump(), idempotency_key=key))


@router.post("/{review_id}/report", summary="Publish the review report")
def publish_report(
    review_id: UUID, body: NewReport, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref("reviews", registry.publish_review_report(actor, review_id, **body.model_dump(), idempotency_key=key))


@router.post("/{review_id}/decision", summary="Record the review's decision")
def decide_review(
    review_id: UUID, body: NewDecision, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref("reviews", registry.decide_review(actor, review_id, **body.model_dump(), idempotency_key=key))


@router.post("/{review_id}/appeal", summary="Record that the provider appealed the decision")
def appeal_review(
    review_id: UUID, body: NewAppeal, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref("reviews", registry.appeal_review(actor, review_id, **body.model_dump(), idempotency_key=key))


@router.post("/{review_id}/appeal-decision", summary="Record the appeal's outcome")
def decide_review_appeal(
    review_id: UUID, body: AppealDecision, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref("reviews", registry.decide_review_appeal(actor, review_id, **body.model_dump(), idempotency_key=key))


@router.post("/{review_id}/withdraw", summary="Withdraw the review and its decision")
def withdraw_review(
    review_id: UUID, body: Reasoned, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref("reviews", registry.withdraw_review(actor, review_id, **body.model_dump(), idempotency_key=key))


@router.get("/{review_id}", summary="A review: report, decision, appeal")
def get_review(review_id: UUID, _: Visitor, registry: Registered) -> ReviewOut:
    return ReviewOut.model_validate(registry.get(Review, review_id))


class ReviewListed(Output):
    id: UUID = Field(validation_alias="review_id")
    href: str
    agency_id: UUID
    microcredential_id: UUID
    provider_id: UUID
    country: str = Field(description="The provider's country")
    eqf_level: int | None = Field(description="The micro-credential's EQF level, as currently specified")
    spec_version: int
    local_identifier: str | None
    opened_on: date
    report_url: str | None
    report_published_on: date | None
    decision: str | None
    valid_from: date | None
    valid_to: date | None
    decided_on: date | None
    appeal_lodged_on: date | None
    appeal_outcome: str | None
    withdrawn_on: date | None
    status: str = Field(description="open, decided, appealed or withdrawn, today")


def review_listed(entry: Listed[ReviewRow]) -> ReviewListed:
    return item(ReviewListed, entry.row, href=f"/v1/reviews/{entry.row.review_id}", **entry.facts)


@router.get(
    "",
    summary="Reviews, filtered, with a total and facet counts",
    description="DEQAR-style: by provider, agency, micro-credential, the provider's country, status today, decision, "
    "EQF level and opening date, a page at a time in a stable order.",
)
async def list_reviews(
    request: Request, _: Visitor, read_models: ReadSide, query: Annotated[ListQuery, list_query(REVIEW_BROWSE)]
) -> ListOut[ReviewListed]:
    return await served(request, read_models, REVIEW_BROWSE, query, review_listed)
