"""A registrar issues a cohort from the CSV file its student-information system exported.

Every row is reported, in file order: issued with its id, refused with its column and problem, or a duplicate of
an earlier import of the same row key. Files as spreadsheets write them (a BOM, `;`, quoted newlines) are read;
files that cannot be read as a whole (wrong encoding, unknown columns, too many rows) write nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from httpx import Response
from typer.testing import CliRunner

from mcreg.bootstrap import Services
from mcreg.cli import app
from mcreg.registry.aggregates.credential import Credential
from mcreg.services.csv_issuance import CsvOptions
from tests.api.rest import As
from tests.world import World

HEADER = "row_key,microcredential_id,learner_name,learner_email,issued_on,grade"


def post_csv(caller: As, text: str | bytes, **params: Any) -> Response:
    body = text.encode() if isinstance(text, str) else text
    headers = caller.headers() | {"Content-Type": "text/csv"}
    return caller.client.post("/v1/credentials:import", content=body, params=params, headers=headers)


def cohort(world: World, n: int, *, bad: set[int] = frozenset(), sep: str = ",") -> str:  # type: ignore[assignment]
    """A file of ``n`` learners; the rows in ``bad`` give an email that is not one."""
    lines = [HEADER.replace(",", sep)]
    for i in range(n):
        email = "not-an-email" if i in bad else f"learner{i}@example.org"
        cells = [f"2026-S1/MC1/s{i:06d}", str(world.microcredential_id), f"Learner {i}", email, "2024-03-01", "8/10"]
        lines.append(sep.join(cells))
    return "\r\n".join(lines) + "\r\n"


def statuses(report: dict[str, Any]) -> list[str]:
    return [r["status"] for r in report["results"]]


def problem_type(response: Response) -> str:
    return str(response.json()["type"].rsplit("/", 1)[-1])


def test_a_small_cohort_is_issued_and_reposting_it_issues_nothing_twice(provider: As, world: World) -> None:
    text = cohort(world, 3)
    first = post_csv(provider, text)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["rows"], report["issued"], report["refused"], report["duplicate"]) == (3, 3, 0, 0)
    assert [r["row"] for r in report["results"]] == [2, 3, 4]  # the header is row 1, as a spreadsheet shows
    issued = [r["id"] for r in report["results"]]
    assert world.registry.get(Credential, issued[0]).provider_id == world.provider_id

    again = post_csv(provider, text).json()
    assert (again["issued"], again["duplicate"]) == (0, 3)
    assert [r["id"] for r in again["results"]] == issued


def test_learner_data_is_sealed_as_in_the_json_batch(provider: As, world: World) -> None:
    report = post_csv(provider, cohort(world, 1)).json()
    credential_id = report["results"][0]["id"]
    assert world.registry.learner_data(credential_id).name == "Learner 0"  # type: ignore[union-attr]
    stored = str(world.registry.get(Credential, credential_id).__dict__)
    assert "Learner 0" not in stored and "learner0@example.org" not in stored
    assert provider.get(f"/v1/credentials/{credential_id}").json()["learner"]["email"] == "learner0@example.org"


def test_a_dry_run_reports_every_row_and_writes_nothing(provider: As, world: World) -> None:
    head = world.registry.recorder.max_notification_id()
    report = post_csv(provider, cohort(world, 4, bad={2}), dry_run="true").json()
    assert statuses(report) == ["valid", "valid", "refused", "valid"]
    assert world.registry.recorder.max_notification_id() == head
    report = post_csv(provider, cohort(world, 2), dry_run="true").json()
    assert (report["valid"], report["issued"]) == (2, 0)
    assert world.registry.recorder.max_notification_id() == head


def test_all_or_nothing_writes_nothing_when_a_row_is_refused_and_partial_writes_the_rest(
    provider: As, world: World
) -> None:
    text = cohort(world, 4, bad={1})
    head = world.registry.recorder.max_notification_id()
    report = post_csv(provider, text).json()
    assert statuses(report) == ["valid", "refused", "valid", "valid"]
    refused = report["results"][1]
    assert (refused["row"], refused["column"], refused["problem"]) == (3, "learner_email", "invalid-input")
    assert world.registry.recorder.max_notification_id() == head

    partial = post_csv(provider, text, all_or_nothing="false").json()
    assert statuses(partial) == ["issued", "refused", "issued", "issued"]


def test_a_bom_semicolons_and_quoted_newlines_as_spreadsheets_write_them(provider: As, world: World) -> None:
    mc = world.microcredential_id
    text = (
        "Row_Key; MicroCredential_ID ;LEARNER_NAME;grade\r\n"
        f'a1;{mc};"Kovač; Ana";"8/10\r\nwith honours"\r\n'
        "\r\n"
        f"a2;{mc};Jan de Vries;-0.5\r\n"
    )
    response = post_csv(provider, codecs.BOM_UTF8 + text.encode())
    report = response.json()
    assert response.status_code == 200, response.text
    assert report["delimiter"] == ";"
    assert statuses(report) == ["issued", "issued"]
    assert [(r["row"], r["line"]) for r in report["results"]] == [(2, 2), (4, 5)]
    assert world.registry.learner_data(report["results"][0]["id"]).name == "Kovač; Ana"  # type: ignore[union-attr]
    assert world.registry.get(Credential, report["results"][0]["id"]).grade == "8/10\r\nwith honours"
    assert world.registry.get(Credential, report["results"][1]["id"]).grade == "-0.5"  # a number, not a formula


@pytest.mark.parametrize(
    ("cell_column", "value"),
    [
        ("learner_name", '=HYPERLINK("http://evil.example")'),
        ("learner_name", "@SUM(A1)"),
        ("learner_name", "+1+2"),
        ("grade", "-2+3"),
        ("learner_email", "  =cmd|' /C calc'!A0"),
    ],
)
def test_a_formula_cell_refuses_its_row_only(provider: As, world: World, cell_column: str, value: str) -> None:
    mc = world.microcredential_id
    cells = {"row_key": "f1", "microcredential_id": str(mc), "learner_name": "Ana", "learner_email": "", "grade": ""}
    cells[cell_column] = value
    quoted = ",".join('"' + v.replace('"', '""') + '"' for v in cells.values())
    text = ",".join(cells) + "\n" + quoted + f"\nf2,{mc},Jan,,\n"
    report = post_csv(provider, text, all_or_nothing="false").json()
    assert statuses(report) == ["refused", "issued"]
    refused = report["results"][0]
    assert (refused["column"], refused["problem"]) == (cell_column, "csv-formula-cell")


def test_whole_file_problems_write_nothing(provider: As, world: World) -> None:
    head = world.registry.recorder.max_notification_id()
    latin1 = cohort(world, 2).replace("Learner 1", "Léa Müller").encode("latin-1")
    response = post_csv(provider, latin1)
    assert (response.status_code, problem_type(response)) == (422, "csv-file-refused")
    assert response.json()["rule"] == "encoding"

    utf16 = post_csv(provider, cohort(world, 2).encode("utf-16"))
    assert (utf16.status_code, utf16.json()["rule"]) == (422, "encoding")

    unknown = post_csv(provider, cohort(world, 2).replace("grade", "mark").replace("issued_on", "Date"))
    assert (unknown.status_code, problem_type(unknown)) == (422, "csv-file-refused")
    assert unknown.json()["unknown"] == ["date", "mark"]

    missing = post_csv(provider, "row_key,learner_name\nk,Ana\n")
    assert missing.json()["missing"] == ["microcredential_id"]

    charset = provider.client.post(
        "/v1/credentials:import",
        content=b"x",
        headers=provider.headers() | {"Content-Type": "text/csv; charset=windows-1252"},
    )
    assert charset.status_code == 415
    assert world.registry.recorder.max_notification_id() == head


def test_too_many_rows_is_a_413_before_anything_is_written(provider: As, world: World, client: TestClient) -> None:
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    limit = settings.max_csv_rows
    assert limit >= CsvOptions().max_rows >= 100_000
    settings.max_csv_rows = 3
    try:
        head = world.registry.recorder.max_notification_id()
        response = post_csv(provider, cohort(world, 4))
        assert (response.status_code, problem_type(response)) == (413, "csv-too-many-rows")
        assert world.registry.recorder.max_notification_id() == head
    finally:
        settings.max_csv_rows = limit


def test_rows_that_break_a_rule_are_named_with_their_column(provider: As, world: World) -> None:
    mc = world.microcredential_id
    text = (
        "row_key,microcredential_id,learner_name,issued_on,valid_until\n"
        f"r1,not-a-uuid,Ana,,\n"
        f"r2,{mc},Ana,01/03/2024,\n"
        f"r3,{mc},,,\n"
        f"r4,{mc},Ana,2024-03-01,2024-01-01\n"
        f"r4,{mc},Ana,,\n"
        f"r6,{mc},Ana\n"
        f"r7,00000000-0000-4000-8000-000000000000,Ana,,\n"
        f",{mc},Ana,,\n"
    )
    report = post_csv(provider, text, dry_run="true").json()
    found = [(r["row"], r["status"], r.get("column"), r.get("problem")) for r in report["results"]]
    assert found == [
        (2, "refused", "microcredential_id", "invalid-input"),
        (3, "refused", "issued_on", "invalid-input"),
        (4, "refused", "learner_name", "invalid-input"),
        (5, "refused", "valid_until", "invalid-input"),
        (6, "refused", "row_key", "invalid-input"),  # repeats row 5's key
        (7, "refused", None, "invalid-input"),  # too few cells
        (8, "refused", "microcredential_id", "not-found"),
        (9, "refused", "row_key", "invalid-input"),
    ]


@pytest.mark.drill
def test_a_hundred_thousand_rows_in_one_call_with_exactly_the_bad_ones_reported(provider: As, world: World) -> None:
    n = 100_000
    bad = set(range(7, n, 100))  # 1 %
    started = time.perf_counter()
    response = post_csv(provider, cohort(world, n, bad=bad), all_or_nothing="false")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    report = response.json()
    assert (report["rows"], report["issued"], report["refused"]) == (n, n - len(bad), len(bad))
    refused = [r["row"] - 2 for r in report["results"] if r["status"] == "refused"]
    assert refused == sorted(bad)
    assert all(r["column"] == "learner_email" for r in report["results"] if r["status"] == "refused")
    print(f"{n} rows in {elapsed:.1f} s: {n / elapsed:.0f} rows/s")


def test_the_command_line_issues_a_file_as_the_api_does(services: Services, world: World, tmp_path: Path) -> None:
    source = tmp_path / "cohort.csv"
    source.write_text(cohort(world, 3, bad={1}), encoding="utf-8-sig")
    report = tmp_path / "report.jsonl"
    env = {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_LOG_FORMAT": "json",
    }
    args = ["issue", "--csv", str(source), "--provider", str(world.provider_id), "--partial", "--report", str(report)]
    logging = structlog.get_config()
    try:
        result = CliRunner().invoke(app, args, prog_name="mcreg", env=env)
        again = CliRunner().invoke(app, args, prog_name="mcreg", env=env)
    finally:
        structlog.configure(**logging)
    assert result.exit_code == 1, result.output  # a row was refused
    assert "3 rows: 2 issued, 1 refused" in result.output
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["duplicate", "refused", "duplicate"]  # the second run's report
    assert "2 duplicate" in again.output


def test_the_report_comes_as_csv_when_asked_and_cannot_run_a_formula(provider: As, world: World) -> None:
    text = HEADER + f"\n=1+1,{world.microcredential_id},Ana,,,\nk2,{world.microcredential_id},Jan,,,\n"
    headers = provider.headers() | {"Content-Type": "text/csv", "Accept": "text/csv"}
    response = provider.client.post(
        "/v1/credentials:import", content=text, params={"all_or_nothing": "false"}, headers=headers
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["row"], r["status"], r["column"], r["problem"]) for r in rows] == [
        ("2", "refused", "row_key", "csv-formula-cell"),
        ("3", "issued", "", ""),
    ]
    assert rows[0]["row_key"] == "'=1+1"  # shown as text, never run
    assert world.registry.get(Credential, rows[1]["id"]).provider_id == world.provider_id
