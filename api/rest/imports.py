"""Imports from other registries: QA reports in the DEQAR submission format."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from mcreg.api.deps import Caller, Registered
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output
from mcreg.registry.importers.deqar import import_reports

router = APIRouter(prefix="/v1/import", tags=["import"], responses=PROBLEM_RESPONSES)


class ReportErrorOut(Output):
    type: str
    detail: str
    field: str | None = None
    rule: str | None = None


class ReportResultOut(Output):
    index: int
    local_identifier: str | None
    status: str = Field(description="created | unchanged (imported before, nothing written) | refused")
    provider_ids: list[UUID]
    registered_provider_ids: list[UUID] = Field(description="Providers this report registered")
    accreditation_ids: list[UUID]
    error: ReportErrorOut | None


class ImportOut(Output):
    created: int
    unchanged: int
    refused: int
    reports: list[ReportResultOut]


EXAMPLE = {
    "agency": "MusiQuE",
    "local_identifier": "CRDB-October14",
    "activity": "Quality enhancement reviews of institutions",
    "status": "part of obligatory EQA system",
    "decision": "positive",
    "valid_from": "2016-10-28",
    "valid_to": "2018-01-15",
    "report_files": [{"original_location": "https://agency.example/report.pdf", "report_language": ["fre"]}],
    "institutions": [{"eter_id": "BE0035"}],
}


@router.post(
    "/deqar",
    summary="Import the calling agency's QA reports in the DEQAR submission format; one result per report",
    description="Reports become providers (found by DEQAR id, ETER id, the agency's own identifier or name, else "
    "registered) and accreditations. Idempotent per (agency, local_identifier): importing the same reports again "
    "writes nothing and answers `unchanged`. A refused report does not stop the others.",
)
async def import_deqar(
    actor: Caller,
    registry: Registered,
    reports: Annotated[list[dict[str, Any]] | dict[str, Any], Body(examples=[[EXAMPLE]])],
) -> ImportOut:
    results = await run_in_threadpool(import_reports, registry, actor, reports)
    outs = [ReportResultOut.model_validate(r) for r in results]
    counts = {status: sum(1 for r in outs if r.status == status) for status in ("created", "unchanged", "refused")}
    return ImportOut(**counts, reports=outs)
