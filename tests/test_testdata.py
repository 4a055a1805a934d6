"""The test data is the repository's own: every set under ``tests/data`` says where it comes from."""

from __future__ import annotations

import pytest

from tests.testdata import TESTDATA, data_path

SETS = sorted(path.name for path in TESTDATA.iterdir() if path.is_dir())


@pytest.mark.parametrize("name", SETS)
def test_every_set_names_its_source_and_is_listed_in_the_readme(name: str) -> None:
    assert any(data_path(name).glob("SOURCE.*")), f"tests/data/{name} has no SOURCE file"
    assert f"| `{name}/` |" in data_path("README.md").read_text(encoding="utf-8")


def test_a_missing_file_fails_loudly() -> None:
    with pytest.raises(FileNotFoundError, match=r"see tests/data/README\.md"):
        data_path("deqar", "no-such-example.json")
