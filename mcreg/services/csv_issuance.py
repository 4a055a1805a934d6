"""Bulk issuance from a CSV file, as a student-information system or a spreadsheet exports one.

The file is read twice or three times, never held: a scan finds the whole-file problems (encoding,
columns, too many rows) before anything is written; then rows are parsed and issued a chunk at a time,
each chunk one transaction of ``issue_keyed_credentials``. Every row is reported, in file order, to a
sink the caller gives (the HTTP adapter spools them to disk, the command line counts them). A row's
``row_key`` (the provider's own key for it) makes a re-posted file issue nothing twice. Learner data
goes the JSON batch's way: parsed into ``PersonalData`` and sealed by the registry.

Columns are matched by header name, case and surrounding spaces ignored. Cells are UTF-8 (a BOM is
skipped), separated by ``,`` or ``;`` (named, or taken from the header line), quoted as spreadsheets
quote them (quoted cells may hold separators and newlines). A cell that a spreadsheet would run as a
formula (it starts with ``=``, ``+``, ``-`` or ``@``, after any spaces) refuses its row, except
a plain number in the ``grade`` column (``-0.5`` is a grade, not a formula).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Literal
from uuid import UUID

from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import IssueRow, Registry, RowOutcome, RowStatus
from mcreg.registry.errors import DomainError
from mcreg.registry.stamp import Actor


@dataclass(frozen=True)
class Column:
    description: str
    required: bool = False
    numeric: bool = False  # a plain number here is a value, not a formula


COLUMNS: dict[str, Column] = {
    "row_key": Column(
        "Your own key for this issuance, unique for your organisation (say term/course/student number). A row "
        "whose key issued a credential before is reported `duplicate` and writes nothing. Stored only as a keyed hash.",
        required=True,
    ),
    "microcredential_id": Column("The micro-credential issued (its id).", required=True),
    "learner_name": Column("The learner's full name.", required=True),
    "learner_given_name": Column("Given names, as the learner's papers split the name."),
    "learner_family_name": Column("Family names, likewise."),
    "learner_birth_date": Column("YYYY-MM-DD."),
    "learner_email": Column("The learner's email address."),
    "learner_id": Column("The learner's id from an earlier credential, if any."),
    "learner_student_id": Column("The student-information system's number for the learner (sealed with the rest)."),
    "course_id": Column("The student-information system's course id."),
    "lti_context_id": Column("The learning platform's LTI 1.3 context id."),
    "lti_resource_link_id": Column("The learning platform's LTI 1.3 resource link id (the activity that awarded it)."),
    "issued_on": Column("YYYY-MM-DD; today when empty."),
    "grade": Column("As the provider grades, at most 50 characters.", numeric=True),
    "valid_until": Column("YYYY-MM-DD; no end when empty."),
}
"""The columns a file may have; sealed as personal data: every ``learner_*`` cell."""

FORMULA_STARTS = ("=", "+", "-", "@")  # after leading spaces and tabs, which are dropped
PLAIN_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ERROR_COLUMNS = {
    "learner": "learner_name",
    "learner.name": "learner_name",
    "learner.given_name": "learner_given_name",
    "learner.family_name": "learner_family_name",
    "learner.birth_date": "learner_birth_date",
    "learner.email": "learner_email",
    "learner.student_id": "learner_student_id",
}
"""The column of a registry error's field, where the two names differ."""


class CsvFileRefused(DomainError):
    """The file as a whole cannot be read as a credentials CSV: nothing was written."""

    type = "csv-file-refused"
    title = "The CSV file cannot be imported"
    status = 422


class CsvTooManyRows(DomainError):
    """The file holds more rows than one import takes: nothing was written."""

    type = "csv-too-many-rows"
    title = "Too many rows in the CSV file"
    status = 413


@dataclass(frozen=True)
class CsvOptions:
    dry_run: bool = False
    all_or_nothing: bool = True
    delimiter: Literal[",", ";"] | None = None  # None: taken from the header line
    max_rows: int = 100_000
    chunk_rows: int = 1_000


@dataclass(frozen=True)
class RowReport:
    """What became of one row. ``row`` numbers rows as a spreadsheet shows them (the header is row 1);
    ``line`` is the file line the row starts on (they differ after quoted newlines)."""

    row: int
    line: int
    row_key: str | None
    status: RowStatus
    credential_id: UUID | None = None
    column: str | None = None
    problem: str | None = None
    message: str | None = None


@dataclass
class CsvSummary:
    rows: int
    delimiter: str
    dry_run: bool
    all_or_nothing: bool
    counts: dict[RowStatus, int] = field(default_factory=lambda: dict.fromkeys(RowStatus, 0))


@dataclass(frozen=True)
class _Layout:
    delimiter: str
    columns: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class _Parsed:
    row: int
    line: int
    key: str | None
    issue: IssueRow | RowReport  # a row ready for the registry, or refused as read


Sink = Callable[[RowReport], None]
Progress = Callable[[int, int], None]


def import_csv(
    registry: Registry,
    actor: Actor,
    source: IO[bytes],
    options: CsvOptions,
    sink: Sink,
    progress: Progress | None = None,
) -> CsvSummary:
    """Issue the credentials of a CSV file (``source``, seekable), reporting every row to ``sink`` in file order.

    Raises ``CsvFileRefused`` or ``CsvTooManyRows`` before anything is written. A dry run, or an
    all-or-nothing import, first checks every row writing nothing; the latter then writes only if no
    row was refused.
    """
    layout = _scan(source, options)
    summary = CsvSummary(layout.rows, layout.delimiter, options.dry_run, options.all_or_nothing)

    def report(row: RowReport) -> None:
        summary.counts[row.status] += 1
        sink(row)

    if options.dry_run or options.all_or_nothing:
        checking = _Pass(registry, actor, source, layout, options, progress)
        refused = checking.run(write=False, sink=report if options.dry_run else _ignore)
        if options.dry_run:
            return summary
        if refused:  # nothing is written: read once more to report every row
            _Pass(registry, actor, source, layout, options, None).run(write=False, sink=report)
            return summary
    _Pass(registry, actor, source, layout, options, progress).run(write=True, sink=report)
    return summary


def _ignore(row: RowReport) -> None:
    """A check before writing reports nothing: the writing pass reports every row."""


class _Pass:
    """One reading of the file's rows, a chunk at a time: checked only, or issued."""

    def __init__(
        self,
        registry: Registry,
        actor: Actor,
        source: IO[bytes],
        layout: _Layout,
        options: CsvOptions,
        progress: Progress | None,
    ) -> None:
        self.registry = registry
        self.actor = actor
        self.source = source
        self.layout = layout
        self.options = options
        self.progress = progress
        self.first_row_of_key: dict[str, int] = {}
        self.today = registry.today()

    def run(self, *, write: bool, sink: Sink) -> bool:
        """Report every row to ``sink``; True if any was refused. A chunk refused on writing (what it relied
        on changed since the check) stops an all-or-nothing import writing: the rest are only checked."""
        refused = False
        done = 0
        chunk: list[_Parsed] = []
        for parsed in self.parsed_rows():
            chunk.append(parsed)
            if len(chunk) == self.options.chunk_rows:
                refused |= self.chunk(chunk, write and not (refused and self.options.all_or_nothing), sink)
                done += len(chunk)
                chunk = []
                if self.progress:
                    self.progress(done, self.layout.rows)
        if chunk:
            refused |= self.chunk(chunk, write and not (refused and self.options.all_or_nothing), sink)
            if self.progress:
                self.progress(done + len(chunk), self.layout.rows)
        return refused

    def chunk(self, chunk: list[_Parsed], write: bool, sink: Sink) -> bool:
        ready = [p for p in chunk if isinstance(p.issue, IssueRow)]
        rows = [p.issue for p in ready if isinstance(p.issue, IssueRow)]
        keys = [p.key or "" for p in ready]
        outcomes: dict[int, RowOutcome] = {}
        if rows:
            answered = (
                self.registry.issue_keyed_credentials(self.actor, rows, keys, partial=not self.options.all_or_nothing)
                if write
                else self.registry.check_keyed_credentials(self.actor, rows, keys)
            )
            outcomes = {p.row: outcome for p, outcome in zip(ready, answered, strict=True)}
        refused = False
        for parsed in chunk:
            report = parsed.issue if isinstance(parsed.issue, RowReport) else _report(parsed, outcomes[parsed.row])
            refused |= report.status == RowStatus.REFUSED
            sink(report)
        return refused

    def parsed_rows(self) -> Iterator[_Parsed]:
        width = len(self.layout.columns)
        records = _records(self.source, self.layout.delimiter)
        next(records)  # the header
        for row, line, cells in records:
            if len(cells) != width:
                yield _refused(
                    row, line, None, None, "invalid-input", f"has {len(cells)} cells; the header has {width}"
                )
                continue
            values = dict(zip(self.layout.columns, (c.strip() for c in cells), strict=True))
            yield self.parse(row, line, values["row_key"] or None, values)

    def parse(self, row: int, line: int, key: str | None, values: dict[str, str]) -> _Parsed:
        for name, value in values.items():
            if value.startswith(FORMULA_STARTS) and not (COLUMNS[name].numeric and PLAIN_NUMBER.fullmatch(value)):
                rule = f"starts with {value[0]!r}: a spreadsheet would run it as a formula"
                return _refused(row, line, key, name, "csv-formula-cell", rule)
        for name, column in COLUMNS.items():
            if column.required and not values.get(name):
                return _refused(row, line, key, name, "invalid-input", "is required")
        if key is not None:
            first = self.first_row_of_key.setdefault(key, row)
            if first != row:
                return _refused(row, line, key, "row_key", "invalid-input", f"repeats the key of row {first}")
        try:
            issue = IssueRow(
                microcredential_id=_uuid("microcredential_id", values["microcredential_id"]),
                learner=PersonalData(
                    name=values["learner_name"],
                    birth_date=_day("learner_birth_date", values.get("learner_birth_date")),
                    email=values.get("learner_email") or None,
                    given_name=values.get("learner_given_name") or None,
                    family_name=values.get("learner_family_name") or None,
                    student_id=values.get("learner_student_id") or None,
                ),
                issued_on=_day("issued_on", values.get("issued_on")) or self.today,
                grade=values.get("grade") or None,
                valid_until=_day("valid_until", values.get("valid_until")),
                learner_id=_uuid("learner_id", values["learner_id"]) if values.get("learner_id") else None,
                course_id=values.get("course_id") or None,
                lti_context_id=values.get("lti_context_id") or None,
                lti_resource_link_id=values.get("lti_resource_link_id") or None,
            )
        except _CellError as error:
            return _refused(row, line, key, error.column, "invalid-input", error.rule)
        return _Parsed(row, line, key, issue)


class _CellError(Exception):
    def __init__(self, column: str, rule: str) -> None:
        super().__init__(f"{column}: {rule}")
        self.column = column
        self.rule = rule


def _uuid(column: str, value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise _CellError(column, "must be a UUID") from None


def _day(column: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        if ISO_DAY.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _CellError(column, "must be a date (YYYY-MM-DD)")


def _refused(row: int, line: int, key: str | None, column: str | None, problem: str, message: str) -> _Parsed:
    return _Parsed(row, line, key, RowReport(row, line, key, RowStatus.REFUSED, None, column, problem, message))


def _report(parsed: _Parsed, outcome: RowOutcome) -> RowReport:
    column = ERROR_COLUMNS.get(outcome.field or "", outcome.field) if outcome.field else None
    if column not in COLUMNS and outcome.problem == "not-found":
        column = "microcredential_id"
    return RowReport(
        parsed.row,
        parsed.line,
        parsed.key,
        outcome.status,
        outcome.credential_id,
        column,
        outcome.problem,
        outcome.rule,
    )


# Reading the file ------------------------------------------------------------


def _scan(source: IO[bytes], options: CsvOptions) -> _Layout:
    """The file's separator, columns and number of rows, or the problem that refuses it whole."""
    source.seek(0)
    head = source.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise CsvFileRefused("the file is UTF-16 or UTF-32; save it as CSV UTF-8", rule="encoding")
    source.seek(0)
    text = _text(source)
    try:
        header_line = text.readline()
    except UnicodeDecodeError:
        raise CsvFileRefused("the file is not UTF-8 (line 1); save it as CSV UTF-8", rule="encoding") from None
    finally:
        text.detach()  # the wrapper would close the caller's file
    delimiter = options.delimiter or (";" if header_line.count(";") > header_line.count(",") else ",")
    rows = 0
    columns: tuple[str, ...] = ()
    for _row, _line, cells in _records(source, delimiter):
        if not columns:
            columns = _columns(cells)
            continue
        rows += 1
        if rows > options.max_rows:
            raise CsvTooManyRows(f"the file holds more than {options.max_rows} rows", max_rows=options.max_rows)
    if not columns:
        raise CsvFileRefused("the file is empty: it needs a header row naming its columns", rule="header")
    if rows == 0:
        raise CsvFileRefused("the file has a header but no rows", rule="rows")
    return _Layout(delimiter, columns, rows)


def _columns(cells: list[str]) -> tuple[str, ...]:
    columns = tuple(c.strip().lower() for c in cells)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise CsvFileRefused(
            f"unknown columns: {', '.join(map(repr, unknown))}", rule="columns", unknown=unknown, known=list(COLUMNS)
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise CsvFileRefused(f"columns named twice: {', '.join(repeated)}", rule="columns", repeated=repeated)
    missing = [name for name, column in COLUMNS.items() if column.required and name not in columns]
    if missing:
        raise CsvFileRefused(f"missing columns: {', '.join(missing)}", rule="columns", missing=missing)
    return columns


def _text(source: IO[bytes]) -> io.TextIOWrapper:
    """The file as text: UTF-8, a BOM skipped, every newline kept for the CSV reader (quoted newlines)."""
    return io.TextIOWrapper(source, encoding="utf-8-sig", errors="strict", newline="")


def _records(source: IO[bytes], delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """(row as a spreadsheet numbers it, the line it starts on, cells) of each non-blank record, the header first."""
    source.seek(0)
    text = _text(source)
    reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    line = 1
    try:
        for row, cells in enumerate(reader, start=1):
            starts, line = line, reader.line_num + 1
            if any(c.strip() for c in cells):
                yield row, starts, cells
    except UnicodeDecodeError:
        raise CsvFileRefused(f"the file is not UTF-8 (line {line}); save it as CSV UTF-8", rule="encoding") from None
    except csv.Error as error:
        raise CsvFileRefused(f"line {line}: {error}", rule="syntax") from None
    finally:
        text.detach()  # the caller's file stays open for the next pass
