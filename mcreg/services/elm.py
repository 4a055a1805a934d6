"""The European Learning Model v3 export of an issued credential: a pure function of recorded facts.

``elm_credential`` states the same facts as the Open Badges 3.0 export
(``mcreg.services.documents``) as an ELM ``EuropeanDigitalCredential``, shaped
like the EDC micro-credential sample. Unsigned, with the provider as issuer:
the provider seals it with its own eSeal (EDC signs with JAdES, not Data
Integrity).

It conforms to the EDC SHACL shapes of a generic credential when the provider
has a legal identifier (its eIDAS identifier): the issuer with its country,
the learner's names, the achievement with its learning activity, assessment
(type, grading scheme, grade, identity verification) and qualification (EQF,
ISCED-F, credits, learning outcomes with ESCO skills, setting, workload,
NQF level, and the QA decision relied on as an ``Accreditation``), the
display, and where its status is found. Controlled values are the EU
vocabulary's concept by its URI where its codes are known here; the
accreditation type, DEQAR decision and NQF level are concepts of the
registry's own; facts with no concept become notes.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pycountry

from mcreg.registry.aggregates.microcredential import Specification
from mcreg.registry.quality import BasisKind
from mcreg.services.badge_image import badge_svg
from mcreg.services.documents import (
    REGISTRY_NAME,
    Awarding,
    QualityAssurance,
    base_url,
    identifier_schemes,
    pick,
    plain_decimal,
    qa_decision_url,
    words,
    xsd_datetime,
)

ELM_CONTEXT = ("https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap")
_COUNTRY_SCHEME = "http://publications.europa.eu/resource/authority/country"
_LANGUAGE_SCHEME = "http://publications.europa.eu/resource/authority/language"
_FILE_TYPE_SCHEME = "http://publications.europa.eu/resource/authority/file-type"
_MODES = {  # Europass "Mode of learning and assessment" (http://data.europa.eu/snb/learning-assessment/25831c2)
    "online": ("920fbb3cbe", "Online"),
    "onsite": ("9191af2ed9", "Presential"),
    "blended": ("e92d221e4d", "Blended"),
}
_SUPERVISION = {  # Europass "Supervision and verification" concepts known for sure; others become notes
    "unsupervised_no_identity_verification": ("c598449d64", "Unsupervised without ID Verification"),
}
_ASSESSMENTS = {  # Europass "Assessment type" (http://data.europa.eu/snb/assessment/25831c2); mixed has none
    "exam": ("6e6cb2cc78", "written examination"),  # an oral one is "oral"
    "project": ("795dac4096", "project work"),
    "portfolio": ("4f03b91c0e", "portfolio"),
    "practical": ("6a4db9f11d", "practical assessment"),
    "oral": ("d30284d7df", "oral examination"),
    "continuous": ("3484bd7e51", "continuous evaluation"),
}
_LEARNING_SETTINGS = {  # Europass "Learning setting" (http://data.europa.eu/snb/learning-setting/25831c2)
    "formal": ("6fd4685715", "formal learning"),
    "non_formal": ("e207a81fc7", "non-formal learning"),
}
PASSED = "passed"
"""The grade of an assessment for which the provider recorded none: the credential is awarded on passing it."""


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


def _note(name: str, text: str, language: str) -> dict[str, Any]:
    return {"id": f"urn:epass:note:{name}", "type": "Note", "noteLiteral": {language: text}}


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
    if legal := awarding.provider_identifiers.legal_identifier:
        organisation["eIDASIdentifier"] = {
            "id": "urn:epass:legalIdentifier:1",
            "type": "LegalIdentifier",
            "notation": legal,
            "spatial": _country(awarding.provider_country),
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
                outcome.esco_uri, "http://data.europa.eu/esco/concept-scheme/skills", outcome.esco_label, "Skill"
            )
        outcomes.append(item)
    return outcomes


def _workload(spec: Specification) -> dict[str, Any]:
    """The notional hours as an ISO 8601 duration, when the provider stated them."""
    return {} if spec.workload_hours is None else {"volumeOfLearning": f"PT{spec.workload_hours}H"}


def _learner(awarding: Awarding, language: str) -> dict[str, Any]:
    person: dict[str, Any] = {
        "id": "urn:epass:person:1",
        "type": "Person",
        "fullName": {language: awarding.learner.name},
    }
    if awarding.learner.given_name:
        person["givenName"] = {language: awarding.learner.given_name}
    if awarding.learner.family_name:
        person["familyName"] = {language: awarding.learner.family_name}
    if awarding.learner.birth_date is not None:
        person["dateOfBirth"] = xsd_datetime(awarding.learner.birth_date)
    return person


def _assessment(
    awarding: Awarding, organisation: dict[str, Any], awarded_by: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    """How the learner was assessed: its type from the EU vocabulary, grading scheme and identity verification."""
    spec = awarding.spec
    language = spec.languages[0]
    specification: dict[str, Any] = {
        "id": "urn:epass:learningAssessmentSpec:1",
        "type": "LearningAssessmentSpecification",
        "title": dict(spec.title),
    }
    if spec.assessment in _ASSESSMENTS:
        specification["dcType"] = _snb("assessment", *_ASSESSMENTS[spec.assessment])
    else:
        notes.append(f"Type of assessment: {words(spec.assessment)}.")
    if spec.grading_scheme:
        specification["gradingScheme"] = {
            "id": "urn:epass:gradingScheme:1",
            "type": "GradingScheme",
            "title": {language: spec.grading_scheme},
        }
    specification |= {"mode": _mode(spec), "language": _one_or_many([_language(code) for code in spec.languages])}
    assessment: dict[str, Any] = {
        "id": "urn:epass:learningAssessment:1",
        "type": "LearningAssessment",
        "title": dict(spec.title),
        "assessedBy": organisation,
        "awardedBy": awarded_by,
        "grade": _note("grade", awarding.grade or PASSED, language if awarding.grade else "en"),
        "specifiedBy": specification,
    }
    if spec.supervision in _SUPERVISION:
        assessment["idVerification"] = _snb("supervision-verification", *_SUPERVISION[spec.supervision])
    elif spec.supervision:
        notes.append(f"Supervision and identity verification: {words(spec.supervision)}.")
    return assessment


def _activity(spec: Specification, awarded_by: dict[str, Any]) -> dict[str, Any]:
    """The learning the provider specified for the micro-credential, in its mode, language and workload."""
    return {
        "id": "urn:epass:activity:1",
        "type": "LearningActivity",
        "title": dict(spec.title),
        "awardedBy": awarded_by,
        "specifiedBy": {
            "id": "urn:epass:learningActivitySpec:1",
            "type": "LearningActivitySpecification",
            "title": dict(spec.title),
            "mode": _mode(spec),
            "language": _one_or_many([_language(code) for code in spec.languages]),
        }
        | _workload(spec),
    }


def _mode(spec: Specification) -> dict[str, Any]:
    return _snb("learning-assessment", *_MODES[spec.participation])


_QA_KINDS = {  # ELM wants a type from its accreditation-type list, whose codes are not checked here: local concepts
    BasisKind.ACCREDITATION: "accreditation of the provider",
    BasisKind.REVIEW: "external review of the micro-credential",
}


def _nqf_level(level: str, country: str) -> dict[str, Any]:
    """The level in the provider's national framework, as a concept of the registry's own: the EU's list of national
    frameworks' levels (the QDR) has concept codes not checked here."""
    framework = f"urn:epass:conceptScheme:nqf-{country.lower()}"
    name = _country(country)["prefLabel"]["en"]
    label = f"{name} national qualifications framework: {level}"
    return _concept(f"{framework}:{quote(level, safe='')}", framework, label)


def _web_resource(name: str, url: str) -> dict[str, Any]:
    return {"id": f"urn:epass:webResource:{name}", "type": "WebResource", "contentURL": url}


def _accrediting_agent(qa: QualityAssurance) -> dict[str, Any]:
    """The QA agency that decided, or the provider's national authority (which the registry does not name)."""
    country = _country(qa.agency_country)
    name = qa.agency_name or f"National authority of {country['prefLabel']['en']}"
    agent: dict[str, Any] = {
        "id": "urn:epass:org:agency",
        "type": "Organisation",
        "legalName": {"en": name},
        "location": {
            "id": "urn:epass:location:agency",
            "type": "Location",
            "address": {"id": "urn:epass:address:agency", "type": "Address", "countryCode": country},
        },
    }
    if qa.agency_deqar_id:
        agent["identifier"] = {
            "id": "urn:epass:identifier:agency",
            "type": "Identifier",
            "schemeName": "DEQAR agency",
            "notation": qa.agency_deqar_id,
        }
    return agent


def _accreditation(awarding: Awarding, public_url: str) -> dict[str, Any] | None:
    """The QA decision the credential was issued under, as an ELM ``Accreditation``: the deciding agency as its
    accrediting agent, the provider as the organisation it concerns (and, for a review, the qualification), the
    DEQAR decision, its dates, the agency's report and the registry's record of it."""
    qa, basis = awarding.quality_assurance, awarding.qa_basis
    if qa is None or basis is None:
        return None
    agent = _accrediting_agent(qa)
    kind = _QA_KINDS[basis.kind]
    accreditation: dict[str, Any] = {
        "id": "urn:epass:accreditation:1",
        "type": "Accreditation",
        "dcType": _concept(f"urn:epass:concept:qa-{basis.kind}", "urn:epass:conceptScheme:qa-kind", kind),
        "title": {"en": f"{kind.capitalize()} by {agent['legalName']['en']}"},
        "decision": _concept(
            f"urn:epass:concept:deqar-decision-{qa.decision.name.lower()}",
            "urn:epass:conceptScheme:deqar-decision",
            qa.decision.value,
        ),
        "accreditingAgent": agent,
        "organisation": {"id": "urn:epass:org:1"},
        "dateIssued": xsd_datetime(qa.decided_on),
        "valid": xsd_datetime(qa.valid_from),
        "expiryDate": xsd_datetime(qa.valid_to),
        "landingPage": _web_resource("qaDecision", qa_decision_url(basis, public_url)),
    }
    if basis.kind == BasisKind.REVIEW:
        accreditation["limitQualification"] = {"id": "urn:epass:qualification:1"}
    if qa.local_identifier:
        accreditation["identifier"] = {
            "id": "urn:epass:identifier:accreditation",
            "type": "Identifier",
            "schemeName": agent["legalName"]["en"],
            "notation": qa.local_identifier,
        }
    if qa.report_url:
        accreditation["report"] = _web_resource("qaReport", qa.report_url)
    return accreditation


def _qualification(awarding: Awarding, public_url: str, notes: list[str]) -> dict[str, Any]:
    """What the micro-credential is: its level, field, credits, learning outcomes, setting and workload."""
    spec = awarding.spec
    language = spec.languages[0]
    qualification: dict[str, Any] = {
        "id": "urn:epass:qualification:1",
        "type": "Qualification",
        "title": dict(spec.title),
    }
    if spec.eqf_level is not None:
        qualification["eqfLevel"] = _snb("eqf", str(spec.eqf_level), f"Level {spec.eqf_level}")
    if spec.nqf_level is not None:
        qualification["nqfLevel"] = _nqf_level(spec.nqf_level, awarding.provider_country)
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
        "mode": _mode(spec),
        "language": _one_or_many([_language(code) for code in spec.languages]),
        "dcType": _snb("learning-opportunity", "74a4a268e8", "Short learning programme"),
    }
    if spec.learning_setting is not None:
        qualification["learningSetting"] = _snb("learning-setting", *_LEARNING_SETTINGS[spec.learning_setting])
    qualification |= _workload(spec)

    if accreditation := _accreditation(awarding, public_url):
        qualification["accreditation"] = accreditation
    notes.append(f"Type of quality assurance: {words(spec.qa_type)}.")
    towards = f", towards {spec.stackable_towards}" if spec.stackable_towards else ""
    notes.append(f"Integration and stackability: {words(spec.stackability)}{towards}.")
    if spec.further_information:
        notes.append(spec.further_information)
    qualification["additionalNote"] = [_note(str(n), text, "en") for n, text in enumerate(notes, start=1)]
    if spec.prerequisites:
        qualification["entryRequirement"] = _note("entryRequirement", spec.prerequisites, language)
    return qualification


def _display(awarding: Awarding) -> dict[str, Any]:
    """How a wallet shows the credential: its title, languages, and the badge's image as its one page."""
    spec = awarding.spec
    language = spec.languages[0]
    svg = badge_svg(pick(spec.title, spec.languages), f"{plain_decimal(spec.ects)} ECTS", spec.eqf_level)
    return {
        "id": "urn:epass:displayParameter:1",
        "type": "DisplayParameter",
        "title": dict(spec.title),
        "description": {"en": "has successfully completed a micro-credential"},
        "language": _one_or_many([_language(code) for code in spec.languages]),
        "primaryLanguage": _language(language),
        "individualDisplay": {
            "id": "urn:epass:individualDisplay:1",
            "type": "IndividualDisplay",
            "language": _language(language),
            "displayDetail": {
                "id": "urn:epass:displayDetail:1",
                "type": "DisplayDetail",
                "page": 1,
                "image": {
                    "id": "urn:epass:mediaObject:1",
                    "type": "MediaObject",
                    "content": base64.b64encode(svg.encode("utf-8")).decode("ascii"),
                    "contentEncoding": _snb("encoding", "6146cde7dd", "base64"),
                    "contentType": _concept(f"{_FILE_TYPE_SCHEME}/SVG", _FILE_TYPE_SCHEME, "SVG", "file-type"),
                },
            },
        },
    }


def elm_credential(awarding: Awarding, public_url: str) -> dict[str, Any]:
    """The unsigned ELM v3 ``EuropeanDigitalCredential`` of an issued credential, in the EDC sample's shape."""
    spec = awarding.spec
    organisation = _organisation(awarding)
    awarded_by = {
        "id": "urn:epass:awardingProcess:1",
        "type": "AwardingProcess",
        "awardingBody": organisation,
        "awardingDate": xsd_datetime(awarding.issued_on),
    }
    notes: list[str] = []
    claim: dict[str, Any] = {
        "id": "urn:epass:learningAchievement:1",
        "type": "LearningAchievement",
        "title": dict(spec.title),
        "awardedBy": awarded_by,
        "influencedBy": _activity(spec, awarded_by),
    }
    if spec.assessment != "none":
        claim["provenBy"] = _assessment(awarding, organisation, awarded_by, notes)
    claim["specifiedBy"] = _qualification(awarding, public_url, notes)
    subject = _learner(awarding, spec.languages[0]) | {"hasClaim": claim}

    issued = xsd_datetime(awarding.issued_on)
    credential: dict[str, Any] = {
        "@context": list(ELM_CONTEXT),
        "id": f"urn:credential:{awarding.credential_id}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": _snb("credential", "e34929035b", "Generic"),
        "displayParameter": _display(awarding),
        "identifier": {
            "id": "urn:epass:identifier:1",
            "type": "Identifier",
            "schemeName": f"{REGISTRY_NAME} ({base_url(public_url)})",
            "notation": str(awarding.credential_id),
        },
        "credentialSchema": {"id": "http://data.europa.eu/snb/model/ap/edc-generic-full", "type": "ShaclValidator2017"},
        "credentialSubject": subject,
        "issuer": organisation,
        "issued": issued,
        "validFrom": issued,
        # where anyone finds whether it still stands (revoked, suspended): an anyURI literal, as the shapes want
        "credentialStatus": {
            "@value": f"{base_url(public_url)}/v1/credentials/{awarding.credential_id}/verify",
            "@type": "http://www.w3.org/2001/XMLSchema#anyURI",
        },
    }
    if awarding.valid_until is not None:
        credential["validUntil"] = xsd_datetime(awarding.valid_until)
    return credential
