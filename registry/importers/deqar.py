"""Import of QA reports in DEQAR's submission format (parsed by ``registry.importers.deqar_format``).

``import_reports`` records what the registry has a place for:

- the calling QA agency imports only its own reports (the ``agency`` field
  names it by acronym, name or DEQAR id);
- each institution is found by DEQAR id, then ETER id, then official name in
  its country, else registered by the agency;
- a positive report (with or without conditions) becomes one accreditation
  per institution: an institutional report covers micro-credentials at the
  institution's QF-EHEA cycles, a programme or joint-programme report covers
  its programmes' cycles and no micro-credentials;
- a negative or not-applicable report is refused: the registry records
  accreditations only on a positive outcome.

Every write is a registry command with an idempotency key derived from the
report's ``local_identifier`` and the step, so importing the same file again
writes nothing and a changed report under the same identifier is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from uuid import UUID

from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.identifiers import Scheme
from mcreg.registry.aggregates.provider import Provider, ProviderIdentifiers
from mcreg.registry.aggregates.receipt import Receipt
from mcreg.registry.application import DEFAULT_VALIDITY, Registry
from mcreg.registry.errors import DomainError, Forbidden, IdempotencyKeyReused, InvalidInput, StateConflict
from mcreg.registry.importers.deqar_format import DeqarReport, Institution, agency_reference, parse_report
from mcreg.registry.permissions import require_role
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import QA_COVER, ESGActivity, QADecision, Role

HIGHER_EDUCATION_LEVELS = (5, 6, 7, 8)
"""The EQF levels of the four QF-EHEA cycles: the scope when a report names none."""

CONDITIONS_TEXT = "the conditions or restrictions stated in the QA report"
"""DEQAR has no structured conditions; a conditional decision points at the report, due by the end of validity."""


# Finding institutions ----------------------------------------------------------------


def find_provider(registry: Registry, agency_id: UUID, institution: Institution, path: str) -> UUID | None:
    """The provider a DEQAR institution reference names, None if the registry holds none.

    By DEQAR id (the provider's own id), then ETER id, then the agency's own
    identifier for it, then its names in its country: each one read, never a
    scan (``registry/aggregates/identifiers.py``). ``InvalidInput`` if the reference is
    contradictory or ambiguous.
    """
    by_eter = registry.provider_by(Scheme.ETER, institution.eter_id) if institution.eter_id else None
    if institution.deqar_id:
        provider_id = Provider.create_id(ProviderIdentifiers(deqar_id=institution.deqar_id))
        if provider_id in registry.repository:
            if by_eter is not None and by_eter != provider_id:
                raise InvalidInput(f"{path}.eter_id", "names another provider than deqar_id")
            return provider_id
    if by_eter is not None:
        if not _compatible(registry.get(Provider, by_eter).identifiers, institution):
            raise InvalidInput(f"{path}.eter_id", "names another provider than deqar_id")
        return by_eter
    for local in institution.local_identifiers:
        if (found := registry.provider_by(Scheme.AGENCY_LOCAL, local, agency_id)) is not None:
            return found
    if institution.country is None:
        return None
    candidates = {
        provider_id
        for name in (institution.name_official, institution.name_english)
        if name
        for provider_id in registry.providers_named(institution.country, name)
        if _compatible(registry.get(Provider, provider_id).identifiers, institution)
    }
    if len(candidates) > 1:
        raise InvalidInput(f"{path}.name_official", "matches several providers; name the institution by its deqar_id")
    return next(iter(candidates), None)


def _compatible(held: ProviderIdentifiers, institution: Institution) -> bool:
    """A provider found by name is not one whose DEQAR or ETER id differs from the reference's."""
    return not (
        (institution.deqar_id and held.deqar_id and held.deqar_id.upper() != institution.deqar_id)
        or (institution.eter_id and held.eter_id and held.eter_id.upper() != institution.eter_id)
    )


# Importing ---------------------------------------------------------------------------


class ImportStatus(StrEnum):
    CREATED = "created"  # something was written for the report
    UNCHANGED = "unchanged"  # the report was imported before, exactly so: nothing was written
    REFUSED = "refused"  # nothing was written; ``error`` says why


@dataclass(frozen=True)
class ReportError:
    type: str  # the error's stable slug (``invalid-input``, ``forbidden``, ``idempotency-key-reused``, ...)
    detail: str
    field: str | None = None
    rule: str | None = None

    @classmethod
    def of(cls, error: DomainError) -> ReportError:
        return cls(
            type=error.type,
            detail=error.detail,
            field=getattr(error, "field", None) or error.extensions.get("field"),
            rule=getattr(error, "rule", None) or error.extensions.get("rule"),
        )


@dataclass(frozen=True)
class ReportResult:
    """What became of one report of an import."""

    index: int
    local_identifier: str | None
    status: ImportStatus
    provider_ids: tuple[UUID, ...] = ()  # the providers the report is about, in the report's order
    registered_provider_ids: tuple[UUID, ...] = ()  # those this import registered
    accreditation_ids: tuple[UUID, ...] = ()  # one per institution
    error: ReportError | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "local_identifier": self.local_identifier,
            "status": self.status.value,
            "provider_ids": [str(i) for i in self.provider_ids],
            "registered_provider_ids": [str(i) for i in self.registered_provider_ids],
            "accreditation_ids": [str(i) for i in self.accreditation_ids],
            "error": None if self.error is None else self.error.__dict__.copy(),
        }


def import_reports(
    registry: Registry,
    actor: Actor,
    reports: Sequence[Mapping[str, Any]] | Mapping[str, Any],
) -> list[ReportResult]:
    """Import DEQAR reports written by the calling QA agency; one result per report, in order.

    A refused report does not stop the others. The caller must be a registered
    QA agency (``Forbidden`` / ``NotFound`` / ``StateConflict`` otherwise, for the
    whole import). A single report object is taken as a list of one.
    """
    require_role(actor, Role.QA_AGENCY)
    agency = registry.get(Agency, actor.org)
    agency.check_registered()
    if isinstance(reports, Mapping):
        reports = [reports]
    if not isinstance(reports, Sequence) or isinstance(reports, str | bytes):
        raise InvalidInput("reports", "must be a list of DEQAR report objects")
    importer = _Importer(registry, actor, agency)
    return [importer.run(index, data) for index, data in enumerate(reports)]


@dataclass(frozen=True)
class _Target:
    """One institution of a report: the provider found, or what to register; and the accreditation to grant."""

    index: int
    provider_id: UUID | None
    country: str
    institution: Institution
    local_identifier: str


class _Importer:
    def __init__(self, registry: Registry, actor: Actor, agency: Agency) -> None:
        self.registry = registry
        self.actor = actor
        self.agency = agency
        self.today = registry.today()

    def run(self, index: int, data: Any) -> ReportResult:
        local_identifier = data.get("local_identifier") if isinstance(data, Mapping) else None
        local_identifier = local_identifier if isinstance(local_identifier, str) else None
        try:
            if isinstance(data, Mapping):
                self.check_own(f"reports[{index}].agency", agency_reference(f"reports[{index}].", data))
            return self.record(index, parse_report(data, index))
        except IdempotencyKeyReused:
            error = IdempotencyKeyReused(
                f"report {local_identifier} was imported before with other content; an imported report is not "
                "updated: give a changed report a new local_identifier, or renew or withdraw its accreditation",
                field=f"reports[{index}].local_identifier",
            )
            return ReportResult(index, local_identifier, ImportStatus.REFUSED, error=ReportError.of(error))
        except DomainError as error:
            return ReportResult(index, local_identifier, ImportStatus.REFUSED, error=ReportError.of(error))

    def check_own(self, path: str, reference: str) -> None:
        wanted = reference.casefold()
        own = (self.agency.acronym, self.agency.name, self.agency.deqar_id)
        if not any(name and name.strip().casefold() == wanted for name in own):
            raise Forbidden(
                f"{path} names {reference}: an agency imports only its own reports", rule="own-reports", field=path
            )

    def record(self, index: int, report: DeqarReport) -> ReportResult:
        """Check everything a write could refuse, then grant (registering unknown institutions first)."""
        p = f"reports[{index}]"
        if report.decision not in QA_COVER:
            raise InvalidInput(
                f"{p}.decision",
                "must be positive, or positive with conditions or restrictions: the registry records only "
                "accreditations on a positive outcome",
            )
        activities = self.agency.esg_activities
        if activities and report.activity_type not in activities:
            raise InvalidInput(
                f"{p}.activity",
                f"is a {report.activity_type.value} activity, for which the agency is not registered",
            )
        targets = self.targets(p, report)
        # Accreditations of providers the registry holds go first: a changed report is refused there,
        # before it registers anything.
        ordered = sorted(targets, key=lambda t: t.provider_id is None)
        provider_ids: dict[int, UUID] = {}
        registered: list[UUID] = []
        accreditation_ids: dict[int, UUID] = {}
        wrote = False
        for target in ordered:
            provider_id = target.provider_id
            if provider_id is None:
                provider_id, new = self.register(report, target)
                wrote |= new
                registered += [provider_id] if new else []
            provider_ids[target.index] = provider_id
            accreditation_ids[target.index], new = self.grant(report, target, provider_id)
            wrote |= new
        return ReportResult(
            index=index,
            local_identifier=report.local_identifier,
            status=ImportStatus.CREATED if wrote else ImportStatus.UNCHANGED,
            provider_ids=tuple(provider_ids[t.index] for t in targets),
            registered_provider_ids=tuple(registered),
            accreditation_ids=tuple(accreditation_ids[t.index] for t in targets),
        )

    def targets(self, p: str, report: DeqarReport) -> list[_Target]:
        targets: list[_Target] = []
        several = len(report.institutions) > 1
        for j, institution in enumerate(report.institutions):
            path = f"{p}.institutions[{j}]"
            provider_id = find_provider(self.registry, self.agency.id, institution, path)
            if provider_id is not None:
                provider = self.registry.get(Provider, provider_id)
                if provider.closed_on is not None and not self.replays(self.grant_key(report, j)):
                    raise StateConflict(f"{path} names a closed provider", field=path)
                if any(t.provider_id == provider_id for t in targets):
                    raise InvalidInput(path, "names the same provider as another institution of the report")
                country = provider.country
            elif institution.country is None or not institution.names():
                given = "deqar_id" if institution.deqar_id else "eter_id" if institution.eter_id else "identifiers"
                raise InvalidInput(
                    f"{path}.{given}",
                    "names no provider the registry holds; give name_official and locations to register it",
                )
            else:
                country = institution.country
            local_identifier = f"{report.local_identifier}#{j + 1}" if several else report.local_identifier
            targets.append(_Target(j, provider_id, country, institution, local_identifier))
        for target in targets:
            decided_on = self.decided_on(report, target)
            if not self.agency.in_good_standing(decided_on) and not self.replays(self.grant_key(report, target.index)):
                raise StateConflict(
                    f"the agency was not in good standing on {decided_on.isoformat()}, the date the report is "
                    "recorded as decided (its valid_from, or the day of its first import if that was earlier)",
                    field=f"{p}.valid_from",
                )
        return targets

    def key(self, report: DeqarReport, step: str) -> str:
        return f"deqar/{quote(report.local_identifier, safe='')}/{step}"

    def grant_key(self, report: DeqarReport, index: int) -> str:
        return self.key(report, f"accreditation/{index + 1}")

    def replays(self, key: str) -> bool:
        return Receipt.create_id(self.actor.org, key) in self.registry.repository

    def register(self, report: DeqarReport, target: _Target) -> tuple[UUID, bool]:
        institution = target.institution
        key = self.key(report, f"institution/{target.index + 1}")
        replay = self.replays(key)
        names = institution.names()
        identifiers = ProviderIdentifiers(deqar_id=institution.deqar_id, eter_id=institution.eter_id)
        provider_id: UUID = self.registry.register_provider(
            self.actor,
            names=names,
            country=target.country,
            deqar_id=identifiers.deqar_id,
            eter_id=identifiers.eter_id,
            idempotency_key=key,
        )
        for n, local in enumerate(institution.local_identifiers):
            self.registry.claim_local_identifier(
                self.actor, provider_id, identifier=local, idempotency_key=self.key(report, f"identifier/{n + 1}")
            )
        return provider_id, not replay

    def decided_on(self, report: DeqarReport, target: _Target) -> date:
        """DEQAR gives no decision date: the start of validity (today if it lies ahead), as first recorded."""
        accreditation_id = Accreditation.create_id(self.actor.org, target.local_identifier)
        if accreditation_id in self.registry.repository:
            return self.registry.get(Accreditation, accreditation_id).decided_on
        return min(report.valid_from, self.today)

    def grant(self, report: DeqarReport, target: _Target, provider_id: UUID) -> tuple[UUID, bool]:
        institutional = report.activity_type == ESGActivity.INSTITUTIONAL
        levels = target.institution.eqf_levels if institutional else report.eqf_levels
        conditions = []
        if report.decision == QADecision.POSITIVE_WITH_CONDITIONS:
            conditions.append((CONDITIONS_TEXT, report.valid_to or report.valid_from + DEFAULT_VALIDITY))
        key = self.grant_key(report, target.index)
        replay = self.replays(key)
        accreditation_id: UUID = self.registry.grant_accreditation(
            self.actor,
            provider_id=provider_id,
            outcome=report.decision.value,
            valid_from=report.valid_from,
            valid_to=report.valid_to,
            local_identifier=target.local_identifier,
            eqf_levels=list(levels or HIGHER_EDUCATION_LEVELS),
            jurisdictions=[target.country],
            micro_credentials=institutional,
            conditions=conditions,
            report_url=report.report_url,
            decided_on=self.decided_on(report, target),
            idempotency_key=key,
        )
        return accreditation_id, not replay
