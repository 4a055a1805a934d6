"""``.ci/failures.py``: what failed in a CI pass, said at the end of the log, on a pass's JUnit XML and a server log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
FAILURES = HERE.parents[1] / ".ci" / "failures.py"

SETUP_ERROR = """\
ERROR at setup: tests/shell/test_slow_connections.py::test_a_registry_starts
    tests/conftest.py:77
    mcreg/bootstrap.py:96 in bootstrap
    psycopg_pool/pool.py:231 PoolTimeout (library)
  E psycopg_pool.PoolTimeout: couldn't get a connection after 1.00 sec
  logged:
    WARNING psycopg.pool:pool.py:644 error connecting in 'pool-1': connection timeout expired
    ERROR mcreg.projections:engine.py:88 a page failed … psycopg.errors.SerializationFailure: could not serialize access
"""
CHAINED = """\
FAILED at call: tests/api/test_graphql.py::TestPages::test_a_page[2]
    tests/api/test_graphql.py:44
    json/decoder.py:353 in raw_decode (library)
  E json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
  which caused:
    tests/api/test_graphql.py:46 KeyError
  E KeyError: 'data'
  logged:
    2026-12-05 05:21:38 [warning ] lease lost projection=audit
    {"event":"answer refused","level":"error","status":503}
"""


def failures(*arguments: str | Path) -> str:
    done = subprocess.run([sys.executable, FAILURES, *arguments], capture_output=True, text=True, check=True)
    return done.stdout


def test_each_failed_or_erred_test_says_its_phase_frames_errors_and_warnings() -> None:
    shown = failures("tests", "system", HERE / "junit.xml")

    assert shown.splitlines()[0] == "in the system pass, 2 failed and 3 erred of 7 tests:"
    # The repository's frames, the last library frame named from its package, the E lines, the warnings logged.
    assert SETUP_ERROR in shown
    # A chained exception, in a test of a class; structlog's lines as rendered for the console and as JSON.
    assert CHAINED in shown
    assert "ERROR at teardown: tests/api/test_graphql.py::test_drops_its_schema\n" in shown
    assert "FAILED at call: tests/api/test_graphql.py::test_fails_plainly\n" in shown
    assert "ERROR at collection: tests/api/test_broken.py\n" in shown
    assert "E ModuleNotFoundError: No module named 'nosuchmodule'" in shown
    # What passed or was skipped, and what was logged below WARNING, is not shown.
    assert "not to be shown" not in shown and "test_passes" not in shown and "test_skipped" not in shown


def test_a_long_report_is_cut_to_a_few_lines_per_test(tmp_path: Path) -> None:
    huge = "E   " + "x" * 5000 + "\n"
    report = f"tests/test_a.py:1: AssertionError\n{huge * 50}"
    cases = "".join(
        f'<testcase classname="tests.test_a" name="test_{n}" file="tests/test_a.py"><failure message="m">'
        f"{report}</failure></testcase>"
        for n in range(40)
    )
    junit = tmp_path / "junit.xml"
    junit.write_text(f'<testsuites><testsuite tests="40" failures="40" errors="0">{cases}</testsuite></testsuites>')

    shown = failures("tests", "embedded", junit).splitlines()

    assert max(len(line) for line in shown) <= 240
    assert sum(line.startswith("FAILED at call:") for line in shown) == 25  # in full
    assert "15 more, named only:" in shown
    assert len(shown) < 25 * 12 + 40


def test_a_pass_without_failures_says_nothing_and_one_without_its_xml_says_so(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuites><testsuite tests="1"><testcase classname="a" name="b"/></testsuite></testsuites>')
    assert failures("tests", "embedded", junit) == ""
    missing = failures("tests", "embedded", tmp_path / "none.xml")
    assert missing.startswith("the embedded pass left no JUnit XML to read")


def test_the_server_logs_messages_are_counted_by_kind() -> None:
    assert failures("server-log", HERE / "postgres.log").splitlines() == [
        "the server's log (postgres.log): 8 FATAL, ERROR or PANIC messages of 4 kinds",
        "      3× FATAL: sorry, too many clients already",
        '      2× ERROR: duplicate key value violates unique constraint "stored_events_pkey"',
        '      2× ERROR: relation "test_….read_model_tracking" does not exist at character N',
        '      1× PANIC: could not write to file "pg_wal/xlogtemp.N": No space left on device',
    ]
