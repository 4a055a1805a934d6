"""Coalesced commits: concurrent commands of one process share a transaction, and each keeps its own answer.

In process, the registry's recorder coalesces with a long wait, so commands started together land in one
group: a replay, a reused key, two changes of one credential and a command whose relied-on decision an
earlier command of the same group changed get exactly what they get alone, and their neighbours commit.
Over HTTP, 32 clients write against `mcreg serve` (which coalesces by default) with conflicts mixed in, the
server is killed with SIGKILL in the middle and started again: every acknowledged credential is stored, none
twice, the conflicting requests are answered 409 and wrote nothing.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from eventsourcing.utils import get_topic

from mcreg.bootstrap import Services, bootstrap
from mcreg.database import unavailable
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import LearnerVault
from mcreg.registry.application import Registry
from mcreg.registry.errors import ConcurrentUpdate
from mcreg.settings import Settings
from mcreg.stores.group_commit import GroupCommitRecorder, WriterBusy
from tests.reliability.servers import Api, Cluster
from tests.world import World, learner

GATHER = 0.5
"""Seconds the writer waits for a group to fill in the in-process tests: commands started together share it."""


@pytest.fixture
def recorder(services: Services) -> Iterator[GroupCommitRecorder]:
    """The registry's recorder; a test has it ``coalesce`` once its world is built. Stopped afterwards."""
    recorder = services.registry.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    yield recorder
    recorder.stop_coalescing()


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads started together: each one's result, or the error it raised."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        try:
            return call()
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_commands_started_together_share_one_commit_and_each_gets_its_own_answer(
    services: Services, recorder: GroupCommitRecorder
) -> None:
    registry = services.registry
    world = World(registry)
    shared = world.issue()
    recorder.coalesce(size=64, wait=GATHER, queued=256)
    issue = lambda key, name: lambda: world.issue(learner=learner(name), idempotency_key=key)  # noqa: E731
    suspend = lambda: registry.suspend_credential(world.provider, shared, reason="under review")  # noqa: E731

    answers = at_once(
        *(issue(f"k{n}", f"Learner {n}") for n in range(6)),
        issue("k0", "Learner 0"),  # the same request again: answers the same credential
        issue("k1", "Somebody else"),  # the same key for another request
        suspend,
        suspend,  # the same credential, changed twice from one version
    )

    fresh, replay, reused, suspensions = answers[:6], answers[6], answers[7], answers[8:]
    assert all(isinstance(a, UUID) for a in fresh[2:])
    assert replay == fresh[0]
    # Whichever of the two requests with key k1 came first is issued, the other is told the key is taken.
    assert sorted(type(a).__name__ for a in (fresh[1], reused)) == ["IdempotencyKeyReused", "UUID"]
    assert sorted(type(a).__name__ for a in suspensions) == ["ConcurrentUpdate", "UUID"]
    assert registry.get(Credential, shared).version == 2
    # Six issuances and one suspension were written, mostly in transactions they shared.
    assert recorder.committed == 7
    assert recorder.commits < 7, "commands that arrived together committed together"


class InterleavingVault:
    """The learner-key vault, running ``meanwhile`` once, between issuance's checks and its save."""

    def __init__(self, vault: LearnerVault, meanwhile: Callable[[], None]) -> None:
        self.vault = vault
        self.meanwhile: Callable[[], None] | None = meanwhile

    def create_keys(self, learner_ids: Any) -> dict[UUID, bytes]:
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return self.vault.create_keys(learner_ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.vault, name)


def test_a_command_whose_decision_an_earlier_command_of_its_group_changed_is_refused_alone(
    services: Services, recorder: GroupCommitRecorder
) -> None:
    registry: Registry = services.registry
    world = World(registry)
    recorder.coalesce(size=64, wait=GATHER, queued=256)
    withdrawn: list[Any] = []

    def withdraw_meanwhile() -> None:
        # Another request withdraws the accreditation issuance relies on; its save waits in the same group.
        thread = threading.Thread(
            target=lambda: withdrawn.append(
                registry.withdraw_accreditation(world.agency, world.accreditation_id, reason="fraud")
            )
        )
        thread.start()
        time.sleep(GATHER / 5)
        threads.append(thread)

    threads: list[threading.Thread] = []
    registry.vault = InterleavingVault(registry.vault, withdraw_meanwhile)
    before = registry.recorder.max_notification_id() or 0

    with pytest.raises(ConcurrentUpdate):
        world.issue(date(2024, 3, 1))

    for thread in threads:
        thread.join()
    assert withdrawn == [world.accreditation_id]
    assert registry.get(Accreditation, world.accreditation_id).version == 2
    assert registry.recorder.max_notification_id() == before + 1, "only the withdrawal was written"


def test_past_its_queue_the_writer_refuses_at_once_as_a_database_that_is_away(
    services: Services, recorder: GroupCommitRecorder
) -> None:
    registry = services.registry
    world = World(registry)
    recorder.coalesce(size=1, wait=0, queued=1)
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
    answers: list[Any] = []

    def issue(n: int) -> threading.Thread:
        def run() -> None:
            try:
                answers.append(world.issue(learner=learner(f"Learner {n}")))
            except Exception as error:
                answers.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    with psycopg.connect(services.database.conninfo) as blocker:
        blocker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # the writer's first group waits for it
        threads = [issue(0)]
        deadline = time.monotonic() + 20
        while not blocker.execute("SELECT 1 FROM pg_locks WHERE NOT granted").fetchone():
            assert time.monotonic() < deadline, "the writer took the first save"
            time.sleep(0.05)
        threads += [issue(1), issue(2)]  # one waits in the queue's one place, the other finds it taken
        while not answers:
            assert time.monotonic() < deadline, "a save beyond the queue was answered without waiting"
            time.sleep(0.05)
        assert isinstance(answers[0], WriterBusy)
        assert unavailable(answers[0]), "which the API answers 503 with Retry-After (decision 47)"
    for thread in threads:
        thread.join()
    assert sorted(type(a).__name__ for a in answers) == ["UUID", "UUID", "WriterBusy"], "the others were written"


# 32 clients over HTTP, and a kill -9 ---------------------------------------------------------------------------------

CLIENTS = 32
SECONDS = 4.0
"""How long the clients write once the killed server is back."""


@dataclass
class Ledger:
    """Every request sent with its key, and what its client was told."""

    answers: dict[str, list[int | None]] = field(default_factory=lambda: defaultdict(list))
    acked: dict[str, str] = field(default_factory=dict)
    """Key → the credential its acknowledgement (201 or 200) named."""
    issued: list[str] = field(default_factory=list)
    """The keys of acknowledged issuances, for other clients to send again."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, response: httpx.Response | None) -> None:
        with self.lock:
            self.answers[key].append(None if response is None else response.status_code)
            if response is not None and response.status_code in (200, 201):
                named = response.json()["id"]
                assert self.acked.setdefault(key, named) == named, f"{key} named two credentials"
                if response.status_code == 201 and key not in self.issued:
                    self.issued.append(key)


def writer(
    url: str, token: str, microcredential: UUID, shared: list[str], ledger: Ledger, seed: int, stop: threading.Event
) -> None:
    """Issue credentials, each request with a key of its own, and now and then a conflicting one: the key of
    an acknowledged issuance sent again with the same body (a replay) or another body (a conflict), or a
    suspension or reinstatement of a credential every client changes (version and state conflicts)."""
    rng = random.Random(seed)
    body = lambda name: {"microcredential_id": str(microcredential), "learner": {"name": name}}  # noqa: E731
    with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        n = 0
        while not stop.is_set():
            n += 1
            roll, key, sent_as = rng.random(), f"c{seed}-{n}", None
            if roll < 0.2 and ledger.issued:
                sent_as = rng.choice(ledger.issued)
                key = sent_as if roll < 0.1 else f"{sent_as}/other"
            try:
                if roll < 0.2 and sent_as:
                    response = http.post("/v1/credentials", json=body(key), headers={"Idempotency-Key": sent_as})
                elif roll < 0.3:
                    action = rng.choice(("suspend", "reinstate"))
                    key = f"{action}-{seed}-{n}"
                    reason = {"reason": "checked"} if action == "suspend" else {}
                    response = http.post(
                        f"/v1/credentials/{rng.choice(shared)}/{action}", json=reason, headers={"Idempotency-Key": key}
                    )
                else:
                    response = http.post("/v1/credentials", json=body(key), headers={"Idempotency-Key": key})
            except httpx.HTTPError:
                response = None
                time.sleep(0.05)  # the server is away: do not hammer the wreck
            ledger.record(key, response)


def stored_by_key(services: Services) -> dict[str | None, list[tuple[str, UUID]]]:
    """Every stored event of a credential, (type, credential) by the idempotency key on its stamp."""
    registry = services.registry
    found: dict[str | None, list[tuple[str, UUID]]] = defaultdict(list)
    topics = [get_topic(t) for t in (Credential.Issued, Credential.Suspended, Credential.Reinstated)]
    start = 1
    while notifications := registry.recorder.select_notifications(start, 1000, topics=topics):
        for notification in notifications:
            event = registry.mapper.to_domain_event(notification)
            found[event.stamp.idempotency_key].append((type(event).__name__, event.originator_id))
        start = notifications[-1].id + 1
    return found


@pytest.mark.postgres
@pytest.mark.drill
def test_32_clients_with_conflicts_and_a_kill_lose_nothing_acknowledged_and_apply_nothing_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = Settings(database_url=cluster.url, data_dir=tmp_path)
    services = bootstrap(settings)
    world = World(services.registry)
    token = services.keys.create(world.provider_id, world.provider.role, name="group").token
    shared = [str(world.issue(learner=learner(f"Shared {n}"))) for n in range(3)]
    services.close()
    api = Api("", cluster.url, tmp_path, tmp_path / "serve.log")
    ledger = Ledger()
    api.start()
    try:
        for phase in range(2):
            stop = threading.Event()
            with ThreadPoolExecutor(CLIENTS) as pool:
                args = (api.url, token, world.microcredential_id, shared, ledger)
                clients = [pool.submit(writer, *args, 100 * phase + c, stop) for c in range(CLIENTS)]
                if phase == 0:  # SIGKILL in the middle of the writes, once they are well under way
                    deadline = time.monotonic() + 40
                    while len(ledger.acked) < CLIENTS and time.monotonic() < deadline:
                        time.sleep(0.05)
                    api.kill()
                    acked_before_kill = len(ledger.acked)
                    time.sleep(0.5)  # the clients keep trying against the wreck
                else:
                    time.sleep(SECONDS)
                stop.set()
                for done in clients:
                    done.result()
            if phase == 0:
                api.start()
    finally:
        api.kill()

    services = bootstrap(settings)
    try:
        stored = stored_by_key(services)
        recorder = services.registry.recorder
        table = f"{recorder.datastore.schema or 'public'}.{recorder.events_table_name}"  # type: ignore[attr-defined]
        with psycopg.connect(cluster.url) as conn:
            gaps = conn.execute(
                f"SELECT originator_id FROM {table} GROUP BY originator_id HAVING max(originator_version) <> count(*)"
            ).fetchall()
    finally:
        services.close()

    answers = Counter(status for statuses in ledger.answers.values() for status in statuses)
    print(f"group commit drill: answers {dict(answers)}, {acked_before_kill} acknowledged before the kill")
    assert acked_before_kill >= CLIENTS and answers[201] > 2 * CLIENTS, answers
    assert answers[None] > 0, "the kill cut some requests off"
    # Acknowledged = stored: every 201 names a credential stored with its key's one event.
    for key, credential in ledger.acked.items():
        assert [str(c) for _, c in stored.get(key, [])] == [credential], key
    # None applied twice: a key has at most one event, whatever was sent with it.
    assert all(len(events) == 1 for key, events in stored.items() if key is not None)
    # A key sent again with the same body replays, with another body it is a 409: either way its one event above
    # is still the credential its first acknowledgement named.
    conflicts = [key for key in ledger.answers if key.endswith("/other")]
    assert conflicts and all(set(ledger.answers[k]) <= {409, None} for k in conflicts)
    # Version conflicts on the shared credentials: each either applied once (acknowledged or cut off) or 409/422.
    changes = [k for k in ledger.answers if k.startswith(("suspend", "reinstate"))]
    assert any(409 in ledger.answers[k] or 422 in ledger.answers[k] for k in changes)
    for key in changes:
        if key in stored:
            assert ledger.answers[key] in ([200], [None]), (key, ledger.answers[key])
        else:
            assert 200 not in ledger.answers[key], key
    assert gaps == []
