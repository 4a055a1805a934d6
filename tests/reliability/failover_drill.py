"""The failover drill: clients issue credentials while the primary of a Patroni cluster is killed, again and again.

``deploy/ha/cluster.sh`` starts 3 etcd members and 3 PostgreSQL nodes managed by Patroni in strict synchronous
mode; ``mcreg serve --no-projections`` and two leased ``mcreg project`` processes run against its writer URL (libpq
multi-host, ``target_session_attrs=read-write``). Three clients issue credentials singly and in batches and record
every answer (``ledger``, as the crash drill does). The drill then kills the primary's postmaster with SIGKILL
``KILLS`` times, each time waiting for Patroni to promote a standby and for the old primary to rejoin, and as many
times kills with SIGKILL the ``mcreg project`` that holds the leases (found in ``pg_locks`` by its lease session's
``application_name``): the other takes them over, and the killed one is started again as the standby.

Then it counts, from the stored events: acknowledged-but-lost and duplicates (after settling every request by
replaying its key), log forks (``mcreg audit verify --against`` a checkpoint saved before the first kill), writer
downtime (from each kill of the primary to the first acknowledgement of a request sent after it), the followers'
recovery after each kill of the primary or of the lease owner (until every lease is held again, by the survivor
after a worker kill, and until every projection's tracked position has moved past where it was at the kill), and
``mcreg rebuild --check``. One line each::

    python -m tests.reliability.failover_drill [FOLDER]

exits 1 when acked lost, duplicates or log forks is not 0, or a check failed.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mcreg.bootstrap import bootstrap
from mcreg.projections.lease import holder_name
from mcreg.projections.log_tree import LogTreeProjection, TreeView
from mcreg.projections.read_models import READ_MODELS
from mcreg.projections.webhook_outbox import OutboxProjection
from mcreg.settings import Settings
from tests.reliability.ledger import (
    Ledger,
    client,
    duplicates,
    issued_by_key,
    lost_before_settling,
    lost_by_settling,
    settle,
)
from tests.reliability.servers import MCREG, ROOT, Api, free_port, mcreg_env
from tests.world import World

KILLS = int(os.environ.get("MCREG_FAILOVER_KILLS", "3"))
CLIENTS = 3
WRITING = 2.0
"""Seconds the clients write between two kills."""
SCRIPT = ROOT / "deploy" / "ha" / "cluster.sh"
FAILOVER_LAG = 1 << 20
"""Bytes of WAL a replica may lag and still be promoted (``maximum_lag_on_failover`` in patroni.yml.in)."""
PROJECTIONS = (*(p.name for p in READ_MODELS), LogTreeProjection.name, OutboxProjection.name)
"""Every projection a ``mcreg project`` follows under a lease of its own."""
TRACKING = [
    *(
        (name, sql.Identifier("notification_id"), sql.Identifier(f"{name}_tracking"))
        for name in PROJECTIONS
        if name != LogTreeProjection.name
    ),
    (LogTreeProjection.name, sql.Identifier("position"), sql.Identifier(TreeView.TRACKING)),
]
"""Each projection's name, and the column and table its tracked position is in."""
LEASES_BY_HOLDER = """
SELECT application_name, count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)
WHERE locktype = 'advisory' AND granted AND application_name LIKE 'mcreg leases %%' AND datname = current_database()
GROUP BY application_name
"""


@dataclass
class HaCluster:
    """The cluster ``deploy/ha/cluster.sh`` runs in ``folder``, from ``base_port``."""

    folder: Path
    base_port: int
    urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def running(cls, folder: Path) -> HaCluster:
        """The cluster already started in ``folder``: its base port and URLs as ``cluster.sh`` recorded them."""
        settings = dict(line.split("=", 1) for line in (folder / "cluster.env").read_text().split())
        cluster = cls(folder, int(settings["BASE_PORT"]))
        cluster.urls = cluster.script("urls")
        return cluster

    def script(self, *args: str) -> dict[str, str]:
        """Run ``cluster.sh`` on the folder; the URLs it prints."""
        command = ["bash", str(SCRIPT), args[0], str(self.folder), *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"cluster.sh {args[0]} failed: {done.stderr[-3000:]}")
        return dict(line.split("=", 1) for line in done.stdout.split())

    def start(self) -> None:
        self.urls = self.script("start", str(self.base_port))

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.folder)], capture_output=True, timeout=300)

    @property
    def writer(self) -> str:
        return self.urls["MCREG_DATABASE_URL"]

    @property
    def reader(self) -> str:
        return self.urls["MCREG_READ_DATABASE_URL"]

    def database(self, name: str) -> str:
        """A new database of mcreg's on the cluster (its role may make them): its writer URL."""
        with psycopg.connect(self.writer, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return make_conninfo(self.writer, dbname=name)

    def drop(self, url: str) -> None:
        """Drop the database ``url`` names, ending its sessions."""
        name = conninfo_to_dict(url)["dbname"]
        with psycopg.connect(self.writer, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name))))

    def member_port(self, member: int) -> int:
        return self.base_port + 20 + member

    def superuser(self, member: int) -> str:
        """A superuser connection to one member, over its own socket (trusted locally, as cluster.sh sets up)."""
        return f"host={self.folder / f'pg{member}' / 'run'} port={self.member_port(member)} user=postgres dbname=mcreg"

    def answers(self, member: int, check: str) -> bool:
        """Whether member ``member``'s Patroni answers 200 to ``check`` (``primary``, ``replica``, ``sync``)."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.base_port + 30 + member}/{check}", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def maintenance(self, on: bool) -> None:
        """Put Patroni in maintenance mode (it leaves PostgreSQL alone: no failover, no restart), or take it out;
        until every member says so."""
        httpx.patch(f"http://127.0.0.1:{self.base_port + 31}/config", json={"pause": on}, timeout=10).raise_for_status()
        wait(lambda: all(self.paused(m) == on for m in (1, 2, 3)), 30, f"every member's pause to be {on}")

    def paused(self, member: int) -> bool:
        """Whether member ``member``'s Patroni is in maintenance mode."""
        answer = httpx.get(f"http://127.0.0.1:{self.base_port + 30 + member}/patroni", timeout=2)
        return bool(answer.json().get("pause", False))

    def primary(self) -> int | None:
        return next((m for m in (1, 2, 3) if self.answers(m, "primary")), None)

    def replicas(self) -> list[int]:
        return [m for m in (1, 2, 3) if self.answers(m, "replica")]

    def settled(self) -> bool:
        """A running leader, and two running replicas on its timeline within Patroni's failover lag of it, one of
        them synchronous: killing the leader now makes Patroni promote the synchronous one."""
        members = next((m for m in (1, 2, 3) if self.answers(m, "health")), None)
        if members is None:
            return False
        listed = httpx.get(f"http://127.0.0.1:{self.base_port + 30 + members}/cluster", timeout=2).json()["members"]
        leaders = [m for m in listed if m["role"] == "leader" and m["state"] == "running"]
        replicas = [m for m in listed if m["role"] in ("replica", "sync_standby") and m["state"] == "running"]
        return (
            len(leaders) == 1
            and len(replicas) == 2
            and all(
                isinstance(m.get("lag"), int) and m["lag"] <= FAILOVER_LAG and m["timeline"] == leaders[0]["timeline"]
                for m in replicas
            )
            and any(m["role"] == "sync_standby" for m in replicas)
        )

    def kill_primary(self) -> int:
        """SIGKILL the primary's postmaster; the member it was."""
        member = self.primary()
        if member is None:
            raise RuntimeError("no primary to kill")
        pid = int((self.folder / f"pg{member}" / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        wait(lambda: not Path(f"/proc/{pid}").exists(), 30, f"postmaster {pid} to die")
        return member


def wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Until ``condition`` holds (an answer refused or lost counts as no); RuntimeError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not holds(condition):
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


def holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except (httpx.HTTPError, psycopg.Error, ValueError, KeyError):
        return False


def seconds_until(since: float, conditions: dict[str, Callable[[], bool]], timeout: float) -> dict[str, float]:
    """Seconds from ``since`` until each condition was first seen to hold, looking at them all every 0.1 s."""
    took: dict[str, float] = {}
    deadline = since + timeout
    while len(took) < len(conditions):
        for name, condition in conditions.items():
            if name not in took and holds(condition):
                took[name] = time.monotonic() - since
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout:.0f} s for {', '.join(set(conditions) - set(took))}")
        time.sleep(0.1)
    return took


@dataclass
class Worker:
    """One leased ``mcreg project`` process, killed and restarted."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("a")
        self.process = subprocess.Popen([MCREG, "project"], env=self.env, stdout=out, stderr=out)

    @property
    def holder(self) -> str:
        """Its lease session's ``application_name`` (``projections/lease.py``; the server keeps 63 bytes of it)."""
        pid = self.process.pid if self.process is not None else 0
        return holder_name(pid)

    def running(self) -> None:
        """RuntimeError, with the end of its log, if the process has ended."""
        if self.process is not None and self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-6000:]
            raise RuntimeError(f"mcreg project exited with {self.process.returncode}:\n{tail}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)
            self.process = None


@dataclass
class Followers:
    """What the drill reads of the followers on the cluster's writer: who holds the leases, and how far each
    projection has got (its tracking table), each on a connection of its own, made for the one question."""

    writer: str

    def leases(self) -> dict[str, int]:
        """How many leases each lease session holds, by its ``application_name``."""
        with psycopg.connect(self.writer, autocommit=True, connect_timeout=2) as conn:
            return {str(name): int(count) for name, count in conn.execute(LEASES_BY_HOLDER).fetchall()}

    def standing_by(self, worker: Worker) -> bool:
        """Whether the worker has opened its lease session: it is up, and tries every second for the leases it
        does not hold. RuntimeError if it has ended."""
        worker.running()
        with psycopg.connect(self.writer, autocommit=True, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
                [worker.holder],
            )
            return bool(row.fetchone() == (1,))

    def held_by(self, worker: Worker) -> int:
        return self.leases().get(worker.holder, 0)

    def holds_every(self, worker: Worker) -> bool:
        return self.held_by(worker) == len(PROJECTIONS)

    def all_held(self) -> bool:
        return sum(self.leases().values()) == len(PROJECTIONS)

    def positions(self) -> dict[str, int]:
        """Each projection's tracked position: the last in its tracking table (``<name>_tracking``, the log's
        ``tlog_tracking``)."""
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {0}, coalesce(max({1}), 0) FROM {2}").format(sql.Literal(name), column, table)
            for name, column, table in TRACKING
        )
        with psycopg.connect(self.writer, autocommit=True, connect_timeout=2) as conn:
            return {str(name): int(position) for name, position in conn.execute(query).fetchall()}

    def moved_past(self, positions: dict[str, int]) -> bool:
        """Whether every projection has got past the position it was at."""
        now = self.positions()
        return all(now[name] > position for name, position in positions.items())


def acknowledged_after(ledger: Ledger, moment: float) -> bool:
    return ledger.first_ack_sent_after(moment) is not None


@contextmanager
def writing(api: Api, token: str, microcredential: UUID, ledger: Ledger) -> Iterator[None]:
    """Clients issuing credentials for as long as the block runs."""
    stop = threading.Event()
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = [pool.submit(client, api.url, token, microcredential, ledger, n, stop) for n in range(CLIENTS)]
        try:
            yield
        finally:
            stop.set()
            for done in clients:
                done.result()


@dataclass
class Figures:
    primary_kills: int = 0
    worker_kills: int = 0
    acknowledged: int = 0
    acked_lost: int = 0
    duplicates: int = 0
    log_forks: int = 0
    writer_downtime: list[float] = field(default_factory=list)
    primary_leases: list[float] = field(default_factory=list)
    """Seconds from a kill of the primary until every lease is held again (by either worker), on the new primary."""
    primary_moving: list[float] = field(default_factory=list)
    """Seconds from a kill of the primary until every projection has moved past where it was."""
    takeover_leases: list[float] = field(default_factory=list)
    """Seconds from a kill of the lease owner until the other worker holds every lease."""
    takeover_moving: list[float] = field(default_factory=list)
    """Seconds from a kill of the lease owner until every projection has moved past where it was."""
    rebuild_check: str = "not run"
    statuses: dict[int, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds each part of the drill took."""

    @property
    def passed(self) -> bool:
        return (self.acked_lost, self.duplicates, self.log_forks) == (0, 0, 0) and self.rebuild_check == "passed"

    def lines(self) -> list[str]:
        def seconds(values: list[float]) -> str:
            if not values:
                return "none measured"
            listed = ", ".join(f"{v:.1f}" for v in values)
            return f"median {statistics.median(values):.1f}, max {max(values):.1f} ({listed})"

        return [
            f"primary kills: {self.primary_kills}; worker kills: {self.worker_kills} (of the lease owner, one of two"
            " leased workers)",
            f"acknowledged: {self.acknowledged} requests; answers by status: {dict(sorted(self.statuses.items()))}",
            f"acked lost: {self.acked_lost}",
            f"duplicates: {self.duplicates}",
            f"log forks: {self.log_forks}",
            f"writer downtime (s): {seconds(self.writer_downtime)}",
            f"leases held again after a primary kill (s): {seconds(self.primary_leases)}",
            f"read models moving again after a primary kill (s): {seconds(self.primary_moving)}",
            f"worker takeover (s), every lease held by the other worker: {seconds(self.takeover_leases)}",
            f"worker takeover (s), read models moving again: {seconds(self.takeover_moving)}",
            f"mcreg rebuild --check: {self.rebuild_check}",
            "drill seconds: " + ", ".join(f"{name} {spent:.0f}" for name, spent in self.phases.items()),
        ]


def mcreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MCREG, *args], env=env, capture_output=True, text=True, timeout=600)


def drill(cluster: HaCluster, folder: Path) -> Figures:
    """Run the whole drill on a started ``cluster``, in a database of its own there, keeping files in ``folder``,
    and return its figures."""
    figures = Figures()
    began = time.monotonic()

    def phase(name: str) -> None:
        nonlocal began
        figures.phases[name] = time.monotonic() - began
        began = time.monotonic()

    data = folder / "mcreg"
    data.mkdir(exist_ok=True)
    writer = cluster.database(f"drill_{uuid4().hex[:12]}")
    env = mcreg_env(writer, data)
    api = Api("", writer, data, folder / "serve.log", options=("--no-projections",), port=free_port())
    # Unbuffered: their last words survive SIGKILL; in Python's plain traceback, which says more in fewer lines.
    plain = {"PYTHONUNBUFFERED": "1", "_TYPER_STANDARD_TRACEBACK": "1"}
    workers = [Worker(env | plain, folder / f"project-{n}.log") for n in (1, 2)]
    followers = Followers(writer)
    try:
        services = bootstrap(Settings(database_url=writer, data_dir=data))
        world = World(services.registry)
        token = services.keys.create(world.provider_id, world.provider.role, name="failover").token
        services.close()
        api.start()
        for worker in workers:
            worker.start()
        wait(followers.all_held, 120, "the workers to take every lease")
        for worker in workers:
            wait(partial(followers.standing_by, worker), 120, "both workers to try for the leases")
        wait(lambda: min(followers.positions().values()) > 0, 120, "the workers to sign a first checkpoint")
        ledger = Ledger()
        checkpoint = folder / "checkpoint.txt"
        with writing(api, token, world.microcredential_id, ledger):
            time.sleep(WRITING)
            saved = mcreg(env, "audit", "checkpoint")
            if saved.returncode != 0:
                raise RuntimeError(f"mcreg audit checkpoint: {saved.stderr}")
            checkpoint.write_text(saved.stdout)
            for _ in range(KILLS):
                wait(cluster.settled, 120, "the cluster to settle with a synchronous standby")
                time.sleep(WRITING)
                positions = followers.positions()
                cluster.kill_primary()
                killed_at = time.monotonic()  # the writer is gone: a request sent from now on needs a new one
                figures.primary_kills += 1
                took = seconds_until(
                    killed_at,
                    {
                        "writer": partial(acknowledged_after, ledger, killed_at),
                        "leases": followers.all_held,
                        "moving": partial(followers.moved_past, positions),
                    },
                    180,
                )
                figures.writer_downtime.append((ledger.first_ack_sent_after(killed_at) or killed_at) - killed_at)
                figures.primary_leases.append(took["leases"])
                figures.primary_moving.append(took["moving"])
            for _ in range(KILLS):
                time.sleep(WRITING)
                wait(followers.all_held, 120, "every lease held")
                owner, other = sorted(workers, key=followers.held_by, reverse=True)
                positions = followers.positions()
                owner.kill()
                killed_at = time.monotonic()
                figures.worker_kills += 1
                took = seconds_until(
                    killed_at,
                    {
                        "leases": partial(followers.holds_every, other),
                        "moving": partial(followers.moved_past, positions),
                    },
                    120,
                )
                figures.takeover_leases.append(took["leases"])
                figures.takeover_moving.append(took["moving"])
                owner.start()  # the standby now, once it is up
                wait(partial(followers.standing_by, owner), 120, "the restarted worker to try for the leases")
        phase("kills")
        figures.statuses = dict(ledger.statuses)
        figures.acknowledged = len(ledger.acked)
        services = bootstrap(Settings(database_url=writer, data_dir=data))
        try:
            lost = lost_before_settling(ledger, issued_by_key(services))
        finally:
            services.close()
        settled = settle(api.url, token, world.microcredential_id, ledger)
        lost |= lost_by_settling(ledger, settled)
        services = bootstrap(Settings(database_url=writer, data_dir=data))
        try:
            head = services.registry.recorder.max_notification_id() or 0
            wait(lambda: min(followers.positions().values()) >= head, 120, "the workers to catch up")
            for worker in workers:
                worker.stop()
            figures.duplicates = duplicates(ledger, issued_by_key(services), settled)
        finally:
            services.close()
        figures.acked_lost = len(lost)
        phase("counting")
        audit = mcreg(env, "audit", "verify", "--against", str(checkpoint))
        figures.log_forks = 0 if audit.returncode == 0 else 1
        if audit.returncode != 0:
            print(audit.stdout, audit.stderr, file=sys.stderr)
        rebuilt = mcreg(env, "rebuild", "--check")
        figures.rebuild_check = "passed" if rebuilt.returncode == 0 else f"FAILED: {rebuilt.stdout[-500:]}"
        phase("checks")
    finally:
        for worker in workers:
            worker.kill()
        api.kill()
        cluster.drop(writer)
    return figures


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="mcreg-failover-"))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # the cluster runs as postgres when the drill runs as root
    cluster = HaCluster(folder / "cluster", int(os.environ.get("MCREG_FAILOVER_BASE_PORT", "26500")))
    began = time.monotonic()
    cluster.start()
    try:
        figures = drill(cluster, folder)
    finally:
        cluster.stop()
    figures.phases = {
        "cluster start and stop": time.monotonic() - began - sum(figures.phases.values())
    } | figures.phases
    for line in figures.lines():
        print(line)
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
