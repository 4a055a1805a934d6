"""Issuance: credentials issued one by one or in batches, their later lifecycle, and their standing on a date."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from mcreg.registry import validate as v
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import Erasure, PersonalData, seal
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.row_keys import RowKeyClaim
from mcreg.registry.application.catalogue import offers
from mcreg.registry.application.core import Context, command
from mcreg.registry.application.quality_assurance import QualityAssuranceCommands
from mcreg.registry.errors import DomainError, Forbidden, InvalidInput, NoQualityAssurance, StateConflict
from mcreg.registry.fingerprints import added_later
from mcreg.registry.permissions import require_owner, require_role
from mcreg.registry.quality import QABasis, QAStanding
from mcreg.registry.schemes import COURSE_FIELDS, CREDENTIAL_FIELDS, IdentifierScheme, identifier_value
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import CredentialStatus, RevocationReason, Role


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    rule: str


@dataclass(frozen=True)
class BatchResult:
    """Per-row outcome of a bulk issuance: ids of issued rows, errors of refused rows."""

    issued: tuple[UUID | None, ...]
    errors: tuple[RowError, ...] = ()


class BatchRejected(InvalidInput):
    """Some rows are invalid and the caller did not ask for a partial batch: nothing was written."""

    type = "batch-rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        first = errors[0]
        super().__init__(f"rows[{first.row}].{first.field}", first.rule)
        self.detail = f"{len(errors)} row(s) refused; nothing was written"
        self.extensions["errors"] = [e.__dict__ for e in errors]


class RowStatus(StrEnum):
    """What became of one row of a keyed bulk issuance."""

    ISSUED = "issued"
    DUPLICATE = "duplicate"  # its row key issued a credential before: nothing written
    REFUSED = "refused"
    VALID = "valid"  # passed every rule, not written (a dry run, or other rows refused the whole file)


@dataclass(frozen=True)
class RowOutcome:
    """One row of a keyed bulk issuance: the credential it issued (or had issued), or why it was refused."""

    status: RowStatus
    credential_id: UUID | None = None
    problem: str | None = None  # the refusing error's type
    field: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class CredentialStanding:
    """A credential's standing on one business date, as recorded at one moment."""

    credential: Credential
    as_of: date
    known_at: datetime | None
    status: CredentialStatus | None  # None before the issue date
    qa_at_issue: QAStanding
    qa_as_of: QAStanding


@dataclass(frozen=True)
class IssueRow:
    """One credential of a bulk issuance."""

    microcredential_id: UUID
    learner: PersonalData
    issued_on: date
    grade: str | None = None
    valid_until: date | None = None
    learner_id: UUID | None = None
    course_id: str | None = added_later()  # the student-information system's course id
    lti_context_id: str | None = added_later()  # the learning platform's LTI context id
    lti_resource_link_id: str | None = added_later()  # the learning platform's LTI resource link id


def issued_it(actor: Actor, credential: Credential) -> None:
    """The provider that issued the credential."""
    require_owner(actor, Role.PROVIDER, credential.provider_id, "credential")


class IssuanceCommands(QualityAssuranceCommands):
    """Commands on credentials, and what the registry says of one on a date."""

    @command
    def issue_credential(
        self,
        ctx: Context,
        *,
        microcredential_id: UUID,
        learner: PersonalData,
        issued_on: date | None = None,
        grade: str | None = None,
        valid_until: date | None = None,
        learner_id: UUID | None = None,
        course_id: str | None = None,
        lti_context_id: str | None = None,
        lti_resource_link_id: str | None = None,
    ) -> UUID:
        issued = ctx.past("issued_on", issued_on)
        row = IssueRow(
            microcredential_id,
            learner,
            issued,
            grade,
            valid_until,
            learner_id,
            course_id,
            lti_context_id,
            lti_resource_link_id,
        )
        issuance = _Issuing(self, ctx, [row])
        (checked,) = issuance.check([row])
        if isinstance(checked, DomainError):
            raise checked
        (credential,) = issuance.credentials([checked])
        ctx.save(credential)
        self.provide_issuer_key(ctx, credential.provider_id)
        return credential.id

    @command
    def issue_credentials(self, ctx: Context, rows: Sequence[IssueRow], *, partial: bool = False) -> BatchResult:
        """Issue many credentials in one transaction; invalid rows fail the batch unless ``partial``."""
        if not rows:
            raise InvalidInput("rows", "must hold at least one credential")
        issuance = _Issuing(self, ctx, rows)
        checked = issuance.check(rows)
        errors = [
            RowError(index, getattr(c, "field", c.type), getattr(c, "rule", c.detail))
            for index, c in enumerate(checked)
            if isinstance(c, DomainError)
        ]
        if errors and not partial:
            raise BatchRejected(errors)
        credentials = issuance.credentials([c for c in checked if isinstance(c, _Checked)])
        ctx.save(*credentials)
        for provider_id in {c.provider_id for c in credentials}:
            self.provide_issuer_key(ctx, provider_id)
        ids = iter(c.id for c in credentials)
        issued = tuple(None if isinstance(c, DomainError) else next(ids) for c in checked)
        return BatchResult(issued, tuple(errors))

    @command
    def issue_keyed_credentials(
        self, ctx: Context, rows: Sequence[IssueRow], row_keys: Sequence[str], *, partial: bool = False
    ) -> tuple[RowOutcome, ...]:
        """Issue many credentials in one transaction, each row under the calling provider's own ``row_keys``
        entry: a key that issued before answers ``duplicate`` with its credential and writes nothing.
        Refused rows write nothing; unless ``partial``, one refused row keeps every row from being written
        (the others answer ``valid``)."""
        sorted_rows = self._sort_keyed(ctx, rows, row_keys)
        checked = [(i, c) for i, c in enumerate(sorted_rows) if isinstance(c, _Checked)]
        refused = any(isinstance(c, DomainError) for c in sorted_rows)
        if (refused and not partial) or not checked:
            return tuple(_outcome(c) for c in sorted_rows)
        credentials = _Issuing(self, ctx, ()).credentials([c for _, c in checked])
        secret = self.vault.fingerprint_key()
        issued = {i: credential for (i, _), credential in zip(checked, credentials, strict=True)}
        claims = [
            RowKeyClaim(ctx.stamp(), RowKeyClaim.claim_for(secret, ctx.actor.org, row_keys[i]), credential.id)
            for i, credential in issued.items()
        ]
        ctx.save(*credentials, *claims)
        for provider_id in {c.provider_id for c in credentials}:
            self.provide_issuer_key(ctx, provider_id)
        return tuple(
            RowOutcome(RowStatus.ISSUED, issued[i].id) if i in issued else _outcome(c)
            for i, c in enumerate(sorted_rows)
        )

    def check_keyed_credentials(
        self, actor: Actor, rows: Sequence[IssueRow], row_keys: Sequence[str]
    ) -> tuple[RowOutcome, ...]:
        """What ``issue_keyed_credentials`` would answer for these rows now, writing nothing (a dry run)."""
        return tuple(_outcome(c) for c in self._sort_keyed(Context(actor, None, self.today()), rows, row_keys))

    def _sort_keyed(
        self, ctx: Context, rows: Sequence[IssueRow], row_keys: Sequence[str]
    ) -> list[_Checked | DomainError | UUID]:
        """Each keyed row: ready to issue, refused, or the credential its key issued before (the keys' claims
        looked up in one read)."""
        if not rows:
            raise InvalidInput("rows", "must hold at least one credential")
        if len(rows) != len(row_keys):
            raise InvalidInput("row_keys", "must give one key per row")
        require_role(ctx.actor, Role.PROVIDER)
        secret = self.vault.fingerprint_key()
        claim_ids: list[UUID | InvalidInput] = []
        for key in row_keys:
            try:
                claim = RowKeyClaim.claim_for(secret, ctx.actor.org, v.text("row_key", key, max_length=200))
                claim_ids.append(RowKeyClaim.create_id(claim))
            except InvalidInput as error:
                claim_ids.append(error)
        claimed = self.existing(c for c in claim_ids if isinstance(c, UUID))
        issuance = _Issuing(self, ctx, rows)
        seen: set[UUID] = set()
        sorted_rows: list[_Checked | DomainError | UUID] = []
        for row, claim_id in zip(rows, claim_ids, strict=True):
            if isinstance(claim_id, InvalidInput):
                sorted_rows.append(claim_id)
            elif claim_id in seen:
                sorted_rows.append(InvalidInput("row_key", "repeats the key of an earlier row"))
            elif claim_id in claimed:
                sorted_rows.append(self.get(RowKeyClaim, claim_id).credential_id)
            else:
                sorted_rows.append(issuance.check_keyed(row))
            if isinstance(claim_id, UUID):
                seen.add(claim_id)
        return sorted_rows

    @command
    def suspend_credential(
        self, ctx: Context, credential_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        with self.changing(ctx, Credential, credential_id, issued_it) as credential:
            text = v.text("reason", reason)
            credential.suspend(
                ctx.stamp_on("effective", effective), self.sealed(credential.learner_id, credential.id, "reason", text)
            )
        return credential.id

    @command
    def reinstate_credential(self, ctx: Context, credential_id: UUID, *, effective: date | None = None) -> UUID:
        with self.changing(ctx, Credential, credential_id, issued_it) as credential:
            credential.reinstate(ctx.stamp_on("effective", effective))
        return credential.id

    @command
    def revoke_credential(
        self,
        ctx: Context,
        credential_id: UUID,
        *,
        reason: str,
        note: str | None = None,
        effective: date | None = None,
    ) -> UUID:
        with self.changing(ctx, Credential, credential_id, issued_it) as credential:
            text = v.optional_text("note", note)
            credential.revoke(
                ctx.stamp_on("effective", effective),
                v.choice("reason", reason, RevocationReason),
                self.sealed(credential.learner_id, credential.id, "note", text) if text else None,
            )
        return credential.id

    def credential_standing(
        self, credential_id: UUID, as_of: date | None = None, known_at: datetime | None = None
    ) -> CredentialStanding:
        """A credential's status and QA standing on the business date ``as_of`` (today if None),
        as the registry had recorded them at ``known_at`` (now if None)."""
        as_of = as_of or self.today()
        credential = self.known_at(Credential, credential_id, known_at)
        return CredentialStanding(
            credential=credential,
            as_of=as_of,
            known_at=known_at,
            status=credential.status_on(as_of) if as_of >= credential.issued_on else None,
            qa_at_issue=self.qa_standing(credential.qa_basis, credential.issued_on, known_at),
            qa_as_of=self.qa_standing(credential.qa_basis, as_of, known_at),
        )


@dataclass(frozen=True)
class _Checked:
    """An issuance row that passed every rule, waiting for its learner's key."""

    microcredential: MicroCredential
    spec_version: int
    row: IssueRow
    learner: PersonalData
    learner_id: UUID
    basis: QABasis
    grade: str | None
    course_identifiers: dict[str, str]


class _Issuing:
    """Builds credentials for one command, reading each micro-credential and QA cover once, and which of the
    rows' learners were forgotten in one read."""

    def __init__(self, registry: IssuanceCommands, ctx: Context, rows: Iterable[IssueRow]) -> None:
        self.registry = registry
        self.ctx = ctx
        self.microcredentials: dict[UUID, MicroCredential] = {}
        self.covers: dict[tuple[UUID, date], QABasis | None] = {}
        learner_ids = {row.learner_id for row in rows if row.learner_id is not None}
        self.erasures = registry.existing(Erasure.create_id(i) for i in learner_ids) if learner_ids else set()

    def check(self, rows: Iterable[IssueRow]) -> list[_Checked | DomainError]:
        """Each row checked against every rule: ready to issue, or the error that refuses it.

        A caller who may not issue a row at all is refused for the whole command (``Forbidden``), never
        as one bad row among good ones: who may act is not a property of the data.
        """
        require_role(self.ctx.actor, Role.PROVIDER)
        checked: list[_Checked | DomainError] = []
        for row in rows:
            try:
                checked.append(self.check_row(row))
            except Forbidden:
                raise
            except DomainError as error:
                checked.append(error)
        return checked

    def check_keyed(self, row: IssueRow) -> _Checked | DomainError:
        """A row of a keyed bulk issuance checked: there a micro-credential the caller does not offer refuses
        its row, not the file, since a student-information system's export may name a wrong one (the caller's
        role is checked for the whole command first)."""
        try:
            return self.check_row(row)
        except DomainError as error:
            return error

    def credentials(self, checked: Sequence[_Checked]) -> list[Credential]:
        """Credentials for rows that passed, their learners' keys made in one call."""
        keys = self.registry.vault.create_keys(c.learner_id for c in checked)
        return [self.credential(c, keys[c.learner_id]) for c in checked]

    def microcredential(self, microcredential_id: UUID) -> MicroCredential:
        if microcredential_id not in self.microcredentials:
            microcredential = self.registry.get(MicroCredential, microcredential_id)
            offers(self.ctx.actor, microcredential)
            provider = self.registry.get(Provider, microcredential.provider_id)
            provider.check_open()
            self.ctx.rely_on(microcredential, provider)  # not retired, not closed, meanwhile
            self.microcredentials[microcredential_id] = microcredential
        return self.microcredentials[microcredential_id]

    def rely_on_decision(self, basis: QABasis | None) -> None:
        """Issuance fails (409, retry) if the decision it relies on, or its agency, changed before it committed."""
        if basis is None:
            return
        decision = self.registry.basis_decision(basis)
        self.ctx.rely_on(decision)
        if decision.agency_id is not None:
            self.ctx.rely_on(self.registry.get(Agency, decision.agency_id))

    def check_row(self, row: IssueRow) -> _Checked:
        today = self.ctx.today
        microcredential = self.microcredential(row.microcredential_id)
        issued_on = v.past_day("issued_on", row.issued_on, today)
        if microcredential.retired_on is not None and microcredential.retired_on <= issued_on:
            raise StateConflict("the micro-credential was retired before the issue date")
        if row.valid_until is not None and v.day("valid_until", row.valid_until) <= issued_on:
            raise InvalidInput("valid_until", "must be after the issue date")
        grade = v.optional_text("grade", row.grade, max_length=50)
        course_identifiers = _course_identifiers(row)
        learner = personal_data(row.learner, today)
        if row.learner_id is not None and Erasure.create_id(row.learner_id) in self.erasures:
            raise InvalidInput("learner_id", "names a forgotten learner; issue to a new learner id")
        spec_version = microcredential.spec_version_on(issued_on)
        if spec_version is None:
            raise InvalidInput("issued_on", "is before the micro-credential was specified")
        cover_key = (microcredential.id, issued_on)
        if cover_key not in self.covers:
            spec = microcredential.specification_at(spec_version)
            self.covers[cover_key] = self.registry.qa_cover(microcredential, spec, issued_on)
            self.rely_on_decision(self.covers[cover_key])
        basis = self.covers[cover_key]
        if basis is None:
            raise NoQualityAssurance(f"no accreditation or positive review covers this micro-credential on {issued_on}")
        learner_id = row.learner_id or uuid4()
        return _Checked(microcredential, spec_version, row, learner, learner_id, basis, grade, course_identifiers)

    def credential(self, checked: _Checked, key: bytes) -> Credential:
        row = checked.row
        return Credential(
            stamp=self.ctx.stamp(row.issued_on),
            provider_id=checked.microcredential.provider_id,
            microcredential_id=checked.microcredential.id,
            spec_version=checked.spec_version,
            learner=seal(checked.learner_id, checked.learner, key),
            grade=checked.grade,
            valid_until=row.valid_until,
            qa_basis=checked.basis,
            **checked.course_identifiers,
        )


def _outcome(sorted_row: _Checked | DomainError | UUID) -> RowOutcome:
    """A keyed row's outcome when nothing of it is written."""
    if isinstance(sorted_row, UUID):
        return RowOutcome(RowStatus.DUPLICATE, sorted_row)
    if isinstance(sorted_row, DomainError):
        error = sorted_row
        return RowOutcome(
            RowStatus.REFUSED, None, error.type, getattr(error, "field", None), getattr(error, "rule", error.detail)
        )
    return RowOutcome(RowStatus.VALID)


def personal_data(data: PersonalData, today: date) -> PersonalData:
    if not isinstance(data, PersonalData):
        raise InvalidInput(
            "learner", "must give the learner's name, and optionally given and family names, birth date and email"
        )
    return PersonalData(
        name=v.text("learner.name", data.name, max_length=300),
        birth_date=v.past_day("learner.birth_date", data.birth_date, today) if data.birth_date else None,
        email=v.email("learner.email", data.email),
        given_name=v.optional_text("learner.given_name", data.given_name, max_length=300),
        family_name=v.optional_text("learner.family_name", data.family_name, max_length=300),
        student_id=identifier_value("learner.student_id", IdentifierScheme.SIS_STUDENT, data.student_id)
        if data.student_id is not None
        else None,
    )


def _course_identifiers(row: IssueRow) -> dict[str, str]:
    """The row's course identifiers (every credential scheme's but the student number, which is the learner's),
    checked to their schemes' rules: only those given."""
    return {
        name: identifier_value(name, scheme, getattr(row, name))
        for scheme, name in CREDENTIAL_FIELDS.items()
        if name in COURSE_FIELDS and getattr(row, name) is not None
    }
