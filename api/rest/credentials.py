"""Credentials: issued, suspended, reinstated and revoked by their provider; verified by anyone."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool

from mcreg.api.deps import Caller, Configured, ReadSide, Registered, Verifier, Visitor
from mcreg.api.lists import CREDENTIAL_BROWSE
from mcreg.api.problems import ProblemError, field_path
from mcreg.api.rest.common import (
    PROBLEM_RESPONSES,
    BasisOut,
    Dated,
    IdempotencyKey,
    Input,
    Output,
    Reasoned,
    Ref,
    StandingOut,
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
from mcreg.api.rest.status_lists import IssuerKeyOut
from mcreg.api.rest.verify import CheckOut, InclusionOut, ProblemOut, StatusBitOut
from mcreg.projections.credential_status import CredentialStatusRow
from mcreg.projections.faceted import Listed
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import BatchRejected, BatchResult, IssueRow, Registry, RowError
from mcreg.registry.errors import InvalidInput
from mcreg.registry.fingerprints import fingerprinted_fields
from mcreg.registry.permissions import may_see_private, private_reach
from mcreg.registry.schemes import COURSE_FIELDS, identifier_of, schemes_of
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import RevocationReason, Role, Verdict

router = APIRouter(prefix="/v1/credentials", tags=["credentials"], responses=PROBLEM_RESPONSES)

NDJSON = "application/x-ndjson"


class Learner(Input):
    name: str = Field(examples=["Ana Kovač"])
    birth_date: date | None = None
    email: str | None = Field(default=None, examples=["ana@example.org"])
    given_name: str | None = Field(default=None, examples=["Ana"], description="As the learner's papers split the name")
    family_name: str | None = Field(default=None, examples=["Kovač"])
    student_id: str | None = Field(
        default=None,
        examples=["s1234567"],
        description="The student-information system's number for the learner (scheme sis_student): personal data, "
        "sealed with the rest, shown only where the learner is",
    )


class NewCredential(Input):
    microcredential_id: UUID
    learner: Learner
    issued_on: date | None = Field(default=None, description="Today when not given")
    grade: str | None = Field(default=None, examples=["8/10"])
    valid_until: date | None = None
    learner_id: UUID | None = Field(default=None, description="The learner's id from an earlier credential, if any")
    course_id: str | None = Field(
        default=None,
        examples=["2026-S1/MATH101"],
        description="The student-information system's course id (sis_course)",
    )
    lti_context_id: str | None = Field(
        default=None, examples=["c1d887f0-a1a3-4bca-ae25-c375edcc131a"], description="The LTI 1.3 context id"
    )
    lti_resource_link_id: str | None = Field(
        default=None,
        examples=["200d101f-2c14-434a-a0f3-57c2a42369fd"],
        description="The LTI 1.3 resource link id: the activity of the course that awarded it (lti_resource_link)",
    )

    def row(self, today: date) -> IssueRow:
        learner = PersonalData(**self.learner.model_dump())
        return IssueRow(
            self.microcredential_id,
            learner,
            self.issued_on or today,
            self.grade,
            self.valid_until,
            self.learner_id,
            self.course_id,
            self.lti_context_id,
            self.lti_resource_link_id,
        )


class Batch(Input):
    rows: list[dict[str, Any]] = Field(description="Credentials, each as the body of POST /v1/credentials")
    partial: bool = Field(default=False, description="Write the valid rows even if others are refused")


class Revocation(Input):
    reason: RevocationReason = Field(examples=["issued_in_error"])
    note: str | None = None
    effective: date | None = None


class RowResult(Output):
    row: int
    id: UUID | None = None
    field: str | None = None
    rule: str | None = None


class BatchOut(Output):
    issued: int
    refused: int
    results: list[RowResult]


class LearnerOut(Output):
    learner_id: UUID
    name: str | None = Field(description="None once the learner has been forgotten (GDPR erasure)")
    birth_date: date | None = None
    email: str | None = None
    student_id: str | None = Field(default=None, description="The student-information system's number, if given")


class CredentialOut(Output):
    id: UUID
    version: int
    provider_id: UUID
    microcredential_id: UUID
    spec_version: int
    issued_on: date
    valid_until: date | None
    status: str
    revoked_on: date | None
    revocation_reason: str | None
    qa_basis: BasisOut
    # Not read off the aggregate (validation aliases it lacks): filled in for those who may see them.
    grade: str | None = Field(
        default=None, validation_alias="private_grade", description="For the provider and authorities"
    )
    learner: LearnerOut | None = Field(
        default=None, validation_alias="private_learner", description="For the provider and authorities"
    )
    course_id: str | None = Field(
        default=None, validation_alias="private_course_id", description="For the provider and authorities"
    )
    lti_context_id: str | None = Field(
        default=None, validation_alias="private_lti_context_id", description="For the provider and authorities"
    )
    lti_resource_link_id: str | None = Field(
        default=None, validation_alias="private_lti_resource_link_id", description="For the provider and authorities"
    )


class Verification(Output):
    credential_id: UUID
    as_of: date
    known_at: datetime | None
    verdict: Verdict = Field(
        description="The registry's record decides: not_valid unless issued by then, active, not expired and "
        "quality-assured on the issue date; valid_with_warnings if its QA lapsed, expired or was withdrawn after the "
        "issue date (on as_of), or no export can be signed now. `checks` adds what a verifier of the exported "
        "credential sees (the signing key, the status lists, which follow the record within milliseconds, and the "
        "transparency log)"
    )
    verified: bool = Field(description="W3C's verified: no check failed (the verdict is not not_valid)")
    errors: list[ProblemOut] = Field(description="The failed checks as W3C problem details, in order")
    warnings: list[ProblemOut] = Field(description="The checks that warn, as W3C problem details, in order")
    valid: bool = Field(description="The same as verified, kept for clients from before the verdict")
    status: str | None = Field(description="active | suspended | revoked; None before the issue date")
    issued_on: date
    valid_until: date | None = None
    provider_id: UUID
    provider_country: str
    issuer: str = Field(description="The issuer of the exported credential: the provider's did:web")
    microcredential_id: UUID
    title: dict[str, str]
    ects: Decimal
    eqf_level: int | None
    qa_at_issue: StandingOut
    qa_as_of: StandingOut
    recognitions: dict[str, int] = Field(
        description="Recognition decisions institutions have recorded, by outcome (from the read model)",
        examples=[{"recognised": 2, "partially_recognised": 1}],
    )
    signature: str = Field(
        description="signed: an export is signed with eddsa-rdfc-2022 or eddsa-jcs-2022 by the provider's key "
        "(`signing_key`)"
    )
    signing_key: IssuerKeyOut | None = Field(
        description="The provider's key an export is signed with now; None only for a provider of a registry from "
        "before keys came with accreditation and issuance, until `mcreg keys issuers` keys it"
    )
    status_list: list[StatusBitOut] | None = Field(
        description="The credential's entries on the provider's lists and their bits now; None until placed"
    )
    transparency_log: InclusionOut | None = Field(
        description="The inclusion proof of the Issued event, against a signed checkpoint; None until logged"
    )
    checks: list[CheckOut] = Field(description="Every check made, as POST /v1/verify names them")
    vc_href: str = Field(
        description="The signed OB3/VC 2.0 export (for the provider and authorities); POST /v1/verify checks a copy"
    )


class HolderLink(Output):
    url: str = Field(
        description="The credential's public page with the learner's name shown: hand it to the learner only. It "
        "stops showing the name once the learner is forgotten"
    )


def _batch_errors(errors: list[RowError]) -> list[RowResult]:
    return [RowResult(row=e.row, field=e.field, rule=e.rule) for e in errors]


def _parse_rows(objects: list[Any]) -> tuple[dict[int, NewCredential], list[RowError]]:
    parsed: dict[int, NewCredential] = {}
    errors: list[RowError] = []
    for index, obj in enumerate(objects):
        try:
            parsed[index] = NewCredential.model_validate(obj)
        except ValidationError as error:
            first = error.errors()[0]
            errors.append(RowError(index, field_path(("body", *first["loc"])), str(first["msg"]).lower()))
    return parsed, errors


async def _rows(request: Request) -> tuple[list[Any], bool]:
    """The rows of a batch, from a JSON document or an NDJSON stream (one row per line)."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    partial_query = request.query_params.get("partial", "false").lower() in ("true", "1", "yes")
    if content_type == NDJSON:
        rows: list[Any] = []
        buffer = b""
        async for chunk in request.stream():
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            rows.extend(_line(line, len(rows)) for line in lines if line.strip())
        if buffer.strip():
            rows.append(_line(buffer, len(rows)))
        return rows, partial_query
    if content_type != "application/json":
        raise ProblemError("unsupported-media-type", f"send application/json or {NDJSON}, not {content_type}")
    try:
        batch = Batch.model_validate_json(await request.body())
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise ProblemError("malformed-request", "the body is not valid JSON") from None
        raise InvalidInput(field_path(("body", *first["loc"])), str(first["msg"]).lower()) from None
    return batch.rows, batch.partial or partial_query


def _line(line: bytes, index: int) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise ProblemError("malformed-request", f"line {index + 1} is not valid JSON", row=index) from None


def issue_batch(registry: Registry, actor: Actor, objects: list[Any], partial: bool, key: str | None) -> BatchOut:
    parsed, errors = _parse_rows(objects)
    if errors and not partial:
        raise BatchRejected(errors)
    indices = sorted(parsed)
    today = registry.today()
    result: BatchResult = registry.issue_credentials(
        actor, [parsed[i].row(today) for i in indices], partial=partial, idempotency_key=key
    )
    results = _batch_errors(errors)
    results += [RowResult(row=indices[e.row], field=e.field, rule=e.rule) for e in result.errors]
    results += [RowResult(row=indices[n], id=id) for n, id in enumerate(result.issued) if id is not None]
    results.sort(key=lambda r: r.row)
    issued = sum(1 for r in results if r.id is not None)
    return BatchOut(issued=issued, refused=len(results) - issued, results=results)


BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": Batch.model_json_schema(ref_template="#/components/schemas/{model}")},
            NDJSON: {
                "schema": {"type": "string"},
                "example": '{"microcredential_id": "…", "learner": {"name": "…"}}\n',
            },
        },
    }
}


@router.post("", status_code=201, summary="Issue a credential (as the calling provider)")
def issue_credential(
    body: NewCredential, response: Response, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    row = fingerprinted_fields(body.row(registry.today()))  # course identifiers only when given (decision 4)
    credential_id = registry.issue_credential(actor, **row, idempotency_key=key)
    return created(response, "credentials", credential_id)


@router.post(
    ":batch",
    status_code=201,
    summary="Issue many credentials in one transaction, from JSON or streamed NDJSON",
    description=f"Every row is checked; invalid rows refuse the whole batch unless `partial` is true (in the JSON "
    f"body, or `?partial=true` with {NDJSON}). One result per row, in row order.",
    openapi_extra=BATCH_BODY,
)
async def issue_credentials(
    request: Request, actor: Caller, registry: Registered, settings: Configured, key: IdempotencyKey = None
) -> BatchOut:
    objects, partial = await _rows(request)
    limit = settings.max_batch_rows
    if not objects:
        raise InvalidInput("rows", "must hold at least one credential")
    if len(objects) > limit:
        raise InvalidInput("rows", f"at most {limit} rows per batch")
    return await run_in_threadpool(issue_batch, registry, actor, objects, partial, key)


@router.post("/{credential_id}/suspend", summary="Suspend a credential (reversible)")
def suspend_credential(
    credential_id: UUID, body: Reasoned, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref(
        "credentials", registry.suspend_credential(actor, credential_id, **body.model_dump(), idempotency_key=key)
    )


@router.post("/{credential_id}/reinstate", summary="Lift a credential's suspension")
def reinstate_credential(
    credential_id: UUID, actor: Caller, registry: Registered, body: Dated | None = None, key: IdempotencyKey = None
) -> Ref:
    fields = (body or Dated()).model_dump()
    return ref("credentials", registry.reinstate_credential(actor, credential_id, **fields, idempotency_key=key))


@router.post("/{credential_id}/revoke", summary="Revoke a credential (final)")
def revoke_credential(
    credential_id: UUID, body: Revocation, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    return ref(
        "credentials", registry.revoke_credential(actor, credential_id, **body.model_dump(), idempotency_key=key)
    )


class CredentialIdentifier(Input):
    identifier: str = Field(
        examples=["sis_course:2026-S1/MATH101"],
        description=f"scheme:value, the scheme one of {schemes_of('credential')} "
        "(POST /v1/lookup/credentials finds the credential by it)",
    )


@router.post(
    "/{credential_id}/external-identifiers",
    summary="Record an identifier the issuing provider's systems give a credential after its issue",
    description="A course id (`sis_course`), an LTI context id (`lti_context`), an LTI resource link id "
    "(`lti_resource_link`) or the learner's student number (`sis_student`, sealed with the learner's data, erased "
    "with them), by the issuing provider only. One value per scheme: a credential that has one keeps it (409 for "
    "another; the same again changes nothing). The value must follow its scheme's format (422 naming the rule).",
)
def add_credential_identifier(
    credential_id: UUID, body: CredentialIdentifier, actor: Caller, registry: Registered, key: IdempotencyKey = None
) -> Ref:
    scheme, value = identifier_of("identifier", body.identifier, "credential")
    added = registry.add_credential_identifier(actor, credential_id, scheme=scheme, value=value, idempotency_key=key)
    return ref("credentials", added)


@router.get("/{credential_id}", summary="A credential; the learner and grade only for its provider and authorities")
def get_credential(credential_id: UUID, actor: Visitor, registry: Registered) -> CredentialOut:
    credential = registry.get(Credential, credential_id)
    out = CredentialOut.model_validate(credential)
    provider = registry.get(Provider, credential.provider_id)
    if may_see_private(actor, credential.provider_id, Role.PROVIDER, provider.country):
        learner = registry.learner_data(credential_id)
        learner_out = LearnerOut(learner_id=credential.learner_id, **(learner.__dict__ if learner else {"name": None}))
        private = {"grade": credential.grade, "learner": learner_out}
        identifiers = {name: getattr(credential, name) for name in COURSE_FIELDS}
        out = out.model_copy(update=private | identifiers)
    return out


@router.get("/{credential_id}/verify", summary="Is it valid, quality-assured and recognised? One answer for anyone")
def verify_credential(
    credential_id: UUID,
    _: Visitor,
    registry: Registered,
    read_models: ReadSide,
    verifier: Verifier,
    as_of: Annotated[date | None, Query(description="The business date asked about; today if not given")] = None,
    known_at: Annotated[
        datetime | None, Query(description="Answer as the registry had recorded things at this time; now if not given")
    ] = None,
) -> Verification:
    with registry.reading():  # the decision and its agency, asked of on two dates, and the provider: read once
        standing = registry.credential_standing(credential_id, as_of, known_at)
        credential = standing.credential
        microcredential = registry.get(MicroCredential, credential.microcredential_id)
        spec = microcredential.specification_at(credential.spec_version)
        evidence = verifier.stored(standing)
        provider = registry.get(Provider, credential.provider_id)
    return Verification(
        credential_id=credential.id,
        as_of=standing.as_of,
        known_at=standing.known_at,
        verdict=evidence.checks.verdict,
        verified=evidence.checks.verified,
        errors=[ProblemOut.model_validate(problem) for problem in evidence.checks.errors],
        warnings=[ProblemOut.model_validate(problem) for problem in evidence.checks.warnings],
        valid=evidence.checks.verified,
        status=standing.status,
        issued_on=credential.issued_on,
        valid_until=credential.valid_until,
        provider_id=credential.provider_id,
        provider_country=provider.country,
        issuer=evidence.issuer,
        microcredential_id=microcredential.id,
        title=spec.title,
        ects=spec.ects,
        eqf_level=spec.eqf_level,
        qa_at_issue=StandingOut.model_validate(standing.qa_at_issue),
        qa_as_of=StandingOut.model_validate(standing.qa_as_of),
        recognitions=read_models.recognitions.outcomes_of(credential_id),
        signature="signed",
        signing_key=IssuerKeyOut.model_validate(evidence.signing_key) if evidence.signing_key else None,
        status_list=[StatusBitOut.model_validate(bit) for bit in evidence.status] if evidence.status else None,
        transparency_log=InclusionOut.model_validate(evidence.transparency_log) if evidence.transparency_log else None,
        checks=[CheckOut.model_validate(check) for check in evidence.checks.made],
        vc_href=f"/v1/credentials/{credential.id}/vc",
    )


@router.get(
    "/{credential_id}/holder-link",
    summary="The holder's link: the credential's page showing the learner's name, for the provider to hand on",
    description="For the issuing provider, the operator and the national authority of the provider's country, as "
    "the exports. The link carries a token derived from the learner's key and stored nowhere: anyone holding the "
    "link sees the learner's name on `/credentials/{id}`, and nobody does once the learner is forgotten (a conflict "
    "here then).",
)
def get_holder_link(credential_id: UUID, actor: Visitor, registry: Registered, settings: Configured) -> HolderLink:
    token = registry.holder_token(actor, credential_id)
    return HolderLink(url=f"{settings.public_url.rstrip('/')}/credentials/{credential_id}?holder={token}")


class CredentialListed(Output):
    id: UUID = Field(validation_alias="credential_id")
    href: str
    provider_id: UUID
    country: str = Field(description="The provider's country")
    microcredential_id: UUID
    spec_version: int
    eqf_level: int | None = Field(description="The micro-credential's EQF level, as currently specified")
    isced_field: str | None = Field(description="The micro-credential's ISCED-F field, as currently specified")
    issued_on: date
    valid_until: date | None
    status: str
    revoked_on: date | None
    revocation_reason: str | None
    suspended_since: date | None


def credential_listed(entry: Listed[CredentialStatusRow]) -> CredentialListed:
    return item(CredentialListed, entry.row, href=f"/v1/credentials/{entry.row.credential_id}", **entry.facts)


@router.get(
    "",
    summary="Credentials, filtered, with a total and facet counts: for their provider and authorities, never public",
    description="A provider lists its own; a national authority those of its country's providers; the operator and "
    "auditors (who read the change feed, which names every one) all of them; anyone else is refused (a credential's "
    "id is its holder's to hand out). Revoked ones only with `include_revoked=true`. No learner data.",
)
async def list_credentials(
    request: Request, actor: Caller, read_models: ReadSide, query: Annotated[ListQuery, list_query(CREDENTIAL_BROWSE)]
) -> ListOut[CredentialListed]:
    provider, country = private_reach(actor, Role.PROVIDER, "credentials", auditors=True)
    scope = {"scope_provider": provider, "scope_country": country}
    return await served(request, read_models, CREDENTIAL_BROWSE, query, credential_listed, scope)
