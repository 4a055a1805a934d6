"""The demo registry behind ``mcreg demo``, checked the way an auditor would check it.

Each test builds the demo in memory and reads the registry back: its events
(through the notification log) and its aggregates. The demo is dated up to the
day it is built, so the tests pin that day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import is_dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Notification

from mcreg.demo import ISSUING_FROM, ISSUING_UNTIL, STORY_ENDS, DemoSummary, VerdictMix, build_demo, verdict_mix
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import SealedText
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Stamp
from mcreg.registry.vocabulary import RecognitionOutcome, Standing

BUILT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
"""The moment the tests build the demo: it is dated up to that day."""


def in_memory(clock: datetime = BUILT) -> Registry:
    return Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: clock)


def notifications(registry: Registry) -> Iterator[Notification]:
    start = 1
    while page := registry.recorder.select_notifications(start=start, limit=500):
        yield from page
        start = page[-1].id + 1


def originators(registry: Registry, topic: str) -> list[UUID]:
    """Ids of the aggregates that recorded an event of this topic (e.g. ``Credential.Issued``)."""
    return [UUID(str(n.originator_id)) for n in notifications(registry) if n.topic.endswith(f":{topic}")]


def content(registry: Registry) -> list[tuple[str, Any]]:
    """Every event as recorded, leaving out what is random by design: ids the registry
    draws itself (replaced by the order in which they first appear), system times,
    ciphertexts (replaced by the learner's data and the free text they seal) and issuers' public keys, drawn at
    random."""
    ids: dict[UUID, int] = {}

    def plain(value: Any) -> Any:
        if isinstance(value, UUID):
            return ids.setdefault(value, len(ids))
        if isinstance(value, datetime):  # business dates are dates; a datetime is the system's clock
            return "system time"
        if is_dataclass(value):
            return plain(vars(value))
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    story = []
    for notification in notifications(registry):
        event = registry.mapper.to_domain_event(notification)
        state = {key: value for key, value in vars(event).items() if key not in ("timestamp", "public_key_multibase")}
        if "learner" in state:
            state["learner"] = registry.learner_data(event.originator_id)
        for name, value in state.items():
            if isinstance(value, SealedText):
                state[name] = registry.open_text(value, event.originator_id, name)
        if state.get("verdict") is not None:
            differences = registry.opened_differences(event.originator_id, state["verdict"].differences)
            state["verdict"] = vars(state["verdict"]) | {"differences": differences}
        story.append((notification.topic, plain(state)))
    return story


@pytest.fixture(scope="module")
def demo() -> tuple[Registry, DemoSummary, list[int]]:
    """A demo registry of 300 credentials (seed 7), issued in batches of at most 64, with the progress reported."""
    registry, reported = in_memory(), list[int]()
    summary = build_demo(registry, credentials=300, seed=7, batch_size=64, progress=reported.append)
    return registry, summary, reported


def test_the_summary_counts_what_the_registry_holds(demo: tuple[Registry, DemoSummary, list[int]]) -> None:
    registry, summary, reported = demo
    events = Counter(n.topic.rsplit(":", 1)[-1] for n in notifications(registry))

    assert summary == DemoSummary(
        agencies=events["Agency.Registered"],
        providers=events["Provider.Registered"],
        accreditations=events["Accreditation.Granted"],
        reviews=events["Review.Opened"],
        microcredentials=events["MicroCredential.Specified"],
        credentials=events["Credential.Issued"],
        revoked=events["Credential.Revoked"],
        suspended=events["Credential.Suspended"],
        recognitions=events["Recognition.Requested"],
        appeals=events["Review.Appealed"] + events["Recognition.Appealed"],
    )
    assert (summary.agencies, summary.providers, summary.microcredentials) == (12, 40, 20)
    assert (summary.credentials, summary.revoked, summary.suspended, summary.recognitions) == (300, 6, 3, 9)
    assert sum(reported) == 300 and max(reported) <= 64


def test_the_story_has_every_chapter(demo: tuple[Registry, DemoSummary, list[int]]) -> None:
    registry, _, _ = demo
    events = Counter(n.topic.rsplit(":", 1)[-1] for n in notifications(registry))

    # One agency was suspended for a while and reinstated; one was deregistered.
    assert events["Agency.Suspended"] == events["Agency.Reinstated"] == events["Agency.Deregistered"] == 1
    # Every provider holds at least one accreditation; some conditions were met, some accreditations withdrawn.
    providers = [registry.get(Provider, i) for i in originators(registry, "Provider.Registered")]
    assert all(provider.accreditation_ids for provider in providers)
    assert events["Accreditation.ConditionFulfilled"] and events["Accreditation.Withdrawn"]
    # Reviews were published and decided; one decision was overturned on appeal and one upheld.
    assert events["Review.Opened"] == events["Review.ReportPublished"] == events["Review.Decided"]
    assert events["Review.Appealed"] == events["Review.AppealDecided"] == 2
    # Some micro-credentials were revised, and some suspended credentials reinstated.
    assert events["MicroCredential.Revised"] and events["Credential.Reinstated"]
    # Every issuing provider has a signing key valid now, made by a command: verification never skips the key.
    issuers = {registry.get(Credential, i).provider_id for i in originators(registry, "Credential.Issued")}
    now = registry.clock()
    assert all((keys := registry.issuer_keys(i)) is not None and keys.current(now) is not None for i in issuers)


def test_every_credential_was_issued_while_its_quality_assurance_was_in_force(
    demo: tuple[Registry, DemoSummary, list[int]],
) -> None:
    registry, _, _ = demo
    credentials = [registry.get(Credential, i) for i in originators(registry, "Credential.Issued")]

    shift = registry.today() - STORY_ENDS  # the story's calendar, moved to end today
    for credential in credentials:
        assert ISSUING_FROM + shift <= credential.issued_on <= ISSUING_UNTIL + shift
        assert credential.qa_basis is not None
        assert registry.qa_standing(credential.qa_basis, credential.issued_on).standing == Standing.IN_FORCE
    # ...even though some of those decisions were withdrawn, suspended or expired after the credentials were issued.
    today = registry.today()
    assert any(registry.qa_standing(c.qa_basis, today).standing != Standing.IN_FORCE for c in credentials)

    first = credentials[0]
    microcredential = registry.get(MicroCredential, first.microcredential_id)
    assert microcredential.provider_id == first.provider_id
    learner = registry.learner_data(first.id)
    assert learner is not None and learner.email is not None and learner.email.endswith("@example.org")


def test_recognitions_cross_borders_and_give_reasons_for_anything_less_than_full(
    demo: tuple[Registry, DemoSummary, list[int]],
) -> None:
    registry, _, _ = demo
    recognitions = [registry.get(Recognition, i) for i in originators(registry, "Recognition.Requested")]

    for recognition in recognitions:
        credential = registry.get(Credential, recognition.credential_id)
        issuer = registry.get(Provider, credential.provider_id)
        assert registry.get(Provider, recognition.institution_id).country != issuer.country
        if recognition.verdict is None:
            continue
        microcredential = registry.get(MicroCredential, credential.microcredential_id)
        ects = microcredential.specification_at(credential.spec_version).ects
        if recognition.verdict.outcome == RecognitionOutcome.RECOGNISED:
            assert recognition.verdict.ects_recognised == ects
        else:
            assert recognition.verdict.ects_recognised < ects and recognition.verdict.differences


def test_the_same_seed_tells_the_same_story_and_another_seed_another() -> None:
    first, again, other = in_memory(), in_memory(), in_memory()

    assert build_demo(first, credentials=300, seed=7) == build_demo(again, credentials=300, seed=7)
    assert content(first) == content(again)

    build_demo(other, credentials=300, seed=8)
    assert content(other) != content(first)


def test_the_story_is_dated_up_to_the_day_it_is_built() -> None:
    """Built on another day, the same seed tells the same story moved by as many days (whole weeks here: cohorts fall
    on weekdays), ending that day."""
    today, year_later = in_memory(), in_memory(BUILT + timedelta(weeks=52))
    build_demo(today, credentials=100, seed=7)
    build_demo(year_later, credentials=100, seed=7)

    def issue_days(registry: Registry) -> list[date]:
        return [registry.get(Credential, i).issued_on for i in originators(registry, "Credential.Issued")]

    assert [day + timedelta(weeks=52) for day in issue_days(today)] == issue_days(year_later)
    last = max(issue_days(today))
    assert date(2026, 6, 1) < last < BUILT.date()  # issued up to a few months ago, not stopped in 2025
    events = [today.mapper.to_domain_event(n) for n in notifications(today)]
    effective = [e.stamp.effective for e in events if isinstance(getattr(e, "stamp", None), Stamp)]
    assert len(effective) > 100 and max(effective) <= BUILT.date()  # nothing takes effect after today


def test_the_demo_credentials_verify_in_all_three_verdicts(demo: tuple[Registry, DemoSummary, list[int]]) -> None:
    """Valid, valid with warnings (QA expired, suspended or withdrawn after issue), and not valid (revoked or
    suspended now): the mix ``mcreg demo`` prints, pinned for the day the tests build it."""
    registry, _, _ = demo

    mix = verdict_mix(registry)

    assert mix == VerdictMix(valid=226, valid_with_warnings=66, not_valid=8, verified=300, issued=300)
    sampled = verdict_mix(registry, sample=100)
    assert (sampled.verified, sampled.issued) == (100, 300)
