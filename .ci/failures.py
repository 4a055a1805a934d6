"""What failed in a CI run, said in a few lines each, for the end of the log (the part CI systems keep).

    failures.py tests PASS JUNIT_XML   every failed or erred test of a pytest pass: its phase (setup, call,
                                       teardown), its traceback's frames in the repository and the last one in a
                                       library, its ``E`` lines, and what it logged at WARNING or above
    failures.py server-log LOG         a PostgreSQL server log's FATAL, ERROR and PANIC messages by kind, counted

The JUnit XML is pytest's, written with ``--junitxml=FILE -o junit_family=xunit1 -o junit_logging=all``
(xunit1 gives each test's file; ``all`` keeps its captured log and output). Standard library only: it runs
from ``.ci/run`` with the project's Python, whatever the project installs.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

DETAILED = 25
"""Tests shown in full per pass; the rest are named, and their most common errors counted."""
NAMED = 100
"""Tests named beyond those shown in full."""
WIDTH = 240
"""Characters kept of any one line."""
FRAMES = 12
"""Frames kept of each exception's traceback (the innermost)."""
E_LINES = 8
"""``E`` lines kept of each exception."""
LOGGED = 8
"""Log records kept per test."""
KINDS = 20
"""Kinds of server messages shown."""

LOCATION = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?: (?P<rest>.*))?$")
"""A traceback entry's location in pytest's report: ``path:line: in function`` (or the exception's name)."""
CHAINED = {
    "The above exception was the direct cause of the following exception:": "which caused",
    "During handling of the above exception, another exception occurred:": "while handling it",
}
LIBRARY = re.compile(r"(?:^|/)(?:site-packages|dist-packages|lib/python\d+\.\d+)/")
INSTALLED_AT = re.compile(r"^.*/(?:site-packages|dist-packages|lib/python\d+\.\d+)/")
LEVELS = ("WARNING", "ERROR", "CRITICAL")
CONSOLE_LEVEL = re.compile(r"\[(warning|error|critical|exception)\s*\]")
"""The level in structlog's console rendering: ``2026-01-01 10:00:00 [warning  ] event  key=value``."""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SECTION = re.compile(r"^-+ Captured (Log|Out|Err) -+$")
SERVER_MESSAGE = re.compile(r"\b(FATAL|ERROR|PANIC):\s+(.*)$")


def clip(text: str) -> str:
    text = text.rstrip()
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


@dataclass
class Raised:
    """One exception of a test's report: the frames it went through and its ``E`` lines."""

    frames: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    then: str = ""
    """How the next exception of a chain follows from this one (empty for the last)."""


@dataclass
class Failure:
    test: str
    phase: str
    chain: list[Raised]
    message: str
    logged: list[str]

    def first_error(self) -> str:
        for exception in reversed(self.chain):
            if exception.lines:
                return exception.lines[0]
        return self.message.splitlines()[0] if self.message else ""


def is_library(path: str) -> bool:
    return path.startswith(("/", "<", "..", ".venv/")) or LIBRARY.search(path) is not None


def short_library_path(path: str) -> str:
    """A library file named from its package: ``psycopg_pool/pool.py``, ``json/decoder.py``."""
    return INSTALLED_AT.sub("", path)


def traceback_chain(report: str) -> list[Raised]:
    """The exceptions of a pytest report, outermost cause first, each with its repository frames and the last
    library frame it went through."""
    chain = [Raised()]
    every_frame: list[list[tuple[str, str]]] = [[]]
    for line in report.splitlines():
        if line in CHAINED:
            chain[-1].then = CHAINED[line]
            chain.append(Raised())
            every_frame.append([])
        elif line.startswith("E ") and line[1:].strip():
            chain[-1].lines.append(line[1:].strip())
        elif location := LOCATION.match(line):
            rest = location["rest"] or ""
            every_frame[-1].append((location["path"], f"{location['line']} {rest}".rstrip()))
    for exception, frames in zip(chain, every_frame, strict=True):
        last_library = max((i for i, (path, _) in enumerate(frames) if is_library(path)), default=None)
        for i, (path, where) in enumerate(frames):
            if not is_library(path):
                exception.frames.append(f"{path}:{where}")
            elif i == last_library:
                exception.frames.append(f"{short_library_path(path)}:{where} (library)")
    return [exception for exception in chain if exception.frames or exception.lines]


def captured(testcase: ElementTree.Element) -> dict[str, list[str]]:
    """The test's captured log, standard output and standard error, by pytest's section names."""
    sections: dict[str, list[str]] = {"Log": [], "Out": [], "Err": []}
    current: list[str] | None = None
    for element in ("system-out", "system-err"):
        for line in (testcase.findtext(element) or "").splitlines():
            if header := SECTION.match(line):
                current = sections[header[1]]
            elif current is not None:
                current.append(line)
    return sections


def warnings_logged(sections: dict[str, list[str]]) -> list[str]:
    """Records at WARNING or above: the log's (with the last line of a traceback logged with one), and
    structlog's lines in the output, as JSON or for the console."""
    records: list[list[str]] = []
    keeping = False
    for line in sections["Log"]:
        if line.startswith(("DEBUG", "INFO", *LEVELS)):
            keeping = line.startswith(LEVELS)
            if keeping:
                records.append([line])
        elif keeping and line.strip():
            records[-1].append(line)  # a traceback logged with the record
    kept = [record[0] if len(record) == 1 else f"{record[0]} … {record[-1]}" for record in records]
    for line in sections["Out"] + sections["Err"]:
        plain = ANSI.sub("", line)
        if CONSOLE_LEVEL.search(plain) or json_level(plain) in ("warning", "error", "critical", "exception"):
            kept.append(plain)
    return [" ".join(record.split()) for record in kept]


def json_level(line: str) -> str:
    if not line.startswith("{"):
        return ""
    try:
        record = json.loads(line)
    except ValueError:
        return ""
    return str(record.get("level", "")).lower() if isinstance(record, dict) else ""


def test_id(testcase: ElementTree.Element) -> str:
    """The test's pytest node id, as ``pytest`` takes it to run the test again."""
    name, classname, file = testcase.get("name", ""), testcase.get("classname", ""), testcase.get("file")
    if not file:
        return f"{classname}::{name}" if classname else name
    if not classname:  # a module that could not be collected
        return file
    module = file.removesuffix(".py").replace("/", ".")
    classes = classname.removeprefix(module).strip(".")
    return "::".join([file, *classes.split("."), name] if classes else [file, name])


def phase_of(problem: ElementTree.Element) -> str:
    message = problem.get("message", "")
    if problem.tag == "failure":
        return "call"
    for phase in ("setup", "teardown"):
        if message.startswith(f"failed on {phase}"):
            return phase
    return "collection" if message == "collection failure" else "setup"


def failures(junit: Path) -> Iterator[Failure]:
    for testcase in ElementTree.parse(junit).getroot().iter("testcase"):
        for problem in testcase:
            if problem.tag in ("failure", "error"):
                yield Failure(
                    test=test_id(testcase),
                    phase=phase_of(problem),
                    chain=traceback_chain(problem.text or ""),
                    message=problem.get("message", ""),
                    logged=warnings_logged(captured(testcase)),
                )


def totals(junit: Path) -> Counter[str]:
    count: Counter[str] = Counter()
    for suite in ElementTree.parse(junit).getroot().iter("testsuite"):
        for key in ("tests", "failures", "errors", "skipped"):
            count[key] += int(suite.get(key, "0"))
    return count


def describe(failure: Failure) -> Iterator[str]:
    kind = "FAILED" if failure.phase == "call" else "ERROR"
    yield f"{kind} at {failure.phase}: {failure.test}"
    for exception in failure.chain:
        if len(exception.frames) > FRAMES:
            yield f"    … {len(exception.frames) - FRAMES} outer frames"
        for frame in exception.frames[-FRAMES:]:
            yield clip(f"    {frame}")
        for line in exception.lines[:E_LINES]:
            yield clip(f"  E {line}")
        if len(exception.lines) > E_LINES:
            yield f"  E … {len(exception.lines) - E_LINES} more lines"
        if exception.then:
            yield f"  {exception.then}:"
    if not failure.chain:
        yield from (clip(f"  {line}") for line in failure.message.splitlines()[:E_LINES])
    if failure.logged:
        yield "  logged:"
        yield from (clip(f"    {line}") for line in failure.logged[:LOGGED])
        if len(failure.logged) > LOGGED:
            yield f"    … {len(failure.logged) - LOGGED} more records"


def report_tests(pass_name: str, junit: Path) -> Iterator[str]:
    try:
        found = list(failures(junit))
        count = totals(junit)
    except (OSError, ElementTree.ParseError) as error:
        yield f"the {pass_name} pass left no JUnit XML to read ({error}): pytest did not get to its end"
        return
    if not found:
        return
    tests = f"{count['failures']} failed and {count['errors']} erred of {count['tests']} tests"
    yield f"in the {pass_name} pass, {tests}:"
    for failure in found[:DETAILED]:
        yield from describe(failure)
    rest = found[DETAILED:]
    if rest:
        yield f"{len(rest)} more, named only:"
        yield from (f"  {'FAILED' if f.phase == 'call' else 'ERROR'} at {f.phase}: {f.test}" for f in rest[:NAMED])
        if len(rest) > NAMED:
            yield f"  … and {len(rest) - NAMED} more"
        yield "the most common errors of all of them:"
        common = Counter(failure.first_error() for failure in found).most_common(5)
        yield from (clip(f"  {times}× {error}") for error, times in common)


def kind_of(message: str) -> str:
    """A server message without what changes from one to the next of its kind: ids, numbers."""
    message = re.sub(r"(?<![0-9a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}(?![0-9a-f])", "…", message)
    return re.sub(r"\d+", "N", message)


def report_server_log(log: Path) -> Iterator[str]:
    try:
        lines: Iterable[str] = log.read_text(errors="replace").splitlines()
    except OSError as error:
        yield f"the server's log cannot be read: {error}"
        return
    kinds: Counter[str] = Counter()
    for line in lines:
        if message := SERVER_MESSAGE.search(line):
            kinds[f"{message[1]}: {kind_of(message[2])}"] += 1
    if not kinds:
        yield f"the server's log ({log.name}) has no FATAL, ERROR or PANIC message"
        return
    yield f"the server's log ({log.name}): {sum(kinds.values())} FATAL, ERROR or PANIC messages of {len(kinds)} kinds"
    for kind, times in kinds.most_common(KINDS):
        yield clip(f"  {times:>5}× {kind}")
    if len(kinds) > KINDS:
        yield f"  … {len(kinds) - KINDS} more kinds"


def main(arguments: list[str]) -> int:
    match arguments:
        case ["tests", pass_name, junit]:
            lines = report_tests(pass_name, Path(junit))
        case ["server-log", log]:
            lines = report_server_log(Path(log))
        case _:
            print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
            return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
