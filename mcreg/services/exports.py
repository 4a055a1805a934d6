"""What the registry signs on its issuers' behalf: credential exports, status lists, and the keys that sign them.

``CredentialExports`` gathers what a credential states, as recorded at issue
(the provider as it was named then, the specification version, the ``Issued``
event's time of record as the proof's ``created``, or the signing key's
``valid_from`` when that is later), for a caller who may export it: only the
issuing provider, the operator and the national authority of the provider's
country, since the documents carry the learner's name. It renders them with
``mcreg.services.documents`` and ``mcreg.services.elm``: the Open Badges 3.0 / VC 2.0 credential signed by
the provider's key (made by the command that accredited it or issued its first
credential: an export only reads) with either cryptosuite, ``EXPORT_CRYPTOSUITE``
unless the caller asks for the other; the ELM one unsigned. Exporting again
gives the same bytes while the provider's key is the same.

It also signs an issuer's status lists from the ``issuer_status_lists`` read
model, dated from when their bits last changed, and says how an issuer's keys
are published (``PublishedKey``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from mcreg.projections.read_models import ReadModels
from mcreg.projections.status_lists import StatusListsView, StatusPlace
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.issuer_keys import IssuerKey, KeyStatus, whole_second
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.review import Review
from mcreg.registry.application import Registry
from mcreg.registry.errors import StateConflict
from mcreg.registry.permissions import require_private
from mcreg.registry.quality import BasisKind, QABasis
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import Cryptosuite, add_proof
from mcreg.registry.vocabulary import Role
from mcreg.services.documents import (
    Awarding,
    QualityAssurance,
    open_badge_credential,
    status_list_document,
    xsd_datetime,
)
from mcreg.services.elm import elm_credential
from mcreg.stores.issuer_keys import IssuerKeyStore

EXPORT_CRYPTOSUITE = Cryptosuite.EDDSA_RDFC_2022
"""What credentials and status lists are signed with unless the caller asks for the other cryptosuite."""
RETRY_AFTER_SECONDS = 1
"""How long to wait for the status lists to place a credential just issued (they follow within milliseconds)."""


def quality_assurance(
    registry: Registry, basis: QABasis | None, provider_country: str, at: datetime
) -> QualityAssurance | None:
    """The decision ``basis`` names, at the version the issuance relied on (the agency as recorded at ``at``)."""
    if basis is None:
        return None
    if basis.kind == BasisKind.ACCREDITATION:
        accreditation = registry.get(Accreditation, basis.id, basis.version)
        agency_id = accreditation.agency_id
        local_identifier, decided_on = accreditation.local_identifier, accreditation.decided_on
        decision, valid_from, valid_to = accreditation.outcome, accreditation.valid_from, accreditation.valid_to
        report_url = accreditation.report_url
    else:
        review = registry.get(Review, basis.id, basis.version)
        if review.decision is None or review.decided_on is None:
            return None
        agency_id, local_identifier, decided_on = review.agency_id, review.local_identifier, review.decided_on
        decision, valid_from, valid_to = review.decision.decision, review.decision.valid_from, review.decision.valid_to
        report_url = review.report.url if review.report else None
    agency = registry.known_at(Agency, agency_id, at) if agency_id is not None else None
    return QualityAssurance(
        agency_name=agency.name if agency else None,
        agency_country=agency.country if agency else provider_country,
        agency_deqar_id=agency.deqar_id if agency else None,
        local_identifier=local_identifier,
        decision=decision,
        decided_on=decided_on,
        valid_from=valid_from,
        valid_to=valid_to,
        report_url=report_url,
    )


class NotPlacedYet(StateConflict):
    """The status lists' read model has not seen the issuance yet: the export needs the credential's place."""

    def __init__(self) -> None:
        super().__init__(
            "the status lists have not placed this credential yet (they follow the log within milliseconds): retry",
            retry_after_ms=RETRY_AFTER_SECONDS * 1000,
        )


@dataclass(frozen=True)
class PublishedKey:
    """One of an issuer's signing keys as its DID document and key list publish it, with its status now."""

    key_id: str
    verification_method: str
    public_key_multibase: str
    valid_from: datetime
    retired_on: datetime | None
    compromised_since: datetime | None
    status: KeyStatus


def published_key(store: IssuerKeyStore, issuer_id: UUID, key: IssuerKey, now: datetime) -> PublishedKey:
    return PublishedKey(
        key_id=key.key_id,
        verification_method=f"{store.did(issuer_id)}#{key.key_id}",
        public_key_multibase=key.public_key_multibase,
        valid_from=key.valid_from,
        retired_on=key.retired_on,
        compromised_since=key.compromised_since,
        status=key.status_at(now),
    )


@dataclass(frozen=True)
class CredentialExports:
    """Credentials and status lists of the issuers one registry hosts, signed with the issuers' keys."""

    registry: Registry
    issuer_keys: IssuerKeyStore
    read_models: ReadModels
    public_url: str

    @property
    def status_lists(self) -> StatusListsView:
        """The ``issuer_status_lists`` read model."""
        return self.read_models.status_lists

    def status_place(self, credential_id: UUID) -> StatusPlace:
        """The credential's place on its issuer's lists; ``NotPlacedYet`` until the read model has seen it."""
        place = self.status_lists.place_of(credential_id)
        if place is None:
            raise NotPlacedYet()
        return place

    def awarding(self, actor: Actor | None, credential_id: UUID) -> Awarding:
        """What the credential states, for a caller who may export it (``Forbidden`` for anyone else)."""
        registry = self.registry
        credential = registry.get(Credential, credential_id)
        provider = registry.get(Provider, credential.provider_id)
        require_private(actor, credential.provider_id, Role.PROVIDER, "credential's export", provider.country)
        learner = registry.learner_data(credential_id)
        if learner is None:
            raise StateConflict("the learner has been forgotten: the credential can no longer be exported")
        place = self.status_place(credential_id)
        recorded_at = credential.created_on
        provider_then = registry.known_at(Provider, credential.provider_id, recorded_at)
        spec = registry.get(MicroCredential, credential.microcredential_id).specification_at(credential.spec_version)
        return Awarding(
            credential_id=credential.id,
            issued_on=credential.issued_on,
            valid_until=credential.valid_until,
            recorded_at=recorded_at,
            status_place=place,
            learner=learner,
            grade=credential.grade,
            microcredential_id=credential.microcredential_id,
            spec_version=credential.spec_version,
            spec=spec,
            provider_id=provider_then.id,
            provider_names=provider_then.names,
            provider_country=provider_then.country,
            provider_identifiers=provider_then.identifiers,
            qa_basis=credential.qa_basis,
            quality_assurance=quality_assurance(registry, credential.qa_basis, provider_then.country, recorded_at),
        )

    def signed_vc(
        self, actor: Actor | None, credential_id: UUID, cryptosuite: Cryptosuite = EXPORT_CRYPTOSUITE
    ) -> dict[str, Any]:
        """The OB3 / VC 2.0 credential signed by its provider's key now with ``cryptosuite``, ``created`` to the
        second."""
        facts = self.awarding(actor, credential_id)
        key = self.issuer_keys.signing_key(facts.provider_id)
        document = open_badge_credential(facts, self.public_url, key.did)
        created = xsd_datetime(key.created(whole_second(facts.recorded_at)))
        return add_proof(document, key.private_key, key.verification_method, cryptosuite=cryptosuite, created=created)

    def elm(self, actor: Actor | None, credential_id: UUID) -> dict[str, Any]:
        """The ELM v3 credential, unsigned: the provider seals it with its own eSeal."""
        return elm_credential(self.awarding(actor, credential_id), self.public_url)

    def signed_status_list(
        self, issuer_id: UUID, purpose: str, number: int, cryptosuite: Cryptosuite = EXPORT_CRYPTOSUITE
    ) -> dict[str, Any] | None:
        """The issuer's list credential signed with ``cryptosuite``, or None while the issuer has no such list."""
        state = self.status_lists.list_state(issuer_id, purpose, number)
        if state is None:
            return None
        key = self.issuer_keys.signing_key(issuer_id)
        document = status_list_document(
            self.public_url, issuer_id, key.did, purpose, number, state.bits, state.changed_at
        )
        created = xsd_datetime(key.created(state.changed_at), microseconds=True)
        return add_proof(document, key.private_key, key.verification_method, cryptosuite=cryptosuite, created=created)
