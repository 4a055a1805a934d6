"""The registers as faceted lists: statuses worked out on the date asked, counted per facet and paged."""

from __future__ import annotations

from datetime import date

from mcreg.bootstrap import Services
from mcreg.projections.browsing import on
from mcreg.projections.read_models import ReadModels
from mcreg.projections.registers import ACCREDITATIONS, AGENCIES, REVIEWS
from tests.world import OPERATOR, World


def test_an_accreditation_stands_in_force_then_expired_as_the_date_asked_moves(
    services: Services, read_models: ReadModels
) -> None:
    world = World(services.registry)  # its accreditation is valid from 2021 to the end of 2026
    read_models.catch_up()
    lists = read_models.browsing

    def statuses(today: date) -> dict[str | None, int]:
        return {c.value: c.count for c in lists.facets(ACCREDITATIONS, on(today)).counts["status"]}

    assert statuses(date(2020, 6, 1)) == {"not_yet_valid": 1}
    assert statuses(date(2024, 6, 1)) == {"in_force": 1}
    assert statuses(date(2027, 6, 1)) == {"expired": 1}
    (expired,) = lists.page(ACCREDITATIONS, on(date(2027, 6, 1)) | {"status": "expired"}).rows
    assert expired.row.accreditation_id == world.accreditation_id
    assert expired.facts == {"country": "NL", "status": "expired"}


def test_a_suspended_agency_and_an_open_review_are_counted_under_their_status(
    services: Services, read_models: ReadModels
) -> None:
    r = services.registry
    world = World(r)
    other = r.register_agency(OPERATOR, name="Second Agency", country="BE", registered_on=date(2015, 1, 1))
    r.suspend_agency(OPERATOR, other, reason="under review by EQAR")
    r.open_review(world.agency, microcredential_id=world.microcredential_id, opened_on=date(2022, 2, 1))
    read_models.catch_up()
    lists, today = read_models.browsing, date(2025, 6, 1)

    agencies = lists.facets(AGENCIES, on(today) | {"country": "NL"})
    reviews = lists.page(REVIEWS, on(today) | {"status": "open", "eqf_level": 6})

    assert agencies.total == 1
    assert {c.value: c.count for c in agencies.counts["status"]} == {"registered": 1}
    # The country facet sets its own filter aside: the Belgian agency is counted under BE.
    assert {c.value: c.count for c in agencies.counts["country"]} == {"NL": 1, "BE": 1}
    assert [entry.facts["status"] for entry in reviews.rows] == ["open"]
