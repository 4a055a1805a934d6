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
* ``elm_credential``: the same facts as a European Learning Model v3
  ``EuropeanDigitalCredential``, shaped like the EDC micro-credential sample.
  Unsigned, with the provider as issuer: the provider seals it with its own
  eSeal (EDC signs with JAdES, not Data Integrity).
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

import pycountry

from mcreg.projections.status_lists import LIST_SIZE, StatusPlace
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
from mcreg.services.badge_image import badge_image
from mcreg.services.jsonld_contexts import MCREG_CONTEXT_URL

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
KNOWN_CONTEXTS = (VC_CONTEXT, OB3_CONTEXT, MCREG_CONTEXT_URL)
"""The contexts of the registry's signed documents: a verifier knows them by heart and fetches no other."""
ELM_CONTEXT = ("https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap")

STATUS_LIST_TTL_MS = 300_000
"""``ttl`` of a status list (milliseconds, as the Recommendation counts): verifiers may cache a list 5 minutes."""

REGISTRY_NAME = "Micro-credential registry"


@dataclass(frozen=True)
class Awarding:
    """Everything an exported credential states, as recorded when it was issued."""

    credential_id: UUID
    issued_on: date
    valid_until: date | None
    recorded_at: datetime  # the Issued event's time of record: the proof's ``created`` (or the key's valid_from)
    status_place: StatusPlace  # the credential's place on its issuer's status lists
    learner_name: str
    learner_birth_date: date | None
    grade: str | None
    microcredential_id: UUID
    spec_version: int
    spec: Specification
    provider_id: UUID
    provider_names: Mapping[str, str]  # as the provider was named on the issue date
    provider_country: str
    provider_identifiers: ProviderIdentifiers
    qa_basis: QABasis | None


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


def _base(public_url: str) -> str:
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
    return f"{_base(public_url)}/v1/status/{issuer_id}/{list_name(purpose, number)}"


def parse_status_list_url(public_url: str, url: object) -> tuple[UUID, str, int] | None:
    """The issuer, purpose and number of one of this registry's status lists, or None for any other URL."""
    prefix = f"{_base(public_url)}/v1/status/"
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


def _pick(texts: Mapping[str, str], languages: tuple[str, ...]) -> str:
    """The text in the first of ``languages`` there is one in, else English, else the first language's by code."""
    for language in (*languages, "en", *sorted(texts)):
        if language in texts:
            return texts[language]
    return ""


def _number(value: Decimal) -> int | float:
    """A JSON number for a Decimal: integral values as integers (JCS writes 5, not 5.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(value: Decimal) -> str:
    """A Decimal without trailing zeros: ``5.00`` as ``5``, ``2.50`` as ``2.5``."""
    return format(value.normalize(), "f")


def _words(value: str) -> str:
    return value.replace("_", " ")


# --- Open Badges 3.0 ------------------------------------------------------------------------------------------------


def _provider_profile(awarding: Awarding, public_url: str, issuer_did: str) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": issuer_did,
        "type": ["Profile"],
        "name": _pick(awarding.provider_names, awarding.spec.languages),
        "url": f"{_base(public_url)}/v1/providers/{awarding.provider_id}",
        "address": {"type": ["Address"], "addressCountryCode": awarding.provider_country},
    }
    identifiers = [
        {"type": "IdentifierEntry", "identifier": value, "identifierType": f"ext:{scheme}"}
        for scheme, value in _identifiers(awarding.provider_identifiers)
    ]
    if identifiers:
        profile["otherIdentifier"] = identifiers
    return profile


def _identifiers(identifiers: ProviderIdentifiers) -> list[tuple[str, str]]:
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


def _qa_decision_url(basis: QABasis | None, public_url: str) -> str | None:
    if basis is None:
        return None
    collection = "accreditations" if basis.kind == "accreditation" else "reviews"
    return f"{_base(public_url)}/v1/{collection}/{basis.id}"


def _achievement(awarding: Awarding, public_url: str, title: str, creator: dict[str, Any]) -> dict[str, Any]:
    spec = awarding.spec
    level = f" at EQF level {spec.eqf_level}" if spec.eqf_level is not None else ""
    outcomes = "\n".join(f"- {outcome.text}" for outcome in spec.learning_outcomes)
    achievement: dict[str, Any] = {
        "id": f"{_base(public_url)}/v1/microcredentials/{awarding.microcredential_id}"
        f"#specification-{awarding.spec_version}",
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": title,
        "description": f"A micro-credential of {_decimal(spec.ects)} ECTS{level}, {_words(spec.participation)}, "
        f"assessed by {_words(spec.assessment)}.",
        "criteria": {"narrative": f"Learning outcomes:\n{outcomes}"},
        "image": badge_image(title, f"{_decimal(spec.ects)} ECTS", spec.eqf_level),
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
    if decision := _qa_decision_url(awarding.qa_basis, public_url):
        achievement["qualityAssuranceDecision"] = decision
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
    title = _pick(spec.title, spec.languages)
    provider = _provider_profile(awarding, public_url, issuer_did)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityHash": awarding.learner_name, "identityType": "name", "hashed": False}
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


# --- European Learning Model v3 -------------------------------------------------------------------------------------

_COUNTRY_SCHEME = "http://publications.europa.eu/resource/authority/country"
_LANGUAGE_SCHEME = "http://publications.europa.eu/resource/authority/language"
_MODES = {  # Europass "Mode of learning and assessment" (http://data.europa.eu/snb/learning-assessment/25831c2)
    "online": ("920fbb3cbe", "Online"),
    "onsite": ("9191af2ed9", "Presential"),
    "blended": ("e92d221e4d", "Blended"),
}
_SUPERVISION = {  # Europass "Supervision and verification" concepts known for sure; others become notes
    "unsupervised_no_identity_verification": ("c598449d64", "Unsupervised without ID Verification"),
}


def _concept(id: str, scheme: str, label: str | None = None, notation: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"id": id, "type": "Concept", "inScheme": {"id": scheme, "type": "ConceptScheme"}}
    if notation:
        concept["notation"] = notation
    if label:
        concept["prefLabel"] = {"en": label}
    return concept


def _snb(scheme: str, code: str, label: str) -> dict[str, Any]:
    return _concept(f"http://data.europa.eu/snb/{scheme}/{code}", f"http://data.europa.eu/snb/{scheme}/25831c2", label)


def _country(code: str) -> dict[str, Any]:
    country = pycountry.countries.get(alpha_2=code)
    alpha_3, name = (country.alpha_3, country.name) if country else (code, code)
    return _concept(f"{_COUNTRY_SCHEME}/{alpha_3}", _COUNTRY_SCHEME, name, "country")


def _language(code: str) -> dict[str, Any]:
    language = pycountry.languages.get(alpha_2=code)
    alpha_3, name = (language.alpha_3.upper(), language.name) if language else (code.upper(), code)
    return _concept(f"{_LANGUAGE_SCHEME}/{alpha_3}", _LANGUAGE_SCHEME, name, "language")


def _note(number: int, text: str, language: str) -> dict[str, Any]:
    return {"id": f"urn:epass:note:{number}", "type": "Note", "noteLiteral": {language: text}}


def _one_or_many(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    return items[0] if len(items) == 1 else items


def _organisation(awarding: Awarding) -> dict[str, Any]:
    organisation: dict[str, Any] = {
        "id": "urn:epass:org:1",
        "type": "Organisation",
        "legalName": dict(sorted(awarding.provider_names.items())),
        "location": {
            "id": "urn:epass:location:1",
            "type": "Location",
            "address": {
                "id": "urn:epass:address:1",
                "type": "Address",
                "countryCode": _country(awarding.provider_country),
            },
        },
    }
    identifiers = [
        {"id": f"urn:epass:identifier:{n}", "type": "Identifier", "schemeName": scheme, "notation": value}
        for n, (scheme, value) in enumerate(_identifiers(awarding.provider_identifiers), start=2)
    ]
    if identifiers:
        organisation["identifier"] = _one_or_many(identifiers)
    return organisation


def _learning_outcomes(spec: Specification) -> list[dict[str, Any]]:
    outcomes = []
    for n, outcome in enumerate(spec.learning_outcomes, start=1):
        item: dict[str, Any] = {
            "id": f"urn:epass:learningOutcome:{n}",
            "type": "LearningOutcome",
            "title": {spec.languages[0]: outcome.text},
        }
        if outcome.esco_uri:
            item["relatedESCOSkill"] = _concept(
                outcome.esco_uri, "http://data.europa.eu/esco/concept-scheme/skills", notation="Skill"
            )
        outcomes.append(item)
    return outcomes


def elm_credential(awarding: Awarding, public_url: str) -> dict[str, Any]:
    """The unsigned ELM v3 ``EuropeanDigitalCredential`` of an issued credential, in the EDC sample's shape."""
    spec = awarding.spec
    language = spec.languages[0]
    languages = [_language(code) for code in spec.languages]
    organisation = _organisation(awarding)
    awarded_by = {
        "id": "urn:epass:awardingProcess:1",
        "type": "AwardingProcess",
        "awardingBody": organisation,
        "awardingDate": xsd_datetime(awarding.issued_on),
    }
    mode_code, mode_label = _MODES[spec.participation]
    mode = _snb("learning-assessment", mode_code, mode_label)

    assessment: dict[str, Any] = {
        "id": "urn:epass:learningAssessment:1",
        "type": "LearningAssessment",
        "title": dict(spec.title),
        "assessedBy": organisation,
        "awardedBy": awarded_by,
        "specifiedBy": {
            "id": "urn:epass:learningAssessmentSpec:1",
            "type": "LearningAssessmentSpecification",
            "title": dict(spec.title),
            "dcType": _concept(
                f"urn:mcreg:assessment-type:{spec.assessment}", "urn:mcreg:assessment-type", _words(spec.assessment)
            ),
            "mode": mode,
            "language": _one_or_many(languages),
        },
    }
    notes = []
    if awarding.grade:
        assessment["grade"] = _note(1, awarding.grade, language)
    if spec.supervision in _SUPERVISION:
        assessment["idVerification"] = _snb("supervision-verification", *_SUPERVISION[spec.supervision])
    elif spec.supervision:
        notes.append(f"Supervision and identity verification: {_words(spec.supervision)}.")

    notes.append(f"Type of quality assurance: {_words(spec.qa_type)}.")
    if decision := _qa_decision_url(awarding.qa_basis, public_url):
        notes.append(f"Quality assurance decision relied on at issue: {decision}")
    towards = f", towards {spec.stackable_towards}" if spec.stackable_towards else ""
    notes.append(f"Integration and stackability: {_words(spec.stackability)}{towards}.")
    if spec.further_information:
        notes.append(spec.further_information)

    qualification: dict[str, Any] = {
        "id": "urn:epass:qualification:1",
        "type": "Qualification",
        "title": dict(spec.title),
    }
    if spec.eqf_level is not None:
        qualification["eqfLevel"] = _snb("eqf", str(spec.eqf_level), f"Level {spec.eqf_level}")
    qualification |= {
        "thematicArea": _snb("isced-f", spec.isced_field, f"ISCED-F 2013 {spec.isced_field}"),
        "creditPoint": {
            "id": "urn:epass:creditPoint:1",
            "type": "CreditPoint",
            "framework": _snb("education-credit", "6fcec5c5af", "European Credit Transfer System"),
            "point": _decimal(spec.ects),
        },
        "isPartialQualification": spec.stackability == "integrated",
        "learningOutcome": _learning_outcomes(spec),
        "mode": mode,
        "language": _one_or_many(languages),
        "dcType": _snb("learning-opportunity", "74a4a268e8", "Short learning programme"),
        "additionalNote": [_note(n, text, "en") for n, text in enumerate(notes, start=2)],
    }
    if spec.prerequisites:
        qualification["entryRequirement"] = _note(len(notes) + 2, spec.prerequisites, language)

    subject: dict[str, Any] = {
        "id": "urn:epass:person:1",
        "type": "Person",
        "fullName": {language: awarding.learner_name},
    }
    if awarding.learner_birth_date is not None:
        subject["dateOfBirth"] = xsd_datetime(awarding.learner_birth_date)
    subject["hasClaim"] = {
        "id": "urn:epass:learningAchievement:1",
        "type": "LearningAchievement",
        "title": dict(spec.title),
        "awardedBy": awarded_by,
        "provenBy": assessment,
        "specifiedBy": qualification,
    }

    credential: dict[str, Any] = {
        "@context": list(ELM_CONTEXT),
        "id": f"urn:credential:{awarding.credential_id}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": _snb("credential", "e34929035b", "Generic"),
        "displayParameter": {
            "id": "urn:epass:displayParameter:1",
            "type": "DisplayParameter",
            "title": dict(spec.title),
            "description": {"en": "has successfully completed a micro-credential"},
            "language": _one_or_many(languages),
            "primaryLanguage": _language(language),
        },
        "identifier": {
            "id": "urn:epass:identifier:1",
            "type": "Identifier",
            "schemeName": f"{REGISTRY_NAME} ({_base(public_url)})",
            "notation": str(awarding.credential_id),
        },
        "credentialSchema": {"id": "http://data.europa.eu/snb/model/ap/edc-generic-full", "type": "ShaclValidator2017"},
        "credentialSubject": subject,
        "issuer": organisation,
        "validFrom": xsd_datetime(awarding.issued_on),
    }
    if awarding.valid_until is not None:
        credential["validUntil"] = xsd_datetime(awarding.valid_until)
    return credential


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
