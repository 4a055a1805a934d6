"""The read side of a process: the read models, on the registry's own database and schema."""

from __future__ import annotations

from typing import Any

from api.bootstrap import Services
from projections.read_models import ReadModels
from projections.transparency_log import TransparencyLog
from projections.worker import ProjectionWorker

VIEW_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}
"""Connections per view: its writer, plus a lag or check query and a swap at the same time."""


def open_read_models(services: Services) -> ReadModels:
    """The read models beside the registry's events, their tables created if missing. Close them after use."""
    env = services.database.library_env | VIEW_POOL
    if services.settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = services.settings.postgres_schema
    return ReadModels(services.registry, env)


def open_transparency_log(services: Services) -> TransparencyLog:
    """The registry's transparency log, its tables created if missing. Close it after use."""
    return TransparencyLog(services.registry, services.database.conninfo, services.signing_key.note_signer)


def followers(read_models: ReadModels, transparency_log: TransparencyLog, **options: Any) -> ProjectionWorker:
    """One worker keeping every read model and the transparency log up to date, a thread each."""
    return ProjectionWorker([*read_models.select(), transparency_log], **options)
