"""The invented world the demo records, read from the JSON files in ``data/``.

``agencies.json`` and ``providers.json`` (with the provider ``profiles.json``)
name the organisations; ``topics.json`` what micro-credentials teach;
``learners.json`` learners' names by language and the grades each country
awards; ``texts.json`` what QA bodies, providers and institutions write (conditions,
reasons, summaries, notes). Agency, provider and place names are invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from mcreg.registry.vocabulary import ESGActivity, ProviderType, QADecision, RevocationReason


def _load(name: str) -> Any:
    return json.loads(files("mcreg.demo").joinpath("data", name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class InventedAgency:
    country: str
    name: str
    acronym: str
    esg_activities: tuple[ESGActivity, ...]


@dataclass(frozen=True)
class Profile:
    """A kind of provider: what it is, the EQF levels it teaches at and the fields it may be accredited for."""

    kind: ProviderType
    eqf_levels: tuple[int, ...]
    isced_fields: tuple[str, ...]  # broad ISCED-F fields it may be accredited for; () means all fields
    comprehensive_share: float  # how often its accreditation leaves the fields open


@dataclass(frozen=True)
class InventedProvider:
    country: str
    profile: Profile
    language: str  # ISO 639-1 code of its local name
    local_name: str
    english_name: str
    schac_stem: str
    erasmus_code: str | None


@dataclass(frozen=True)
class Topic:
    isced_field: str  # ISCED-F 2013 detailed field
    eqf_levels: tuple[int, ...]  # the levels at which it is usually offered
    titles: dict[str, str]  # by ISO 639-1 code; "en" always
    learning_outcomes: tuple[str, ...]


@dataclass(frozen=True)
class Names:
    """Given and family names in one language; a family name has a male and a female form where they differ."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    family: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class RevocationText:
    """A reason and note the demo revokes credentials with, and how often it picks them."""

    reason: RevocationReason
    note: str
    weight: int  # how often, relative to the other revocations


@dataclass(frozen=True)
class Texts:
    """What QA bodies, providers and institutions write; ``{eqf}``, ``{ects}``, ``{higher}`` and ``{more}``
    are filled in with the credential's figures."""

    prerequisites: dict[int, str]  # by EQF level
    programmes: dict[int, str]  # what a micro-credential stacks towards, by EQF level
    accreditation_conditions: tuple[str, ...]
    withdrawal_reasons: tuple[str, ...]
    accreditation_suspension_reasons: tuple[str, ...]
    review_summaries: dict[QADecision, str]
    review_conditions: str
    revocations: tuple[RevocationText, ...]
    credential_suspensions: tuple[str, ...]
    differences: tuple[tuple[str, str], ...]  # (substantial difference, its reason)
    appeal_grounds: tuple[str, ...]


def _agencies() -> tuple[InventedAgency, ...]:
    return tuple(
        InventedAgency(a["country"], a["name"], a["acronym"], tuple(ESGActivity(x) for x in a["esg_activities"]))
        for a in _load("agencies.json")
    )


def _profiles() -> dict[str, Profile]:
    return {
        name: Profile(
            ProviderType(p["kind"]), tuple(p["eqf_levels"]), tuple(p["isced_fields"]), p["comprehensive_share"]
        )
        for name, p in _load("profiles.json").items()
    }


def _providers(profiles: dict[str, Profile]) -> tuple[InventedProvider, ...]:
    return tuple(
        InventedProvider(
            p["country"],
            profiles[p["profile"]],
            p["language"],
            p["local_name"],
            p["english_name"],
            p["schac_stem"],
            p["erasmus_code"],
        )
        for p in _load("providers.json")
    )


def _topics() -> tuple[Topic, ...]:
    return tuple(
        Topic(t["isced_field"], tuple(t["eqf_levels"]), t["titles"], tuple(t["learning_outcomes"]))
        for t in _load("topics.json")
    )


def _texts() -> Texts:
    t = _load("texts.json")
    return Texts(
        prerequisites={int(level): text for level, text in t["prerequisites"].items()},
        programmes={int(level): text for level, text in t["programmes"].items()},
        accreditation_conditions=tuple(t["accreditation_conditions"]),
        withdrawal_reasons=tuple(t["withdrawal_reasons"]),
        accreditation_suspension_reasons=tuple(t["accreditation_suspension_reasons"]),
        review_summaries={QADecision(decision): text for decision, text in t["review_summaries"].items()},
        review_conditions=t["review_conditions"],
        revocations=tuple(
            RevocationText(RevocationReason(r["reason"]), r["note"], r["weight"]) for r in t["revocations"]
        ),
        credential_suspensions=tuple(t["credential_suspensions"]),
        differences=tuple((d["difference"], d["reason"]) for d in t["differences"]),
        appeal_grounds=tuple(t["appeal_grounds"]),
    )


_learners = _load("learners.json")

AGENCIES = _agencies()
"""The fifth is suspended for a while, the last deregistered."""
PROVIDERS = _providers(_profiles())
TOPICS = _topics()
NAMES = {
    language: Names(tuple(n["female"]), tuple(n["male"]), tuple(tuple(forms) for forms in n["family"]))
    for language, n in _learners["names"].items()
}
"""By ISO 639-1 code, in the order the file lists them."""
GRADES: dict[str, tuple[str, ...]] = {country: tuple(grades) for country, grades in _learners["grades"].items()}
"""The grades each country's providers typically award."""
TEXTS = _texts()
