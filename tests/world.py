"""A small registry world that tests build on: who acts, and the usual first steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role

OPERATOR = Actor(uuid4(), Role.OPERATOR, key_id="test-operator")
NEVER_ISSUED = UUID("5c1d2f0e-8b1a-4c3e-9f7a-2d6e4b8c1a90")
"""A credential id no test issues. Fixed, not random: a test's parameters must be the same in every pytest-xdist
worker's collection."""

SPEC: dict[str, Any] = {
    "title": {"en": "Data analysis with Python", "nl": "Data-analyse met Python"},
    "learning_outcomes": [
        {"text": "Clean and analyse tabular data", "esco_uri": "http://data.europa.eu/esco/skill/ab12-cd34"},
        {"text": "Communicate results with charts"},
    ],
    "ects": "5",
    "eqf_level": 6,
    "isced_field": "0613",
    "assessment": "project",
    "participation": "online",
    "qa_type": "internal",
    "languages": ["en"],
}


def learner(name: str = "Ada Lovelace") -> PersonalData:
    return PersonalData(name, date(1995, 12, 10), "ada@example.org")


@dataclass
class World:
    """An agency that accredited a provider whose micro-credential can be issued from 2021 on."""

    registry: Registry
    agency_id: UUID = field(init=False)
    provider_id: UUID = field(init=False)
    accreditation_id: UUID = field(init=False)
    microcredential_id: UUID = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.agency_id = r.register_agency(
            OPERATOR, name="Quality Agency", acronym="QA", country="NL", registered_on=date(2015, 1, 1)
        )
        self.provider_id = self.register_provider("NL", "Universiteit Voorbeeld")
        self.accreditation_id = r.grant_accreditation(
            self.agency,
            provider_id=self.provider_id,
            outcome="positive",
            valid_from=date(2021, 1, 1),
            valid_to=date(2026, 12, 31),
            eqf_levels=[5, 6, 7],
            isced_fields=["06"],
            decided_on=date(2020, 12, 1),
        )
        self.microcredential_id = r.specify_microcredential(
            self.provider, provider_id=self.provider_id, specified_on=date(2019, 1, 1), **SPEC
        )

    @property
    def agency(self) -> Actor:
        return Actor(self.agency_id, Role.QA_AGENCY, key_id="test-agency")

    @property
    def provider(self) -> Actor:
        return Actor(self.provider_id, Role.PROVIDER, key_id="test-provider")

    def register_provider(self, country: str, name: str) -> UUID:
        return self.registry.register_provider(
            OPERATOR, names={"en": name}, country=country, registered_on=date(2015, 1, 1)
        )

    def issue(self, issued_on: date = date(2024, 3, 1), **kwargs: Any) -> UUID:
        return self.registry.issue_credential(
            self.provider,
            microcredential_id=kwargs.pop("microcredential_id", self.microcredential_id),
            learner=kwargs.pop("learner", learner()),
            issued_on=issued_on,
            **kwargs,
        )
