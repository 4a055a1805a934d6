"""What every resolver of one request may read: the read models, and the registry for time travel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from mcreg.projections.audit_timeline import PUBLIC_HISTORIES
from mcreg.projections.catalogue import CatalogueRow
from mcreg.projections.credential_status import CredentialStatusRow
from mcreg.projections.provider_standing_queries import AccreditationRow, AgencyRow, ProviderRow, ReviewRow
from mcreg.projections.read_models import ReadModels
from mcreg.projections.recognitions import RecognitionRow
from mcreg.registry.application import Registry
from mcreg.registry.permissions import may_see_private
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role

T = TypeVar("T")


def by_id(fetch: Callable[[list[UUID]], Mapping[UUID, T]]) -> Callable[[list[UUID]], Awaitable[list[T | None]]]:
    """A DataLoader's batch function over a view method that reads rows by id: one statement per batch."""

    async def load(ids: list[UUID]) -> list[T | None]:
        found = await run_in_threadpool(fetch, ids)
        return [found.get(i) for i in ids]

    return load


def of_each(
    fetch: Callable[[list[UUID]], Mapping[UUID, Iterable[T]]],
) -> Callable[[list[UUID]], Awaitable[list[list[T]]]]:
    """A DataLoader's batch function over a view method that reads the rows of many owners at once."""

    async def load(ids: list[UUID]) -> list[list[T]]:
        found = await run_in_threadpool(fetch, ids)
        return [list(found.get(i, ())) for i in ids]

    return load


@dataclass
class GraphQLContext(BaseContext):
    """One per request, so DataLoaders batch and cache within the request only."""

    registry: Registry
    read_models: ReadModels
    actor: Actor | None = None  # the organisation behind the request's key; None for the public

    def __post_init__(self) -> None:
        super().__init__()
        self.credentials: DataLoader[UUID, CredentialStatusRow | None] = DataLoader(self._load_credentials)
        standing = self.read_models.provider_standing
        self.agencies: DataLoader[UUID, AgencyRow | None] = DataLoader(by_id(standing.agencies_by_id))
        self.providers: DataLoader[UUID, ProviderRow | None] = DataLoader(by_id(standing.providers_by_id))
        self.accreditations: DataLoader[UUID, list[AccreditationRow]] = DataLoader(of_each(standing.accreditations_of))
        self.reviews: DataLoader[UUID, list[ReviewRow]] = DataLoader(of_each(standing.reviews_of))
        self.micro_credentials: DataLoader[UUID, CatalogueRow | None] = DataLoader(
            by_id(self.read_models.catalogue.get_many)
        )
        self.recognitions: DataLoader[UUID, RecognitionRow | None] = DataLoader(
            by_id(self.read_models.recognitions.get_many)
        )

    async def _load_credentials(self, ids: list[UUID]) -> list[CredentialStatusRow | None]:
        view = self.read_models.credential_status
        rows = {row.credential_id: row for row in await run_in_threadpool(view.get_many, ids)}
        return [rows.get(i) for i in ids]

    def may_read_history(self, aggregate_type: str, aggregate_id: UUID) -> bool:
        """Whether the caller may read an aggregate's timeline: a public one anyone, a recognition's its parties,
        every other one the change feed's readers (an auditor, the operator)."""
        if aggregate_type in PUBLIC_HISTORIES:
            return True
        if self.actor is not None and self.actor.role in (Role.AUDITOR, Role.OPERATOR):
            return True
        recognition = self.read_models.recognitions.get(aggregate_id) if aggregate_type == "Recognition" else None
        return recognition is not None and self.may_read(recognition)

    def may_read(self, recognition: RecognitionRow) -> bool:
        """Whether the caller may read a recognition's details (``registry.permissions.may_see_private``)."""
        return may_see_private(
            self.actor,
            recognition.institution_id,
            Role.INSTITUTION,
            recognition.institution_country,
            recognition.issuer_country,
        )
