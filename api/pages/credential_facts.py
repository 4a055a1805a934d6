"""What the verification and credential pages show of a credential the registry holds: the micro-credential, its
provider, its dates and status, and the QA chain behind it (the decision it relied on, who took it, where both stand).

Facts, not sentences: the templates word them. Nothing here is the learner's. A page asked about a credential the
registry does not hold answers a 404 page (``recorded``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from mcreg.api.pages.errors import PageError
from mcreg.api.pages.languages import Language
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import CredentialStanding, Registry
from mcreg.registry.errors import NotFound
from mcreg.registry.quality import BasisKind
from mcreg.registry.vocabulary import Standing


@dataclass(frozen=True)
class QAChain:
    """The QA decision a credential relied on when it was issued, the agency that took it, and where they stand.

    ``agency`` is None when a national authority granted the accreditation itself."""

    kind: BasisKind
    decision_id: UUID
    outcome: str | None
    decided_on: date | None
    valid_from: date | None
    valid_to: date | None
    withdrawn_on: date | None
    agency: Agency | None
    agency_in_good_standing: bool
    at_issue: Standing
    as_of: Standing


@dataclass(frozen=True)
class CredentialFacts:
    """A recorded credential's public facts on one business date (``standing.as_of``)."""

    standing: CredentialStanding
    title: dict[str, str]
    ects: Decimal
    eqf_level: int | None
    isced_field: str
    provider: Provider
    qa: QAChain | None

    @property
    def credential(self) -> Credential:
        return self.standing.credential


def qa_chain(registry: Registry, standing: CredentialStanding) -> QAChain | None:
    """The chain behind ``standing``'s credential: None when it relied on no decision."""
    basis = standing.credential.qa_basis
    if basis is None:
        return None
    decision = registry.basis_decision(basis, standing.known_at)
    outcome: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    if isinstance(decision, Accreditation):
        outcome, valid_from, valid_to = decision.outcome, decision.valid_from, decision.valid_to
    elif decision.decision is not None:  # a review's decision, unless it is still open
        outcome, valid_from, valid_to = (
            decision.decision.decision,
            decision.decision.valid_from,
            decision.decision.valid_to,
        )
    agency = registry.known_at(Agency, decision.agency_id, standing.known_at) if decision.agency_id else None
    return QAChain(
        kind=basis.kind,
        decision_id=basis.id,
        outcome=outcome,
        decided_on=decision.decided_on,
        valid_from=valid_from,
        valid_to=valid_to,
        withdrawn_on=decision.withdrawn_on,
        agency=agency,
        agency_in_good_standing=agency is None or agency.in_good_standing(standing.as_of),
        at_issue=standing.qa_at_issue.standing,
        as_of=standing.qa_as_of.standing,
    )


def credential_facts(registry: Registry, credential_id: UUID, as_of: date | None = None) -> CredentialFacts | None:
    """The public facts of a credential on ``as_of`` (today if None); None if the registry holds no such credential."""
    try:
        standing = registry.credential_standing(credential_id, as_of)
    except NotFound:
        return None
    credential = standing.credential
    spec = registry.get(MicroCredential, credential.microcredential_id).specification_at(credential.spec_version)
    return CredentialFacts(
        standing=standing,
        title=spec.title,
        ects=spec.ects,
        eqf_level=spec.eqf_level,
        isced_field=spec.isced_field,
        provider=registry.get(Provider, credential.provider_id),
        qa=qa_chain(registry, standing),
    )


def recorded(registry: Registry, credential_id: str, language: Language) -> CredentialFacts:
    """The facts of the credential a page's path names; an unknown id, or one that is not an id, is a 404 page."""
    try:
        facts = credential_facts(registry, UUID(credential_id))
    except ValueError:
        facts = None
    if facts is None:
        no_such = language.gettext("The registry holds no credential with this id.")
        raise PageError(404, language.gettext("No such credential"), no_such)
    return facts
