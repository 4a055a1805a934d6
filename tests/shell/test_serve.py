"""`mcreg serve` as an operator runs it: where it listens, what its links name, and that stopping it, however it
is stopped, leaves no PostgreSQL running behind it.

Each test serves a fresh machine's registry (the embedded PostgreSQL in a data folder of its own) from a
subprocess, and looks for that data folder's postmaster among the machine's processes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.serving import data_folder, free_port, fresh_machine, no_postmaster_left, postmasters, serve

# `mcreg serve` starts an embedded PostgreSQL of its own, which no fixture shows, whatever DATABASE_URL says.
pytestmark = [pytest.mark.postgres, pytest.mark.embedded]


@pytest.fixture
def data() -> Iterator[Path]:
    """The data folder of a fresh machine."""
    with data_folder() as folder:
        yield folder


def stopped(server: subprocess.Popen[bytes], how: signal.Signals) -> int:
    server.send_signal(how)
    return server.wait(timeout=60)


def kill_the_tree(server: subprocess.Popen[bytes]) -> None:
    """Kill ``server`` and every child it started at once (as an out-of-memory killer or a lost container might)."""
    for child in psutil.Process(server.pid).children(recursive=True):
        child.kill()  # first: a watchdog that outlived its parent a moment would stop PostgreSQL
    stopped(server, signal.SIGKILL)


def test_serve_links_name_the_port_it_listens_on_and_sigterm_stops_its_postgres(data: Path, tmp_path: Path) -> None:
    log, port = tmp_path / "serve.log", free_port()
    server = serve(fresh_machine(data), port, log, host="0.0.0.0")
    try:
        here = f"http://127.0.0.1:{port}"  # every interface is served; links name the loopback one
        assert f"listening on http://0.0.0.0:{port}; public URL {here}" in log.read_text()
        assert "set MCREG_PUBLIC_URL" in log.read_text()
        missing = httpx.get(f"{here}/v1/no-such-thing")
        assert missing.status_code == 404
        assert missing.json()["type"] == f"{here}/problems/not-found"
        did = httpx.get(f"{here}/.well-known/did.json").json()
        assert did["id"] == f"did:web:127.0.0.1%3A{port}"
        assert postmasters(data), "serve runs on its own embedded PostgreSQL"
    finally:
        code = stopped(server, signal.SIGTERM)
    assert code != -signal.SIGKILL
    assert no_postmaster_left(data), "SIGTERM to serve left its PostgreSQL running"
    assert not (data / "pgdata" / "postmaster.pid").exists()
    assert json.loads((data / "pgdata" / ".handle_pids.json").read_text()) == [], "no stopped process stays a user"


def test_a_set_public_url_wins_and_sigint_stops_serve_and_its_postgres(data: Path, tmp_path: Path) -> None:
    log, port = tmp_path / "serve.log", free_port()
    server = serve(fresh_machine(data, MCREG_PUBLIC_URL="https://registry.example"), port, log)
    try:
        assert f"listening on http://127.0.0.1:{port}; public URL https://registry.example" in log.read_text()
        missing = httpx.get(f"http://127.0.0.1:{port}/v1/no-such-thing")
        assert missing.json()["type"] == "https://registry.example/problems/not-found"
        did = httpx.get(f"http://127.0.0.1:{port}/.well-known/did.json").json()
        assert did["id"] == "did:web:registry.example"
    finally:
        stopped(server, signal.SIGINT)
    assert no_postmaster_left(data), "SIGINT to serve left its PostgreSQL running"


def test_a_killed_serve_takes_its_postgres_with_it_and_the_next_one_comes_up(data: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    env = fresh_machine(data)
    server = serve(env, free_port(), log)
    assert stopped(server, signal.SIGKILL) == -signal.SIGKILL
    assert no_postmaster_left(data, within=30), "the PostgreSQL of a killed serve outlived it"

    assert stopped(serve(env, free_port(), log), signal.SIGTERM) != -signal.SIGKILL
    assert no_postmaster_left(data)


def test_a_postgres_left_running_by_a_crash_is_adopted_by_the_next_serve_and_stopped(
    data: Path, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    env = fresh_machine(data)
    server = serve(env, free_port(), log)
    kill_the_tree(server)  # nothing of it is left to stop PostgreSQL
    [orphan] = postmasters(data)

    again = serve(env, free_port(), log)
    try:
        assert [process.pid for process in postmasters(data)] == [orphan.pid], "the orphan is reused, not doubled"
    finally:
        stopped(again, signal.SIGTERM)
    assert no_postmaster_left(data), "the adopted PostgreSQL outlived the serve that adopted it"


def test_a_stale_pid_file_naming_a_live_stranger_does_not_stop_the_next_serve(data: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    env = fresh_machine(data)
    server = serve(env, free_port(), log)
    kill_the_tree(server)
    [postmaster] = postmasters(data)
    postmaster.kill()  # the machine lost power, say: the pid file stays
    postmaster.wait(timeout=30)
    pid_file = data / "pgdata" / "postmaster.pid"
    stranger = subprocess.Popen(["sleep", "120"])  # after a reboot, the old pid names another program
    try:
        lines = pid_file.read_text().splitlines()
        pid_file.write_text("\n".join([str(stranger.pid), *lines[1:]]) + "\n")

        stopped(serve(env, free_port(), log), signal.SIGTERM)
        assert no_postmaster_left(data)
        assert stranger.poll() is None, "the stranger named by the stale pid file is left alone"
    finally:
        stranger.kill()
        stranger.wait()


def project_children(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The `mcreg project` processes `serve` started."""
    return [child for child in psutil.Process(server.pid).children() if "project" in child.cmdline()]


def gone(process: psutil.Process, within: float) -> bool:
    try:
        process.wait(within)
    except psutil.TimeoutExpired:
        return False
    return True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_serve_keeps_its_read_models_in_a_child_process_that_ends_with_it(
    data: Path, tmp_path: Path, how: signal.Signals
) -> None:
    log, port = tmp_path / "serve.log", free_port()
    server = serve(fresh_machine(data), port, log)
    try:
        [child] = project_children(server)
        assert child.is_running()
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).json()
        assert "credential_status" in json.dumps(ready), "the read models are there, kept by the child"
    finally:
        stopped(server, how)
    assert gone(child, within=60), f"serve's `mcreg project` outlived a {how.name} to serve"
    assert no_postmaster_left(data, within=60)


def test_no_projections_starts_no_child(data: Path, tmp_path: Path) -> None:
    server = serve(fresh_machine(data), free_port(), tmp_path / "serve.log", options=("--no-projections",))
    try:
        assert project_children(server) == []
    finally:
        stopped(server, signal.SIGTERM)


def requests_answered_by(log: Path) -> set[int]:
    """The processes that answered GET /healthz, as the log's request lines name them."""
    lines = [json.loads(text) for text in log.read_text().splitlines() if text.startswith("{")]
    return {line["pid"] for line in lines if line.get("event") == "request" and line.get("path") == "/healthz"}


@pytest.mark.drill  # three processes start, each importing the whole application
def test_serve_with_two_workers_answers_from_two_processes_and_they_end_with_it(data: Path, tmp_path: Path) -> None:
    log, port = tmp_path / "serve.log", free_port()
    server = serve(fresh_machine(data), port, log, options=("--workers", "2", "--no-projections"), within=180)
    try:
        deadline = time.monotonic() + 180  # the second process may still be starting: it answers once it listens
        while len(requests_answered_by(log)) < 2 and time.monotonic() < deadline:
            with httpx.Client(timeout=30) as client:  # a connection each: the kernel hands them to either process
                assert client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            time.sleep(0.05)
        answered = requests_answered_by(log)
        assert len(answered) == 2, answered
        workers = [psutil.Process(pid) for pid in answered]
        assert all(server.pid in [parent.pid for parent in worker.parents()] for worker in workers)
    finally:
        stopped(server, signal.SIGKILL)
    assert all(gone(worker, within=60) for worker in workers), "an API process outlived serve"
    assert no_postmaster_left(data, within=60)
