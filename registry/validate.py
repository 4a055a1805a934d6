"""Field rules. Each check names the field and the rule it breaks.

Checks return the value in its canonical form (upper-case country codes,
quantised ECTS, enum members) so that events store one spelling only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pycountry

from mcreg.registry.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
LANGUAGES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
# ISCED-F 2013 broad fields and the narrow fields under each; every broad field
# also has "x8" (inter-disciplinary) and "x9" (not elsewhere classified) narrow
# fields. Detailed fields add one digit to a narrow field.
_ISCED_NARROW = {
    "00": "0123",
    "01": "1",
    "02": "123",
    "03": "12",
    "04": "12",
    "05": "1234",
    "06": "1",
    "07": "123",
    "08": "1234",
    "09": "12",
    "10": "1234",
    "99": "9",
}
ESCO = re.compile(r"^http://data\.europa\.eu/esco/(skill|occupation|isco)/[A-Za-z0-9\-./]+$")
ECTS_MAX = Decimal(180)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls and DEL, but tab and line breaks


def text(field: str, value: Any, *, max_length: int = 1000, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(field, "is required and may not be blank")
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    return printable(field, value)


def printable(field: str, value: str) -> str:
    """Text no one can read contains control characters, and PostgreSQL refuses NUL in every text column."""
    if _CONTROL.search(value):
        raise InvalidInput(field, "may not contain control characters")
    return value


def optional_text(field: str, value: Any, *, max_length: int = 4000) -> str | None:
    return text(field, value, max_length=max_length, required=False) or None


def country(field: str, value: Any) -> str:
    code = value.upper() if isinstance(value, str) else None
    if code not in COUNTRIES:
        raise InvalidInput(field, "must be an ISO 3166-1 alpha-2 country code")
    return str(code)


def countries(field: str, values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({country(field, v) for v in values}))


def language(field: str, value: Any) -> str:
    code = value.lower() if isinstance(value, str) else None
    if code not in LANGUAGES:
        raise InvalidInput(field, "must be an ISO 639-1 language code")
    return str(code)


def languages(field: str, values: Iterable[Any], *, required: bool = True) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(language(field, v) for v in values))
    if required and not codes:
        raise InvalidInput(field, "must name at least one ISO 639-1 language")
    return codes


def multilingual(field: str, value: Any, *, max_length: int = 500) -> dict[str, str]:
    """A text in one or more languages, keyed by ISO 639-1 code."""
    if not isinstance(value, Mapping) or not value:
        raise InvalidInput(field, "must map at least one ISO 639-1 language code to a text")
    texts = {
        language(f"{field}.{lang}", lang): text(f"{field}.{lang}", v, max_length=max_length)
        for lang, v in value.items()
    }
    return dict(sorted(texts.items()))


def eqf_level(field: str, value: Any, *, required: bool = False) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
        raise InvalidInput(field, "must be an EQF level from 1 to 8")
    return value


def eqf_levels(field: str, values: Iterable[Any]) -> tuple[int, ...]:
    return tuple(sorted({eqf_level(field, v, required=True) or 0 for v in values}))


_NQF_LEVEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z .+-]{0,19}")


def nqf_level(field: str, value: Any) -> str | None:
    """A level of the provider's national qualifications framework, as that framework writes it ("6", "5+",
    "Level 7"): frameworks number their levels differently (Scotland to 12, Ireland to 10), so only its form is
    checked."""
    if value is None:
        return None
    if not isinstance(value, str) or not _NQF_LEVEL.fullmatch(value):
        raise InvalidInput(
            field, "must be the national framework's level code: up to 20 letters, digits, spaces, dots, + or -"
        )
    return value


WORKLOAD_HOURS_MAX = 10_000


def workload_hours(field: str, value: Any) -> int | None:
    """Notional hours of learning, as the provider states them: a whole number from 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= WORKLOAD_HOURS_MAX:
        raise InvalidInput(field, f"must be a whole number of hours from 1 to {WORKLOAD_HOURS_MAX}")
    return value


def ects(field: str, value: Any) -> Decimal:
    """Notional workload in ECTS: a decimal ≥ 0 with at most two decimals."""
    if isinstance(value, bool | float):
        raise InvalidInput(field, "must be a decimal number of ECTS credits, not a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(field, "must be a decimal number of ECTS credits") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(field, "must be zero or more ECTS credits")
    if amount > ECTS_MAX:
        raise InvalidInput(field, f"must be at most {ECTS_MAX} ECTS credits")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(field, "must have at most 2 decimals")
    return amount.quantize(Decimal("0.01"))


def isced_field(field: str, value: Any) -> str:
    """An ISCED-F 2013 code: broad (2 digits), narrow (3) or detailed (4)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{2,4}", value):
        raise InvalidInput(field, "must be an ISCED-F 2013 field code of 2 to 4 digits")
    broad, rest = value[:2], value[2:]
    narrow = _ISCED_NARROW.get(broad)
    if narrow is None or (rest and rest[0] not in narrow + "89"):
        raise InvalidInput(field, "must be an ISCED-F 2013 field code")
    return value


def isced_fields(field: str, values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({isced_field(field, v) for v in values}))


def esco_uri(field: str, value: Any) -> str:
    if not isinstance(value, str) or not ESCO.fullmatch(value):
        raise InvalidInput(field, "must be an ESCO URI (http://data.europa.eu/esco/skill/…)")
    return value


def url(field: str, value: Any, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(field, "must be an http(s) URL")
    if len(value) > 2000:
        raise InvalidInput(field, "must be at most 2000 characters")
    return printable(field, value)


def choice(field: str, value: Any, enum: type[E]) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum)
        raise InvalidInput(field, f"must be one of {allowed}") from None


def day(field: str, value: Any) -> date:
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidInput(field, "must be a calendar date (YYYY-MM-DD)")
    if value.year < 1900:
        raise InvalidInput(field, "must be a date after 1900")
    return value


def past_day(field: str, value: Any, today: date) -> date:
    """A date that has happened: issue dates, decisions, revocations."""
    checked = day(field, value)
    if checked > today:
        raise InvalidInput(field, "may not be in the future")
    return checked


def period(field_from: str, start: date, field_to: str, end: date | None) -> None:
    if end is not None and end < start:
        raise InvalidInput(field_to, f"must be on or after {field_from}")


def email(field: str, value: Any) -> str | None:
    if value is None:
        return None
    address = text(field, value, max_length=254)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        raise InvalidInput(field, "must be an email address")
    return address


def identifier(field: str, value: Any, *, max_length: int = 200) -> str | None:
    """An external identifier (DEQAR, ETER, SCHAC, Erasmus code, local id)."""
    if value is None:
        return None
    checked = text(field, value, max_length=max_length)
    if any(ch.isspace() and ch != " " for ch in checked):
        raise InvalidInput(field, "may not contain line breaks or tabs")
    return checked
