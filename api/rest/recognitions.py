"""Recognitions: recorded and decided by the recognising institution; details readable by those concerned."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from mcreg.api.deps import Caller, ReadSide, Registered, Visitor
from mcreg.api.lists import RECOGNITION_BROWSE
from mcreg.api.rest.common import (
    PROBLEM_RESPONSES,
    Ects,
    IdempotencyKey,
    Input,
    NewAppeal,
    Output,
    Reasoned,
    Ref,
    StandingOut,
    created,
    ref,
)
from mcreg.api.rest.listing import ListOut, ListQuery, item, list_query, served
from mcreg.projections.recognitions import RecognitionRow
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.application import Registry
from mcreg.registry.permissions import private_reach, require_private
from mcreg.registry.vocabulary import (
    AppealOutcome,
    RecognitionOutcome,
    RecognitionPurpose,
    Requester,
    Role,
)

router = APIRouter(prefix="/v1/recognitions", tags=["recognitions"], responses=PROBLEM_RESPONSES)


class NewRecognition(Input):
    credential_id: UUID
    institution_id: UUID = Field(description="The recognising institution: the caller")
    purpose: RecognitionPurpose = Field(examples=["credit_transfer"])
    requested_by: Requester = Requester.LEARNER
    requested_on: date | None = None


class Difference(Input):
    difference: str = Field(examples=["No supervised laboratory work"])
    reason: str = Field(examples=["The degree requires 2 ECTS of supervised laboratory practice"])


class NewVerdict(Input):
    outcome: RecognitionOutcome = Field(examples=["recognised"])
    ects_recognised: Ects
    differences: list[Difference] = Field(default=[], description="Required unless fully recognised (Lisbon)")
    decided_on: date | None = None


class AppealVerdict(Input):
    outcome: AppealOutcome = Field(examples=["upheld"])
    recognition_outcome: RecognitionOutcome | None = Field(default=None, description="The new outcome when overturned")
    ects_recognised: Ects | None = None
    differences: list[Difference] = Field(default=[])
    decided_on: date | None = None


class DifferenceOut(Output):
    difference: str | None = Field(description="None once the learner has been forgotten (GDPR erasure)")
    reason: str | None = Field(description="None once the learner has been forgotten (GDPR erasure)")


class VerdictOut(Output):
    outcome: str
    ects_recognised: Decimal
    differences: list[DifferenceOut]
    credential_status: str = Field(description="The credential's status on the decision date")
    qa_standing: StandingOut = Field(description="The credential's QA standing on the decision date")


class RecognitionOut(Output):
    id: UUID
    version: int
    credential_id: UUID
    institution_id: UUID
    purpose: str
    requested_by: str
    requested_on: date
    status: str
    verdict: VerdictOut | None
    decided_on: date | None
    appeal_lodged_on: date | None
    appeal_outcome: str | None


def _differences(differences: list[Difference]) -> list[tuple[str, str]]:
    return [(d.difference, d.reason) for d in differences]


@router.post("", status_code=201, summary="Record a recognition request (as the recognising institution)")
def request_recognition(
    body: NewRecognition, response: Response, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    recognition_id = registry.request_recognition(actor, **body.model_dump(), idempotency_key=key)
    return created(response, "recognitions", recognition_id)


@router.post("/{recognition_id}/decision", summary="Decide: full, partial or no recognition")
def decide_recognition(
    recognition_id: UUID, body: NewVerdict, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    fields = body.model_dump(exclude={"differences"}) | {"differences": _differences(body.differences)}
    return ref("recognitions", registry.decide_recognition(actor, recognition_id, **fields, idempotency_key=key))


@router.post("/{recognition_id}/appeal", summary="Record the learner's appeal")
def appeal_recognition(
    recognition_id: UUID, body: NewAppeal, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref(
        "recognitions", registry.appeal_recognition(actor, recognition_id, **body.model_dump(), idempotency_key=key)
    )


@router.post("/{recognition_id}/appeal-decision", summary="Record the appeal's outcome")
def decide_recognition_appeal(
    recognition_id: UUID, body: AppealVerdict, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    fields = body.model_dump(exclude={"differences"}) | {"differences": _differences(body.differences)}
    return ref("recognitions", registry.decide_recognition_appeal(actor, recognition_id, **fields, idempotency_key=key))


@router.post("/{recognition_id}/withdraw", summary="Withdraw the recognition")
def withdraw_recognition(
    recognition_id: UUID, body: Reasoned, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref(
        "recognitions", registry.withdraw_recognition(actor, recognition_id, **body.model_dump(), idempotency_key=key)
    )


@router.get("/{recognition_id}", summary="A recognition: for its institution and the authorities concerned")
def get_recognition(recognition_id: UUID, actor: Visitor, registry: Registered) -> RecognitionOut:
    recognition = registry.get(Recognition, recognition_id)
    institution = registry.get(Provider, recognition.institution_id)
    issuer = registry.get(Provider, registry.get(Credential, recognition.credential_id).provider_id)
    require_private(actor, institution.id, Role.INSTITUTION, "recognition", institution.country, issuer.country)
    recorded = {name: getattr(recognition, name) for name in RecognitionOut.model_fields if name != "verdict"}
    return RecognitionOut(**recorded, verdict=_verdict_out(registry, recognition))


def _verdict_out(registry: Registry, recognition: Recognition) -> VerdictOut | None:
    """The verdict in force, its free text opened under the learner's key (None once forgotten)."""
    verdict = recognition.verdict
    if verdict is None:
        return None
    return VerdictOut(
        outcome=verdict.outcome,
        ects_recognised=verdict.ects_recognised,
        differences=[
            DifferenceOut(difference=d, reason=r)
            for d, r in registry.opened_differences(recognition.id, verdict.differences)
        ],
        credential_status=verdict.credential_status,
        qa_standing=StandingOut.model_validate(verdict.qa_standing),
    )


class RecognitionListed(Output):
    id: UUID = Field(validation_alias="recognition_id")
    href: str
    credential_id: UUID
    institution_id: UUID
    institution_country: str
    issuer_id: UUID
    issuer_country: str
    purpose: str
    requested_by: str
    requested_on: date
    status: str
    outcome: str | None
    ects_recognised: Decimal | None
    decided_on: date | None
    appeal_lodged_on: date | None
    appeal_outcome: str | None
    withdrawn_on: date | None


def recognition_listed(row: RecognitionRow) -> RecognitionListed:
    # The sealed differences are a field of the row, not of the item: they stay out.
    return item(RecognitionListed, row, href=f"/v1/recognitions/{row.recognition_id}")


@router.get(
    "",
    summary="Recognitions, filtered, with a total and facet counts: for those concerned, never public",
    description="An institution lists its own; a national authority those where its country is the institution's or "
    "the issuer's; the operator all of them; anyone else is refused. The substantial differences are not listed: "
    "read one recognition for them.",
)
async def list_recognitions(
    request: Request, actor: Caller, read_models: ReadSide, query: Annotated[ListQuery, list_query(RECOGNITION_BROWSE)]
) -> ListOut[RecognitionListed]:
    institution, country = private_reach(actor, Role.INSTITUTION, "recognitions")
    scope = {"scope_institution": institution, "scope_country": country}
    return await served(request, read_models, RECOGNITION_BROWSE, query, recognition_listed, scope)
