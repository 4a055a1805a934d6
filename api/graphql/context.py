"""What every resolver of one request may read: the read models, and the registry for time travel."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from projections.credential_status import CredentialStatusRow
from projections.read_models import ReadModels
from registry.application import Registry


@dataclass
class Context(BaseContext):
    """One per request, so DataLoaders batch and cache within the request only."""

    registry: Registry
    read_models: ReadModels

    def __post_init__(self) -> None:
        super().__init__()
        self.credentials: DataLoader[UUID, CredentialStatusRow | None] = DataLoader(self._load_credentials)

    async def _load_credentials(self, ids: list[UUID]) -> list[CredentialStatusRow | None]:
        view = self.read_models["credential_status"].view
        rows = {row.credential_id: row for row in await run_in_threadpool(view.get_many, ids)}
        return [rows.get(i) for i in ids]
