"""The European Learning Model v3 export of an issued credential: a pure function of recorded facts.

``elm_credential`` states the same facts as the Open Badges 3.0 export
(``mcreg.services.documents``) as an ELM ``EuropeanDigitalCredential``, shaped
like the EDC micro-credential sample. Unsigned, with the provider as issuer:
the provider seals it with its own eSeal (EDC signs with JAdES, not Data
Integrity).
"""

from __future__ import annotations

from typing import Any

import pycountry

from mcreg.registry.aggregates.microcredential import Specification
from mcreg.services.documents import (
    REGISTRY_NAME,
    Awarding,
    base_url,
    identifier_schemes,
    plain_decimal,
    qa_decision_url,
    words,
    xsd_datetime,
)

ELM_CONTEXT = ("https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap")
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
        for n, (scheme, value) in enumerate(identifier_schemes(awarding.provider_identifiers), start=2)
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
                f"urn:mcreg:assessment-type:{spec.assessment}", "urn:mcreg:assessment-type", words(spec.assessment)
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
        notes.append(f"Supervision and identity verification: {words(spec.supervision)}.")

    notes.append(f"Type of quality assurance: {words(spec.qa_type)}.")
    if decision := qa_decision_url(awarding.qa_basis, public_url):
        notes.append(f"Quality assurance decision relied on at issue: {decision}")
    towards = f", towards {spec.stackable_towards}" if spec.stackable_towards else ""
    notes.append(f"Integration and stackability: {words(spec.stackability)}{towards}.")
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
            "point": plain_decimal(spec.ects),
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
            "schemeName": f"{REGISTRY_NAME} ({base_url(public_url)})",
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
