"""The ``mcreg`` command line as a person meets it: ``--help`` on every command, ``--version``, and their refusals.

The help is read the way a person reads it, from the rendered text; nothing
here needs a database.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mcreg.api.pages import catalogues
from mcreg.cli import app
from mcreg.cli import bench as bench_command
from mcreg.cli.keys import KeyRole
from mcreg.registry.vocabulary import Role

CHECKOUT = Path(__file__).resolve().parents[2]
COMMANDS = [
    ["serve"],
    ["project"],
    ["rebuild"],
    ["export"],
    ["restore"],
    ["forget-learner"],
    ["demo"],
    ["bench"],
    ["db", "info"],
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke"],
    ["keys", "issuers"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["translations", "update"],
    ["translations", "check"],
]
GROUPS = [[], ["db"], ["keys"], ["audit"], ["translations"]]


def mcreg(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="mcreg", env={"COLUMNS": "200"})


def help_of(*command: str) -> str:
    result = mcreg(*command, "--help")
    assert result.exit_code == 0, result.output
    return result.output


def test_mcreg_alone_lists_every_command_with_what_it_does() -> None:
    shown = mcreg()
    assert shown.exit_code in (0, 2)  # typer exits 2 after printing the help of a group called bare
    for name in ("serve", "project", "rebuild", "export", "restore", "forget-learner", "demo", "bench"):
        assert f" {name} " in shown.output
    for group in ("db", "keys", "audit", "translations"):
        assert f" {group} " in shown.output
    assert "--version" in shown.output


@pytest.mark.parametrize("command", GROUPS + COMMANDS, ids=lambda c: " ".join(c) or "mcreg")
def test_flags_show_no_value_type_and_arguments_no_braces(command: list[str]) -> None:
    shown = help_of(*command)
    assert "<bool>" not in shown
    assert "{" not in shown.splitlines()[1]  # the usage line
    assert "--help  " in shown


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_says_what_it_does_and_gives_an_example(command: list[str]) -> None:
    shown = help_of(*command)
    usage, _, rest = shown.strip().partition("\n")
    assert usage.startswith(f"Usage: mcreg {' '.join(command)}")
    assert rest.strip().split("\n")[0].strip(), "a one-line description follows the usage"
    assert f"mcreg {' '.join(command)}" in shown.split("Example")[-1], "an example of the command itself"


def test_arguments_read_in_capitals() -> None:
    shown = help_of("forget-learner")
    assert "Usage: mcreg forget-learner [OPTIONS] LEARNER_ID" in shown
    assert "LEARNER_ID" in shown.split("Arguments")[1]
    assert "Usage: mcreg rebuild [OPTIONS] [NAME]" in help_of("rebuild")
    assert "Usage: mcreg restore [OPTIONS] SOURCE" in help_of("restore")


def test_version_prints_the_installed_version() -> None:
    shown = mcreg("--version")
    assert shown.exit_code == 0
    assert shown.output == f"mcreg {version('mcreg')}\n"


def test_keys_are_not_offered_for_the_public() -> None:
    shown = help_of("keys", "create")
    assert "public" not in shown
    assert "qa_agency" in shown
    refused = mcreg("keys", "create", "--role", "public", "--name", "anyone")
    assert refused.exit_code == 2
    assert "Invalid value for '--role'" in refused.output


def test_a_key_can_act_in_every_role_but_the_public() -> None:
    assert {Role(role) for role in KeyRole} == set(Role) - {Role.PUBLIC}


def test_serve_names_everything_it_serves() -> None:
    shown = help_of("serve")
    for served in ("REST under /v1", "OpenAPI", "/docs", "GraphQL", "/graphql", "/healthz", "/metrics"):
        assert served in shown


def test_serve_refuses_its_followers_in_process_with_several_api_processes_before_starting_anything() -> None:
    refused = mcreg("serve", "--in-process", "--workers", "2")
    assert refused.exit_code == 2
    assert "--workers" in refused.output and "one process" in refused.output


def test_bench_runs_the_checkouts_suite_and_writes_where_it_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[list[str], Any]] = []

    def run(command: list[str], cwd: Path, check: bool) -> subprocess.CompletedProcess[str]:
        ran.append((command, cwd))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bench_command.subprocess, "run", run)
    monkeypatch.chdir(tmp_path)
    assert mcreg("bench").exit_code == 0
    assert mcreg("bench", "--scale", "medium", "--output", "figures/today.json", "--clients", "4").exit_code == 0

    (first, cwd), (second, _) = ran
    assert Path(first[1]) == CHECKOUT / "bench" / "suite.py"
    assert cwd == CHECKOUT / "bench"
    assert first[2:] == ["--scale", "small", "--output", str(tmp_path / "bench-results.json"), "--clients", "16"]
    assert second[2:] == ["--scale", "medium", "--output", str(tmp_path / "figures" / "today.json"), "--clients", "4"]


def test_translations_check_passes_on_the_shipped_catalogues_and_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = mcreg("translations", "check")
    assert checked.exit_code == 0, checked.output
    assert "every text the pages show is translated into de, fr, es" in checked.output

    # A catalogue that lost a translation: the check fails and says which text, in which language.
    locales = tmp_path / "locales"
    shutil.copytree(catalogues.LOCALES, locales)
    german = locales / "de" / "LC_MESSAGES" / "messages.po"
    german.write_text(german.read_text().replace('msgstr "Startseite"', 'msgstr ""'))
    monkeypatch.setattr(catalogues, "LOCALES", locales)
    failed = mcreg("translations", "check")
    assert failed.exit_code == 1
    assert "de" in failed.output and "Home" in failed.output and "untranslated" in failed.output
