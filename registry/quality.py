"""What a credential's quality assurance rests on, and where that stands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from mcreg.registry.vocabulary import Standing


class BasisKind(StrEnum):
    ACCREDITATION = "accreditation"
    REVIEW = "review"


@dataclass(frozen=True)
class QABasis:
    """The decision an issuance relied on: which aggregate, at which version."""

    kind: BasisKind
    id: UUID
    version: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", BasisKind(self.kind))


@dataclass(frozen=True)
class QAStanding:
    """Where a credential's QA basis stood on a date (recorded with recognition decisions)."""

    basis: QABasis | None
    standing: Standing

    def __post_init__(self) -> None:
        object.__setattr__(self, "standing", Standing(self.standing))
