"""Credentials issued from a CSV file (``POST /v1/credentials:import``), with a report of every row."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from mcreg.api.deps import Caller, Configured, Registered
from mcreg.api.problems import ProblemError
from mcreg.api.rest.common import PROBLEM_RESPONSES, Output
from mcreg.registry.application import Registry, RowStatus
from mcreg.registry.stamp import Actor
from mcreg.services.csv_issuance import COLUMNS, CsvOptions, CsvSummary, RowReport, import_csv

router = APIRouter(prefix="/v1/credentials", tags=["credentials"], responses=PROBLEM_RESPONSES)

SPOOL_IN_MEMORY = 1 << 20
"""Bytes of an upload, or of its report, held in memory before they spill to a temporary file."""


class CsvRowOut(Output):
    row: int = Field(description="The row as a spreadsheet numbers it: the header is row 1")
    line: int = Field(description="The file line the row starts on (later than `row` after quoted newlines)")
    row_key: str | None = Field(default=None, description="The row's key, as the file gives it")
    status: RowStatus = Field(
        description="issued | duplicate (its row key issued `id` before; nothing written) | refused | valid (passed "
        "every rule, not written: a dry run, or other rows refused an all-or-nothing file)"
    )
    id: str | None = Field(default=None, description="The credential issued (or, for a duplicate, issued before)")
    column: str | None = Field(default=None, description="The column at fault; none when the row as a whole is")
    problem: str | None = Field(default=None, description="A problem type slug (`invalid-input`, `csv-formula-cell`…)")
    message: str | None = None


class CsvImportOut(Output):
    rows: int
    delimiter: str
    dry_run: bool
    all_or_nothing: bool
    issued: int
    duplicate: int
    refused: int
    valid: int
    results: list[CsvRowOut] = Field(description="One per row, in file order")


def _column_table() -> str:
    lines = [f"- `{name}`{' (required)' if c.required else ''}: {c.description}" for name, c in COLUMNS.items()]
    return "\n".join(lines)


DESCRIPTION = f"""Issue a cohort from a CSV file as a student-information system or a spreadsheet saves it: UTF-8
(with or without a BOM), cells separated by `,` or `;` (taken from the header line unless `delimiter` names one),
quoted cells holding separators or newlines. At most `MCREG_MAX_CSV_ROWS` rows ({CsvOptions().max_rows:,} unless
set) and `MCREG_MAX_BATCH_BYTES` (64 MiB); written a chunk at a time, each chunk one transaction.

Columns, matched by header name (case and surrounding spaces ignored; any other column refuses the file):

{_column_table()}

The answer reports every row: `issued` (with its id), `duplicate` (its `row_key` issued a credential before, which
it names: re-posting a file issues nothing twice), `refused` (the column, a problem type and a message; nothing
is written for it) or `valid`. A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-` or `@`,
a plain number in `grade` excepted) refuses its row (`csv-formula-cell`). With `all_or_nothing` (the default)
one refused row keeps every row from being written; otherwise the valid rows are issued. `dry_run` checks every
row and writes nothing. A file that cannot be read as a whole (not UTF-8, unknown or missing columns) is a 422
`csv-file-refused`; too many rows, a 413 `csv-too-many-rows`; both before anything is written."""


def _report_line(row: RowReport) -> str:
    out = CsvRowOut(
        row=row.row,
        line=row.line,
        row_key=row.row_key,
        status=row.status,
        id=str(row.credential_id) if row.credential_id else None,
        column=row.column,
        problem=row.problem,
        message=row.message,
    )
    return out.model_dump_json(exclude_none=True)


def _run(registry: Registry, actor: Actor, upload: IO[bytes], options: CsvOptions) -> tuple[CsvSummary, IO[str]]:
    # Outlives this call: the streamed response closes it once sent.
    report: IO[str] = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, mode="w+", encoding="utf-8")  # noqa: SIM115

    def sink(row: RowReport) -> None:
        report.write(_report_line(row) + "\n")

    try:
        summary = import_csv(registry, actor, upload, options, sink)
    except BaseException:
        report.close()
        raise
    report.seek(0)
    return summary, report


def _body(summary: CsvSummary, report: IO[str]) -> Iterator[str]:
    """The JSON report, streamed from its spool: the counts, then one result per row."""
    counts = {status.value: summary.counts[status] for status in RowStatus}
    head = {
        "rows": summary.rows,
        "delimiter": summary.delimiter,
        "dry_run": summary.dry_run,
        "all_or_nothing": summary.all_or_nothing,
        **counts,
    }
    try:
        yield json.dumps(head)[:-1] + ', "results": ['
        for n, line in enumerate(report):
            yield ("," if n else "") + line.rstrip("\n")
        yield "]}"
    finally:
        report.close()


REPORT_COLUMNS = ("row", "line", "row_key", "status", "id", "column", "problem", "message")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: object) -> str:
    """A report cell a spreadsheet shows as text: one that would start a formula is led by an apostrophe (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_body(report: IO[str]) -> Iterator[str]:
    """The report as CSV, a row per row of the file, streamed from its spool in blocks."""
    block = io.StringIO()
    writer = csv.writer(block, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    try:
        for line in report:
            result = json.loads(line)
            writer.writerow([_safe_cell(result.get(column)) for column in REPORT_COLUMNS])
            if block.tell() > SPOOL_IN_MEMORY // 16:
                yield block.getvalue()
                block.seek(0)
                block.truncate()
        yield block.getvalue()
    finally:
        report.close()


@router.post(
    ":import",
    summary="Issue credentials from a CSV file; one result per row",
    description=DESCRIPTION,
    response_model=None,
    responses={
        200: {
            "model": CsvImportOut,
            "description": "Every row's outcome; as CSV (columns row, line, row_key, status, id, column, problem, "
            "message; a cell that would start a formula led by an apostrophe) when the request accepts text/csv",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_credentials_csv(
    request: Request,
    actor: Caller,
    registry: Registered,
    settings: Configured,
    dry_run: Annotated[bool, Query(description="Check every row and write nothing")] = False,
    all_or_nothing: Annotated[bool, Query(description="Write nothing if any row is refused")] = True,
    delimiter: Annotated[
        Literal[",", ";"] | None, Query(description="The cell separator; taken from the header line if not given")
    ] = None,
) -> StreamingResponse:
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    if media_type.strip().lower() != "text/csv":
        raise ProblemError("unsupported-media-type", f"send text/csv, not {media_type.strip() or 'no Content-Type'}")
    charset = parameters.strip().lower().removeprefix("charset=").strip('"')
    if charset and charset not in ("utf-8", "utf8"):
        raise ProblemError("unsupported-media-type", f"send the CSV as UTF-8, not {charset}")
    options = CsvOptions(
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        delimiter=delimiter,
        max_rows=settings.max_csv_rows,
        chunk_rows=min(settings.max_batch_rows, CsvOptions().chunk_rows),
    )
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) as upload:
        async for chunk in request.stream():
            upload.write(chunk)
        summary, report = await run_in_threadpool(_run, registry, actor, upload, options)
    if "text/csv" in request.headers.get("accept", ""):
        return StreamingResponse(_csv_body(report), media_type="text/csv; charset=utf-8")
    return StreamingResponse(_body(summary, report), media_type="application/json")
