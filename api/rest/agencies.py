"""QA agencies: registered, suspended and reinstated by the operator or their country's national authority."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from mcreg.api.deps import Caller, ReadSide, Registered, Visitor
from mcreg.api.lists import AGENCY_BROWSE
from mcreg.api.rest.common import (
    PROBLEM_RESPONSES,
    CountryCode,
    Dated,
    IdempotencyKey,
    Input,
    Output,
    Reasoned,
    Ref,
    created,
    ref,
)
from mcreg.api.rest.listing import ListOut, ListQuery, item, list_query, served
from mcreg.projections.provider_standing_queries import AgencyRow
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.vocabulary import ESGActivity

router = APIRouter(prefix="/v1/agencies", tags=["agencies"], responses=PROBLEM_RESPONSES)


class NewAgency(Input):
    name: str = Field(examples=["Music Quality Enhancement"])
    country: CountryCode
    acronym: str | None = Field(default=None, examples=["MusiQuE"])
    deqar_id: str | None = Field(default=None, examples=["DEQARAGENCY0030"])
    esg_activities: list[ESGActivity] = Field(default=[], examples=[["programme", "institutional"]])
    registered_on: date | None = None


class AgencyOut(Output):
    id: UUID
    version: int
    name: str
    acronym: str | None
    country: str
    deqar_id: str | None
    esg_activities: list[str]
    registered_on: date
    deregistered_on: date | None
    is_suspended: bool


@router.post("", status_code=201, summary="Register a QA agency")
def register_agency(
    body: NewAgency,
    response: Response,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    return created(response, "agencies", registry.register_agency(actor, **body.model_dump(), idempotency_key=key))


@router.post("/{agency_id}/suspend", summary="Suspend an agency: its decisions stop covering issuance")
def suspend_agency(
    agency_id: UUID,
    body: Reasoned,
    actor: Caller,
    registry: Registered,
    key: IdempotencyKey = None,
) -> Ref:
    return ref("agencies", registry.suspend_agency(actor, agency_id, **body.model_dump(), idempotency_key=key))


@router.post("/{agency_id}/reinstate", summary="Lift an agency's suspension")
def reinstate_agency(
    agency_id: UUID,
    actor: Caller,
    registry: Registered,
    body: Dated | None = None,
    key: IdempotencyKey = None,
) -> Ref:
    fields = (body or Dated()).model_dump()
    return ref("agencies", registry.reinstate_agency(actor, agency_id, **fields, idempotency_key=key))


@router.get("/{agency_id}", summary="An agency, as registered today")
def get_agency(agency_id: UUID, _: Visitor, registry: Registered) -> AgencyOut:
    return AgencyOut.model_validate(registry.get(Agency, agency_id))


class AgencyListed(Output):
    id: UUID = Field(validation_alias="agency_id")
    href: str
    name: str
    acronym: str | None
    country: str
    deqar_id: str | None
    esg_activities: list[str]
    registered_on: date
    status: str = Field(description="registered, suspended or deregistered, as last recorded")
    suspended_since: date | None
    deregistered_on: date | None


def agency_listed(row: AgencyRow) -> AgencyListed:
    return item(AgencyListed, row, href=f"/v1/agencies/{row.agency_id}", status=row.status)


@router.get(
    "",
    summary="QA agencies, filtered, with a total and facet counts",
    description="DEQAR-style: by country, registration status and ESG activity, a page at a time in a stable order.",
)
async def list_agencies(
    request: Request, _: Visitor, read_models: ReadSide, query: Annotated[ListQuery, list_query(AGENCY_BROWSE)]
) -> ListOut[AgencyListed]:
    return await served(request, read_models, AGENCY_BROWSE, query, agency_listed)
