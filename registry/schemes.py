"""Identifiers from other systems: the closed list of schemes the registry accepts, each with its format rule.

Organisations carry the identifiers of the registers that name institutions (SCHAC home organisation, Erasmus
code, ETER id, DEQAR id) and are looked up by them; credentials carry the student-information system's and the
learning platform's names for their course and its place in it (SIS course id, LTI context id, LTI resource link
id) and, sealed as the learner's personal
data, the student's number (SIS student id). ``identifier("erasmus:b  bruxel04")`` splits and checks one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mcreg.registry.errors import InvalidInput


class IdentifierScheme(StrEnum):
    SCHAC = "schac"
    ERASMUS = "erasmus"
    ETER = "eter"
    DEQAR = "deqar"
    SIS_STUDENT = "sis_student"
    SIS_COURSE = "sis_course"
    LTI_CONTEXT = "lti_context"
    LTI_RESOURCE_LINK = "lti_resource_link"


@dataclass(frozen=True)
class SchemeRule:
    pattern: re.Pattern[str]
    rule: str  # what a value must be, as an error says it
    case: str | None  # "upper" or "lower": values are compared so; None: case-sensitive
    names: str  # "organisation" or "credential"
    personal: bool = False  # learner personal data: sealed, never public, erased with the learner


RULES: dict[IdentifierScheme, SchemeRule] = {
    IdentifierScheme.SCHAC: SchemeRule(
        re.compile(r"(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"),
        "must be a SCHAC home organisation: the institution's domain name, as hanze.nl",
        "lower",
        "organisation",
    ),
    IdentifierScheme.ERASMUS: SchemeRule(
        re.compile(r"[A-Z]{1,3} *[A-Z-]{1,8}[0-9]{2,3}"),
        "must be an Erasmus code: country letters padded to three, city letters, a number, as NL GRONING03",
        "upper",
        "organisation",
    ),
    IdentifierScheme.ETER: SchemeRule(
        re.compile(r"[A-Z]{2}[0-9]{4}"),
        "must be an ETER id: two letters and four digits, as BE0035",
        "upper",
        "organisation",
    ),
    IdentifierScheme.DEQAR: SchemeRule(
        re.compile(r"[A-Z]{0,12}[0-9]{1,10}"),
        "must be a DEQAR id: DEQARINST and digits for an institution, the agency's number or DEQARAGENCY and digits "
        "for an agency",
        "upper",
        "organisation",
    ),
    IdentifierScheme.SIS_STUDENT: SchemeRule(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}"),
        "must be a student number: letters, digits and . _ : / -, at most 64",
        None,
        "credential",
        personal=True,
    ),
    IdentifierScheme.SIS_COURSE: SchemeRule(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:/#-]{0,127}"),
        "must be a course id: letters, digits, spaces and . _ : / # -, at most 128",
        None,
        "credential",
    ),
    IdentifierScheme.LTI_CONTEXT: SchemeRule(
        re.compile(r"[\x21-\x7e]{1,255}"),
        "must be an LTI context id: at most 255 printable ASCII characters, no spaces (LTI 1.3 context.id)",
        None,
        "credential",
    ),
    IdentifierScheme.LTI_RESOURCE_LINK: SchemeRule(
        re.compile(r"[\x21-\x7e]{1,255}"),
        "must be an LTI resource link id: at most 255 printable ASCII characters, no spaces (LTI 1.3 resource_link.id)",
        None,
        "credential",
    ),
}

CREDENTIAL_FIELDS: dict[IdentifierScheme, str] = {
    IdentifierScheme.SIS_COURSE: "course_id",
    IdentifierScheme.LTI_CONTEXT: "lti_context_id",
    IdentifierScheme.LTI_RESOURCE_LINK: "lti_resource_link_id",
    IdentifierScheme.SIS_STUDENT: "student_id",
}
"""The credential's field each of its schemes fills: the name of an issuance's field (the student number's in the
learner's data), of the events' and of the aggregate's."""
COURSE_FIELDS = tuple(name for scheme, name in CREDENTIAL_FIELDS.items() if not RULES[scheme].personal)
"""The fields of the course a credential was earned in (not personal): shown to the provider and authorities."""


def schemes_of(names: str) -> str:
    """The schemes of ``"organisation"`` or ``"credential"`` identifiers, as an error or a description lists them."""
    return ", ".join(s.value for s in IdentifierScheme if RULES[s].names == names)


def identifier_value(field: str, scheme: IdentifierScheme, value: str) -> str:
    """``value`` as ``scheme`` compares it (trimmed, its case), or InvalidInput naming ``field`` and the rule."""
    rule = RULES[scheme]
    text = value.strip() if isinstance(value, str) else ""
    text = text.upper() if rule.case == "upper" else text.lower() if rule.case == "lower" else text
    if not rule.pattern.fullmatch(text):
        raise InvalidInput(field, rule.rule)
    return text


def identifier(field: str, text: str) -> tuple[IdentifierScheme, str]:
    """``scheme:value`` split and checked: the scheme one of the closed list, the value to its rule."""
    name, colon, value = text.partition(":") if isinstance(text, str) else ("", "", "")
    try:
        scheme = IdentifierScheme(name.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in IdentifierScheme)
        raise InvalidInput(field, f"must be scheme:value, the scheme one of {known}") from None
    if not colon:
        raise InvalidInput(field, "must be scheme:value")
    return scheme, identifier_value(field, scheme, value)


def identifier_of(field: str, text: str, names: str) -> tuple[IdentifierScheme, str]:
    """``scheme:value`` split and checked as ``identifier`` does, the scheme one that ``names`` (``"organisation"``
    or ``"credential"``) carry."""
    scheme, value = identifier(field, text)
    if RULES[scheme].names != names:
        raise InvalidInput(field, must_name(names))
    return scheme, value


def must_name(names: str) -> str:
    """The rule an identifier of the other kind breaks."""
    return f"must name {'an' if names[0] in 'aeiou' else 'a'} {names}'s identifier: {schemes_of(names)}"
