"""Tests of the trust primitives: Merkle proofs, signed notes, Data Integrity proofs, status lists.

Vectors are read in place from the shared test data next to the project, never copied in. The suite
needs that directory (CI has it beside the clone): without it the vector tests fail, saying where they looked.
"""

from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def vectors(*parts: str) -> Path:
    """The shared vector directory ``parts`` under the test data; fails the test when it is missing."""
    path = TESTDATA.joinpath(*parts)
    if not path.is_dir():
        pytest.fail(f"shared test vectors not found at {path}")
    return path
