"""Where the tests find their data: every file they read lives under ``tests/data`` (see its README.md).

A missing file fails the test that wanted it, never skips it: a suite that quietly runs fewer vectors
would pass on a broken checkout.
"""

from __future__ import annotations

from pathlib import Path

TESTDATA = Path(__file__).resolve().parent / "data"


def data_path(*parts: str) -> Path:
    """The file or folder ``parts`` under ``tests/data``; raises ``FileNotFoundError`` when it is not there."""
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"test data not found at {path}: see tests/data/README.md")
    return path
