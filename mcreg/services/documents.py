"""The documents a credential is exported as, and its issuer's status lists: pure functions of recorded facts.

* ``open_badge_credential``: a W3C Verifiable Credential 2.0 / Open Badges 3.0
  ``OpenBadgeCredential``, unsigned (the caller adds the Data Integrity
  proof with the provider's key). The provider is the issuer, as its
  ``did:web`` hosted by the registry (``did:web:{host}:issuers:{id}``), and the
  achievement's ``creator``. Annex I elements OB3 has a term for use it
  (``name``, ``creditsAvailable``, ``fieldOfStudy``, ``alignment`` to ESCO, EQF
  and ISCED-F, ``criteria``, ``result``, the issuer's ``addressCountryCode``);
  the rest are terms of mcreg's own context (``mcreg.services.jsonld_contexts``).
  It validates against the OB3 AchievementCredential JSON Schema: one
  ``credentialStatus`` (the revocation entry; the suspension entry is at the
  same place on the issuer's suspension list, ``paired_status_entry``), and the
  achievement's ``image`` a ``data:`` URI (``badge_image``).
* ``status_list_document``: one ``BitstringStatusListCredential`` of an issuer,
  at ``/v1/status/{issuer}/{purpose}-{number}``.

Nothing here reads a clock or the registry: the same facts give the same
document, byte for byte once canonicalised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from mcreg.projections.status_lists import LIST_SIZE, StatusPlace
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.aggregates.microcredential import Specification
from mcreg.registry.aggregates.provider import ProviderIdentifiers
from mcreg.registry.quality import QABasis
from mcreg.registry.trust.status_list import (
    PURPOSES,
    Bitstring,
    StatusEntryError,
    parse_status_list_index,
    status_list_credential,
    status_list_entry,
)
from mcreg.registry.vocabulary import QADecision
from mcreg.services.badge_image import badge_image
from mcreg.services.jsonld_contexts import MCREG_CONTEXT_URL

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
KNOWN_CONTEXTS = (VC_CONTEXT, OB3_CONTEXT, MCREG_CONTEXT_URL)
"""The contexts of the registry's signed documents: a verifier knows them by heart and fetches no other."""

STATUS_LIST_TTL_MS = 300_000
"""``ttl`` of a status list (milliseconds, as the Recommendation counts): verifiers may cache a list 5 minutes."""

REGISTRY_NAME = "Micro-credential registry"


@dataclass(frozen=True)
class QualityAssurance:
    """The QA decision an issuance relied on, as recorded at the version it relied on."""

    agency_name: str | None  # None: the provider's national authority granted the accreditation
    agency_country: str
    agency_deqar_id: str | None
    local_identifier: str | None  # the deciding body's own identifier of its report
    decision: QADecision
    decided_on: date
    valid_from: date
    valid_to: date
    report_url: str | None


@dataclass(frozen=True)
class Awarding:
    """Everything an exported credential states, as recorded when it was issued."""

    credential_id: UUID
    issued_on: date
    valid_until: date | None
    recorded_at: datetime  # the Issued event's time of record: the proof's ``created`` (or the key's valid_from)
    status_place: StatusPlace  # the credential's place on its issuer's status lists
    learner: PersonalData  # unsealed for a caller who may see it
    grade: str | None
    microcredential_id: UUID
    spec_version: int
    spec: Specification
    provider_id: UUID
    provider_names: Mapping[str, str]  # as the provider was named on the issue date
    provider_country: str
    provider_identifiers: ProviderIdentifiers
    qa_basis: QABasis | None
    quality_assurance: QualityAssurance | None  # the decision ``qa_basis`` names, where it is recorded


# --- names and formats ---------------------------------------------------------------------------------------------


def xsd_datetime(moment: datetime | date, *, microseconds: bool = False) -> str:
    """An XML Schema ``dateTimeStamp`` in UTC, e.g. ``2024-03-01T00:00:00Z`` (a date: its midnight), to the second
    unless ``microseconds`` are asked for."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), UTC)
    moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds" if microseconds else "seconds") + "Z"


def credential_urn(credential_id: UUID) -> str:
    return f"urn:uuid:{credential_id}"


def credential_id_of(document: Mapping[str, Any]) -> UUID | None:
    """The registry's credential id in a presented VC's ``id``, if it is one of ours in form."""
    value = document.get("id")
    if not isinstance(value, str) or not value.startswith("urn:uuid:"):
        return None
    try:
        return UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def base_url(public_url: str) -> str:
    return public_url.rstrip("/")


MAX_LIST_NUMBER = 2**31 - 1


def list_name(purpose: str, number: int) -> str:
    """A list's name in its URL: ``revocation-0``, ``suspension-3``."""
    return f"{purpose}-{number}"


def parse_list_name(name: str) -> tuple[str, int] | None:
    """The purpose and number a list name holds, or None if it is no list name."""
    purpose, _, number = name.partition("-")
    if purpose not in PURPOSES or not number.isascii() or not number.isdigit() or len(number) > 10:
        return None
    if number != str(int(number)) or int(number) > MAX_LIST_NUMBER:  # one spelling per list: no leading zeros
        return None
    return purpose, int(number)


def status_list_url(public_url: str, issuer_id: UUID, purpose: str, number: int) -> str:
    return f"{base_url(public_url)}/v1/status/{issuer_id}/{list_name(purpose, number)}"


def parse_status_list_url(public_url: str, url: object) -> tuple[UUID, str, int] | None:
    """The issuer, purpose and number of one of this registry's status lists, or None for any other URL."""
    prefix = f"{base_url(public_url)}/v1/status/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    issuer, _, name = url.removeprefix(prefix).partition("/")
    try:
        issuer_id = UUID(issuer) if len(issuer) == 36 else None
    except ValueError:
        issuer_id = None
    place = parse_list_name(name)
    if issuer_id is None or place is None:
        return None
    return issuer_id, *place


def pick(texts: Mapping[str, str], languages: tuple[str, ...]) -> str:
    """The text in the first of ``languages`` there is one in, else English, else the first language's by code."""
    for language in (*languages, "en", *sorted(texts)):
        if language in texts:
            return texts[language]
    return ""


def _number(value: Decimal) -> int | float:
    """A JSON number for a Decimal: integral values as integers (JCS writes 5, not 5.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def plain_decimal(value: Decimal) -> str:
    """A Decimal without trailing zeros: ``5.00`` as ``5``, ``2.50`` as ``2.5``."""
    return format(value.normalize(), "f")


def words(value: str) -> str:
    return value.replace("_", " ")


# --- Open Badges 3.0 ------------------------------------------------------------------------------------------------


def _provider_profile(awarding: Awarding, public_url: str, issuer_did: str) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": issuer_did,
        "type": ["Profile"],
        "name": pick(awarding.provider_names, awarding.spec.languages),
        "url": f"{base_url(public_url)}/v1/providers/{awarding.provider_id}",
        "address": {"type": ["Address"], "addressCountryCode": awarding.provider_country},
    }
    identifiers = [
        {"type": "IdentifierEntry", "identifier": value, "identifierType": f"ext:{scheme}"}
        for scheme, value in identifier_schemes(awarding.provider_identifiers)
    ]
    if identifiers:
        profile["otherIdentifier"] = identifiers
    return profile


def identifier_schemes(identifiers: ProviderIdentifiers) -> list[tuple[str, str]]:
    schemes = (
        ("DEQAR", identifiers.deqar_id),
        ("ETER", identifiers.eter_id),
        ("SCHAC", identifiers.schac),
        ("ErasmusCode", identifiers.erasmus_code),
    )
    return [(scheme, value) for scheme, value in schemes if value]


def _alignments(spec: Specification) -> list[dict[str, Any]]:
    alignments = [
        {
            "type": ["Alignment"],
            "targetName": outcome.text,
            "targetUrl": outcome.esco_uri,
            "targetFramework": "ESCO",
            "targetType": "ceasn:Competency",
        }
        for outcome in spec.learning_outcomes
        if outcome.esco_uri
    ]
    if spec.eqf_level is not None:
        alignments.append(
            {
                "type": ["Alignment"],
                "targetName": f"EQF level {spec.eqf_level}",
                "targetUrl": f"http://data.europa.eu/snb/eqf/{spec.eqf_level}",
                "targetCode": str(spec.eqf_level),
                "targetFramework": "European Qualifications Framework",
                "targetType": "ext:EQFLevel",
            }
        )
    alignments.append(
        {
            "type": ["Alignment"],
            "targetName": f"ISCED-F 2013 field {spec.isced_field}",
            "targetUrl": f"http://data.europa.eu/snb/isced-f/{spec.isced_field}",
            "targetCode": spec.isced_field,
            "targetFramework": "ISCED-F 2013",
            "targetType": "ext:ISCEDField",
        }
    )
    return alignments


def qa_decision_url(basis: QABasis, public_url: str) -> str:
    """Where the registry publishes the QA decision an issuance relied on."""
    collection = "accreditations" if basis.kind == "accreditation" else "reviews"
    return f"{base_url(public_url)}/v1/{collection}/{basis.id}"


def _achievement(awarding: Awarding, public_url: str, title: str, creator: dict[str, Any]) -> dict[str, Any]:
    spec = awarding.spec
    level = f" at EQF level {spec.eqf_level}" if spec.eqf_level is not None else ""
    outcomes = "\n".join(f"- {outcome.text}" for outcome in spec.learning_outcomes)
    achievement: dict[str, Any] = {
        "id": f"{base_url(public_url)}/v1/microcredentials/{awarding.microcredential_id}"
        f"#specification-{awarding.spec_version}",
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": title,
        "description": f"A micro-credential of {plain_decimal(spec.ects)} ECTS{level}, {words(spec.participation)}, "
        f"assessed by {words(spec.assessment)}.",
        "criteria": {"narrative": f"Learning outcomes:\n{outcomes}"},
        "image": badge_image(title, f"{plain_decimal(spec.ects)} ECTS", spec.eqf_level),
        "creditsAvailable": _number(spec.ects),
        "fieldOfStudy": spec.isced_field,
        "inLanguage": spec.languages[0],
        "alignment": _alignments(spec),
        "creator": creator,
        "version": str(awarding.spec_version),
        # Annex I elements OB3 has no term for: terms of mcreg's context.
        "assessmentType": str(spec.assessment),
        "participationForm": str(spec.participation),
        "qualityAssuranceType": str(spec.qa_type),
    }
    if awarding.qa_basis is not None:
        achievement["qualityAssuranceDecision"] = qa_decision_url(awarding.qa_basis, public_url)
    optional = {
        "supervision": spec.supervision and str(spec.supervision),
        "prerequisites": spec.prerequisites,
        "stackability": str(spec.stackability),
        "stackableTowards": spec.stackable_towards,
        "furtherInformation": spec.further_information,
    }
    achievement.update((name, value) for name, value in optional.items() if value)
    return achievement


def open_badge_credential(awarding: Awarding, public_url: str, issuer_did: str) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` of an issued credential, issued by the provider as ``issuer_did``."""
    spec = awarding.spec
    title = pick(spec.title, spec.languages)
    provider = _provider_profile(awarding, public_url, issuer_did)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityHash": awarding.learner.name, "identityType": "name", "hashed": False}
        ],
        "achievement": _achievement(awarding, public_url, title, provider),
        "creditsEarned": _number(spec.ects),
    }
    if awarding.grade:
        subject["result"] = [{"type": ["Result"], "value": awarding.grade}]
    issued = xsd_datetime(awarding.issued_on)
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB3_CONTEXT, MCREG_CONTEXT_URL],
        "id": credential_urn(awarding.credential_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": title,
        "description": f"{title}, awarded by {provider['name']} ({awarding.provider_country}) "
        f"and recorded in the {REGISTRY_NAME.lower()}.",
        "issuer": provider,
        "validFrom": issued,
        "awardedDate": issued,
    }
    if awarding.valid_until is not None:
        credential["validUntil"] = xsd_datetime(awarding.valid_until)
    credential["credentialSubject"] = subject
    credential["credentialStatus"] = credential_status(awarding.status_place, public_url)
    return credential


def credential_status(place: StatusPlace, public_url: str) -> dict[str, Any]:
    """The credential's ``BitstringStatusListEntry`` on its issuer's revocation list: OB3 gives a credential one
    status, and the credential is at the same place on the issuer's suspension list (``paired_status_entry``)."""
    return status_entry(public_url, place.issuer_id, "revocation", place.number, place.index)


def status_entry(public_url: str, issuer_id: UUID, purpose: str, number: int, index: int) -> dict[str, Any]:
    """The ``BitstringStatusListEntry`` at ``index`` of the issuer's ``purpose`` list number ``number``."""
    return status_list_entry(status_list_url(public_url, issuer_id, purpose, number), index, purpose)


def paired_status_entry(public_url: str, entry: Mapping[str, Any], purpose: str) -> dict[str, Any] | None:
    """The entry at the same place as ``entry`` (one of this registry's lists) on the issuer's ``purpose`` list, or
    None when ``entry`` names no list of this registry's: a credential names its revocation entry only."""
    place = parse_status_list_url(public_url, entry.get("statusListCredential"))
    value = entry.get("statusListIndex")
    if place is None or not isinstance(value, str):
        return None
    issuer_id, _, number = place
    try:
        index = parse_status_list_index(value)
    except StatusEntryError:
        return None
    return status_entry(public_url, issuer_id, purpose, number, index)


# --- status lists ---------------------------------------------------------------------------------------------------


def status_list_document(
    public_url: str,
    issuer_id: UUID,
    issuer_did: str,
    purpose: str,
    number: int,
    bits: list[int],
    changed_at: datetime,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` of one of an issuer's lists: valid from its last change (to
    the microsecond, so that later versions of a list sort later), cacheable for ``ttl``."""
    bitstring = Bitstring(LIST_SIZE)
    for bit in bits:
        bitstring.set(bit)
    return status_list_credential(
        status_list_url(public_url, issuer_id, purpose, number),
        issuer_did,
        purpose,
        bitstring,
        valid_from=xsd_datetime(changed_at, microseconds=True),
        ttl=STATUS_LIST_TTL_MS,
    )
