"""Standings over time, as the dashboard's indicators count them: change points, and the counter moves they make."""

from __future__ import annotations

from collections import Counter
from datetime import date

from mcreg.projections.timelines import BasisState, agency_timeline, moves, provider_timeline, standing_on

GRANTED, FROM, TO = date(2023, 12, 1), date(2024, 1, 1), date(2024, 12, 31)


def accreditation(**changes: object) -> BasisState:
    basis = BasisState("accreditation", "p", GRANTED, True, FROM, TO)
    for name, value in changes.items():
        setattr(basis, name, value)
    return basis


def test_an_accreditation_is_not_yet_valid_then_in_force_suspended_and_expired() -> None:
    basis = accreditation(suspensions=[[date(2024, 3, 1), date(2024, 4, 1)]])
    assert basis.timeline() == [
        (GRANTED, "not_yet_valid"),
        (FROM, "in_force"),
        (date(2024, 3, 1), "suspended"),
        (date(2024, 4, 1), "in_force"),
        (date(2025, 1, 1), "expired"),
    ]
    assert standing_on(basis.timeline(), date(2024, 3, 31)) == "suspended"
    assert standing_on(basis.timeline(), date(2023, 1, 1)) is None


def test_a_withdrawal_ends_every_other_standing_and_a_negative_decision_never_covers() -> None:
    assert accreditation(withdrawn_on=date(2024, 6, 1)).timeline()[-1] == (date(2024, 6, 1), "withdrawn")
    assert accreditation(positive=False).timeline() == [(GRANTED, "negative")]


def test_moves_sum_to_the_standing_on_any_day() -> None:
    timeline = accreditation(withdrawn_on=date(2024, 6, 1)).timeline()
    counted = moves(timeline, since=date(2024, 2, 10), n=3)
    assert counted == Counter(
        {("in_force", date(2024, 2, 10)): 3, ("in_force", date(2024, 6, 1)): -3, ("withdrawn", date(2024, 6, 1)): 3}
    )
    on_day: Counter[str] = Counter()
    for (standing, day), n in counted.items():
        if day <= date(2024, 7, 1):
            on_day[standing] += n
    assert +on_day == {"withdrawn": 3}


def test_a_provider_takes_the_best_standing_of_its_accreditations() -> None:
    lapsed = accreditation(valid_to=date(2024, 2, 29))
    later = accreditation(start=date(2024, 2, 1), valid_from=date(2024, 6, 1), valid_to=date(2026, 1, 1))
    assert provider_timeline(date(2020, 1, 1), [lapsed, later]) == [
        (date(2020, 1, 1), "not_accredited"),
        (GRANTED, "not_yet_valid"),
        (FROM, "in_force"),
        (date(2024, 3, 1), "not_yet_valid"),  # the first lapsed; the second is granted, not yet valid
        (date(2024, 6, 1), "in_force"),
        (date(2026, 1, 2), "expired"),
    ]


def test_an_agency_is_registered_suspended_reinstated_and_deregistered() -> None:
    timeline = agency_timeline(date(2015, 1, 1), [[date(2023, 1, 10), date(2023, 2, 1)]], date(2024, 12, 31))
    assert timeline == [
        (date(2015, 1, 1), "registered"),
        (date(2023, 1, 10), "suspended"),
        (date(2023, 2, 1), "registered"),
        (date(2024, 12, 31), "deregistered"),
    ]
