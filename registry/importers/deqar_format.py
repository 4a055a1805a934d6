"""DEQAR's submission format: its vocabulary, and a report object parsed into typed values.

EQAR's Database of External Quality Assurance Results (DEQAR) takes reports
from QA agencies as JSON submission objects: the agency, its own report
identifier (``local_identifier``), the ESG activity, status, decision,
validity (written in the report's ``date_format``), report files, and the
institutions and programmes the report is about. ``parse_report`` turns one
object into a ``DeqarReport``, naming the field and the rule of anything it
refuses; ``registry.importers.deqar`` records it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from mcreg.registry import validate as v
from mcreg.registry.errors import InvalidInput
from mcreg.registry.vocabulary import ESGActivity, QADecision

# Vocabulary ---------------------------------------------------------------------


class ReportStatus(StrEnum):
    """Whether the review was part of the country's obligatory external QA (DEQAR ids 1 and 2)."""

    OBLIGATORY = "part of obligatory EQA system"
    VOLUNTARY = "voluntary"


_STATUS_IDS = {"1": ReportStatus.OBLIGATORY, "2": ReportStatus.VOLUNTARY}
_DECISION_IDS = {
    "1": QADecision.POSITIVE,
    "2": QADecision.POSITIVE_WITH_CONDITIONS,
    "3": QADecision.NEGATIVE,
    "4": QADecision.NOT_APPLICABLE,
}
# QF-EHEA cycles, by DEQAR id and by name, as EQF levels.
_QF_EHEA = {"0": 5, "1": 6, "2": 7, "3": 8, "short cycle": 5, "first cycle": 6, "second cycle": 7, "third cycle": 8}
# DEQAR gives an institution's official name without its language. Where the
# country has one official language, the name is recorded in it; elsewhere it
# is recorded as the English name unless an English name was given.
_OFFICIAL_LANGUAGE = {
    **dict.fromkeys(("AT", "DE", "LI"), "de"),
    **dict.fromkeys(("IT", "SM", "VA"), "it"),
    **dict.fromkeys(("MD", "RO"), "ro"),
    **{"AD": "ca", "AL": "sq", "AM": "hy", "AZ": "az", "BG": "bg", "CZ": "cs", "DK": "da", "EE": "et", "ES": "es"},
    **{"FR": "fr", "GB": "en", "GE": "ka", "GR": "el", "HR": "hr", "HU": "hu", "IS": "is", "LT": "lt", "LV": "lv"},
    **{"MK": "mk", "NL": "nl", "NO": "no", "PL": "pl", "PT": "pt", "RS": "sr", "RU": "ru", "SE": "sv", "SI": "sl"},
    **{"SK": "sk", "TR": "tr", "UA": "uk"},
}
_FORMAT_DIRECTIVE = re.compile(r"%(-?)(.?)")
_DEQAR_INSTITUTION = re.compile(r"DEQARINST\d{1,12}")
_ETER = re.compile(r"[A-Z]{2}[A-Z0-9]{1,13}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


# Parsed reports -----------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    url: str | None  # ``original_location``; None when the file was uploaded to DEQAR instead
    display_name: str | None
    languages: tuple[str, ...]  # ISO 639-1 or 639-2 codes, as DEQAR takes them


@dataclass(frozen=True)
class Location:
    country: str  # ISO 3166-1 alpha-2
    city: str | None = None


@dataclass(frozen=True)
class Institution:
    """An institution a report is about: a reference by id, or a description to register it from."""

    deqar_id: str | None = None
    eter_id: str | None = None
    name_official: str | None = None
    name_english: str | None = None
    locations: tuple[Location, ...] = ()
    eqf_levels: tuple[int, ...] = ()  # from ``qf_ehea_levels``
    local_identifiers: tuple[str, ...] = ()  # the agency's own identifiers for the institution

    @property
    def country(self) -> str | None:
        return self.locations[0].country if self.locations else None

    def names(self) -> dict[str, str]:
        """The names to register the institution under, keyed by language."""
        names: dict[str, str] = {}
        if self.name_english:
            names["en"] = self.name_english
        if self.name_official:
            language = _OFFICIAL_LANGUAGE.get(self.country or "")
            if language and language not in names:
                names[language] = self.name_official
            elif "en" not in names:
                names["en"] = self.name_official
        return names


@dataclass(frozen=True)
class Programme:
    name: str
    qualification: str | None = None
    eqf_level: int | None = None  # from ``qf_ehea_level``
    nqf_level: str | None = None  # as the agency wrote it ("level 7"); not an EQF level


@dataclass(frozen=True)
class DeqarReport:
    """One DEQAR submission object, checked and in canonical form."""

    agency: str  # acronym, name or DEQAR id of the agency that wrote the report
    local_identifier: str
    activity: str  # the agency's own activity name or DEQAR activity id, as given
    activity_type: ESGActivity  # from the report's structure
    status: ReportStatus
    decision: QADecision
    valid_from: date
    valid_to: date | None  # None: the registry's default validity (six years) applies
    files: tuple[ReportFile, ...]
    links: tuple[str, ...]
    institutions: tuple[Institution, ...]
    programmes: tuple[Programme, ...] = ()

    @property
    def report_url(self) -> str | None:
        """The first report file's URL, else the first link to the report."""
        return next((f.url for f in self.files if f.url), None) or next(iter(self.links), None)

    @property
    def eqf_levels(self) -> tuple[int, ...]:
        """The programmes' EQF levels (programme reports only)."""
        return tuple(sorted({p.eqf_level for p in self.programmes if p.eqf_level is not None}))


def parse_report(data: Any, index: int | None = None) -> DeqarReport:
    """One DEQAR submission object as a ``DeqarReport``; ``InvalidInput`` names the first bad field.

    Fields are named as in the submission (``valid_from``, ``institutions[0].locations[0].country``),
    prefixed with ``reports[index].`` when ``index`` is given.
    """
    p = f"reports[{index}]." if index is not None else ""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"reports[{index}]" if index is not None else "report", "must be a DEQAR report object")
    agency = agency_reference(p, data)
    local_identifier = v.identifier(f"{p}local_identifier", data.get("local_identifier"), max_length=190)
    if local_identifier is None:
        raise InvalidInput(f"{p}local_identifier", "is required: reports are imported once per local identifier")
    activity = next((data[k] for k in ("activity", "activity_id", "activity_local_identifier") if data.get(k)), None)
    activity = v.text(f"{p}activity", str(activity) if type(activity) is int else activity, max_length=500)
    status = _coded(f"{p}status", data.get("status"), _STATUS_IDS, ReportStatus)
    decision = _coded(f"{p}decision", data.get("decision"), _DECISION_IDS, QADecision)
    date_format = _date_format(f"{p}date_format", data.get("date_format"))
    valid_from = _date(f"{p}valid_from", data.get("valid_from"), date_format)
    valid_to = _date(f"{p}valid_to", data["valid_to"], date_format) if data.get("valid_to") else None
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidInput(f"{p}valid_to", "must be after valid_from")
    files = tuple(_report_file(f"{p}report_files[{i}]", f) for i, f in enumerate(_list(p, data, "report_files")))
    if not files:
        raise InvalidInput(f"{p}report_files", "must list at least one report file")
    links = tuple(
        str(v.url(f"{p}report_links[{i}].link", link.get("link") if isinstance(link, Mapping) else None, required=True))
        for i, link in enumerate(_list(p, data, "report_links"))
    )
    institutions = tuple(_institution(f"{p}institutions[{i}]", d) for i, d in enumerate(_list(p, data, "institutions")))
    if not institutions:
        raise InvalidInput(f"{p}institutions", "must name at least one institution")
    programmes = tuple(_programme(f"{p}programmes[{i}]", d) for i, d in enumerate(_list(p, data, "programmes")))
    if not programmes:
        activity_type = ESGActivity.INSTITUTIONAL
    elif len(institutions) == 1:
        activity_type = ESGActivity.PROGRAMME
    else:
        activity_type = ESGActivity.JOINT_PROGRAMME
    return DeqarReport(
        agency=agency,
        local_identifier=local_identifier,
        activity=activity,
        activity_type=activity_type,
        status=status,
        decision=decision,
        valid_from=valid_from,
        valid_to=valid_to,
        files=files,
        links=links,
        institutions=institutions,
        programmes=programmes,
    )


def agency_reference(p: str, data: Mapping[str, Any]) -> str:
    """The report's ``agency`` (or ``agency_id``): the acronym, name or DEQAR id of the agency that wrote it."""
    value = data.get("agency", data.get("agency_id"))
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return v.text(f"{p}agency", value, max_length=300)


def _list(prefix: str, data: Mapping[str, Any], key: str) -> list[Any]:
    """``data[key]`` as a list (empty when absent); ``prefix`` names ``data`` in errors."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{prefix}{key}", "must be a list")
    return value


def _coded(path: str, value: Any, ids: Mapping[str, Any], enum: type[StrEnum]) -> Any:
    """A DEQAR value given by its id ("1") or its name, in any case."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        key = " ".join(value.split()).casefold()
        if key in ids:
            return ids[key]
        for member in enum:
            if member.value.casefold() == key:
                return member
    names = ", ".join(f"{i} ({m.value!r})" for i, m in ids.items())
    raise InvalidInput(path, f"must be a DEQAR id or name: {names}")


def _date_format(path: str, value: Any) -> str:
    """DEQAR's date notation (``%d``, ``%-d``, ``%m``, ``%-m``, ``%Y``, ``%y``) as a ``strptime`` format."""
    if value is None:
        return "%Y-%m-%d"
    fmt = v.text(path, value, max_length=20)
    rule = "must write a day, month and year with %d or %-d, %m or %-m, and %Y or %y"

    def directive(match: re.Match[str]) -> str:
        flag, letter = match.groups()
        if letter == "%" and not flag:
            return "%%"
        if letter not in ("d", "m", "Y", "y"):
            raise InvalidInput(path, rule)
        return f"%{letter}"

    translated = _FORMAT_DIRECTIVE.sub(directive, fmt)
    used = set(re.findall(r"%([dmYy])", translated.replace("%%", "")))
    if not ({"d", "m"} <= used and used & {"Y", "y"}):
        raise InvalidInput(path, rule)
    return translated


def _date(path: str, value: Any, fmt: str) -> date:
    shown = fmt.replace("%%", "%")
    if not isinstance(value, str):
        raise InvalidInput(path, f"must be a date written in the report's date_format ({shown})")
    try:
        day = datetime.strptime(value.strip(), fmt).date()
    except ValueError:
        raise InvalidInput(path, f"must be a date written in the report's date_format ({shown})") from None
    return v.day(path, day)


def _report_file(path: str, data: Any) -> ReportFile:
    if not isinstance(data, Mapping):
        raise InvalidInput(path, "must be a report file object")
    languages = []
    for i, code in enumerate(_list(f"{path}.", data, "report_language")):
        if not isinstance(code, str) or not _LANGUAGE.fullmatch(code.strip().lower()):
            raise InvalidInput(f"{path}.report_language[{i}]", "must be an ISO 639-1 or ISO 639-2 language code")
        languages.append(code.strip().lower())
    if not languages:
        raise InvalidInput(f"{path}.report_language", "must list at least one language of the report")
    return ReportFile(
        url=v.url(f"{path}.original_location", data.get("original_location")),
        display_name=v.optional_text(f"{path}.display_name", data.get("display_name"), max_length=255),
        languages=tuple(dict.fromkeys(languages)),
    )


def _institution(path: str, data: Any) -> Institution:
    if not isinstance(data, Mapping):
        raise InvalidInput(path, "must be an institution object")
    deqar_id = _code(f"{path}.deqar_id", data.get("deqar_id"), _DEQAR_INSTITUTION, "a DEQARINST id (DEQARINST0034)")
    eter_id = _code(f"{path}.eter_id", data.get("eter_id"), _ETER, "an ETER id (BE0035)")
    locations = tuple(
        _location(f"{path}.locations[{i}]", d) for i, d in enumerate(_list(f"{path}.", data, "locations"))
    )
    levels = {
        _qf_ehea(f"{path}.qf_ehea_levels[{i}]", x) for i, x in enumerate(_list(f"{path}.", data, "qf_ehea_levels"))
    }
    local_identifiers = tuple(
        _local_identifier(f"{path}.identifiers[{i}]", d) for i, d in enumerate(_list(f"{path}.", data, "identifiers"))
    )
    institution = Institution(
        deqar_id=deqar_id,
        eter_id=eter_id,
        local_identifiers=tuple(dict.fromkeys(i for i in local_identifiers if i)),
        name_official=v.optional_text(f"{path}.name_official", data.get("name_official"), max_length=255),
        name_english=v.optional_text(f"{path}.name_english", data.get("name_english"), max_length=255),
        locations=locations,
        eqf_levels=tuple(sorted(levels)),
    )
    if not (deqar_id or eter_id or institution.local_identifiers or institution.name_official):
        raise InvalidInput(
            path, "must give a deqar_id, an eter_id, the agency's own identifier, or a name_official and locations"
        )
    if not (deqar_id or eter_id or institution.local_identifiers) and not locations:
        raise InvalidInput(f"{path}.locations", "must give the country of an institution without a deqar_id or eter_id")
    return institution


def _local_identifier(path: str, data: Any) -> str | None:
    """An agency's own identifier (DEQAR's ``resource`` "local identifier", the default); other resources are
    identifiers the registry does not keep, and are ignored."""
    if not isinstance(data, Mapping):
        raise InvalidInput(path, "must be an identifier object")
    resource = data.get("resource", "local identifier")
    if not isinstance(resource, str) or resource.strip().casefold() not in ("local identifier", "local"):
        return None
    return v.identifier(f"{path}.identifier", data.get("identifier"))


def _code(path: str, value: Any, pattern: re.Pattern[str], what: str) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if code is None or not pattern.fullmatch(code):
        raise InvalidInput(path, f"must be {what}")
    return code


def _location(path: str, data: Any) -> Location:
    if not isinstance(data, Mapping):
        raise InvalidInput(path, "must be a location object with a country")
    return Location(
        country=v.country(f"{path}.country", data.get("country")),
        city=v.optional_text(f"{path}.city", data.get("city"), max_length=100),
    )


def _qf_ehea(path: str, value: Any) -> int:
    key = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(key, str) and (level := _QF_EHEA.get(" ".join(key.split()).casefold())):
        return level
    raise InvalidInput(
        path, "must be a QF-EHEA cycle: 0 to 3, or 'short cycle', 'first cycle', 'second cycle', 'third cycle'"
    )


def _programme(path: str, data: Any) -> Programme:
    if not isinstance(data, Mapping):
        raise InvalidInput(path, "must be a programme object")
    level = data.get("qf_ehea_level")
    programme = Programme(
        name=v.text(f"{path}.name_primary", data.get("name_primary"), max_length=255),
        qualification=v.optional_text(
            f"{path}.qualification_primary", data.get("qualification_primary"), max_length=255
        ),
        eqf_level=_qf_ehea(f"{path}.qf_ehea_level", level) if level not in (None, "") else None,
        nqf_level=v.optional_text(f"{path}.nqf_level", data.get("nqf_level"), max_length=255),
    )
    if programme.eqf_level is None and programme.nqf_level is None:
        raise InvalidInput(f"{path}.qf_ehea_level", "is required when the programme has no nqf_level")
    return programme
