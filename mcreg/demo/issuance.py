"""Chapter 5 of the demo's story: providers issue the credentials, in cohorts, in batches.

Each credential goes to a new learner, on a day its micro-credential's quality
assurance is in force; a few are picked at issuance to be revoked, suspended
or recognised abroad afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from math import isqrt

from mcreg.demo.story import Issued, KnownMicroCredential, KnownProvider, Story, ascii_only
from mcreg.demo.world import GRADES, NAMES
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import IssueRow
from mcreg.registry.vocabulary import AssessmentType

REVOKED_SHARE, SUSPENDED_SHARE, RECOGNISED_SHARE = 0.02, 0.01, 0.03
GRADED = (AssessmentType.EXAM, AssessmentType.PROJECT, AssessmentType.ORAL, AssessmentType.MIXED)
"""The assessments that may end in a grade."""


def issue_credentials(
    story: Story, total: int, batch_size: int, progress: Callable[[int], None]
) -> dict[str, list[Issued]]:
    """Issue ``total`` credentials, provider by provider, in cohorts; those picked for a later fate."""
    shares = Counter(story.rng.choices(story.microcredentials, popularity(story), k=total))
    fate_of = fates(story, total)
    fated: dict[str, list[Issued]] = {"revoke": [], "suspend": [], "recognise": []}
    index = 0
    for provider in story.providers:
        scheduled = [c for m in story.microcredentials if m.provider is provider for c in cohorts(story, m, shares[m])]
        scheduled.sort(key=lambda cohort: cohort[1])
        rows = ((m, issue_row(story, m, day)) for m, day in scheduled)
        for batch in batched(rows, batch_size):
            result = story.registry.issue_credentials(provider.actor, [row for _, row in batch], partial=False)
            for (microcredential, row), credential_id in zip(batch, result.issued, strict=True):
                assert credential_id is not None  # a refused row fails the whole batch
                if index in fate_of:
                    fated[fate_of[index]].append(Issued(credential_id, microcredential, row.issued_on))
                index += 1
            story.counts["credentials"] += len(batch)
            progress(len(batch))
    return fated


def popularity(story: Story) -> list[float]:
    """A few micro-credentials attract most learners."""
    return [story.rng.paretovariate(1.2) for _ in story.microcredentials]


def fates(story: Story, total: int) -> dict[int, str]:
    """Which credentials, by issuance order, are later revoked, suspended or recognised elsewhere."""
    kinds = {"revoke": REVOKED_SHARE, "suspend": SUSPENDED_SHARE, "recognise": RECOGNISED_SHARE}
    counts = {kind: round(total * share) for kind, share in kinds.items()}
    picked = iter(story.rng.sample(range(total), sum(counts.values())))
    return {next(picked): kind for kind, count in counts.items() for _ in range(count)}


def cohorts(
    story: Story, microcredential: KnownMicroCredential, count: int
) -> Iterator[tuple[KnownMicroCredential, date]]:
    """``count`` issuances spread over a few cohort days, all inside the micro-credential's QA cover."""
    if not count:
        return
    days = sorted(cohort_day(story, microcredential) for _ in range(min(count, 2 + isqrt(count) // 3)))
    for day in story.rng.choices(days, k=count):
        microcredential.last_issued = max(day, microcredential.last_issued or day)
        yield microcredential, day


def cohort_day(story: Story, microcredential: KnownMicroCredential) -> date:
    """A weekday inside the micro-credential's QA cover, where the cover allows."""
    day = story.day_between(microcredential.first_day, microcredential.last_day)
    while day.weekday() >= 5 and day > microcredential.first_day:
        day -= timedelta(days=1)
    return day


def issue_row(story: Story, microcredential: KnownMicroCredential, issued_on: date) -> IssueRow:
    """A new learner each time, so the registry draws the learner id (and need not look it up)."""
    personal_data = learner(story, microcredential.provider, issued_on)
    graded = microcredential.elements["assessment"] in GRADED and story.rng.random() < 0.7
    grade = story.rng.choice(GRADES[microcredential.provider.country]) if graded else None
    return IssueRow(microcredential.id, personal_data, issued_on, grade=grade)


def learner(story: Story, provider: KnownProvider, issued_on: date) -> PersonalData:
    """Mostly from the provider's country, some from elsewhere in Europe."""
    rng = story.rng
    origin = provider.language if rng.random() < 0.7 else rng.choice(list(NAMES))
    names = NAMES[origin]
    is_female = rng.random() < 0.5
    given = rng.choice(names.female if is_female else names.male)
    forms = rng.choice(names.family)
    family = forms[-1] if is_female else forms[0]
    age = 19 + min(45, int(rng.expovariate(1 / 9)))
    birth_date = issued_on - timedelta(days=365 * age + rng.randrange(365))
    email = f"{ascii_only(given)}.{ascii_only(family)}{rng.randrange(100)}@example.org".lower()
    return PersonalData(f"{given} {family}", birth_date, email, given, family)


def batched(
    items: Iterator[tuple[KnownMicroCredential, IssueRow]], size: int
) -> Iterator[list[tuple[KnownMicroCredential, IssueRow]]]:
    batch: list[tuple[KnownMicroCredential, IssueRow]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
