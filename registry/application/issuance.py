"""Issuance: credentials issued one by one or in batches, their later lifecycle, and their standing on a date."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from mcreg.registry import validate as v
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import Erasure, PersonalData, seal
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application.catalogue import offers
from mcreg.registry.application.core import Context, command
from mcreg.registry.application.quality_assurance import QualityAssuranceCommands
from mcreg.registry.errors import DomainError, Forbidden, InvalidInput, NoQualityAssurance, StateConflict
from mcreg.registry.permissions import require_owner, require_role
from mcreg.registry.quality import QABasis, QAStanding
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
    ) -> UUID:
        row = IssueRow(microcredential_id, learner, ctx.past("issued_on", issued_on), grade, valid_until, learner_id)
        issuance = _Issuing(self, ctx)
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
        issuance = _Issuing(self, ctx)
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


class _Issuing:
    """Builds credentials for one command, reading each micro-credential and QA cover once."""

    def __init__(self, registry: IssuanceCommands, ctx: Context) -> None:
        self.registry = registry
        self.ctx = ctx
        self.microcredentials: dict[UUID, MicroCredential] = {}
        self.covers: dict[tuple[UUID, date], QABasis | None] = {}

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
        v.optional_text("grade", row.grade, max_length=50)
        learner = personal_data(row.learner, today)
        if row.learner_id is not None and Erasure.create_id(row.learner_id) in self.registry.repository:
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
        return _Checked(microcredential, spec_version, row, learner, row.learner_id or uuid4(), basis)

    def credential(self, checked: _Checked, key: bytes) -> Credential:
        row = checked.row
        return Credential(
            stamp=self.ctx.stamp(row.issued_on),
            provider_id=checked.microcredential.provider_id,
            microcredential_id=checked.microcredential.id,
            spec_version=checked.spec_version,
            learner=seal(checked.learner_id, checked.learner, key),
            grade=v.optional_text("grade", row.grade, max_length=50),
            valid_until=row.valid_until,
            qa_basis=checked.basis,
        )


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
    )
