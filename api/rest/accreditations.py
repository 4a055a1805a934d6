"""Accreditations: granted by a QA agency (or a national authority) to a provider; only the grantor changes one."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from mcreg.api.deps import Caller, ReadSide, Registered, Visitor
from mcreg.api.lists import ACCREDITATION_BROWSE
from mcreg.api.rest.common import (
    PROBLEM_RESPONSES,
    CountryCode,
    IdempotencyKey,
    Input,
    Output,
    Reasoned,
    Ref,
    created,
    ref,
)
from mcreg.api.rest.listing import ListOut, ListQuery, item, list_query, served
from mcreg.projections.faceted import Listed
from mcreg.projections.provider_standing_queries import AccreditationRow
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.vocabulary import QADecision

router = APIRouter(prefix="/v1/accreditations", tags=["accreditations"], responses=PROBLEM_RESPONSES)


class NewCondition(Input):
    text: str = Field(examples=["Publish assessment criteria for every micro-credential"])
    deadline: date


class NewAccreditation(Input):
    provider_id: UUID
    outcome: QADecision = Field(examples=["positive"], description="An accreditation is granted on a positive outcome")
    valid_from: date
    valid_to: date | None = Field(default=None, description="Six years after valid_from when not given, as in DEQAR")
    local_identifier: str | None = Field(default=None, description="The agency's own report id; unique per agency")
    eqf_levels: list[Annotated[int, Field(json_schema_extra={"minimum": 1, "maximum": 8})]] = Field(
        default=[], examples=[[5, 6]], description="Empty: every level"
    )
    isced_fields: list[str] = Field(default=[], examples=[["0613"]], description="Empty: every field")
    jurisdictions: list[CountryCode] = Field(default=[], examples=[["NL"]], description="Empty: every country")
    micro_credentials: bool = Field(default=True, description="Whether the scope covers micro-credentials")
    conditions: list[NewCondition] = Field(default=[])
    report_url: str | None = None
    decided_on: date | None = None


class Renewal(Input):
    valid_to: date
    report_url: str | None = None
    effective: date | None = None


class Fulfilment(Input):
    condition: int = Field(ge=0, description="Index of the condition in the accreditation's list")
    effective: date | None = None


class ScopeOut(Output):
    eqf_levels: list[int]
    isced_fields: list[str]
    jurisdictions: list[str]
    micro_credentials: bool


class ConditionOut(Output):
    text: str
    deadline: date
    fulfilled_on: date | None


class AccreditationOut(Output):
    id: UUID
    version: int
    provider_id: UUID
    granted_by: UUID
    agency_id: UUID | None
    local_identifier: str | None
    outcome: str
    scope: ScopeOut
    conditions: list[ConditionOut]
    valid_from: date
    valid_to: date
    report_url: str | None
    decided_on: date
    withdrawn_on: date | None


@router.post("", status_code=201, summary="Grant an accreditation (as the calling agency or national authority)")
def grant_accreditation(
    body: NewAccreditation,
    response: Response,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    fields = body.model_dump(exclude={"conditions"})
    conditions = [(c.text, c.deadline) for c in body.conditions]
    accreditation_id = registry.grant_accreditation(actor, **fields, conditions=conditions, idempotency_key=key)
    return created(response, "accreditations", accreditation_id)


@router.post("/{accreditation_id}/withdraw", summary="Withdraw an accreditation")
def withdraw_accreditation(
    accreditation_id: UUID,
    body: Reasoned,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    changed = registry.withdraw_accreditation(actor, accreditation_id, **body.model_dump(), idempotency_key=key)
    return ref("accreditations", changed)


@router.post("/{accreditation_id}/suspend", summary="Suspend an accreditation")
def suspend_accreditation(
    accreditation_id: UUID,
    body: Reasoned,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    changed = registry.suspend_accreditation(actor, accreditation_id, **body.model_dump(), idempotency_key=key)
    return ref("accreditations", changed)


@router.post("/{accreditation_id}/renew", summary="Extend an accreditation's validity")
def renew_accreditation(
    accreditation_id: UUID,
    body: Renewal,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    changed = registry.renew_accreditation(actor, accreditation_id, **body.model_dump(), idempotency_key=key)
    return ref("accreditations", changed)


@router.post("/{accreditation_id}/conditions-fulfilled", summary="Record that a condition was fulfilled")
def fulfil_condition(
    accreditation_id: UUID,
    body: Fulfilment,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    changed = registry.fulfil_accreditation_condition(actor, accreditation_id, **body.model_dump(), idempotency_key=key)
    return ref("accreditations", changed)


@router.get("/{accreditation_id}", summary="An accreditation: scope, validity, conditions")
def get_accreditation(accreditation_id: UUID, _: Visitor, registry: Registered) -> AccreditationOut:
    return AccreditationOut.model_validate(registry.get(Accreditation, accreditation_id))


class ConditionListed(Output):
    number: int
    text: str
    deadline: date
    fulfilled_on: date | None


class AccreditationListed(Output):
    id: UUID = Field(validation_alias="accreditation_id")
    href: str
    provider_id: UUID
    country: str = Field(description="The provider's country")
    granted_by: UUID
    agency_id: UUID | None = Field(description="None when a national authority granted it")
    local_identifier: str | None
    outcome: str
    eqf_levels: list[int]
    isced_fields: list[str]
    jurisdictions: list[str]
    micro_credentials: bool
    valid_from: date
    valid_to: date
    decided_on: date
    suspended_since: date | None
    withdrawn_on: date | None
    conditions: list[ConditionListed]
    status: str = Field(description="in_force, not_yet_valid, expired, suspended or withdrawn, today")


def accreditation_listed(entry: Listed[AccreditationRow]) -> AccreditationListed:
    href = f"/v1/accreditations/{entry.row.accreditation_id}"
    return item(AccreditationListed, entry.row, href=href, **entry.facts)


@router.get(
    "",
    summary="Accreditations, filtered, with a total and facet counts",
    description="DEQAR-style: by provider, agency, the provider's country, status today, outcome, EQF level covered "
    "and decision date, a page at a time in a stable order.",
)
async def list_accreditations(
    request: Request, _: Visitor, read_models: ReadSide, query: Annotated[ListQuery, list_query(ACCREDITATION_BROWSE)]
) -> ListOut[AccreditationListed]:
    return await served(request, read_models, ACCREDITATION_BROWSE, query, accreditation_listed)
