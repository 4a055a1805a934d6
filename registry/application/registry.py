"""The registry: one event-sourced application composed of the command families."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import JSONTranscoder

from mcreg.registry import transcodings
from mcreg.registry.aggregates.accreditation import Condition, Scope
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.learners import SealedPersonalData, SealedText
from mcreg.registry.aggregates.microcredential import LearningOutcome, Specification
from mcreg.registry.aggregates.provider import Provider, ProviderIdentifiers
from mcreg.registry.aggregates.recognition import SubstantialDifference, Verdict
from mcreg.registry.aggregates.review import Decision, Report
from mcreg.registry.application.catalogue import CatalogueCommands
from mcreg.registry.application.issuance import BatchResult, IssuanceCommands, RowError, RowOutcome
from mcreg.registry.application.keys import IssuerKeyCommands
from mcreg.registry.application.learners import LearnerCommands
from mcreg.registry.application.operations import OperationsCommands
from mcreg.registry.application.organisations import OrganisationCommands
from mcreg.registry.application.recognition import RecognitionCommands
from mcreg.registry.periods import Interruption
from mcreg.registry.quality import QABasis, QAStanding
from mcreg.registry.stamp import Actor, Stamp


class Registry(
    OrganisationCommands,
    CatalogueCommands,
    IssuanceCommands,
    RecognitionCommands,
    IssuerKeyCommands,
    LearnerCommands,
    OperationsCommands,
):
    """The micro-credential registry."""

    name = "Registry"
    # Agencies and providers live as long as the registry; the rest stay short.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {Agency: 100, Provider: 100}
    # Recently used aggregates stay in memory and catch up with new events on
    # each read (one query instead of two), which keeps issuance's QA checks cheap.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
    value_types: ClassVar[tuple[type, ...]] = (
        Actor,
        Stamp,
        Interruption,
        ProviderIdentifiers,
        Scope,
        Condition,
        Report,
        Decision,
        LearningOutcome,
        Specification,
        SealedPersonalData,
        SealedText,
        QABasis,
        QAStanding,
        SubstantialDifference,
        Verdict,
        RowError,
        BatchResult,
        RowOutcome,
    )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register(transcoder, *self.value_types)
