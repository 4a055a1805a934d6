"""Credentials as portable documents, and the verification of a presented one.

``GET /v1/credentials/{id}/vc`` answers the signed Open Badges 3.0 /
VC 2.0 credential and ``…/elm`` the European Learning Model one; both carry the
learner's name, so only the issuing provider, the operator and the national
authority of the provider's country may export them (the provider hands them
to the learner). Both are built from what was recorded at issue (the provider
as it was named then, the specification version the credential was issued
under, the ``Issued`` event's time of record as the proof's ``created``), so
exporting again gives the same bytes.

``POST /v1/verify`` takes a presented credential from anyone and answers one
verdict: the proof, the issuer, both status bits on the registry's status
lists, and what the registry holds now about the credential and its QA.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Request, Response
from psycopg import sql
from pydantic import Field

from api.bootstrap import Services
from api.credential_documents import (
    Awarding,
    credential_id_of,
    elm_credential,
    open_badge_credential,
    parse_status_list_url,
    xsd_datetime,
)
from api.rest.common import PROBLEM_RESPONSES, Output, Registered, Visitor
from api.rest.status_lists import VC_MEDIA_TYPE, etag, signed_status_list
from projections.read_models import ReadModels
from registry.application import Registry
from registry.credential import Credential
from registry.data_integrity import DataIntegrityError, add_proof, canonicalize, verify_proof
from registry.errors import NotFound, StateConflict
from registry.microcredential import MicroCredential
from registry.permissions import require_private
from registry.provider import Provider
from registry.stamp import Actor
from registry.status_list import StatusListError, status_of
from registry.vocabulary import Role

router = APIRouter(tags=["credentials"], responses=PROBLEM_RESPONSES)

ELM_MEDIA_TYPE = "application/ld+json"
PRIVATE = {"Cache-Control": "private, no-store"}  # the learner's name is in them


def issued_position(registry: Registry, credential_id: UUID) -> int:
    """The log position of the credential's ``Issued`` event (its first: version 1), by the event store's key."""
    recorder: Any = registry.recorder
    table = sql.Identifier(recorder.datastore.schema or "public", recorder.events_table_name)
    statement = sql.SQL("SELECT notification_id FROM {} WHERE originator_id = %s AND originator_version = 1")
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(statement.format(table), [credential_id])
        row = curs.fetchone()
    if row is None:
        raise NotFound("credential", credential_id)
    return row["notification_id"]


def awarding(registry: Registry, actor: Actor | None, credential_id: UUID) -> Awarding:
    """What the credential states, for a caller who may export it (403 for anyone else)."""
    credential = registry.get(Credential, credential_id)
    provider = registry.get(Provider, credential.provider_id)
    require_private(actor, credential.provider_id, Role.PROVIDER, "credential's export", provider.country)
    learner = registry.learner_data(credential_id)
    if learner is None:
        raise StateConflict("the learner has been forgotten: the credential can no longer be exported")
    recorded_at = credential.created_on
    provider_then = registry.known_at(Provider, credential.provider_id, recorded_at)
    spec = registry.get(MicroCredential, credential.microcredential_id).specification_at(credential.spec_version)
    return Awarding(
        credential_id=credential.id,
        issued_on=credential.issued_on,
        valid_until=credential.valid_until,
        recorded_at=recorded_at,
        position=issued_position(registry, credential_id),
        learner_name=learner.name,
        learner_birth_date=learner.birth_date,
        grade=credential.grade,
        microcredential_id=credential.microcredential_id,
        spec_version=credential.spec_version,
        spec=spec,
        provider_id=provider_then.id,
        provider_names=provider_then.names,
        provider_country=provider_then.country,
        provider_identifiers=provider_then.identifiers,
        qa_basis=credential.qa_basis,
    )


def signed_vc(services: Services, facts: Awarding) -> dict[str, Any]:
    key = services.signing_key
    document = open_badge_credential(facts, services.settings.public_url, key.did)
    return add_proof(document, key.private_key, key.verification_method, created=xsd_datetime(facts.recorded_at))


def _document_response(body: bytes, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers=PRIVATE | {"ETag": etag(body)})


@router.get(
    "/v1/credentials/{credential_id}/vc",
    summary="The credential as a signed Open Badges 3.0 / W3C VC 2.0 credential (eddsa-jcs-2022)",
    description="For the issuing provider (to hand to the learner), the operator and the national authority of the "
    "provider's country. The issuer is the registry's did:web; the provider is the awarding body "
    "(`credentialSubject.source`). `credentialStatus` names the registry's revocation and suspension lists. "
    "The same credential always exports to the same bytes.",
    response_class=Response,
    responses={200: {"content": {VC_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
def export_vc(credential_id: UUID, request: Request, actor: Visitor, registry: Registered) -> Response:
    services: Services = request.app.state.services
    signed = signed_vc(services, awarding(registry, actor, credential_id))
    return _document_response(canonicalize(signed), VC_MEDIA_TYPE)


@router.get(
    "/v1/credentials/{credential_id}/elm",
    summary="The credential as a European Learning Model v3 (Europass EDC) credential, unsigned",
    description="Same access as `/vc`. The provider is the issuer: it seals the document with its own eSeal.",
    response_class=Response,
    responses={200: {"content": {ELM_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
)
def export_elm(credential_id: UUID, request: Request, actor: Visitor, registry: Registered) -> Response:
    services: Services = request.app.state.services
    document = elm_credential(awarding(registry, actor, credential_id), services.settings.public_url)
    return _document_response(canonicalize(document), ELM_MEDIA_TYPE)


# --- verifying a presented credential --------------------------------------------------------------------------------


class BasisOut(Output):
    kind: str
    id: UUID
    version: int


class StandingOut(Output):
    basis: BasisOut | None
    standing: str


class PresentedVerification(Output):
    valid: bool = Field(
        description="The signature is the registry's, neither status bit is set, and the registry holds the "
        "credential as active, unexpired and quality-assured on its issue date and today"
    )
    signature: Literal["valid", "invalid"] = Field(description="The eddsa-jcs-2022 proof, by the registry's key")
    issuer_trusted: bool = Field(description="The issuer is the registry's DID")
    revoked: bool | None = Field(description="The revocation bit on the registry's list; None if it cannot be read")
    suspended: bool | None = Field(description="The suspension bit on the registry's list; None if it cannot be read")
    credential_id: UUID | None = Field(description="The registry's credential, if the registry holds it")
    registry_status: str | None = Field(description="active | suspended | revoked, as the registry holds it now")
    valid_until: date | None = None
    qa_at_issue: StandingOut | None = None
    qa_today: StandingOut | None = None
    problems: list[str] = Field(description="Why a check failed or could not be made")


def _signature(services: Services, presented: Mapping[str, Any], problems: list[str]) -> bool:
    key = services.signing_key
    proof = presented.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if method != key.verification_method:
        problems.append(f"the proof is not made with the registry's key {key.verification_method}")
        return False
    try:
        verify_proof(presented, key.public_key)
    except (DataIntegrityError, ValueError, TypeError) as error:  # malformed input is a verdict, never a 500
        problems.append(str(error))
        return False
    return True


def _statuses(
    services: Services, read_models: ReadModels, presented: Mapping[str, Any], problems: list[str]
) -> dict[str, bool | None]:
    found: dict[str, bool | None] = {"revocation": None, "suspension": None}
    entries = presented.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries] if entries is not None else []
    for entry in entries:
        if not isinstance(entry, Mapping):
            problems.append("a credentialStatus entry is not an object")
            continue
        place = parse_status_list_url(services.settings.public_url, entry.get("statusListCredential"))
        if place is None or place[0] not in found or place[0] != entry.get("statusPurpose"):
            problems.append(f"status list {entry.get('statusListCredential')!r} is not one of the registry's")
            continue
        purpose, number = place
        status_list = signed_status_list(services, read_models, purpose, number)
        if status_list is None:
            problems.append(f"the registry has no {purpose} list {number}")
            continue
        try:
            found[purpose] = status_of(entry, status_list)
        except (StatusListError, ValueError, TypeError) as error:
            problems.append(f"{purpose} status: {error}")
    for purpose, value in found.items():
        if value is None:
            problems.append(f"no readable {purpose} status")
    return found


def verify_presented(
    services: Services, read_models: ReadModels, registry: Registry, presented: Mapping[str, Any]
) -> PresentedVerification:
    problems: list[str] = []
    signature = _signature(services, presented, problems)
    issuer = presented.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    issuer_trusted = issuer_id == services.signing_key.did
    if not issuer_trusted:
        problems.append(f"the issuer {issuer_id!r} is not the registry ({services.signing_key.did})")
    statuses = _statuses(services, read_models, presented, problems)

    credential_id = credential_id_of(presented)
    standing = None
    if credential_id is not None:
        try:
            standing = registry.credential_standing(credential_id)
        except NotFound:
            credential_id = None
    if standing is None:
        problems.append("the registry holds no credential with this id")
        registry_status = valid_until = qa_at_issue = qa_today = None
        registry_valid = False
    else:
        registry_status = standing.status
        valid_until = standing.credential.valid_until
        qa_at_issue = StandingOut.model_validate(standing.qa_at_issue)
        qa_today = StandingOut.model_validate(standing.qa_as_of)
        expired = valid_until is not None and valid_until < standing.as_of
        if expired:
            problems.append(f"the credential expired on {valid_until}")
        registry_valid = (
            registry_status == "active"
            and not expired
            and qa_at_issue.standing == "in_force"
            and qa_today.standing == "in_force"
        )
    return PresentedVerification(
        valid=signature
        and issuer_trusted
        and statuses["revocation"] is False
        and statuses["suspension"] is False
        and registry_valid,
        signature="valid" if signature else "invalid",
        issuer_trusted=issuer_trusted,
        revoked=statuses["revocation"],
        suspended=statuses["suspension"],
        credential_id=credential_id,
        registry_status=registry_status,
        valid_until=valid_until,
        qa_at_issue=qa_at_issue,
        qa_today=qa_today,
        problems=problems,
    )


@router.post(
    "/v1/verify",
    summary="Verify a presented credential: proof, issuer, status lists, and the registry's record. For anyone",
    description="Post the credential (as exported by `/v1/credentials/{id}/vc`). A tampered or foreign credential "
    "is a verdict (`signature: invalid`), not an error.",
)
def verify_presented_credential(
    request: Request,
    presented: Annotated[dict[str, Any], Body(description="A verifiable credential with an embedded proof")],
    _: Visitor,
    registry: Registered,
) -> PresentedVerification:
    return verify_presented(request.app.state.services, request.app.state.read_models, registry, presented)
