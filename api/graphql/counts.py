"""Counts keyed by a dimension, in the order GraphQL lists them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def sorted_counts(counts: Mapping[K, V]) -> list[tuple[K, V]]:
    """Counts in the order of their keys, None last."""
    return sorted(counts.items(), key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0))
