"""The lists REST and GraphQL both serve: each one's filters, checked by the registry's rules, and its cursors.

A ``Browse`` names a ``FacetedList`` (``mcreg.projections``) and the filters a
request may give it, each checked by the registry's vocabulary rule and turned
into the list's parameter; a bad value is ``InvalidInput`` naming the filter, a
range given the wrong way round names its upper end. Cursors are opaque: the
key of the last entry of a page, base64url-encoded, checked when they come back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from mcreg.projections.browsing import (
    MICROCREDENTIALS,
    PROVIDER_LIST,
    MicroCredentialQA,
    ProviderQA,
    on,
)
from mcreg.projections.catalogue import like_prefix, title_query
from mcreg.projections.faceted import FacetedList
from mcreg.projections.registers import (
    ACCREDITATION_STATUSES,
    ACCREDITATIONS,
    AGENCIES,
    CREDENTIALS,
    RECOGNITIONS,
    REVIEWS,
    AgencyStatus,
    ReviewStatus,
)
from mcreg.registry import validate as v
from mcreg.registry.errors import InvalidInput
from mcreg.registry.vocabulary import (
    CredentialStatus,
    ESGActivity,
    ProviderType,
    QADecision,
    RecognitionOutcome,
    RecognitionPurpose,
    RecognitionStatus,
    Standing,
)

TEXT_MAX = 200
"""The longest search text."""

Check = Callable[[str, Any], Any]
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Codes:
    """A check taking one code of a closed list, ``codes``, which the API's description shows."""

    codes: Collection[str]
    check: Check

    def __call__(self, name: str, value: Any) -> Any:
        return self.check(name, value)


def choice(kind: type[E], among: Collection[E] | None = None) -> Codes:
    """One of ``kind``'s codes (or of those ``among`` them), as its value; refused in ``validate.choice``'s words,
    listing the codes allowed only."""
    codes = tuple(code.value for code in (kind if among is None else among))

    def check(name: str, value: Any) -> str:
        if value not in codes:
            raise InvalidInput(name, "must be one of " + ", ".join(map(repr, codes)))
        return str(value)

    return Codes(codes, check)


def eqf(name: str, value: Any) -> int | None:
    """A level from 1 to 8 (as text, one digit: longer text never reaches ``int``)."""
    if isinstance(value, str):
        value = int(value) if value.isdigit() and len(value) == 1 else value
    return v.eqf_level(name, value, required=True)


def uuid(name: str, value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput(name, "must be a UUID") from None


def day(name: str, value: Any) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(name, "must be a calendar date (YYYY-MM-DD)") from None
    return v.day(name, value)


def revoked_hidden(name: str, value: Any) -> bool | None:
    """``include_revoked``: true lists revoked credentials too (no ``hide_revoked``)."""
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be true or false")
    return None if value else True


def words(name: str, value: Any) -> str | None:
    """Title words: each must be in a title, the last may be a word's start."""
    return title_query(v.text(name, value, max_length=TEXT_MAX))


def name_part(name: str, value: Any) -> str:
    """A LIKE pattern of names holding the text, taken literally."""
    return "%" + like_prefix(v.text(name, value, max_length=TEXT_MAX))


def isced_prefix(name: str, value: Any) -> str:
    return like_prefix(v.isced_field(name, value))


class Retired(StrEnum):
    """Which micro-credentials to list besides those still offered (absent: none)."""

    ONLY = "only"
    INCLUDE = "include"
    EXCLUDE = "exclude"


RETIRED = {Retired.ONLY: True, Retired.INCLUDE: None, Retired.EXCLUDE: False}
RETIRED_CHOICE = Codes(tuple(Retired), lambda name, value: RETIRED[v.choice(name, value, Retired)])


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter a request may give: its check, the list's parameter it sets (its own name if not said), and what
    the API's description says of it (a code list's ``example`` besides)."""

    name: str
    check: Check
    param: str | None = None
    description: str | None = None
    example: str | None = None


@dataclass(frozen=True, slots=True)
class Browse:
    """A list as served: its declaration, its filters, ranges whose low end may not pass the high end, and the
    parameters it takes when a filter is not given."""

    listing: FacetedList[Any]
    filters: tuple[Filter, ...]
    ranges: tuple[tuple[str, str], ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def params(self, given: Mapping[str, Any], today: date) -> dict[str, Any]:
        """The list's parameters for the filters ``given`` (None: not given) on ``today``; InvalidInput naming the
        first that breaks a rule."""
        params = on(today) | dict(self.defaults)
        checked: dict[str, Any] = {}
        for f in self.filters:
            value = given.get(f.name)
            if value is None or value == "":
                continue
            checked[f.name] = f.check(f.name, value)
            params[f.param or f.name] = checked[f.name]
        for low, high in self.ranges:
            if checked.get(low) is not None and checked.get(high) is not None and checked[low] > checked[high]:
                raise InvalidInput(high, f"must not be less than {low}")
        return params

    def cursor(self, key: Any) -> str:
        return base64.urlsafe_b64encode(str(key).encode()).decode()

    def after(self, cursor: str | None) -> Any:
        """The key a cursor of this list holds; InvalidInput naming ``after`` for any other text."""
        if cursor is None or cursor == "":
            return None
        try:
            return self.listing.key_type(base64.urlsafe_b64decode(cursor.encode("ascii")).decode())
        except (binascii.Error, UnicodeError, ValueError):
            raise InvalidInput("after", "is not a cursor this list gave") from None


PROVIDER_ID = Filter("provider_id", uuid)
AGENCY_ID = Filter("agency_id", uuid)
MICROCREDENTIAL_ID = Filter("microcredential_id", uuid)
COUNTRY = Filter("country", v.country)
PROVIDER_COUNTRY = Filter("country", v.country, description="The provider's country (ISO 3166-1 alpha-2)")
LANGUAGE = Codes(v.LANGUAGES, v.language)
LEVEL_OF_MICROCREDENTIAL = Filter("eqf_level", eqf, description="The micro-credential's EQF level")
ISCED_FIELD = Filter("isced_field", isced_prefix, "isced_prefix")


def period(name: str, verb: str) -> tuple[Filter, Filter]:
    """``{name}_from`` and ``{name}_to``: days on or after, on or before."""
    return (
        Filter(f"{name}_from", day, description=f"{verb} on or after"),
        Filter(f"{name}_to", day, description=f"{verb} on or before"),
    )


AGENCY_BROWSE = Browse(
    AGENCIES,
    (
        Filter("q", name_part, "name_like", "A part of the agency's name or acronym"),
        COUNTRY,
        Filter("status", choice(AgencyStatus), None, "Where its registration stands", "registered"),
        Filter("esg_activity", choice(ESGActivity), None, "An ESG activity it is registered for", "programme"),
    ),
)
PROVIDER_BROWSE = Browse(
    PROVIDER_LIST,
    (
        Filter("q", name_part, "name_like", "A part of one of the provider's names, in any language"),
        COUNTRY,
        Filter("provider_type", choice(ProviderType), None, "The kind of provider", "higher_education"),
        Filter("qa_status", choice(ProviderQA), None, "Where its accreditation stands today", "accredited"),
    ),
)
MICROCREDENTIAL_BROWSE = Browse(
    MICROCREDENTIALS,
    (
        Filter("q", words, "words", "Words each title must hold, in any language (the last may be a word's start)"),
        PROVIDER_ID,
        COUNTRY,
        Filter("eqf_level", eqf),
        ISCED_FIELD,
        Filter("ects_min", v.ects),
        Filter("ects_max", v.ects),
        Filter("language", LANGUAGE, None, "A language it is taught in (ISO 639-1)", "en"),
        Filter(
            "qa_status",
            choice(MicroCredentialQA),
            None,
            "Where its quality assurance stands today",
            "programme_reviewed",
        ),
        Filter(
            "retired",
            RETIRED_CHOICE,
            None,
            "Which retired ones to list: none (exclude, the default), only them, or them too",
            "include",
        ),
    ),
    ranges=(("ects_min", "ects_max"),),
    defaults={"retired": False},
)
ACCREDITATION_BROWSE = Browse(
    ACCREDITATIONS,
    (
        PROVIDER_ID,
        AGENCY_ID,
        PROVIDER_COUNTRY,
        Filter("status", choice(Standing, ACCREDITATION_STATUSES), None, "Where it stands today", "in_force"),
        Filter("outcome", choice(QADecision), None, "The decision", "positive"),
        Filter("eqf_level", eqf, None, "An EQF level its scope covers (no levels: every level)"),
        *period("decided", "Decided"),
    ),
    ranges=(("decided_from", "decided_to"),),
)
REVIEW_BROWSE = Browse(
    REVIEWS,
    (
        PROVIDER_ID,
        AGENCY_ID,
        MICROCREDENTIAL_ID,
        PROVIDER_COUNTRY,
        Filter("status", choice(ReviewStatus), None, "Where it stands today", "decided"),
        Filter("decision", choice(QADecision), None, "The decision in force", "positive"),
        LEVEL_OF_MICROCREDENTIAL,
        *period("opened", "Opened"),
    ),
    ranges=(("opened_from", "opened_to"),),
)
CREDENTIAL_BROWSE = Browse(
    CREDENTIALS,
    (
        PROVIDER_ID,
        MICROCREDENTIAL_ID,
        PROVIDER_COUNTRY,
        Filter("status", choice(CredentialStatus), None, "As last recorded", "active"),
        LEVEL_OF_MICROCREDENTIAL,
        ISCED_FIELD,
        Filter("include_revoked", revoked_hidden, "hide_revoked", "List revoked credentials too"),
        *period("issued", "Issued"),
    ),
    ranges=(("issued_from", "issued_to"),),
    defaults={"hide_revoked": True},
)
RECOGNITION_BROWSE = Browse(
    RECOGNITIONS,
    (
        Filter("credential_id", uuid),
        Filter("institution_id", uuid),
        Filter("issuer_id", uuid),
        Filter("status", choice(RecognitionStatus), None, "Where it stands", "decided"),
        Filter("outcome", choice(RecognitionOutcome), None, "The outcome in force", "recognised"),
        Filter("purpose", choice(RecognitionPurpose), None, "What it was asked for", "credit_transfer"),
        Filter("institution_country", v.country),
        Filter("issuer_country", v.country),
        *period("requested", "Requested"),
    ),
    ranges=(("requested_from", "requested_to"),),
)
