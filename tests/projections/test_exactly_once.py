"""Exactly once: a page of events reaches the read tables whole or not at all, and never twice."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest

from mcreg.bootstrap import Services
from mcreg.projections.credential_status import CredentialStatusProjection, CredentialStatusView
from mcreg.projections.engine import PositionMoved
from mcreg.projections.read_models import READ_MODELS, ReadModels
from mcreg.projections.reading import LogReader
from tests.projections.conftest import PowerCut, crashing_after, issue_many, snapshot
from tests.world import World


def history(world: World) -> list:
    credentials = issue_many(world, 6)
    registry, provider = world.registry, world.provider
    registry.suspend_credential(provider, credentials[0], reason="under investigation", effective=date(2024, 4, 1))
    registry.revoke_credential(provider, credentials[1], reason="fraud", effective=date(2024, 5, 1))
    registry.reinstate_credential(provider, credentials[0], effective=date(2024, 6, 1))
    return credentials


def test_a_crash_inside_a_page_leaves_nothing_of_it_and_the_next_run_finishes_the_work(
    services: Services, world: World, read_models: ReadModels
):
    credentials = history(world)
    app = services.registry
    crashing = ReadModels(app, read_models.env, [crashing_after(pages=1)])
    try:
        with pytest.raises(PowerCut):
            crashing.catch_up(page_size=4)
    finally:
        crashing.close()

    status = read_models["credential_status"]
    first_page_end = app.recorder.select_notifications(start=1, limit=4, topics=CredentialStatusProjection.topics)[
        -1
    ].id
    assert status.view.position(app.name) == first_page_end
    assert len(status.view.rows("credential_status")) == 4  # the first page's credentials, none of the second's

    read_models.catch_up(page_size=4)

    assert set(read_models.lag().values()) == {0}
    rows = {row["credential_id"]: row for row in status.view.rows("credential_status")}
    assert set(rows) == set(credentials)
    assert rows[credentials[0]]["status"] == "active"
    assert rows[credentials[1]]["status"] == "revoked"
    assert read_models.check().equal  # the same rows as a clean run from position 0


def test_pages_read_while_a_projector_is_busy_are_never_applied_after_a_page_that_failed(
    services: Services, world: World, read_models: ReadModels
):
    issue_many(world, 6)  # pages of one: the first, then 2-5 together (which fail), then 6 queued behind them
    app = services.registry

    class SlowThenFailingView(CredentialStatusView):
        written = 0

        def write(self, curs: Any, changes: Any) -> None:
            super().write(curs, changes)
            SlowThenFailingView.written += 1
            time.sleep(0.2)  # meanwhile the next pages are read, and wait to be applied together
            if SlowThenFailingView.written == 2:
                raise PowerCut

    class SlowThenFailing(CredentialStatusProjection):
        view_class = SlowThenFailingView

    failing = ReadModels(app, read_models.env, [SlowThenFailing])
    try:
        with pytest.raises(PowerCut):
            failing.catch_up(page_size=1)
    finally:
        failing.close()

    status = read_models["credential_status"]
    first = app.recorder.select_notifications(start=1, limit=1, topics=CredentialStatusProjection.topics)[0].id
    assert SlowThenFailingView.written == 2  # nothing was written after the failure...
    assert status.view.position(app.name) == first  # ...so the view holds the first page only
    assert len(status.view.rows("credential_status")) == 1


def test_catching_up_again_when_caught_up_changes_nothing(world: World, read_models: ReadModels):
    history(world)
    read_models.catch_up(page_size=3)
    before = snapshot(read_models)

    assert read_models.catch_up(page_size=3) == 0
    assert snapshot(read_models) == before


def test_a_page_that_was_already_applied_is_refused_whole(services: Services, world: World, read_models: ReadModels):
    history(world)
    read_models.catch_up()
    before = snapshot(read_models)
    app = services.registry
    page = LogReader(app).decode(app.recorder.select_notifications(start=1, limit=100))

    for projector in read_models.select():
        with pytest.raises(PositionMoved):
            projector.view.apply(app.name, 0, page[-1].position, projector.projection.fold(page))
        projector.apply(page, page[-1].position)  # a projector that knows better applies nothing

    assert snapshot(read_models) == before


def test_two_workers_on_the_same_tables_apply_each_event_once(
    services: Services, world: World, read_models: ReadModels
):
    history(world)
    issue_many(world, 20)
    rivals = [ReadModels(services.registry, read_models.env, READ_MODELS) for _ in range(2)]
    errors: list[BaseException] = []

    def run(rival: ReadModels) -> None:
        try:
            rival.catch_up(page_size=2)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(rival,)) for rival in rivals]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for rival in rivals:
            rival.close()

    assert errors == []
    assert set(read_models.lag().values()) == {0}
    events = services.registry.recorder.max_notification_id()
    assert len(read_models.audit_timeline.rows("audit_timeline")) == events
    assert read_models.check().equal
