"""One LISTEN session per worker wakes every follower; a follower woken only by events it does not want still moves
its position forward, and one whose news is missed still follows on its own timer (decision 81)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from eventsourcing.postgres import PostgresApplicationRecorder

from mcreg.bootstrap import Services
from mcreg.projections.engine import Projector
from mcreg.projections.news import News
from mcreg.projections.read_models import ReadModels
from mcreg.projections.worker import ProjectionWorker
from tests.projections.conftest import issue_many
from tests.world import World

WAIT = 30.0
"""Seconds a test waits before failing; a pass takes a second or two on a quiet machine."""


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@contextmanager
def issuing(world: World) -> Iterator[None]:
    """A credential recorded every 50 ms while the block runs: news every 50 ms, none of it for the catalogue."""
    running = threading.Event()
    running.set()

    def issue() -> None:
        while running.is_set():
            issue_many(world, 1)
            time.sleep(0.05)

    thread = threading.Thread(target=issue)
    thread.start()
    try:
        yield
    finally:
        running.clear()
        thread.join()


def test_news_wakes_every_follower_without_waiting_for_its_timer(
    services: Services, world: World, read_models: ReadModels
) -> None:
    issue_many(world, 3)
    app = services.registry
    # With a timer of an hour, only news can bring the followers to the events recorded after they caught up.
    with ProjectionWorker(read_models.select(), idle=3600) as worker:
        [news] = worker.news.values()
        before = app.recorder.max_notification_id() or 0
        wait_for(lambda: news.head == before, "the worker never listened")
        issue_many(world, 2)
        world.register_provider("BE", "Hogeschool Voorbeeld")
        recorded = app.recorder.select_notifications(start=before, limit=100, inclusive_of_start=False)

        def last_wanted(projector: Projector[Any]) -> int:
            return max((n.id for n in recorded if not projector.wanted or n.topic in projector.wanted), default=0)

        reached = lambda: all(p.tracked_position() >= last_wanted(p) for p in read_models.select())  # noqa: E731
        wait_for(reached, "a follower never applied the news it wants")
    assert worker.errors == {}


def test_a_follower_woken_only_by_events_of_other_topics_still_moves_its_position(
    services: Services, world: World, read_models: ReadModels
) -> None:
    issue_many(world, 3)
    app = services.registry
    catalogue = read_models["catalogue"]  # wants providers and micro-credentials, not credentials
    # News comes every 50 ms, well within the follower's timer of a second: were each piece of news to put
    # the timer off, the catalogue would wait for a quiet second to move, and appear ever further behind.
    with ProjectionWorker([catalogue], idle=1.0) as worker, issuing(world):
        issue_many(world, 1)
        recorded = app.recorder.max_notification_id() or 0
        wait_for(lambda: catalogue.tracked_position() >= recorded, f"the catalogue never passed {recorded}")
    assert worker.errors == {}


def test_a_follower_without_news_follows_on_its_timer(
    services: Services, world: World, read_models: ReadModels
) -> None:
    issue_many(world, 3)
    status = read_models["credential_status"]
    silent = News(cast(PostgresApplicationRecorder, services.registry.recorder))  # never listens: no news at all
    stop = threading.Event()
    follower = threading.Thread(target=status.follow, args=(stop, silent), kwargs={"idle": 0.2})
    follower.start()
    try:
        issue_many(world, 2)
        head = services.registry.recorder.max_notification_id() or 0
        wait_for(lambda: status.tracked_position() >= head, "the follower stalled without news")
    finally:
        stop.set()
        follower.join()
