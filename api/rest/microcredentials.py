"""Micro-credentials: a provider's specification of the EU standard elements, revised and retired by that provider."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field, StrictInt

from mcreg.api.deps import Caller, ReadSide, Registered, Visitor
from mcreg.api.lists import MICROCREDENTIAL_BROWSE
from mcreg.api.rest.common import (
    PROBLEM_RESPONSES,
    Dated,
    Ects,
    IdempotencyKey,
    Input,
    LanguageCode,
    Output,
    Ref,
    created,
    ref,
)
from mcreg.api.rest.listing import (
    ListOut,
    ListQuery,
    item,
    list_query,
    served,
)
from mcreg.projections.browsing import MicroCredentialEntry
from mcreg.registry import validate
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.vocabulary import (
    AssessmentType,
    LearningSetting,
    Participation,
    QAType,
    Stackability,
    Supervision,
)

router = APIRouter(prefix="/v1/microcredentials", tags=["micro-credentials"], responses=PROBLEM_RESPONSES)


class Outcome(Input):
    text: str = Field(
        examples=["Design a relational schema for a small business"],
        json_schema_extra={"pattern": r"\S", "maxLength": 2000},  # not blank
    )
    esco_uri: str | None = Field(
        default=None,
        examples=["http://data.europa.eu/esco/skill/25f0ea33-1e48-4e8c-8f1a-0d8c1e2b7a4e"],
        json_schema_extra={"pattern": validate.ESCO.pattern},
    )
    esco_label: str | None = Field(
        default=None, examples=["design database scheme"], description="The ESCO skill's preferred label (English)"
    )


class Elements(Input):
    """The standard elements of Annex I of Council Recommendation 2022/C 243/02."""

    title: dict[LanguageCode, str] = Field(examples=[{"en": "Data modelling", "nl": "Datamodellering"}])
    learning_outcomes: list[Outcome] = Field(json_schema_extra={"minItems": 1})
    ects: Ects
    isced_field: str = Field(examples=["0613"], description="ISCED-F 2013 code")
    assessment: AssessmentType = Field(examples=["exam"])
    participation: Participation = Field(examples=["online"])
    qa_type: QAType = Field(examples=["external_programme"])
    languages: list[LanguageCode]
    eqf_level: int | None = Field(default=None, examples=[6], json_schema_extra={"minimum": 1, "maximum": 8})
    prerequisites: str | None = None
    supervision: Supervision | None = None
    stackability: Stackability = Stackability.STAND_ALONE
    stackable_towards: str | None = None
    further_information: str | None = None
    learning_setting: LearningSetting | None = Field(default=None, examples=["non_formal"])
    workload_hours: StrictInt | None = Field(  # strict: a JSON true is no number of hours
        default=None,
        examples=[125],
        description="Notional hours of learning, as the provider states them",
        json_schema_extra={"minimum": 1, "maximum": validate.WORKLOAD_HOURS_MAX},
    )
    grading_scheme: str | None = Field(default=None, examples=["1 to 10; 6 and above pass"])
    nqf_level: str | None = Field(
        default=None,
        examples=["6"],
        description="The level in the provider's country's national qualifications framework, as it writes it",
        json_schema_extra={"pattern": "^[0-9A-Za-z][0-9A-Za-z .+-]{0,19}$"},
    )


class NewMicroCredential(Elements):
    provider_id: UUID
    specified_on: date | None = Field(default=None, description="The date the specification takes effect")


class Revision(Elements):
    effective: date | None = Field(default=None, description="The date the new specification takes effect")


class OutcomeOut(Output):
    text: str
    esco_uri: str | None
    esco_label: str | None = None


class SpecificationOut(Output):
    title: dict[str, str]
    learning_outcomes: list[OutcomeOut]
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
    learning_setting: str | None = None
    workload_hours: int | None = None
    grading_scheme: str | None = None
    nqf_level: str | None = None


class MicroCredentialOut(Output):
    id: UUID
    version: int
    provider_id: UUID
    specifications: list[SpecificationOut] = Field(description="Every version, oldest first")
    in_force_from: list[date] = Field(description="The date each version took effect")
    retired_on: date | None
    review_ids: list[UUID]


@router.post("", status_code=201, summary="Specify a micro-credential (as the calling provider)")
def specify_microcredential(
    body: NewMicroCredential, response: Response, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    microcredential_id = registry.specify_microcredential(actor, **body.model_dump(), idempotency_key=key)
    return created(response, "microcredentials", microcredential_id)


@router.post("/{microcredential_id}/revise", summary="A new specification; earlier credentials keep theirs")
def revise_microcredential(
    microcredential_id: UUID, body: Revision, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    changed = registry.revise_microcredential(actor, microcredential_id, **body.model_dump(), idempotency_key=key)
    return ref("microcredentials", changed)


@router.post("/{microcredential_id}/retire", summary="Stop issuing a micro-credential")
def retire_microcredential(
    microcredential_id: UUID, actor: Caller, registry: Registered, body: Dated | None = None, key: IdempotencyKey = None
) -> Ref:
    fields = (body or Dated()).model_dump()
    return ref(
        "microcredentials", registry.retire_microcredential(actor, microcredential_id, **fields, idempotency_key=key)
    )


@router.get("/{microcredential_id}", summary="A micro-credential with every version of its specification")
def get_microcredential(microcredential_id: UUID, _: Visitor, registry: Registered) -> MicroCredentialOut:
    return MicroCredentialOut.model_validate(registry.get(MicroCredential, microcredential_id))


class MicroCredentialListed(Output):
    id: UUID = Field(validation_alias="microcredential_id")
    href: str
    provider_id: UUID
    provider_country: str
    provider_names: dict[str, str]
    title: dict[str, str]
    ects: Decimal
    eqf_level: int | None
    isced_field: str
    languages: list[str]
    participation: str
    qa_type: str
    spec_version: int
    in_force_from: date
    retired_on: date | None
    qa_status: str = Field(description="programme_reviewed, institution_accredited or not_quality_assured, today")


def microcredential_listed(entry: MicroCredentialEntry) -> MicroCredentialListed:
    row = entry.entry
    return item(
        MicroCredentialListed,
        row,
        href=f"/v1/microcredentials/{row.microcredential_id}",
        provider_names=entry.provider_names,
        qa_status=entry.qa_status.value,
    )


@router.get(
    "",
    summary="Micro-credentials, filtered, with a total and facet counts",
    description="The catalogue, DEQAR-style: by country, EQF level, ISCED-F field, ECTS range, language and QA status "
    "today, a page at a time in a stable order; facets count countries, levels, broad fields, ECTS bands, languages "
    "and QA statuses.",
)
async def list_microcredentials(
    request: Request, _: Visitor, read_models: ReadSide, query: Annotated[ListQuery, list_query(MICROCREDENTIAL_BROWSE)]
) -> ListOut[MicroCredentialListed]:
    return await served(request, read_models, MICROCREDENTIAL_BROWSE, query, microcredential_listed)
