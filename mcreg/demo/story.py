"""The demo's story as it is recorded: what the builder knows of what it recorded, and the calendar it keeps.

Every chapter (``organisations``, ``catalogue``, ``issuance``, ``afterwards``)
works on one ``Story``: the registry, the one ``random.Random`` every choice
comes from, and the agencies, providers and micro-credentials recorded so far.
The story is written on a calendar that ends on ``STORY_ENDS``; ``Story.on``
moves its days by whole days so that it ends on the registry's today.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from mcreg.demo.world import Profile
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import ESGActivity, Role

STORY_ENDS = date(2025, 9, 28)
"""The last day of the calendar the story is written on; it is recorded moved to end on the registry's today, so its
QA periods, issues, revocations and lapses spread over the years up to today whenever it is built."""
ISSUING_FROM = date(2020, 1, 1)
ISSUING_UNTIL = date(2025, 6, 30)
"""Credentials are issued between these days of the story's calendar; what follows them happens later, and never
after today."""


@dataclass(eq=False)
class KnownAgency:
    id: UUID
    country: str
    slug: str
    activities: tuple[ESGActivity, ...]

    @property
    def actor(self) -> Actor:
        return Actor(self.id, Role.QA_AGENCY, key_id="demo")


@dataclass(eq=False)
class Cover:
    """An accreditation, and the days on which the demo issues credentials under it."""

    eqf_levels: tuple[int, ...]
    isced_fields: tuple[str, ...]
    first_day: date
    last_day: date

    def covers_field(self, isced_field: str) -> bool:
        return not self.isced_fields or isced_field[:2] in self.isced_fields


@dataclass(eq=False)
class KnownProvider:
    id: UUID
    country: str
    language: str
    profile: Profile
    english_name: str
    slug: str
    covers: list[Cover] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return Actor(self.id, Role.PROVIDER, key_id="demo")

    @property
    def institution(self) -> Actor:
        return Actor(self.id, Role.INSTITUTION, key_id="demo")


@dataclass(eq=False)
class KnownMicroCredential:
    id: UUID
    provider: KnownProvider
    elements: dict[str, object]
    first_day: date  # the days on which its quality assurance covers issuing it
    last_day: date
    last_issued: date | None = None

    @property
    def ects(self) -> Decimal:
        return Decimal(str(self.elements["ects"]))

    @property
    def eqf_level(self) -> int:
        return int(str(self.elements["eqf_level"]))


@dataclass(frozen=True)
class Issued:
    """A credential chosen at issuance for something that happens to it later."""

    id: UUID
    microcredential: KnownMicroCredential
    issued_on: date


class Story:
    """The registry the story is recorded in, its random choices, and what has been recorded so far, counted."""

    def __init__(self, registry: Registry, rng: random.Random) -> None:
        self.registry = registry
        self.rng = rng
        self.today = registry.today()
        self.shift = self.today - STORY_ENDS
        self.issuing_from = self.on(ISSUING_FROM)
        self.issuing_until = self.on(ISSUING_UNTIL)
        self.counts: Counter[str] = Counter()
        self.agencies: list[KnownAgency] = []  # those in good standing
        self.providers: list[KnownProvider] = []
        self.microcredentials: list[KnownMicroCredential] = []
        self.later: list[Callable[[], object]] = []  # QA events that take effect after the credentials they covered
        self.local_ids: Counter[str] = Counter()

    def on(self, day: date) -> date:
        """A day of the story's calendar, as recorded: moved so that the story ends today."""
        return day + self.shift

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def days_after(self, day: date, least: int, most: int) -> date:
        """A day ``least`` to ``most`` days later, but never after today."""
        return min(self.today, day + timedelta(days=self.rng.randint(least, most)))

    def local_identifier(self, prefix: str, year: int) -> str:
        self.local_ids[prefix] += 1
        return f"{prefix}-{year}-{self.local_ids[prefix]:03d}"


def authority(country: str) -> Actor:
    """The national authority of ``country``."""
    org = uuid5(NAMESPACE_URL, f"mcreg:demo:authority:{country}")
    return Actor(org, Role.NATIONAL_AUTHORITY, key_id="demo", country=country)


_ASCII_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d"})


def ascii_only(text: str) -> str:
    """Letters and digits only, accents dropped: for e-mail addresses and URL slugs."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_LETTERS))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())
