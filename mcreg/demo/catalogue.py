"""Chapter 4 of the demo's story: providers specify micro-credentials; agencies review some of them.

Most micro-credentials lie inside their provider's accreditation; those outside
it (a level above or below) are always reviewed, and agencies review a few
others too, one or two of which are appealed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from mcreg.demo.issuance import GRADED
from mcreg.demo.story import Cover, KnownAgency, KnownMicroCredential, KnownProvider, Story
from mcreg.demo.world import GRADES, TEXTS, TOPICS, Topic
from mcreg.registry.application import DEFAULT_VALIDITY
from mcreg.registry.vocabulary import (
    AppealOutcome,
    AssessmentType,
    ESGActivity,
    LearningSetting,
    Participation,
    ProviderType,
    QADecision,
    QAType,
    Stackability,
    Supervision,
)

SUPERVISION = {
    Participation.ONLINE: (Supervision.UNSUPERVISED, Supervision.SUPERVISED_VERIFIED_ONLINE),
    Participation.BLENDED: (
        Supervision.SUPERVISED,
        Supervision.SUPERVISED_VERIFIED_ONLINE,
        Supervision.SUPERVISED_VERIFIED_ONSITE,
    ),
    Participation.ONSITE: (Supervision.SUPERVISED, Supervision.SUPERVISED_VERIFIED_ONSITE),
}
"""How the final assessment may be supervised, by how learners take part."""


def specify_microcredentials(story: Story, count: int) -> None:
    """Every provider offers one before any offers a second; most lie inside their accreditation's scope."""
    offering = story.rng.sample(story.providers, len(story.providers))
    weights = [3 if p.profile.kind == ProviderType.HIGHER_EDUCATION else 1 for p in story.providers]
    offering += story.rng.choices(story.providers, weights, k=max(0, count - len(offering)))
    for provider in offering[:count]:
        cover = story.rng.choice(provider.covers)
        outside = outside_scope(story, cover) if story.rng.random() < 0.08 else None
        topic, eqf_level = outside or inside_scope(story, cover)
        qa_type = (
            QAType.EXTERNAL_PROGRAMME if outside else story.rng.choice((QAType.INTERNAL, QAType.EXTERNAL_INSTITUTIONAL))
        )
        elements = standard_elements(story, provider, topic, eqf_level, qa_type)
        microcredential_id = story.registry.specify_microcredential(
            provider.actor,
            provider_id=provider.id,
            # Before any issue window opens (none opens before issuing_from, whatever covers it).
            specified_on=story.issuing_from - timedelta(days=story.rng.randint(30, 400)),
            **elements,
        )
        microcredential = KnownMicroCredential(microcredential_id, provider, elements, cover.first_day, cover.last_day)
        story.microcredentials.append(microcredential)
        story.counts["microcredentials"] += 1
        if outside:
            decision = story.rng.choice((QADecision.POSITIVE, QADecision.POSITIVE_WITH_CONDITIONS))
            _, _, decided_on = review(story, microcredential, decision)
            microcredential.first_day = max(decided_on, story.issuing_from)
            microcredential.last_day = min(decided_on + DEFAULT_VALIDITY, story.issuing_until)


def inside_scope(story: Story, cover: Cover) -> tuple[Topic, int]:
    topic = story.rng.choice(
        [t for t in TOPICS if cover.covers_field(t.isced_field) and set(t.eqf_levels) & set(cover.eqf_levels)]
    )
    return topic, story.rng.choice([level for level in topic.eqf_levels if level in cover.eqf_levels])


def outside_scope(story: Story, cover: Cover) -> tuple[Topic, int] | None:
    """A level just above or below the accreditation's, which needs a review of its own; None if there is none."""
    for level in (max(cover.eqf_levels) + 1, min(cover.eqf_levels) - 1):
        topics = [t for t in TOPICS if cover.covers_field(t.isced_field) and level in t.eqf_levels]
        if topics and 4 <= level <= 8:
            return story.rng.choice(topics), level
    return None


def standard_elements(
    story: Story, provider: KnownProvider, topic: Topic, eqf_level: int, qa_type: QAType
) -> dict[str, object]:
    rng = story.rng
    outcomes = rng.sample(topic.learning_outcomes, rng.randint(2, min(4, len(topic.learning_outcomes))))
    participation = rng.choices(list(Participation), (25, 40, 35))[0]
    stackability = rng.choices(list(Stackability), (50, 15, 35))[0]
    languages = ["en"] if provider.language == "ga" else [provider.language, "en"][: rng.randint(1, 2)]
    number = len(story.microcredentials) + 1
    ects = rng.choices(("2", "3", "3.5", "4", "5", "6", "7.5", "10"), (8, 15, 6, 12, 20, 14, 5, 4))[0]
    assessment = rng.choice([a for a in AssessmentType if a != AssessmentType.NONE])
    return {
        "title": {lang: topic.titles[lang] for lang in ("en", provider.language) if lang in topic.titles},
        # the demo's skills are invented, so each is labelled with its outcome
        "learning_outcomes": [{"text": text, "esco_uri": esco_uri(text), "esco_label": text} for text in outcomes],
        "ects": ects,
        "eqf_level": eqf_level,
        "isced_field": topic.isced_field,
        "assessment": assessment,
        "participation": participation,
        "qa_type": qa_type,
        "languages": languages,
        "prerequisites": TEXTS.prerequisites.get(eqf_level),
        "supervision": rng.choice(SUPERVISION[participation]),
        "stackability": stackability,
        "stackable_towards": f"{TEXTS.programmes[eqf_level]} at {provider.english_name}"
        if stackability == Stackability.STACKABLE
        else None,
        "further_information": f"https://{provider.slug}.example/micro-credentials/{topic.isced_field}-{number:03d}",
        "learning_setting": LearningSetting.NON_FORMAL
        if stackability == Stackability.STAND_ALONE
        else LearningSetting.FORMAL,
        "workload_hours": round(Decimal(ects) * 28),  # the demo's providers count 28 hours to the credit
        "grading_scheme": f"graded {', '.join(GRADES[provider.country])}" if assessment in GRADED else "pass or fail",
    }


def review(story: Story, microcredential: KnownMicroCredential, decision: QADecision) -> tuple[KnownAgency, UUID, date]:
    """An agency reviews the micro-credential from opening to decision: who, which review, decided when."""
    rng = story.rng
    agency = rng.choice(
        [
            a
            for a in story.agencies
            if ESGActivity.MICRO_CREDENTIAL in a.activities or ESGActivity.PROGRAMME in a.activities
        ]
    )
    opened_on = story.day_between(story.on(date(2019, 9, 1)), story.on(date(2020, 12, 31)))
    local_identifier = story.local_identifier(f"{agency.slug.upper()}-MC", opened_on.year)
    review_id = story.registry.open_review(
        agency.actor,
        microcredential_id=microcredential.id,
        local_identifier=local_identifier,
        opened_on=opened_on,
    )
    story.counts["reviews"] += 1
    published_on = story.days_after(opened_on, 60, 150)
    story.registry.publish_review_report(
        agency.actor,
        review_id,
        url=f"https://{agency.slug}.example/reports/{local_identifier.lower()}.pdf",
        summary=TEXTS.review_summaries[decision].format(eqf=microcredential.eqf_level, ects=microcredential.ects),
        published_on=published_on,
    )
    decided_on = story.days_after(published_on, 14, 45)
    story.registry.decide_review(
        agency.actor,
        review_id,
        decision=decision,
        conditions=TEXTS.review_conditions if decision == QADecision.POSITIVE_WITH_CONDITIONS else None,
        decided_on=decided_on,
    )
    return agency, review_id, decided_on


def review_some_microcredentials(story: Story) -> None:
    """Agencies also review a few micro-credentials that their providers' accreditations already cover.

    The first of these reviews ends negative and the provider wins its appeal; the second
    ends with conditions and the provider's appeal is dismissed; the others stand as decided.
    """
    inside = [m for m in story.microcredentials if m.elements["qa_type"] != QAType.EXTERNAL_PROGRAMME]
    chosen = story.rng.sample(inside, min(len(inside), max(3, len(story.microcredentials) // 8)))
    appealed = {
        0: (QADecision.NEGATIVE, AppealOutcome.OVERTURNED),
        1: (QADecision.POSITIVE_WITH_CONDITIONS, AppealOutcome.UPHELD),
    }
    for number, microcredential in enumerate(chosen):
        if number in appealed:
            decision, appeal = appealed[number]
            appeal_review(story, *review(story, microcredential, decision), appeal)
        else:
            review(story, microcredential, story.rng.choices(list(QADecision)[:3], (60, 25, 15))[0])


def appeal_review(story: Story, agency: KnownAgency, review_id: UUID, decided_on: date, outcome: AppealOutcome) -> None:
    lodged_on = story.days_after(decided_on, 10, 30)
    grounds = "The provider contests the panel's reading of the assessment evidence and submits further samples"
    story.registry.appeal_review(agency.actor, review_id, grounds=grounds, effective=lodged_on)
    story.counts["appeals"] += 1
    overturned = outcome == AppealOutcome.OVERTURNED
    story.registry.decide_review_appeal(
        agency.actor,
        review_id,
        outcome=outcome,
        decision=QADecision.POSITIVE_WITH_CONDITIONS if overturned else None,
        conditions=TEXTS.review_conditions if overturned else None,
        decided_on=story.days_after(lodged_on, 30, 90),
    )


def esco_uri(skill: str) -> str:
    """An ESCO-shaped skill URI, the same for the same skill (not a real ESCO concept)."""
    return f"http://data.europa.eu/esco/skill/{uuid5(NAMESPACE_URL, f'mcreg:demo:skill:{skill}')}"
