"""Micro-credentials: a provider's specification with the EU standard elements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from mcreg.registry.errors import InvalidInput, StateConflict
from mcreg.registry.stamp import Stamp
from mcreg.registry.topics import stored_as
from mcreg.registry.vocabulary import (
    AssessmentType,
    LearningSetting,
    Participation,
    QAType,
    Stackability,
    Supervision,
)


@dataclass(frozen=True)
class LearningOutcome:
    text: str
    esco_uri: str | None = None
    esco_label: str | None = None  # the ESCO skill's preferred label, as the provider gave it


@dataclass(frozen=True)
class Specification:
    """The standard elements of Annex I of Council Recommendation 2022/C 243/02.

    The learner, issuer country, awarding body and issue date belong to each
    issued credential; everything else is fixed by the specification.
    """

    title: dict[str, str]  # ISO 639-1 → title
    learning_outcomes: tuple[LearningOutcome, ...]
    ects: Decimal
    eqf_level: int | None  # "where applicable"
    isced_field: str
    assessment: AssessmentType
    participation: Participation
    qa_type: QAType
    languages: tuple[str, ...]
    prerequisites: str | None = None
    supervision: Supervision | None = None
    stackability: Stackability = Stackability.STAND_ALONE
    stackable_towards: str | None = None
    further_information: str | None = None
    learning_setting: LearningSetting | None = None
    workload_hours: int | None = None  # notional hours of learning, as the provider states them
    grading_scheme: str | None = None  # how the assessment is graded, e.g. "pass or fail", "1 to 10, 6 passes"
    nqf_level: str | None = None  # the level in the provider's country's qualifications framework, as it writes it

    def __post_init__(self) -> None:
        # Stored events give back plain strings; keep one type in memory.
        for name, enum in (
            ("assessment", AssessmentType),
            ("participation", Participation),
            ("qa_type", QAType),
            ("stackability", Stackability),
        ):
            object.__setattr__(self, name, enum(getattr(self, name)))
        if self.supervision is not None:
            object.__setattr__(self, "supervision", Supervision(self.supervision))
        if self.learning_setting is not None:
            object.__setattr__(self, "learning_setting", LearningSetting(self.learning_setting))


class MicroCredential(Aggregate):
    """A provider's micro-credential; each revision is a new numbered specification."""

    @event("Specified")
    def __init__(self, stamp: Stamp, provider_id: UUID, specification: Specification) -> None:
        self.provider_id = provider_id
        self.specifications = [specification]
        self.in_force_from = [stamp.effective]  # the date each specification took effect
        self.retired_on: date | None = None
        self.review_ids: list[UUID] = []

    @property
    def spec_version(self) -> int:
        """The number of the current specification, from 1."""
        return len(self.specifications)

    @property
    def specification(self) -> Specification:
        return self.specifications[-1]

    def specification_at(self, spec_version: int) -> Specification:
        return self.specifications[spec_version - 1]

    def spec_version_on(self, day: date) -> int | None:
        """The number of the specification in force on ``day``; None before the first one."""
        in_force = [n for n, start in enumerate(self.in_force_from, start=1) if start <= day]
        return in_force[-1] if in_force else None

    def revise(self, stamp: Stamp, specification: Specification) -> None:
        self.check_not_retired()
        if specification == self.specification:
            raise StateConflict("the revision changes nothing")
        if stamp.effective < self.in_force_from[-1]:
            raise InvalidInput(
                "effective", f"must be on or after the current specification's date {self.in_force_from[-1]}"
            )
        self._revise(stamp, specification)

    @event("Revised")
    def _revise(self, stamp: Stamp, specification: Specification) -> None:
        self.specifications.append(specification)
        self.in_force_from.append(stamp.effective)

    def retire(self, stamp: Stamp) -> None:
        self.check_not_retired()
        self._retire(stamp)

    @event("Retired")
    def _retire(self, stamp: Stamp) -> None:
        self.retired_on = stamp.effective

    @event("ReviewLinked")
    def link_review(self, stamp: Stamp, review_id: UUID) -> None:
        self.review_ids.append(review_id)

    def check_not_retired(self) -> None:
        if self.retired_on is not None:
            raise StateConflict("the micro-credential is retired")


stored_as("registry.microcredential", MicroCredential)
