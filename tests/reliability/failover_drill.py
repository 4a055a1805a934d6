"""The failover drill: clients issue credentials while the primary of a Patroni cluster is killed, again and again.

``deploy/ha/cluster.sh`` starts 3 etcd members and 3 PostgreSQL nodes managed by Patroni in strict synchronous
mode; ``mcreg serve --no-projections`` and one ``mcreg project`` run against its writer URL (libpq multi-host,
``target_session_attrs=read-write``). Three clients issue credentials singly and in batches and record every
answer (``ledger``, as the crash drill does). The drill then kills the primary's postmaster with SIGKILL
``KILLS`` times, each time waiting for Patroni to promote a standby and for the old primary to rejoin, and kills
``mcreg project`` with SIGKILL as many times, restarting it (the takeover is that restart: one worker, no lease).

Then it counts, from the stored events: acknowledged-but-lost and duplicates (after settling every request by
replaying its key), log forks (``mcreg audit verify --against`` a checkpoint saved before the first kill), writer
downtime (from each kill to the first acknowledgement of a request sent after it), worker takeover (from each
kill of the worker until the read models move again), and ``mcreg rebuild --check``. One line each::

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
from typing import Any
from uuid import UUID

import httpx

from mcreg.bootstrap import bootstrap
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


@dataclass
class HaCluster:
    """The cluster ``deploy/ha/cluster.sh`` runs in ``folder``, from ``base_port``."""

    folder: Path
    base_port: int
    urls: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        done = subprocess.run(
            ["bash", str(SCRIPT), "start", str(self.folder), str(self.base_port)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cluster.sh start failed: {done.stderr[-3000:]}")
        self.urls = dict(line.split("=", 1) for line in done.stdout.split())

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.folder)], capture_output=True, timeout=300)

    @property
    def writer(self) -> str:
        return self.urls["MCREG_DATABASE_URL"]

    def answers(self, member: int, check: str) -> bool:
        """Whether member ``member``'s Patroni answers 200 to ``check`` (``primary``, ``replica``, ``sync``)."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.base_port + 30 + member}/{check}", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def primary(self) -> int | None:
        return next((m for m in (1, 2, 3) if self.answers(m, "primary")), None)

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
    except (httpx.HTTPError, ValueError, KeyError):
        return False


@dataclass
class Worker:
    """One ``mcreg project`` process, killed and restarted."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("a")
        self.process = subprocess.Popen([MCREG, "project"], env=self.env, stdout=out, stderr=out)

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


def readiness(api: Api) -> dict[str, Any]:
    """``/readyz``, asked again while it does not answer (it is slow while the clients write hard)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.get(f"{api.url}/readyz", timeout=15)
            if answer.status_code == 200:
                return dict(answer.json())
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("/readyz did not answer 200 in 60 s")
        time.sleep(0.2)


def tracked(api: Api) -> int:
    """How far every read model has got: the lowest position ``/readyz`` reports."""
    ready = readiness(api)
    return int(ready["head"]) - int(max(ready["lag"].values()))


def acknowledged_after(ledger: Ledger, moment: float) -> bool:
    return ledger.first_ack_sent_after(moment) is not None


def applied_after(api: Api, position: int) -> bool:
    return tracked(api) > position


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
    worker_takeover: list[float] = field(default_factory=list)
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
            f"primary kills: {self.primary_kills}; worker kills: {self.worker_kills} (takeover = restart: one worker)",
            f"acknowledged: {self.acknowledged} requests; answers by status: {dict(sorted(self.statuses.items()))}",
            f"acked lost: {self.acked_lost}",
            f"duplicates: {self.duplicates}",
            f"log forks: {self.log_forks}",
            f"writer downtime (s): {seconds(self.writer_downtime)}",
            f"worker takeover (s): {seconds(self.worker_takeover)}",
            f"mcreg rebuild --check: {self.rebuild_check}",
            "drill seconds: " + ", ".join(f"{name} {spent:.0f}" for name, spent in self.phases.items()),
        ]


def mcreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MCREG, *args], env=env, capture_output=True, text=True, timeout=600)


def drill(folder: Path, base_port: int = 26500) -> Figures:
    """Run the whole drill in ``folder`` (made readable by the cluster's user) and return its figures."""
    figures = Figures()
    began = time.monotonic()

    def phase(name: str) -> None:
        nonlocal began
        figures.phases[name] = time.monotonic() - began
        began = time.monotonic()

    cluster = HaCluster(folder / "cluster", base_port)
    cluster.start()
    phase("cluster start")
    data = folder / "mcreg"
    data.mkdir(exist_ok=True)
    env = mcreg_env(cluster.writer, data)
    api = Api("", cluster.writer, data, folder / "serve.log", options=("--no-projections",), port=free_port())
    worker = Worker(env | {"PYTHONUNBUFFERED": "1"}, folder / "project.log")  # its last words survive SIGKILL
    try:
        services = bootstrap(Settings(database_url=cluster.writer, data_dir=data))
        world = World(services.registry)
        token = services.keys.create(world.provider_id, world.provider.role, name="failover").token
        services.close()
        api.start()
        worker.start()
        wait(lambda: tracked(api) > 0, 120, "the worker to start and sign a first checkpoint")
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
                cluster.kill_primary()
                killed_at = time.monotonic()  # the writer is gone: a request sent from now on needs a new one
                figures.primary_kills += 1
                wait(partial(acknowledged_after, ledger, killed_at), 120, "a writer after the kill")
                figures.writer_downtime.append((ledger.first_ack_sent_after(killed_at) or killed_at) - killed_at)
            for _ in range(KILLS):
                time.sleep(WRITING)
                position = tracked(api)
                killed_at = time.monotonic()
                worker.kill()
                figures.worker_kills += 1
                worker.start()
                wait(partial(applied_after, api, position), 120, "the restarted worker to apply events")
                figures.worker_takeover.append(time.monotonic() - killed_at)
        phase("kills")
        figures.statuses = dict(ledger.statuses)
        figures.acknowledged = len(ledger.acked)
        services = bootstrap(Settings(database_url=cluster.writer, data_dir=data))
        try:
            lost = lost_before_settling(ledger, issued_by_key(services))
        finally:
            services.close()
        settled = settle(api.url, token, world.microcredential_id, ledger)
        lost |= lost_by_settling(ledger, settled)
        wait(lambda: max(readiness(api)["lag"].values()) == 0, 120, "the worker to catch up")
        worker.stop()
        services = bootstrap(Settings(database_url=cluster.writer, data_dir=data))
        try:
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
        worker.kill()
        api.kill()
        cluster.stop()
    phase("cluster stop")
    return figures


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="mcreg-failover-"))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # the cluster runs as postgres when the drill runs as root
    figures = drill(folder)
    for line in figures.lines():
        print(line)
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
