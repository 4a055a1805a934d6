"""A synthetic registry for demonstrations and load tests (``mcreg demo``).

``build_demo(registry, credentials=N, seed=S)`` records a plausible European
history through the registry's own commands only, so every rule of the
registry holds for it. The story is recorded in this order:

The story is written on a calendar that ends on 28 September 2025 and is
recorded moved by whole days to end on the registry's today (``Story.on``);
the years below are of that calendar, so built today they lie about as many
years before today as they lie before 2025-09-28.

1. The operator registers twelve QA agencies (registered 2012-2016); one is
   suspended for a while by its national authority, one is deregistered.
2. National authorities register forty providers in fifteen EU/EEA countries.
3. Agencies, and for some providers a national authority, accredit every
   provider with validity from 2019-2021 for six years (so some have expired
   by today); some accreditations carry conditions, most fulfilled later.
4. Providers specify micro-credentials with the standard elements; agencies
   review some of them (the ones outside the provider's accreditation scope
   always), and one or two review decisions are appealed.
5. Providers issue N credentials in bulk, in cohorts between 2020 and mid-2025,
   each on a day on which its quality assurance is in force.
6. Afterwards: revisions and retirements, accreditations withdrawn or suspended
   after the last credential they covered, credentials revoked (2%) and
   suspended (1%), and cross-border recognitions (3%) with appeals.

So the credentials verify in all three verdicts (``verdicts.verdict_mix``):
valid, valid with warnings (their QA expired, was suspended or withdrawn after
they were issued) and not valid (revoked, or suspended now).

Chapters 1-3 are ``organisations``, 4 ``catalogue``, 5 ``issuance`` and 6
``afterwards``; the invented world they draw on (names, topics, texts) is
``world``, read from ``data/``.

Every choice comes from ``random.Random(seed)`` and every date is a day of the
story's calendar moved to end on ``registry.today()``, so the same seed, size
and day record the same content. Ids the registry derives from natural keys
(agencies, providers, accreditations, reviews) repeat from one run to the
next; ids the registry draws itself (micro-credentials, credentials, learners,
recognitions), ciphertexts and system times do not.

Agency, provider and place names are invented; DEQAR-like ids start with
``DEMO``; ESCO URIs have ESCO's form but name no real skill.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, fields

from mcreg.demo import afterwards, catalogue, issuance, organisations
from mcreg.demo.story import Story
from mcreg.registry.application import Registry


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` recorded: registrations, grants, opened reviews, issued credentials,
    revocations, suspensions, recognition requests and appeals lodged (on reviews and on recognitions)."""

    agencies: int
    providers: int
    accreditations: int
    reviews: int
    microcredentials: int
    credentials: int
    revoked: int
    suspended: int
    recognitions: int
    appeals: int


def build_demo(
    registry: Registry,
    *,
    credentials: int,
    seed: int = 1,
    batch_size: int = 1000,
    progress: Callable[[int], None] = lambda n: None,
) -> DemoSummary:
    """Record a synthetic but rule-abiding registry with ``credentials`` issued credentials.

    Credentials are issued through ``Registry.issue_credentials`` in batches of
    at most ``batch_size`` rows, one provider at a time; ``progress(n)`` is
    called after each n credentials issued. The registry should be empty:
    agencies and providers have fixed DEQAR-like ids and cannot be registered twice.
    """
    if credentials < 0 or batch_size < 1:
        raise ValueError("credentials must be 0 or more and batch_size at least 1")
    story = Story(registry, random.Random(seed))
    organisations.register_agencies(story)
    organisations.register_providers(story)
    for provider in story.providers:
        organisations.accredit(story, provider)
    catalogue.specify_microcredentials(story, max(20, min(400, credentials // 100)))
    catalogue.review_some_microcredentials(story)
    fated = issuance.issue_credentials(story, credentials, batch_size, progress)
    afterwards.revise_and_retire_microcredentials(story)
    for record in story.later:
        record()
    afterwards.revoke_credentials(story, fated["revoke"])
    afterwards.suspend_credentials(story, fated["suspend"])
    afterwards.recognise_credentials(story, fated["recognise"])
    return DemoSummary(**{f.name: story.counts[f.name] for f in fields(DemoSummary)})
