"""Credentials as portable documents, and the verification of a presented one.

``GET /v1/credentials/{id}/vc`` answers the Open Badges 3.0 / VC 2.0
credential signed by its provider's key, the provider being the issuer
(``did:web:{host}:issuers:{id}``), and ``…/elm`` the European Learning Model
one; both carry the learner's name, so only the issuing provider, the operator
and the national authority of the provider's country may export them (the
provider hands them to the learner). Both are built from what was recorded at
issue (the provider as it was named then, the specification version, the
``Issued`` event's time of record as the proof's ``created``, or the signing
key's ``valid_from`` when that is later), so exporting again gives the same
bytes while the provider's key is the same.

``POST /v1/verify`` takes a presented credential from anyone and answers one
document of named checks, each passed, failed (with the W3C error name where a
specification names one) or skipped: the document's shape, the issuer, the
proof, the signing key's status when it signed, both status bits on the
issuer's lists, the validity dates, the registry's record and QA standing on
the issue date and now, and the inclusion proof of the ``Issued`` event in the
transparency log. A malformed or tampered credential is a verdict, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Request, Response
from pydantic import Field

from mcreg.api.problems import MEDIA_TYPE, Problem, ProblemError
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output, Registered, Visitor
from mcreg.api.rest.status_lists import VC_MEDIA_TYPE, KeyOut, etag, key_out, signed_status_list
from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.projections.status_lists import StatusPlace
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.issuer_keys import IssuerKey, IssuerKeys, KeyStatus, whole_second
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import CredentialStanding, Registry
from mcreg.registry.errors import InvalidInput, NotFound, StateConflict
from mcreg.registry.permissions import require_private
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import (
    CRYPTOSUITE,
    PROOF_TYPE,
    DataIntegrityError,
    add_proof,
    canonicalize,
    decode_public_multikey,
    verify_proof,
)
from mcreg.registry.trust.status_list import (
    PURPOSES,
    StatusListError,
    StatusListLengthError,
    StatusRangeError,
    status_of,
)
from mcreg.registry.vocabulary import Role
from mcreg.services.documents import (
    VC_CONTEXT,
    Awarding,
    credential_id_of,
    elm_credential,
    open_badge_credential,
    parse_status_list_url,
    status_list_url,
    xsd_datetime,
)
from mcreg.stores.event_store import created_at_position
from mcreg.stores.issuer_keys import IssuerKeyStore, KeyUnavailable

router = APIRouter(tags=["credentials"], responses=PROBLEM_RESPONSES)

ELM_MEDIA_TYPE = "application/ld+json"
PRIVATE = {"Cache-Control": "private, no-store"}  # the learner's name is in them
RETRY_AFTER_SECONDS = 1

NOT_PLACED = {
    "model": Problem,
    "description": "A state conflict (`state-conflict`): the learner was forgotten, so the credential can no longer "
    "be exported; or the status lists have not placed the credential yet (they follow the log within "
    "milliseconds of the issuance), which `Retry-After` and `retry_after_ms` say to retry after.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying, when the credential is not placed yet",
            "schema": {"type": "integer"},
        }
    },
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


class NotPlacedYet(StateConflict):
    """The status lists' read model has not seen the issuance yet: the export needs the credential's place."""

    def __init__(self) -> None:
        super().__init__(
            "the status lists have not placed this credential yet (they follow the log within milliseconds): retry",
            retry_after_ms=RETRY_AFTER_SECONDS * 1000,
        )


def issued_position(registry: Registry, credential_id: UUID) -> int:
    """The log position of the credential's ``Issued`` event."""
    position = created_at_position(registry.recorder, credential_id)
    if position is None:
        raise NotFound("credential", credential_id)
    return position


def status_place(read_models: ReadModels, credential_id: UUID) -> StatusPlace:
    """The credential's place on its issuer's lists; a 409 to retry until the read model has seen its issuance."""
    place = read_models.status_lists.place_of(credential_id)
    if place is None:
        raise NotPlacedYet()
    return place


def awarding(registry: Registry, read_models: ReadModels, actor: Actor | None, credential_id: UUID) -> Awarding:
    """What the credential states, for a caller who may export it (403 for anyone else)."""
    credential = registry.get(Credential, credential_id)
    provider = registry.get(Provider, credential.provider_id)
    require_private(actor, credential.provider_id, Role.PROVIDER, "credential's export", provider.country)
    learner = registry.learner_data(credential_id)
    if learner is None:
        raise StateConflict("the learner has been forgotten: the credential can no longer be exported")
    place = status_place(read_models, credential_id)
    recorded_at = credential.created_on
    provider_then = registry.known_at(Provider, credential.provider_id, recorded_at)
    spec = registry.get(MicroCredential, credential.microcredential_id).specification_at(credential.spec_version)
    return Awarding(
        credential_id=credential.id,
        issued_on=credential.issued_on,
        valid_until=credential.valid_until,
        recorded_at=recorded_at,
        status_place=place,
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
    """The credential signed by its provider's key now (made on first need), ``created`` to the second."""
    key = services.issuer_keys.signing_key(facts.provider_id)
    document = open_badge_credential(facts, services.settings.public_url, key.did)
    created = xsd_datetime(key.created(whole_second(facts.recorded_at)))
    return add_proof(document, key.private_key, key.verification_method, created=created)


def _awarding_or_retry(
    registry: Registry, read_models: ReadModels, actor: Actor | None, credential_id: UUID
) -> Awarding:
    try:
        return awarding(registry, read_models, actor, credential_id)
    except NotPlacedYet as conflict:  # a problem with Retry-After (problem documents carry no headers of their own)
        raise ProblemError(
            "state-conflict", conflict.detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, **conflict.extensions
        ) from None


def _document_response(body: bytes, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers=PRIVATE | {"ETag": etag(body)})


@router.get(
    "/v1/credentials/{credential_id}/vc",
    summary="The credential as an Open Badges 3.0 / W3C VC 2.0 credential signed by its provider (eddsa-jcs-2022)",
    description="For the issuing provider (to hand to the learner), the operator and the national authority of the "
    "provider's country. The provider is the issuer, as `did:web:{host}:issuers:{id}` (its DID document is "
    "`/issuers/{id}/did.json`), and signs with its current key (made at the first export). `credentialStatus` "
    "names the provider's revocation and suspension lists. The same credential exports to the same bytes while "
    "the provider's key is the same. Right after issuance the status lists may not have placed it yet: a 409 "
    "to retry after `Retry-After`.",
    response_class=Response,
    responses={200: {"content": {VC_MEDIA_TYPE: {"schema": {"type": "object"}}}}, 409: NOT_PLACED},
)
def export_vc(credential_id: UUID, request: Request, actor: Visitor, registry: Registered) -> Response:
    services: Services = request.app.state.services
    facts = _awarding_or_retry(registry, request.app.state.read_models, actor, credential_id)
    return _document_response(canonicalize(signed_vc(services, facts)), VC_MEDIA_TYPE)


@router.get(
    "/v1/credentials/{credential_id}/elm",
    summary="The credential as a European Learning Model v3 (Europass EDC) credential, unsigned",
    description="Same access as `/vc`. The provider is the issuer: it seals the document with its own eSeal.",
    response_class=Response,
    responses={200: {"content": {ELM_MEDIA_TYPE: {"schema": {"type": "object"}}}}, 409: NOT_PLACED},
)
def export_elm(credential_id: UUID, request: Request, actor: Visitor, registry: Registered) -> Response:
    services: Services = request.app.state.services
    facts = _awarding_or_retry(registry, request.app.state.read_models, actor, credential_id)
    return _document_response(canonicalize(elm_credential(facts, services.settings.public_url)), ELM_MEDIA_TYPE)


# --- what a verification answers -------------------------------------------------------------------------------------


class CheckName(StrEnum):
    DOCUMENT = "document"  # a VC 2.0 document: @context, type, issuer, credentialSubject
    ISSUER = "issuer"  # an issuer this registry hosts and holds
    PROOF = "proof"  # an eddsa-jcs-2022 proof by one of the issuer's keys, which verifies
    KEY = "key"  # the key was valid when it signed (not before its valid_from, not retired, not compromised)
    REVOCATION = "revocation"  # the revocation bit on the issuer's list is not set
    SUSPENSION = "suspension"  # the suspension bit on the issuer's list is not set
    VALIDITY_PERIOD = "validity_period"  # validFrom has come and validUntil has not
    REGISTRY_RECORD = "registry_record"  # the registry holds the credential, from this issuer, as active
    QA_AT_ISSUE = "qa_at_issue"  # the QA decision it relied on was in force on the issue date
    QA_NOW = "qa_now"  # ... and is in force now (or on as_of)
    TRANSPARENCY_LOG = "transparency_log"  # the Issued event is in the log (evidence: pending while the log follows)


INFORMATIONAL = {CheckName.TRANSPARENCY_LOG}
"""Checks that are evidence rather than conditions: they do not decide ``valid``."""


class CheckOut(Output):
    check: CheckName
    outcome: Literal["passed", "failed", "skipped"] = Field(
        description="skipped: it could not be made (what it needs failed, or is not there yet)"
    )
    code: str | None = Field(
        default=None,
        description="The W3C error name where a specification names one: MALFORMED_VALUE_ERROR, "
        "MALFORMED_PROOF_ERROR, MISMATCHED_PROOF_PURPOSE_ERROR, PROOF_VERIFICATION_ERROR, INVALID_VERIFICATION_METHOD, "
        "STATUS_RETRIEVAL_ERROR, STATUS_VERIFICATION_ERROR, STATUS_LIST_LENGTH_ERROR, RANGE_ERROR",
    )
    detail: str


class BasisOut(Output):
    kind: str
    id: UUID
    version: int


class StandingOut(Output):
    basis: BasisOut | None
    standing: str


class ProofOut(Output):
    verification_method: str | None
    key_id: str | None = None
    created: datetime | None = None
    key_status_at_signing: KeyStatus | None = Field(
        default=None, description="valid | not_yet_valid | retired | compromised, at the proof's created"
    )
    key: KeyOut | None = None


class StatusBitOut(Output):
    purpose: str
    status_list_credential: str | None
    index: int | None
    set: bool | None = Field(description="True: revoked (or suspended); None when the list could not be read")


class InclusionOut(Output):
    """The ``Issued`` event as a leaf of the transparency log, proven against a signed checkpoint."""

    position: int = Field(description="The event's position in the event log")
    leaf_index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str] = Field(description="RFC 9162 inclusion proof, hex, leaf to root")
    root: str
    checkpoint: str = Field(description="The C2SP signed checkpoint of tree_size (GET /v1/log/key verifies it)")


@dataclass
class Checks:
    """Checks as they are made, in order."""

    made: list[CheckOut] = field(default_factory=list)

    def passed(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckOut(check=check, outcome="passed", detail=detail))

    def failed(self, check: CheckName, detail: str, code: str | None = None) -> None:
        self.made.append(CheckOut(check=check, outcome="failed", code=code, detail=detail))

    def skipped(self, check: CheckName, detail: str) -> None:
        self.made.append(CheckOut(check=check, outcome="skipped", detail=detail))

    @property
    def valid(self) -> bool:
        return all(c.outcome == "passed" for c in self.made if c.check not in INFORMATIONAL)

    @property
    def failures(self) -> list[CheckName]:
        return [c.check for c in self.made if c.outcome == "failed"]


def _moment(value: object) -> datetime | None:
    """An XML Schema dateTime as an aware datetime (UTC if it names no offset); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Finding:
    """The outcome of one check before it is recorded: ok (None: it could not be made), why, the W3C error name."""

    ok: bool | None
    detail: str
    code: str | None = None

    def record(self, checks: Checks, check: CheckName) -> None:
        if self.ok is None:
            checks.skipped(check, self.detail)
        elif self.ok:
            checks.passed(check, self.detail)
        else:
            checks.failed(check, self.detail, self.code)


NO_PROOF = Finding(None, "no proof this registry checks")


def key_finding(key: IssuerKey, created: datetime, recorded_before: Callable[[datetime], bool | None]) -> Finding:
    """Was ``key`` trusted for a proof made at ``created``?"""
    status = key.status_at(created)
    when = f"the proof was made {created.isoformat()}"
    invalid = "INVALID_VERIFICATION_METHOD"
    if status == KeyStatus.NOT_YET_VALID:
        return Finding(False, f"{when}, before the key became valid ({key.valid_from.isoformat()})", invalid)
    if status == KeyStatus.RETIRED:
        return Finding(False, f"{when}, after the key retired ({_iso(key.retired_on)})", invalid)
    if status == KeyStatus.COMPROMISED:
        return Finding(False, f"{when}, after the key was compromised ({_iso(key.compromised_since)})", invalid)
    if key.compromised_since is None:
        return Finding(True, f"{when}, while the key was valid")
    since = key.compromised_since.isoformat()
    if recorded_before(key.compromised_since):
        return Finding(True, f"{when}, before the key was compromised ({since}); the registry recorded it before too")
    return Finding(False, f"the key is compromised since {since}, and the registry did not record it before", invalid)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "never"


def transparency_evidence(
    log: TransparencyLog | None, registry: Registry, credential_id: UUID, checks: Checks
) -> InclusionOut | None:
    """The inclusion proof of the credential's ``Issued`` event against the log's latest signed checkpoint."""
    if log is None:
        checks.skipped(CheckName.TRANSPARENCY_LOG, "this process serves no transparency log")
        return None
    position = issued_position(registry, credential_id)
    try:
        proof = log.inclusion_proof(position=position)
        checkpoint = log.checkpoint(proof.tree_size)
    except (NotFound, InvalidInput):
        checks.skipped(CheckName.TRANSPARENCY_LOG, "the log has not appended the issuance yet: ask again shortly")
        return None
    checks.passed(
        CheckName.TRANSPARENCY_LOG,
        f"the Issued event (position {position}) is leaf {proof.index} of the log of {proof.tree_size} leaves",
    )
    return InclusionOut(
        position=position,
        leaf_index=proof.index,
        tree_size=proof.tree_size,
        leaf_hash=proof.leaf_hash.hex(),
        hashes=[h.hex() for h in proof.hashes],
        root=proof.root.hex(),
        checkpoint=checkpoint,
    )


def qa_checks(standing: CredentialStanding, checks: Checks, today: str = "now") -> None:
    for check, qa, when in (
        (CheckName.QA_AT_ISSUE, standing.qa_at_issue, f"on the issue date {standing.credential.issued_on}"),
        (CheckName.QA_NOW, standing.qa_as_of, f"{today} ({standing.as_of})"),
    ):
        basis = f"the {qa.basis.kind} {qa.basis.id}" if qa.basis is not None else "no QA decision"
        if qa.standing == "in_force":
            checks.passed(check, f"{basis} is in force {when}")
        else:
            checks.failed(check, f"{basis} is {qa.standing.replace('_', ' ')} {when}")


# --- verifying a presented credential --------------------------------------------------------------------------------


class PresentedVerification(Output):
    valid: bool = Field(
        description="Every check passed (the transparency log is evidence and does not count): the issuer's key made "
        "the proof while it was valid, neither status bit is set, the dates hold, and the registry holds the "
        "credential as active and quality-assured on its issue date and now"
    )
    failed: list[CheckName] = Field(description="The checks that failed, in the order they were made")
    checks: list[CheckOut]
    credential_id: UUID | None = Field(description="The registry's credential, if the registry holds it")
    issuer: str | None = Field(description="The issuer's DID, as the credential names it")
    issuer_id: UUID | None = Field(description="The issuer the DID names, if it is one this registry hosts")
    proof: ProofOut | None
    status: list[StatusBitOut]
    revoked: bool | None = Field(description="The revocation bit on the issuer's list; None if it cannot be read")
    suspended: bool | None = Field(description="The suspension bit on the issuer's list; None if it cannot be read")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    registry_status: str | None = Field(default=None, description="active | suspended | revoked, as held now")
    issued_on: date | None = None
    qa_at_issue: StandingOut | None = None
    qa_now: StandingOut | None = None
    transparency_log: InclusionOut | None = None


@dataclass
class _Verifier:
    """One verification of a presented credential."""

    services: Services
    read_models: ReadModels
    registry: Registry
    log: TransparencyLog | None
    checks: Checks = field(default_factory=Checks)
    recorded_keys: dict[UUID, IssuerKeys | None] = field(default_factory=dict)

    @property
    def store(self) -> IssuerKeyStore:
        return self.services.issuer_keys

    def issuer_key(self, issuer_id: UUID, key_id: str) -> IssuerKey | None:
        """One of the issuer's keys, its keys read once per verification (again for a key made meanwhile: signing
        a status list makes the issuer a key when it has none valid)."""
        for fresh in (False, True):
            if fresh or issuer_id not in self.recorded_keys:
                self.recorded_keys[issuer_id] = self.registry.issuer_keys(issuer_id)
            recorded = self.recorded_keys[issuer_id]
            key = recorded.key(key_id) if recorded is not None else None
            if key is not None:
                return key
        return None

    def document(self, presented: Mapping[str, Any]) -> None:
        context = presented.get("@context")
        types = presented.get("type")
        issuer = presented.get("issuer")
        problems = []
        if not (isinstance(context, list) and context[:1] == [VC_CONTEXT]):
            problems.append(f"@context must start with {VC_CONTEXT}")
        if not (isinstance(types, list) and "VerifiableCredential" in types):
            problems.append("type must include VerifiableCredential")
        if not (isinstance(issuer, str) or (isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str))):
            problems.append("issuer must be a URL or an object with an id")
        if not isinstance(presented.get("credentialSubject"), Mapping | list):
            problems.append("credentialSubject is required")
        if problems:
            self.checks.failed(CheckName.DOCUMENT, "; ".join(problems), "MALFORMED_VALUE_ERROR")
        else:
            self.checks.passed(CheckName.DOCUMENT, "a Verifiable Credential 2.0 document")

    def issuer(self, presented: Mapping[str, Any]) -> tuple[str | None, UUID | None]:
        issuer = presented.get("issuer")
        did = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        did = did if isinstance(did, str) else None
        issuer_id = self.store.issuer_of(did)
        if issuer_id is None:
            self.checks.failed(CheckName.ISSUER, f"the issuer {did!r} is not a DID this registry hosts")
        elif not self.store.known(issuer_id):
            self.checks.failed(CheckName.ISSUER, f"the registry holds no issuer {issuer_id}")
            issuer_id = None
        else:
            self.checks.passed(CheckName.ISSUER, f"{did} is hosted by this registry")
        return did, issuer_id

    def proof(
        self,
        document: Mapping[str, Any],
        did: str | None,
        issuer_id: UUID | None,
        recorded_before: Callable[[datetime], bool | None],
    ) -> tuple[ProofOut | None, Finding, Finding]:
        """Check a document's proof, then its key's status when it signed: (what was found, proof, key).

        ``recorded_before(moment)`` says whether the registry recorded the credential before ``moment`` (None if
        it holds no such credential): a proof made before its key was reported compromised counts only then,
        since a proof's ``created`` is whatever its signer wrote.
        """
        proof = document.get("proof")
        if not isinstance(proof, Mapping):
            return None, Finding(False, "the document has no proof object", "MALFORMED_PROOF_ERROR"), NO_PROOF
        method = proof.get("verificationMethod")
        out = ProofOut(verification_method=method if isinstance(method, str) else None)
        if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
            detail = f"the proof must be a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}"
            return out, Finding(False, detail, "MALFORMED_PROOF_ERROR"), NO_PROOF
        if proof.get("proofPurpose") != "assertionMethod":
            detail = "the proof's purpose must be assertionMethod"
            return out, Finding(False, detail, "MISMATCHED_PROOF_PURPOSE_ERROR"), NO_PROOF
        created = _moment(proof.get("created"))
        if created is None:
            detail = "the proof must say when it was created (an XML Schema dateTime)"
            return out, Finding(False, detail, "MALFORMED_PROOF_ERROR"), Finding(None, "the proof has no created")
        out.created = created
        if did is None or issuer_id is None:
            detail = "the issuer is not one this registry hosts: its keys are unknown"
            return out, Finding(False, detail), Finding(None, "unknown issuer")
        owner, _, key_id = str(method).partition("#")
        key = self.issuer_key(issuer_id, key_id) if owner == did else None
        if key is None:
            detail = f"{method!r} is not a key of the issuer {did}"
            return out, Finding(False, detail, "INVALID_VERIFICATION_METHOD"), Finding(None, "unknown key")
        out.key_id = key.key_id
        out.key = key_out(self.store, issuer_id, key, self.registry.clock())
        try:
            verify_proof(document, decode_public_multikey(key.public_key_multibase))
        except (DataIntegrityError, ValueError, TypeError) as error:  # malformed input is a verdict, never a 500
            return out, Finding(False, str(error), "PROOF_VERIFICATION_ERROR"), Finding(None, "the proof is invalid")
        out.key_status_at_signing = key.status_at(created)
        return out, Finding(True, f"signed by {method}"), key_finding(key, created, recorded_before)

    def status(self, presented: Mapping[str, Any], issuer_id: UUID | None, purpose: str) -> StatusBitOut:
        check = CheckName(purpose)
        entries = presented.get("credentialStatus")
        entries = entries if isinstance(entries, list) else [entries] if entries is not None else []
        matching = [e for e in entries if isinstance(e, Mapping) and e.get("statusPurpose") == purpose]
        if not matching:
            self.checks.failed(check, f"the credential names no {purpose} status list", "STATUS_VERIFICATION_ERROR")
            return StatusBitOut(purpose=purpose, status_list_credential=None, index=None, set=None)
        entry = matching[0]
        url = entry.get("statusListCredential")
        index = entry.get("statusListIndex")
        bit = StatusBitOut(
            purpose=purpose,
            status_list_credential=url if isinstance(url, str) else None,
            index=int(index) if isinstance(index, str) and index.isascii() and index.isdigit() else None,
            set=None,
        )
        place = parse_status_list_url(self.services.settings.public_url, url)
        if place is None:
            self.checks.failed(
                check,
                f"{url!r} is not a status list this registry serves, and it fetches no other",
                "STATUS_RETRIEVAL_ERROR",
            )
            return bit
        list_issuer, list_purpose, number = place
        if list_purpose != purpose or list_issuer != issuer_id:
            self.checks.failed(
                check, f"{url} is not the credential issuer's {purpose} list", "STATUS_VERIFICATION_ERROR"
            )
            return bit
        try:
            listed = signed_status_list(self.services, self.read_models, list_issuer, purpose, number)
        except KeyUnavailable as error:
            self.checks.failed(check, f"{url} cannot be signed now: {error}", "STATUS_RETRIEVAL_ERROR")
            return bit
        if listed is None:
            self.checks.failed(
                check, f"{url} does not exist (yet): the issuer has no such list", "STATUS_RETRIEVAL_ERROR"
            )
            return bit
        _, proof, key = self.proof(listed, listed.get("issuer"), issuer_id, lambda _: False)
        for finding in (proof, key):
            if not finding.ok:
                self.checks.failed(check, f"the list's proof: {finding.detail}", "STATUS_VERIFICATION_ERROR")
                return bit
        try:
            bit.set = status_of(entry, listed)
        except StatusListLengthError as error:
            self.checks.failed(check, str(error), "STATUS_LIST_LENGTH_ERROR")
        except StatusRangeError as error:
            self.checks.failed(check, str(error), "RANGE_ERROR")
        except (StatusListError, ValueError, TypeError) as error:
            self.checks.failed(check, str(error), "STATUS_VERIFICATION_ERROR")
        else:
            if bit.set:
                self.checks.failed(
                    check, f"the {purpose} bit is set on {url}: {'revoked' if purpose == 'revocation' else 'suspended'}"
                )
            else:
                self.checks.passed(check, f"the {purpose} bit is not set on {url}")
        return bit

    def validity_period(self, presented: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
        now = self.registry.clock()
        bounds = {}
        for name in ("validFrom", "validUntil"):
            value = presented.get(name)
            bounds[name] = _moment(value)
            if value is not None and bounds[name] is None:
                self.checks.failed(
                    CheckName.VALIDITY_PERIOD,
                    f"{name} {value!r} is not an XML Schema dateTime",
                    "MALFORMED_VALUE_ERROR",
                )
                return None, None
        valid_from, valid_until = bounds["validFrom"], bounds["validUntil"]
        if valid_from is not None and now < valid_from:
            self.checks.failed(CheckName.VALIDITY_PERIOD, f"not valid before {valid_from.isoformat()}")
        elif valid_until is not None and now >= valid_until:
            self.checks.failed(CheckName.VALIDITY_PERIOD, f"expired at {valid_until.isoformat()}")
        else:
            self.checks.passed(CheckName.VALIDITY_PERIOD, "valid now")
        return valid_from, valid_until

    def record(self, presented: Mapping[str, Any], issuer_id: UUID | None) -> CredentialStanding | None:
        credential_id = credential_id_of(presented)
        standing = None
        if credential_id is not None:
            try:
                standing = self.registry.credential_standing(credential_id)
            except NotFound:
                standing = None
        if standing is None:
            self.checks.failed(CheckName.REGISTRY_RECORD, "the registry holds no credential with this id")
            for check in (CheckName.QA_AT_ISSUE, CheckName.QA_NOW, CheckName.TRANSPARENCY_LOG):
                self.checks.skipped(check, "the registry holds no such credential")
            return None
        credential = standing.credential
        if credential.provider_id != issuer_id:
            self.checks.failed(
                CheckName.REGISTRY_RECORD,
                f"the registry's credential was issued by {credential.provider_id}, not by this issuer",
            )
        elif standing.status != "active":
            self.checks.failed(CheckName.REGISTRY_RECORD, f"the registry holds the credential as {standing.status}")
        else:
            self.checks.passed(
                CheckName.REGISTRY_RECORD,
                f"the registry holds the credential as active, issued on {credential.issued_on}",
            )
        qa_checks(standing, self.checks)
        return standing


def verify_presented(
    services: Services,
    read_models: ReadModels,
    registry: Registry,
    presented: Mapping[str, Any],
    log: TransparencyLog | None = None,
) -> PresentedVerification:
    verifier = _Verifier(services, read_models, registry, log)
    verifier.document(presented)
    did, issuer_id = verifier.issuer(presented)
    credential_id = credential_id_of(presented)

    def recorded_before(moment: datetime) -> bool | None:
        if credential_id is None:
            return None
        try:
            return registry.get(Credential, credential_id).created_on < moment
        except NotFound:
            return None

    proof, proof_finding, key_found = verifier.proof(presented, did, issuer_id, recorded_before)
    proof_finding.record(verifier.checks, CheckName.PROOF)
    key_found.record(verifier.checks, CheckName.KEY)
    bits = [verifier.status(presented, issuer_id, purpose) for purpose in PURPOSES]
    valid_from, valid_until = verifier.validity_period(presented)
    standing = verifier.record(presented, issuer_id)
    inclusion = None
    if standing is not None:
        inclusion = transparency_evidence(log, registry, standing.credential.id, verifier.checks)
    checks = verifier.checks
    return PresentedVerification(
        valid=checks.valid,
        failed=checks.failures,
        checks=checks.made,
        credential_id=standing.credential.id if standing else None,
        issuer=did,
        issuer_id=issuer_id,
        proof=proof,
        status=bits,
        revoked=bits[0].set,
        suspended=bits[1].set,
        valid_from=valid_from,
        valid_until=valid_until,
        registry_status=standing.status if standing else None,
        issued_on=standing.credential.issued_on if standing else None,
        qa_at_issue=StandingOut.model_validate(standing.qa_at_issue) if standing else None,
        qa_now=StandingOut.model_validate(standing.qa_as_of) if standing else None,
        transparency_log=inclusion,
    )


@router.post(
    "/v1/verify",
    summary="Verify a presented credential: proof and key, status lists, dates, the registry's record, QA. For anyone",
    description="Post the credential as exported by `/v1/credentials/{id}/vc`. The answer lists every check made, "
    "each passed, failed (with the W3C error name where one applies, e.g. `STATUS_RETRIEVAL_ERROR`) or skipped: "
    "a malformed, foreign or tampered credential is a verdict (200), not an error. Anything but a JSON object is "
    "a 4xx problem.",
)
def verify_presented_credential(
    request: Request,
    presented: Annotated[dict[str, Any], Body(description="A verifiable credential with an embedded proof")],
    _: Visitor,
    registry: Registered,
) -> PresentedVerification:
    state = request.app.state
    return verify_presented(
        state.services, state.read_models, registry, presented, getattr(state, "transparency_log", None)
    )


# --- verifying a stored credential (GET /v1/credentials/{id}/verify) --------------------------------------------------


@dataclass
class StoredEvidence:
    """What the registry's trust machinery says of a credential it holds."""

    issuer: str
    signing_key: KeyOut | None
    status: list[StatusBitOut] | None
    transparency_log: InclusionOut | None
    checks: Checks


def stored_evidence(
    services: Services,
    read_models: ReadModels,
    log: TransparencyLog | None,
    registry: Registry,
    standing: CredentialStanding,
) -> StoredEvidence:
    """The checks ``GET /v1/credentials/{id}/verify`` makes: the record, the dates, QA, the key an export is signed
    with, the status lists, the log. Keys and lists are as they are now, whatever ``as_of`` and ``known_at`` say."""
    checks = Checks()
    credential = standing.credential
    if standing.status is None:
        checks.failed(CheckName.REGISTRY_RECORD, f"not issued yet on {standing.as_of}")
    elif standing.status != "active":
        checks.failed(CheckName.REGISTRY_RECORD, f"{standing.status} on {standing.as_of}")
    else:
        checks.passed(CheckName.REGISTRY_RECORD, f"active on {standing.as_of}")
    if credential.valid_until is not None and credential.valid_until <= standing.as_of:
        checks.failed(CheckName.VALIDITY_PERIOD, f"expired on {credential.valid_until}")
    else:
        checks.passed(CheckName.VALIDITY_PERIOD, f"valid on {standing.as_of}")
    qa_checks(standing, checks, "on as_of")

    store = services.issuer_keys
    issuer_id = credential.provider_id
    recorded = registry.issuer_keys(issuer_id)
    now = registry.clock()
    current = recorded.current(now) if recorded is not None else None
    signing_key = key_out(store, issuer_id, current, now) if current is not None else None
    if current is not None:
        checks.passed(CheckName.KEY, f"an export is signed with {signing_key.verification_method}, valid now")
    else:
        checks.skipped(CheckName.KEY, "the provider has no valid key now: one is made at the next export")

    entry = read_models.status_lists.entry(credential.id)
    status = None
    if entry is None:
        for purpose in PURPOSES:
            checks.skipped(CheckName(purpose), "the status lists have not placed the credential yet (milliseconds)")
    else:
        place, revoked, suspended = entry.place, entry.revoked, entry.suspended
        public_url = services.settings.public_url
        status = []
        for purpose, set_ in zip(PURPOSES, (revoked, suspended), strict=True):
            url = status_list_url(public_url, issuer_id, purpose, place.number)
            status.append(StatusBitOut(purpose=purpose, status_list_credential=url, index=place.index, set=set_))
            if set_:
                checks.failed(CheckName(purpose), f"the {purpose} bit is set on {url}")
            else:
                checks.passed(CheckName(purpose), f"the {purpose} bit is not set on {url}")
    inclusion = transparency_evidence(log, registry, credential.id, checks)
    return StoredEvidence(store.did(issuer_id), signing_key, status, inclusion, checks)
