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
    """One of ``kind``'s codes (or of those ``among`` them), as its value."""
    allowed = tuple(kind if among is None else among)

    def check(name: str, value: Any) -> str:
        chosen = v.choice(name, value, kind)
        if chosen not in allowed:
            raise InvalidInput(name, "must be one of " + ", ".join(repr(c.value) for c in allowed))
        return chosen.value

    return Codes(tuple(c.value for c in allowed), check)


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


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be true or false")
    return value


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


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter a request may give: its check, and the list's parameter it sets (its own name if not said)."""

    name: str
    check: Check
    param: str | None = None


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
COUNTRY = Filter("country", v.country)
EQF_LEVEL = Filter("eqf_level", eqf)

AGENCY_BROWSE = Browse(
    AGENCIES,
    (
        Filter("q", name_part, "name_like"),
        COUNTRY,
        Filter("status", choice(AgencyStatus)),
        Filter("esg_activity", choice(ESGActivity)),
    ),
)
PROVIDER_BROWSE = Browse(
    PROVIDER_LIST,
    (
        Filter("q", name_part, "name_like"),
        COUNTRY,
        Filter("provider_type", choice(ProviderType)),
        Filter("qa_status", choice(ProviderQA)),
    ),
)
MICROCREDENTIAL_BROWSE = Browse(
    MICROCREDENTIALS,
    (
        Filter("q", words, "words"),
        PROVIDER_ID,
        COUNTRY,
        EQF_LEVEL,
        Filter("isced_field", isced_prefix, "isced_prefix"),
        Filter("ects_min", v.ects),
        Filter("ects_max", v.ects),
        Filter("language", v.language),
        Filter("qa_status", choice(MicroCredentialQA)),
        Filter("retired", lambda name, value: RETIRED[v.choice(name, value, Retired)]),
    ),
    ranges=(("ects_min", "ects_max"),),
    defaults={"retired": False},
)
ACCREDITATION_BROWSE = Browse(
    ACCREDITATIONS,
    (
        PROVIDER_ID,
        AGENCY_ID,
        COUNTRY,
        Filter("status", choice(Standing, ACCREDITATION_STATUSES)),
        Filter("outcome", choice(QADecision)),
        EQF_LEVEL,
        Filter("decided_from", day),
        Filter("decided_to", day),
    ),
    ranges=(("decided_from", "decided_to"),),
)
REVIEW_BROWSE = Browse(
    REVIEWS,
    (
        PROVIDER_ID,
        AGENCY_ID,
        Filter("microcredential_id", uuid),
        COUNTRY,
        Filter("status", choice(ReviewStatus)),
        Filter("decision", choice(QADecision)),
        EQF_LEVEL,
        Filter("opened_from", day),
        Filter("opened_to", day),
    ),
    ranges=(("opened_from", "opened_to"),),
)
CREDENTIAL_BROWSE = Browse(
    CREDENTIALS,
    (
        PROVIDER_ID,
        Filter("microcredential_id", uuid),
        COUNTRY,
        Filter("status", choice(CredentialStatus)),
        EQF_LEVEL,
        Filter("isced_field", isced_prefix, "isced_prefix"),
        Filter("include_revoked", lambda name, value: None if flag(name, value) else True, "hide_revoked"),
        Filter("issued_from", day),
        Filter("issued_to", day),
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
        Filter("status", choice(RecognitionStatus)),
        Filter("outcome", choice(RecognitionOutcome)),
        Filter("purpose", choice(RecognitionPurpose)),
        Filter("institution_country", v.country),
        Filter("issuer_country", v.country),
        Filter("requested_from", day),
        Filter("requested_to", day),
    ),
    ranges=(("requested_from", "requested_to"),),
)
