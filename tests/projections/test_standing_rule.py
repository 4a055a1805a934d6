"""The lists' statuses held to the registry's rules: an accreditation's status is ``Accreditation.standing``, a
micro-credential's QA status is what ``Registry.qa_cover`` finds, on every day from the last recorded event on.

Each case is built through the registry's commands and read back from the read models; the statuses the lists
accept are exactly those the cases reach, so a status the rule gives and the list does not (or the reverse) fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID, uuid4

from mcreg.bootstrap import Services
from mcreg.projections.browsing import on
from mcreg.projections.read_models import ReadModels
from mcreg.projections.registers import ACCREDITATION_STATUSES, ACCREDITATIONS
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR, World

Case = Callable[[Registry, World, date], UUID]


def days_from(today: date) -> tuple[date, ...]:
    """Today (the last effective date any event may have), and days after it, past the validities the cases set."""
    return (today, today + timedelta(days=45), today + timedelta(days=400))


def granted(r: Registry, w: World, t: date, start: int = -365, end: int = 365, **scope: object) -> UUID:
    """An accreditation of the world's provider, valid from ``t + start`` to ``t + end`` days."""
    return r.grant_accreditation(
        w.agency,
        provider_id=w.provider_id,
        outcome="positive",
        valid_from=t + timedelta(days=start),
        valid_to=t + timedelta(days=end),
        decided_on=t - timedelta(days=400),
        **scope,  # type: ignore[arg-type]
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
