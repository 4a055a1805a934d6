"""The lists' statuses held to the registry's rules: an accreditation's status is ``Accreditation.standing``, a
micro-credential's QA status is what ``Registry.qa_cover`` finds, on every day from the last recorded event on.

Each case is built through the registry's commands and read back from the read models; the statuses the lists
accept are exactly those the cases reach, so a status the rule gives and the list does not (or the reverse) fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from mcreg.bootstrap import Services
from mcreg.projections.browsing import MICROCREDENTIALS, MicroCredentialQA, on
from mcreg.projections.read_models import ReadModels
from mcreg.projections.registers import ACCREDITATION_STATUSES, ACCREDITATIONS
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.application import Registry
from mcreg.registry.quality import BasisKind
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR, SPEC, World

Case = Callable[[Registry, World, date], UUID]


def days_from(today: date) -> tuple[date, ...]:
    """Today (the last effective date any event may have), and days after it, past the validities the cases set."""
    return (today, today + timedelta(days=45), today + timedelta(days=400))


def granted(r: Registry, w: World, t: date, start: int = -365, end: int = 365, **scope: Any) -> UUID:
    """An accreditation of the world's provider, valid from ``t + start`` to ``t + end`` days."""
    return r.grant_accreditation(
        w.agency,
        provider_id=w.provider_id,
        outcome="positive",
        valid_from=t + timedelta(days=start),
        valid_to=t + timedelta(days=end),
        decided_on=t - timedelta(days=400),
        **scope,
    )


def suspended(r: Registry, w: World, a: UUID, on_day: date) -> UUID:
    return r.suspend_accreditation(w.agency, a, reason="under investigation", effective=on_day)


def ago(t: date, days: int) -> date:
    return t - timedelta(days=days)


ACCREDITATION_CASES: dict[str, Case] = {
    "in force": lambda r, w, t: granted(r, w, t),
    "not yet valid": lambda r, w, t: granted(r, w, t, start=30, end=400),
    "expired": lambda r, w, t: granted(r, w, t, start=-800, end=-10),
    "valid from today": lambda r, w, t: granted(r, w, t, start=0),
    "valid to today": lambda r, w, t: granted(r, w, t, end=0),
    "suspended": lambda r, w, t: suspended(r, w, granted(r, w, t), ago(t, 5)),
    "suspended today": lambda r, w, t: suspended(r, w, granted(r, w, t), t),
    "reinstated": lambda r, w, t: r.reinstate_accreditation(
        w.agency, suspended(r, w, granted(r, w, t), ago(t, 20)), effective=ago(t, 5)
    ),
    "reinstated today": lambda r, w, t: r.reinstate_accreditation(
        w.agency, suspended(r, w, granted(r, w, t), ago(t, 20)), effective=t
    ),
    "suspended again": lambda r, w, t: suspended(
        r,
        w,
        r.reinstate_accreditation(w.agency, suspended(r, w, granted(r, w, t), ago(t, 30)), effective=ago(t, 20)),
        ago(t, 10),
    ),
    "withdrawn": lambda r, w, t: r.withdraw_accreditation(w.agency, granted(r, w, t), reason="closed", effective=t),
    "withdrawn while suspended": lambda r, w, t: r.withdraw_accreditation(
        w.agency, suspended(r, w, granted(r, w, t), ago(t, 20)), reason="closed", effective=ago(t, 5)
    ),
    "withdrawn after it expired": lambda r, w, t: r.withdraw_accreditation(
        w.agency, granted(r, w, t, start=-800, end=-30), reason="closed", effective=ago(t, 5)
    ),
    "suspended and expired": lambda r, w, t: suspended(r, w, granted(r, w, t, start=-800, end=-10), ago(t, 30)),
    "suspended and not yet valid": lambda r, w, t: suspended(r, w, granted(r, w, t, start=30, end=400), ago(t, 1)),
    "renewed after it expired": lambda r, w, t: r.renew_accreditation(
        w.agency, granted(r, w, t, start=-800, end=-10), valid_to=t + timedelta(days=200), effective=ago(t, 2)
    ),
    "renewed while suspended": lambda r, w, t: r.renew_accreditation(
        w.agency,
        suspended(r, w, granted(r, w, t, end=20), ago(t, 10)),
        valid_to=t + timedelta(days=600),
        effective=ago(t, 2),
    ),
    "granted by a national authority": lambda r, w, t: r.grant_accreditation(
        Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="nl-authority", country="NL"),
        provider_id=w.provider_id,
        outcome="positive",
        valid_from=ago(t, 100),
        valid_to=t + timedelta(days=100),
    ),
    "granted by an agency since suspended": lambda r, w, t: suspended_agency_grant(r, w, t),
}
"""Every case ``Accreditation.standing`` tells apart, and the edges of its periods."""


def suspended_agency_grant(r: Registry, w: World, t: date) -> UUID:
    """An accreditation in force whose agency is suspended: its standing sets the agency aside."""
    agency_id = r.register_agency(OPERATOR, name="Suspended Agency", country="NL", registered_on=ago(t, 3000))
    agency = Actor(agency_id, Role.QA_AGENCY, key_id="suspended-agency")
    accreditation = r.grant_accreditation(
        agency, provider_id=w.provider_id, outcome="positive", valid_from=ago(t, 100), decided_on=ago(t, 100)
    )
    r.suspend_agency(OPERATOR, agency_id, reason="under review by EQAR", effective=ago(t, 10))
    return accreditation


def test_each_accreditation_is_listed_as_it_stands_by_the_aggregates_rule(
    services: Services, read_models: ReadModels
) -> None:
    r = services.registry
    world = World(r)
    today = r.today()
    made = {name: case(r, world, today) for name, case in ACCREDITATION_CASES.items()}
    read_models.catch_up()

    reached = set()
    for day in days_from(today):
        rule = {i: r.get(Accreditation, i).standing(day).value for i in [world.accreditation_id, *made.values()]}
        page = read_models.browsing.page(ACCREDITATIONS, on(day), limit=100)
        listed = {entry.row.accreditation_id: entry.facts["status"] for entry in page.rows}
        assert {name: listed[i] for name, i in made.items()} == {name: rule[i] for name, i in made.items()}, day
        assert listed == rule
        counts = read_models.browsing.facets(ACCREDITATIONS, on(day)).counts["status"]
        assert {c.value: c.count for c in counts} == Counter(rule.values())
        reached |= set(rule.values())

    assert reached == set(ACCREDITATION_STATUSES)


class Scene:
    """Providers each offering one micro-credential, and agencies in and out of good standing."""

    def __init__(self, registry: Registry, world: World) -> None:
        self.r, self.world, self.today = registry, world, registry.today()
        self.agency = world.agency
        self.suspended = self.new_agency("Suspended Agency")
        self.deregistered = self.new_agency("Deregistered Agency")
        self.reinstated = self.new_agency("Reinstated Agency")

    def new_agency(self, name: str) -> Actor:
        agency_id = self.r.register_agency(OPERATOR, name=name, country="NL", registered_on=ago(self.today, 3000))
        return Actor(agency_id, Role.QA_AGENCY, key_id=name)

    def offered(self, country: str = "NL", **spec: Any) -> tuple[Actor, UUID]:
        """A new provider in ``country`` and its micro-credential (the world's specification, changed by ``spec``)."""
        provider_id = self.world.register_provider(country, f"Provider {uuid4()}")
        provider = Actor(provider_id, Role.PROVIDER, key_id="provider")
        specified = self.r.specify_microcredential(
            provider, provider_id=provider_id, specified_on=ago(self.today, 500), **{**SPEC, **spec}
        )
        return provider, specified

    def review(self, mc: UUID, by: Actor | None = None, decision: str | None = "positive", **dates: int) -> UUID:
        """A review of ``mc`` decided ``decision`` (None: not decided), valid from ``start`` to ``end`` days on."""
        by = by or self.agency
        review = self.r.open_review(by, microcredential_id=mc, opened_on=ago(self.today, 200))
        if decision is not None:
            self.r.decide_review(
                by,
                review,
                decision=decision,
                decided_on=ago(self.today, 150),
                valid_from=self.today + timedelta(days=dates.get("start", -150)),
                valid_to=self.today + timedelta(days=dates.get("end", 365)),
                conditions="a yearly report" if decision.startswith("positive with") else None,
            )
        return review

    def reviewed(self, **kwargs: Any) -> UUID:
        _, mc = self.offered()
        self.review(mc, **kwargs)
        return mc

    def accredit(self, provider: Actor, by: Actor | None = None, **scope: Any) -> UUID:
        return self.r.grant_accreditation(
            by or self.agency,
            provider_id=provider.org,
            outcome="positive",
            valid_from=ago(self.today, 100),
            valid_to=self.today + timedelta(days=scope.pop("end", 365)),
            decided_on=ago(self.today, 100),
            **scope,
        )

    def accredited(self, spec: dict[str, Any] | None = None, country: str = "NL", **scope: Any) -> UUID:
        provider, mc = self.offered(country, **(spec or {}))
        self.accredit(provider, **scope)
        return mc

    def suspended_accreditation(self, end: int = 365) -> UUID:
        provider, mc = self.offered()
        accreditation = self.accredit(provider, end=end)
        self.r.suspend_accreditation(self.agency, accreditation, reason="investigated", effective=ago(self.today, 30))
        return mc

    def appealed(self, overturned: bool) -> UUID:
        _, mc = self.offered()
        review = self.review(mc)
        self.r.appeal_review(self.agency, review, grounds="the panel erred", effective=ago(self.today, 100))
        if overturned:
            self.r.decide_review_appeal(
                self.agency, review, outcome="overturned", decision="negative", decided_on=ago(self.today, 50)
            )
        return mc

    def withdrawn_review(self) -> UUID:
        _, mc = self.offered()
        self.r.withdraw_review(self.agency, self.review(mc), reason="published in error", effective=ago(self.today, 5))
        return mc

    def reviewed_and_accredited(self, reviewer: Actor | None = None) -> UUID:
        provider, mc = self.offered()
        self.review(mc, by=reviewer)
        self.accredit(provider)
        return mc

    def by_authority(self) -> UUID:
        provider, mc = self.offered("BE")
        self.accredit(provider, by=Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="be-authority", country="BE"))
        return mc

    def lapse_agencies(self) -> None:
        """After they decided: one agency suspended, one deregistered, one suspended and reinstated."""
        t = self.today
        self.r.suspend_agency(OPERATOR, self.suspended.org, reason="EQAR review", effective=ago(t, 10))
        self.r.deregister_agency(OPERATOR, self.deregistered.org, reason="left EQAR", effective=ago(t, 10))
        self.r.suspend_agency(OPERATOR, self.reinstated.org, reason="EQAR review", effective=ago(t, 20))
        self.r.reinstate_agency(OPERATOR, self.reinstated.org, effective=ago(t, 10))


QA_CASES: dict[str, Callable[[Scene], UUID]] = {
    "reviewed": lambda s: s.reviewed(),
    "reviewed with conditions": lambda s: s.reviewed(decision="positive with conditions or restrictions"),
    "review negative": lambda s: s.reviewed(decision="negative"),
    "review not decided": lambda s: s.reviewed(decision=None),
    "review expired": lambda s: s.reviewed(end=-5),
    "review not yet valid": lambda s: s.reviewed(start=20),
    "review ending today": lambda s: s.reviewed(end=0),
    "review withdrawn": lambda s: s.withdrawn_review(),
    "review under appeal": lambda s: s.appealed(overturned=False),
    "review overturned on appeal": lambda s: s.appealed(overturned=True),
    "review by a suspended agency": lambda s: s.reviewed(by=s.suspended),
    "review by a deregistered agency": lambda s: s.reviewed(by=s.deregistered),
    "review by a reinstated agency": lambda s: s.reviewed(by=s.reinstated),
    "accredited": lambda s: s.accredited(),
    "accredited for its level and field": lambda s: s.accredited(eqf_levels=[6], isced_fields=["06"]),
    "accredited for its narrow field": lambda s: s.accredited(isced_fields=["061"]),
    "accredited for its detailed field": lambda s: s.accredited(isced_fields=["0613"]),
    "accredited for another level": lambda s: s.accredited(eqf_levels=[7, 8]),
    "accredited for another field": lambda s: s.accredited(isced_fields=["04"]),
    "accredited for a sibling field": lambda s: s.accredited(isced_fields=["0612"]),
    "accredited in its country": lambda s: s.accredited(jurisdictions=["NL", "BE"]),
    "accredited in other countries": lambda s: s.accredited(jurisdictions=["BE"]),
    "accredited but not for micro-credentials": lambda s: s.accredited(micro_credentials=False),
    "accredited, expired": lambda s: s.accredited(end=-1),
    "accredited, suspended": lambda s: s.suspended_accreditation(),
    "accredited, suspended and expired": lambda s: s.suspended_accreditation(end=-5),
    "accredited by a suspended agency": lambda s: s.accredited(by=s.suspended),
    "accredited by a national authority": lambda s: s.by_authority(),
    "reviewed and accredited": lambda s: s.reviewed_and_accredited(),
    "reviewed by a suspended agency, accredited": lambda s: s.reviewed_and_accredited(s.suspended),
    "not quality assured": lambda s: s.offered()[1],
}
"""Every case ``Registry.qa_cover`` tells apart: which decision, in force or not, by whom, covering what."""

QA_OF_BASIS = {
    None: MicroCredentialQA.NOT_QUALITY_ASSURED,
    BasisKind.REVIEW: MicroCredentialQA.PROGRAMME_REVIEWED,
    BasisKind.ACCREDITATION: MicroCredentialQA.INSTITUTION_ACCREDITED,
}


def test_each_micro_credential_is_listed_with_the_qa_cover_the_registry_finds(
    services: Services, read_models: ReadModels
) -> None:
    r = services.registry
    scene = Scene(r, World(r))
    made = {name: case(scene) for name, case in QA_CASES.items()}
    scene.lapse_agencies()
    read_models.catch_up()

    def rule(mc_id: UUID, day: date) -> str:
        mc = r.get(MicroCredential, mc_id)
        basis = r.qa_cover(mc, mc.specification, day)
        return QA_OF_BASIS[basis.kind if basis else None].value

    reached = set()
    for day in days_from(scene.today):
        page = read_models.browsing.page(MICROCREDENTIALS, on(day), limit=100)
        listed = {entry.entry.microcredential_id: entry.qa_status.value for entry in page.rows}
        expected = {i: rule(i, day) for i in listed}
        assert {name: listed[i] for name, i in made.items()} == {name: expected[i] for name, i in made.items()}, day
        assert listed == expected
        counts = read_models.browsing.facets(MICROCREDENTIALS, on(day)).counts["qa_status"]
        assert {c.value: c.count for c in counts} == Counter(expected.values())
        reached |= set(expected.values())

    assert reached == set(MicroCredentialQA)
