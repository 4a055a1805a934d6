"""The registry's controlled vocabulary: the EU Recommendation's standard
elements, DEQAR's decisions and the Lisbon Recognition Convention's outcomes.

Values are ``StrEnum`` members; stored events keep their plain string value,
so read them back with ``Enum(value)`` or compare with ``==``.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an organisation acting on the registry is to it."""

    OPERATOR = "operator"
    NATIONAL_AUTHORITY = "national_authority"
    QA_AGENCY = "qa_agency"
    PROVIDER = "provider"
    INSTITUTION = "institution"  # a recognising institution
    AUDITOR = "auditor"
    PUBLIC = "public"


class ProviderType(StrEnum):
    HIGHER_EDUCATION = "higher_education"
    VOCATIONAL = "vocational"
    ADULT_LEARNING = "adult_learning"
    PRIVATE = "private"
    PUBLIC_BODY = "public_body"
    OTHER = "other"


class ESGActivity(StrEnum):
    """The kinds of external QA an agency is registered on EQAR for."""

    INSTITUTIONAL = "institutional"
    PROGRAMME = "programme"
    JOINT_PROGRAMME = "joint_programme"
    MICRO_CREDENTIAL = "micro_credential"


class QADecision(StrEnum):
    """DEQAR's report decisions."""

    POSITIVE = "positive"
    POSITIVE_WITH_CONDITIONS = "positive with conditions or restrictions"
    NEGATIVE = "negative"
    NOT_APPLICABLE = "not applicable"


QA_COVER = (QADecision.POSITIVE, QADecision.POSITIVE_WITH_CONDITIONS)
"""Decisions under which a provider may issue quality-assured credentials."""


class AppealOutcome(StrEnum):
    UPHELD = "upheld"  # the first decision stands
    OVERTURNED = "overturned"  # a new decision replaces it


class AssessmentType(StrEnum):
    EXAM = "exam"
    PROJECT = "project"
    PORTFOLIO = "portfolio"
    PRACTICAL = "practical"
    ORAL = "oral"
    CONTINUOUS = "continuous"
    MIXED = "mixed"
    NONE = "none"


class Participation(StrEnum):
    ONLINE = "online"
    ONSITE = "onsite"
    BLENDED = "blended"


class QAType(StrEnum):
    """Type of quality assurance underpinning the micro-credential."""

    INTERNAL = "internal"  # the provider's own QA, under institutional accreditation
    EXTERNAL_INSTITUTIONAL = "external_institutional"
    EXTERNAL_PROGRAMME = "external_programme"


class Supervision(StrEnum):
    """Supervision and identity verification during assessment (Annex I)."""

    UNSUPERVISED = "unsupervised_no_identity_verification"
    SUPERVISED = "supervised_no_identity_verification"
    SUPERVISED_VERIFIED_ONLINE = "supervised_online_identity_verified"
    SUPERVISED_VERIFIED_ONSITE = "supervised_onsite_identity_verified"


class LearningSetting(StrEnum):
    """Where the learning leading to a micro-credential takes place (the EU learning-setting vocabulary)."""

    FORMAL = "formal"  # within an education and training system, leading to a recognised award
    NON_FORMAL = "non_formal"  # planned learning with support, outside the formal system


class Stackability(StrEnum):
    STAND_ALONE = "stand_alone"
    INTEGRATED = "integrated"
    STACKABLE = "stackable"


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class RevocationReason(StrEnum):
    ISSUED_IN_ERROR = "issued_in_error"
    FRAUD = "fraud"
    ASSESSMENT_ANNULLED = "assessment_annulled"
    LEARNER_REQUEST = "learner_request"
    ACCREDITATION_WITHDRAWN = "accreditation_withdrawn"
    OTHER = "other"


class RecognitionPurpose(StrEnum):
    ADMISSION = "admission"
    CREDIT_TRANSFER = "credit_transfer"
    EMPLOYMENT = "employment"


class Requester(StrEnum):
    LEARNER = "learner"
    INSTITUTION = "institution"


class RecognitionOutcome(StrEnum):
    """Lisbon Recognition Convention outcomes."""

    RECOGNISED = "recognised"
    RECOGNISED_PARTIALLY = "recognised_partially"
    ALTERNATIVE_RECOGNITION = "alternative_recognition"
    REFUSED = "refused"


class RecognitionStatus(StrEnum):
    REQUESTED = "requested"
    DECIDED = "decided"
    APPEALED = "appealed"
    APPEAL_DECIDED = "appeal_decided"
    WITHDRAWN = "withdrawn"


class Verdict(StrEnum):
    """What a verification concludes, from best to worst: W3C's ``verified`` is true for the first two."""

    VALID = "valid"
    VALID_WITH_WARNINGS = "valid_with_warnings"  # valid, with something a verifier should weigh (QA lapsed since)
    NOT_VALID = "not_valid"


class Standing(StrEnum):
    """Where a QA decision stands on a given date."""

    IN_FORCE = "in_force"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    NEGATIVE = "negative"
    AGENCY_NOT_IN_GOOD_STANDING = "agency_not_in_good_standing"
