"""Verifying a credential: named checks, each passed, failed or skipped, and the evidence behind them.

``CredentialVerifier.presented`` verifies a credential anyone presents: the
document's shape, the issuer, the proof, the signing key's status when it
signed, both status bits on the issuer's lists, the validity dates, the
registry's record and QA standing on the issue date and now, and the inclusion
proof of the ``Issued`` event in the transparency log. A credential signed
through the VC-API names its issuer's ``did:key`` (resolved offline) and is no
registry record: that is a warning, and its record, QA and log checks are
skipped (``signed_only``). A malformed or tampered
credential is a verdict, not an error: every check is recorded, with the W3C
error name where a specification names one, and the verdict in three levels:
a failure makes it ``not_valid``, a warning (QA lapsed after the issue date,
the key rotated since) ``valid_with_warnings``.

``CredentialVerifier.stored`` gives the same checks for a credential the
registry holds, as it stands on a business date: the record, the dates and QA
by the credential's own rules, and the key an export is signed with, the status
lists and the log as they are now; there the registry's record decides, so a
provider without a key to sign an export only warns. The checks are named,
recorded and weighed as ``mcreg.services.checks`` says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from mcreg.projections.transparency_log import TransparencyLog
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.issuer_keys import IssuerKey, IssuerKeys, KeyStatus
from mcreg.registry.application import CredentialStanding, Registry
from mcreg.registry.errors import InvalidInput, NotFound
from mcreg.registry.quality import QAStanding
from mcreg.registry.trust.data_integrity import (
    PROOF_TYPE,
    Cryptosuite,
    DataIntegrityError,
    ProofTransformationError,
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
from mcreg.registry.vocabulary import CredentialStatus, Standing, Verdict
from mcreg.services.checks import NO_PROOF, CheckFinding, CheckMade, CheckName, Checks, Problem, key_finding
from mcreg.services.credential_shape import credential_problems
from mcreg.services.documents import credential_id_of, paired_status_entry, parse_status_list_url, status_list_url
from mcreg.services.exports import CredentialExports, PublishedKey, published_key
from mcreg.stores.event_store import created_at_position
from mcreg.stores.issuer_keys import KeyUnavailable

# --- what a verification answers ---------------------------------------------------------------------------------


@dataclass
class ProofFound:
    """What a presented proof names: its verification method and, for one of the issuer's keys, that key."""

    verification_method: str | None
    key_id: str | None = None
    created: datetime | None = None
    key_status_at_signing: KeyStatus | None = None
    key: PublishedKey | None = None


@dataclass
class StatusBit:
    """A credential's entry on one of its issuer's lists; ``set`` is None when the list could not be read."""

    purpose: str
    status_list_credential: str | None
    index: int | None
    set: bool | None = None


@dataclass(frozen=True)
class Inclusion:
    """The ``Issued`` event as a leaf of the transparency log, proven against a signed checkpoint (hex hashes)."""

    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]
    root: str
    checkpoint: str


@dataclass(frozen=True)
class PresentedVerdict:
    """Everything a verification of a presented credential found: the verdict, W3C's ``verified`` with its errors
    and warnings, and every check."""

    verdict: Verdict
    verified: bool
    errors: list[Problem]
    warnings: list[Problem]
    valid: bool
    failed: list[CheckName]
    checks: list[CheckMade]
    credential_id: UUID | None
    issuer: str | None
    issuer_id: UUID | None
    proof: ProofFound | None
    status: list[StatusBit]
    revoked: bool | None
    suspended: bool | None
    valid_from: datetime | None
    valid_until: datetime | None
    registry_status: CredentialStatus | None
    issued_on: date | None
    qa_at_issue: QAStanding | None
    qa_now: QAStanding | None
    transparency_log: Inclusion | None


@dataclass(frozen=True)
class StoredEvidence:
    """What the registry's trust machinery says of a credential it holds."""

    issuer: str
    signing_key: PublishedKey | None
    status: list[StatusBit] | None
    transparency_log: Inclusion | None
    checks: Checks


# --- the checks ------------------------------------------------------------------------------------------------------


def signed_only(document: Mapping[str, Any]) -> bool:
    """Signed through the VC-API, not recorded: its issuer is a ``did:key`` (the registry's own credentials name the
    issuer's ``did:web``)."""
    issuer = document.get("issuer")
    named = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return isinstance(named, str) and named.startswith("did:key:")


def _moment(value: object) -> datetime | None:
    """An XML Schema dateTime as an aware datetime (UTC if it names no offset); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def issued_position(registry: Registry, credential_id: UUID) -> int:
    """The log position of the credential's ``Issued`` event."""
    position = created_at_position(registry.recorder, credential_id)
    if position is None:
        raise NotFound("credential", credential_id)
    return position


def transparency_evidence(
    log: TransparencyLog | None, registry: Registry, credential_id: UUID, checks: Checks
) -> Inclusion | None:
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
    return Inclusion(
        position=position,
        leaf_index=proof.index,
        tree_size=proof.tree_size,
        leaf_hash=proof.leaf_hash.hex(),
        hashes=[h.hex() for h in proof.hashes],
        root=proof.root.hex(),
        checkpoint=checkpoint,
    )


def qa_checks(standing: CredentialStanding, checks: Checks, today: str = "now") -> None:
    """QA on the issue date decides; QA that lapsed, expired or was withdrawn since only warns: the credential was
    awarded under QA in force (a withdrawal with effect on or before the issue date fails it at issue)."""
    for check, qa, when in (
        (CheckName.QA_AT_ISSUE, standing.qa_at_issue, f"on the issue date {standing.credential.issued_on}"),
        (CheckName.QA_NOW, standing.qa_as_of, f"{today} ({standing.as_of})"),
    ):
        basis = f"the {qa.basis.kind} {qa.basis.id}" if qa.basis is not None else "no QA decision"
        if qa.standing == Standing.IN_FORCE:
            checks.passed(check, f"{basis} is in force {when}")
        elif check == CheckName.QA_NOW:
            checks.warned(check, f"{basis} is {qa.standing.replace('_', ' ')} {when}; it was issued under QA")
        else:
            checks.failed(check, f"{basis} is {qa.standing.replace('_', ' ')} {when}")


@dataclass
class _Verification:
    """One verification of a presented credential."""

    exports: CredentialExports
    checks: Checks = field(default_factory=Checks)
    recorded_keys: dict[UUID, IssuerKeys | None] = field(default_factory=dict)

    @property
    def registry(self) -> Registry:
        return self.exports.registry

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
        problems = credential_problems(presented)
        if problems:
            self.checks.failed(CheckName.DOCUMENT, "; ".join(problems), "MALFORMED_VALUE_ERROR")
        else:
            self.checks.passed(CheckName.DOCUMENT, "a Verifiable Credential 2.0 document")

    def issuer(self, presented: Mapping[str, Any]) -> tuple[str | None, UUID | None]:
        issuer = presented.get("issuer")
        named = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        did = named if isinstance(named, str) else None
        store = self.exports.issuer_keys
        issuer_id = store.issuer_of(did)
        if issuer_id is None:
            self.checks.failed(CheckName.ISSUER, f"the issuer {did!r} is not a DID this registry hosts")
        elif not store.known(issuer_id):
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
    ) -> tuple[ProofFound | None, CheckFinding, CheckFinding]:
        """Check a document's proof, then its key's status when it signed: (what was found, proof, key).

        ``recorded_before(moment)`` says whether the registry recorded the credential before ``moment`` (None if
        it holds no such credential): a proof made before its key was reported compromised counts only then,
        since a proof's ``created`` is whatever its signer wrote.
        """
        proof = document.get("proof")
        if isinstance(proof, list) and len(proof) > 1:
            detail = f"a proof set ({len(proof)} proofs) is not accepted: one proof by the issuer's key"
            return None, CheckFinding(False, detail, "MALFORMED_PROOF_ERROR"), NO_PROOF
        if not isinstance(proof, Mapping):
            return None, CheckFinding(False, "the document has no proof object", "MALFORMED_PROOF_ERROR"), NO_PROOF
        method = proof.get("verificationMethod")
        found = ProofFound(verification_method=method if isinstance(method, str) else None)
        if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") not in set(Cryptosuite):
            detail = f"the proof must be a {PROOF_TYPE} with a cryptosuite of {', '.join(Cryptosuite)}"
            return found, CheckFinding(False, detail, "MALFORMED_PROOF_ERROR"), NO_PROOF
        if proof.get("proofPurpose") != "assertionMethod":
            detail = "the proof's purpose must be assertionMethod"
            return found, CheckFinding(False, detail, "MISMATCHED_PROOF_PURPOSE_ERROR"), NO_PROOF
        created = _moment(proof.get("created"))
        if created is None:
            detail = "the proof must say when it was created (an XML Schema dateTime)"
            return (
                found,
                CheckFinding(False, detail, "MALFORMED_PROOF_ERROR"),
                CheckFinding(None, "the proof has no created"),
            )
        found.created = created
        if did is None or issuer_id is None:
            detail = "the issuer is not one this registry hosts: its keys are unknown"
            return found, CheckFinding(False, detail), CheckFinding(None, "unknown issuer")
        owner, _, key_id = str(method).partition("#")
        if did.startswith("did:key:"):  # did:key:z6Mk…#z6Mk…: the key is the fragment, resolved without a network
            key_id = next(
                (k.key_id for k in self.exports.issuer_keys.keys(issuer_id) if k.public_key_multibase == key_id), ""
            )
        key = self.issuer_key(issuer_id, key_id) if owner == did else None
        if key is None:
            detail = f"{method!r} is not a key of the issuer {did}"
            return found, CheckFinding(False, detail, "INVALID_VERIFICATION_METHOD"), CheckFinding(None, "unknown key")
        found.key_id = key.key_id
        found.key = published_key(self.exports.issuer_keys, issuer_id, key, self.registry.clock())
        try:
            verify_proof(document, decode_public_multikey(key.public_key_multibase))
        except (DataIntegrityError, ValueError, TypeError) as error:  # malformed input is a verdict, never a 500
            code = "PROOF_TRANSFORMATION_ERROR" if isinstance(error, ProofTransformationError) else None
            return (
                found,
                CheckFinding(False, str(error), code or "PROOF_VERIFICATION_ERROR"),
                CheckFinding(None, "the proof is invalid"),
            )
        found.key_status_at_signing = key.status_at(created)
        now = self.registry.clock()
        return found, CheckFinding(True, f"signed by {method}"), key_finding(key, created, now, recorded_before)

    def status(self, presented: Mapping[str, Any], issuer_id: UUID | None, purpose: str) -> StatusBit:
        check = CheckName(purpose)
        entries = presented.get("credentialStatus")
        entries = entries if isinstance(entries, list) else [entries] if entries is not None else []
        matching = [e for e in entries if isinstance(e, Mapping) and e.get("statusPurpose") == purpose]
        if not matching:  # one entry, as OB3 has it: the credential is at the same place on the issuer's other list
            public_url = self.exports.public_url
            pairs = (paired_status_entry(public_url, e, purpose) for e in entries if isinstance(e, Mapping))
            matching = [pair for pair in pairs if pair is not None]
        if not entries and signed_only(presented):
            self.checks.skipped(check, "a credential signed through the VC-API has no status lists")
            return StatusBit(purpose=purpose, status_list_credential=None, index=None)
        if not matching:
            self.checks.failed(check, f"the credential names no {purpose} status list", "STATUS_VERIFICATION_ERROR")
            return StatusBit(purpose=purpose, status_list_credential=None, index=None)
        entry = matching[0]
        url = entry.get("statusListCredential")
        index = entry.get("statusListIndex")
        bit = StatusBit(
            purpose=purpose,
            status_list_credential=url if isinstance(url, str) else None,
            index=int(index) if isinstance(index, str) and index.isascii() and index.isdigit() else None,
        )
        place = parse_status_list_url(self.exports.public_url, url)
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
            listed = self.exports.signed_status_list(list_issuer, purpose, number)
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
            if not finding.ok:  # a list signed by a key since rotated is as good as a fresh one
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

    def record(
        self, credential_id: UUID | None, issuer_id: UUID | None, *, signed_only: bool
    ) -> CredentialStanding | None:
        if signed_only:
            self.checks.warned(
                CheckName.REGISTRY_RECORD,
                "signed through the VC-API under its issuer's did:key: not a credential the registry recorded, nor "
                "quality-assured by it",
            )
            for check in (CheckName.QA_AT_ISSUE, CheckName.QA_NOW, CheckName.TRANSPARENCY_LOG):
                self.checks.skipped(check, "the registry records no credential signed under a did:key")
            return None
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
        elif not credential.active_on(standing.as_of):
            self.checks.failed(CheckName.REGISTRY_RECORD, f"the registry holds the credential as {standing.status}")
        else:
            self.checks.passed(
                CheckName.REGISTRY_RECORD,
                f"the registry holds the credential as active, issued on {credential.issued_on}",
            )
        qa_checks(standing, self.checks)
        return standing


@dataclass(frozen=True)
class CredentialVerifier:
    """Verifications against one registry, the keys and status lists of its issuers, and its transparency log."""

    exports: CredentialExports
    log: TransparencyLog | None

    @property
    def registry(self) -> Registry:
        return self.exports.registry

    def presented(self, presented: Mapping[str, Any]) -> PresentedVerdict:
        """Every check of a credential anyone presents, in order."""
        verification = _Verification(self.exports)
        verification.document(presented)
        did, issuer_id = verification.issuer(presented)
        credential_id = credential_id_of(presented)

        def recorded_before(moment: datetime) -> bool | None:
            if credential_id is None:
                return None
            try:
                return self.registry.get(Credential, credential_id).created_on < moment
            except NotFound:
                return None

        proof, proof_finding, key_found = verification.proof(presented, did, issuer_id, recorded_before)
        proof_finding.record(verification.checks, CheckName.PROOF)
        key_found.record(verification.checks, CheckName.KEY)
        bits = [verification.status(presented, issuer_id, purpose) for purpose in PURPOSES]
        valid_from, valid_until = verification.validity_period(presented)
        standing = verification.record(credential_id, issuer_id, signed_only=signed_only(presented))
        inclusion = None
        if standing is not None:
            inclusion = transparency_evidence(self.log, self.registry, standing.credential.id, verification.checks)
        checks = verification.checks
        return PresentedVerdict(
            verdict=checks.verdict,
            verified=checks.verified,
            errors=checks.errors,
            warnings=checks.warnings,
            valid=checks.verified,
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
            qa_at_issue=standing.qa_at_issue if standing else None,
            qa_now=standing.qa_as_of if standing else None,
            transparency_log=inclusion,
        )

    def stored(self, standing: CredentialStanding) -> StoredEvidence:
        """The checks of a credential the registry holds: the record, the dates, QA, the key an export is signed
        with, the status lists, the log. Keys and lists are as they are now, whatever ``as_of`` and ``known_at``
        say."""
        checks = Checks()
        credential = standing.credential
        as_of = standing.as_of
        if standing.status is None:
            checks.failed(CheckName.REGISTRY_RECORD, f"not issued yet on {as_of}")
        elif not credential.active_on(as_of):
            checks.failed(CheckName.REGISTRY_RECORD, f"{standing.status} on {as_of}")
        else:
            checks.passed(CheckName.REGISTRY_RECORD, f"active on {as_of}")
        if credential.expired_on(as_of):
            checks.failed(CheckName.VALIDITY_PERIOD, f"expired on {credential.valid_until}")
        else:
            checks.passed(CheckName.VALIDITY_PERIOD, f"valid on {as_of}")
        qa_checks(standing, checks, "on as_of")

        store = self.exports.issuer_keys
        issuer_id = credential.provider_id
        recorded = self.registry.issuer_keys(issuer_id)
        now = self.registry.clock()
        current = recorded.current(now) if recorded is not None else None
        signing_key = published_key(store, issuer_id, current, now) if current is not None else None
        if signing_key is not None:
            checks.passed(CheckName.KEY, f"an export is signed with {signing_key.verification_method}, valid now")
        else:
            checks.warned(
                CheckName.KEY, "the provider has no valid key now: no export can be signed (run `mcreg keys issuers`)"
            )

        entry = self.exports.status_lists.entry(credential.id)
        status = None
        if entry is None:
            for purpose in PURPOSES:
                checks.skipped(CheckName(purpose), "the status lists have not placed the credential yet (milliseconds)")
        else:
            place, revoked, suspended = entry.place, entry.revoked, entry.suspended
            status = []
            for purpose, set_ in zip(PURPOSES, (revoked, suspended), strict=True):
                url = status_list_url(self.exports.public_url, issuer_id, purpose, place.number)
                status.append(StatusBit(purpose=purpose, status_list_credential=url, index=place.index, set=set_))
                if set_:
                    checks.failed(CheckName(purpose), f"the {purpose} bit is set on {url}")
                else:
                    checks.passed(CheckName(purpose), f"the {purpose} bit is not set on {url}")
        inclusion = transparency_evidence(self.log, self.registry, credential.id, checks)
        return StoredEvidence(store.did(issuer_id), signing_key, status, inclusion, checks)
