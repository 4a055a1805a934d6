"""Fields added to a command's value objects after idempotency receipts existed, and how fingerprints treat them.

A receipt holds a fingerprint of the request that made it (decision 4): the same request, retried with the same
key, must fingerprint the same after an upgrade. A field marked ``added_later()`` is left out of the fingerprint
while it holds its default, so a request from before the field existed still matches its receipt.
"""

from __future__ import annotations

import dataclasses
from typing import Any

ADDED_LATER = "mcreg.added_later"


def added_later(default: Any = None) -> Any:
    """A dataclass field (default ``default``) that fingerprints only when set."""
    return dataclasses.field(default=default, metadata={ADDED_LATER: True})


def fingerprinted_fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields as a fingerprint reads them: those added later only when set."""
    return {
        f.name: getattr(value, f.name)
        for f in dataclasses.fields(value)
        if not (f.metadata.get(ADDED_LATER) and getattr(value, f.name) == f.default)
    }
