"""The catalogue: micro-credentials as their providers specify, revise and retire them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

from mcreg.registry import validate as v
from mcreg.registry.aggregates.microcredential import LearningOutcome, MicroCredential, Specification
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application.core import Context, RegistryCore, command
from mcreg.registry.errors import InvalidInput
from mcreg.registry.permissions import require_owner
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import (
    AssessmentType,
    LearningSetting,
    Participation,
    QAType,
    Role,
    Stackability,
    Supervision,
)


def offers(actor: Actor, microcredential: MicroCredential) -> None:
    """The provider offering the micro-credential."""
    require_owner(actor, Role.PROVIDER, microcredential.provider_id, "micro-credential")


class CatalogueCommands(RegistryCore):
    """Commands on micro-credentials."""

    @command
    def specify_microcredential(
        self, ctx: Context, *, provider_id: UUID, specified_on: date | None = None, **elements: Any
    ) -> UUID:
        """A new micro-credential whose specification is in force from ``specified_on`` (today by default)."""
        provider = self.get(Provider, provider_id)
        require_owner(ctx.actor, Role.PROVIDER, provider.id, "provider")
        provider.check_open()
        microcredential = MicroCredential(
            ctx.stamp_on("specified_on", specified_on), provider.id, specification(**elements)
        )
        ctx.save(microcredential)
        return microcredential.id

    @command
    def revise_microcredential(
        self, ctx: Context, microcredential_id: UUID, *, effective: date | None = None, **elements: Any
    ) -> UUID:
        """A new specification, in force from ``effective``; credentials issued before keep the old one."""
        with self.changing(ctx, MicroCredential, microcredential_id, offers) as microcredential:
            microcredential.revise(ctx.stamp_on("effective", effective), specification(**elements))
        return microcredential.id

    @command
    def retire_microcredential(self, ctx: Context, microcredential_id: UUID, *, effective: date | None = None) -> UUID:
        with self.changing(ctx, MicroCredential, microcredential_id, offers) as microcredential:
            microcredential.retire(ctx.stamp_on("effective", effective))
        return microcredential.id


def specification(
    *,
    title: Mapping[str, str],
    learning_outcomes: Iterable[Mapping[str, Any]],
    ects: Any,
    isced_field: str,
    assessment: str,
    participation: str,
    qa_type: str,
    languages: Iterable[str],
    eqf_level: int | None = None,
    prerequisites: str | None = None,
    supervision: str | None = None,
    stackability: str = Stackability.STAND_ALONE,
    stackable_towards: str | None = None,
    further_information: str | None = None,
    learning_setting: str | None = None,
    workload_hours: int | None = None,
    grading_scheme: str | None = None,
    nqf_level: str | None = None,
) -> Specification:
    """The standard elements, each checked against its rule."""
    outcome_list = [] if isinstance(learning_outcomes, str | Mapping) else list(learning_outcomes)
    if not outcome_list or not all(isinstance(o, Mapping) for o in outcome_list):
        raise InvalidInput("learning_outcomes", "must be a list of outcomes, each with a text and an optional esco_uri")
    outcomes = tuple(
        LearningOutcome(
            text=v.text(f"learning_outcomes[{i}].text", o.get("text"), max_length=2000),
            esco_uri=v.esco_uri(f"learning_outcomes[{i}].esco_uri", o["esco_uri"]) if o.get("esco_uri") else None,
            esco_label=_esco_label(f"learning_outcomes[{i}]", o),
        )
        for i, o in enumerate(outcome_list)
    )
    return Specification(
        title=v.multilingual("title", title),
        learning_outcomes=outcomes,
        ects=v.ects("ects", ects),
        eqf_level=v.eqf_level("eqf_level", eqf_level),
        isced_field=v.isced_field("isced_field", isced_field),
        assessment=v.choice("assessment", assessment, AssessmentType),
        participation=v.choice("participation", participation, Participation),
        qa_type=v.choice("qa_type", qa_type, QAType),
        languages=v.languages("languages", languages),
        prerequisites=v.optional_text("prerequisites", prerequisites),
        supervision=v.choice("supervision", supervision, Supervision) if supervision else None,
        stackability=v.choice("stackability", stackability, Stackability),
        stackable_towards=v.optional_text("stackable_towards", stackable_towards, max_length=500),
        further_information=v.optional_text("further_information", further_information),
        learning_setting=v.choice("learning_setting", learning_setting, LearningSetting) if learning_setting else None,
        workload_hours=v.workload_hours("workload_hours", workload_hours),
        grading_scheme=v.optional_text("grading_scheme", grading_scheme, max_length=500),
        nqf_level=v.nqf_level("nqf_level", nqf_level),
    )


def _esco_label(field: str, outcome: Mapping[str, Any]) -> str | None:
    """The ESCO skill's label: only beside the skill it names."""
    label = v.optional_text(f"{field}.esco_label", outcome.get("esco_label"), max_length=300)
    if label and not outcome.get("esco_uri"):
        raise InvalidInput(f"{field}.esco_label", "labels an ESCO skill: give its esco_uri too")
    return label
