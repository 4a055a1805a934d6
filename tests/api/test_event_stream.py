"""The change feed live: Server-Sent Events whose ids are log positions, resumed from Last-Event-ID with no gap,
carrying erasures as notices without erased data; a resume from the future or from nonsense is a clear problem."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.serving import free_port
from tests.world import OPERATOR, World


@dataclass
class Frame:
    id: int | None
    event: str | None
    data: str
    comment: bool


@contextmanager
def live(client: TestClient) -> Iterator[str]:
    """The test's app served over a real socket (a stream needs one), on a thread, for the block."""
    config = uvicorn.Config(client.app, host="127.0.0.1", port=free_port(), log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def frames(response: httpx.Response) -> Iterator[Frame]:
    fields: dict[str, str] = {}
    comment = False
    for line in response.iter_lines():
        if line == "":
            if fields or comment:
                id = fields.get("id")
                yield Frame(int(id) if id else None, fields.get("event"), fields.get("data", ""), comment)
            fields, comment = {}, False
        elif line.startswith(":"):
            comment = True
        else:
            name, _, value = line.partition(": ")
            fields[name] = value


def read_until(url: str, auditor: As, last: int, headers: dict[str, str] | None = None, **params: Any) -> list[Frame]:
    """The event frames of one connection, up to and including position ``last``."""
    got: list[Frame] = []
    with httpx.stream(
        "GET",
        f"{url}/v1/events/stream",
        params=params,
        headers=auditor.headers() | (headers or {}),
        timeout=20,
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for frame in frames(response):
            if frame.id is not None:
                got.append(frame)
                if frame.id >= last:
                    break
    return got


def head(services: Services) -> int:
    return services.registry.recorder.max_notification_id() or 0


def test_a_stream_resumes_from_last_event_id_with_no_gap_and_carries_erasures(
    services: Services, client: TestClient, world: World
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    first = world.issue()
    with live(client) as url:
        before = read_until(url, auditor, head(services))
        assert [f.id for f in before] == list(range(1, head(services) + 1))
        # Live: what is recorded while a client listens arrives on the open stream.
        seen: list[Frame] = []
        listening = threading.Thread(target=lambda: seen.extend(read_until(url, auditor, head(services) + 1)))
        listening.start()
        time.sleep(0.5)
        world.issue()
        listening.join(20)
        assert [f.id for f in seen][-1] == head(services)
        # Gone for a while: the client resumes after the last id it received.
        last = before[-1].id
        assert last is not None
        learner_id = services.registry.repository.get(first).learner_id
        services.registry.revoke_credential(world.provider, first, reason="fraud", note="Ada copied her project")
        services.registry.forget_learner(OPERATOR, learner_id)
        resumed = read_until(url, auditor, head(services), headers={"Last-Event-ID": str(last)})
    assert [f.id for f in resumed] == list(range(last + 1, head(services) + 1))
    erasure = resumed[-1]
    assert erasure.event == "Erasure.LearnerForgotten"
    assert f'"erasure": {{"learner_id": "{learner_id}"}}' in erasure.data
    everything = "".join(f.data for f in before + resumed)
    assert "Ada" not in everything and "Lovelace" not in everything  # learner data travels sealed, erased for good
    page = auditor.get("/v1/events", after=head(services) - 1).json()["events"]
    assert page[0]["erasure"] == {"learner_id": str(learner_id)}


def test_an_idle_stream_sends_heartbeats_and_accept_picks_the_stream(
    services: Services, client: TestClient, world: World
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    with live(client) as url:
        headers = auditor.headers() | {"Accept": "text/event-stream"}
        with httpx.stream("GET", f"{url}/v1/events", headers=headers, timeout=20) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            ids = []
            for frame in frames(response):
                if frame.id is not None:
                    ids.append(frame.id)
                    if frame.id == head(services):
                        break
        assert ids == list(range(1, head(services) + 1))
        began = time.monotonic()
        with httpx.stream(
            "GET", f"{url}/v1/events/stream?heartbeat=1&after={head(services)}", headers=auditor.headers(), timeout=20
        ) as response:
            assert next(f for f in frames(response) if f.comment)
        assert time.monotonic() - began < 5


@pytest.mark.parametrize(
    ("path", "headers", "status", "slug"),
    [
        ("/v1/events/stream", {"Last-Event-ID": "999999"}, 416, "position-beyond-head"),
        ("/v1/events/stream?after=999999", {}, 416, "position-beyond-head"),
        ("/v1/events?after=999999", {}, 416, "position-beyond-head"),
        ("/v1/events", {"Last-Event-ID": "999999", "Accept": "text/event-stream"}, 416, "position-beyond-head"),
        ("/v1/events/stream", {"Last-Event-ID": "twelve"}, 422, "invalid-input"),
        ("/v1/events/stream", {"Last-Event-ID": "-3"}, 422, "invalid-input"),
        ("/v1/events/stream?after=-1", {}, 422, "invalid-input"),
    ],
)
def test_resuming_from_the_future_or_from_nonsense_is_a_clear_problem(
    services: Services, client: TestClient, world: World, path: str, headers: dict[str, str], status: int, slug: str
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    answer = client.get(path, headers=auditor.headers() | headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith(f"/problems/{slug}")
    if status == 416:
        assert problem["head"] == head(services)
        assert answer.headers["content-range"] == f"events */{head(services)}"
    else:
        assert problem["field"] in ("Last-Event-ID", "after")


def test_the_stream_is_the_auditors_as_the_feed_is(services: Services, client: TestClient, provider: As) -> None:
    assert provider.get("/v1/events/stream").status_code == 403
    assert client.get("/v1/events/stream").status_code == 401
