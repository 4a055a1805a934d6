"""The composition root: settings in, a running registry and its stores out.

The only place that reads the environment (through ``Settings``) and decides
which database, vault and logging a process uses. Tests call ``bootstrap``
with their own settings instead of patching anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from psycopg_pool import ConnectionPool

from mcreg.database import Database, open_database, unavailable
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.projections.worker import ProjectionWorker
from mcreg.registry.application import Registry
from mcreg.settings import Settings
from mcreg.stores.api_keys import ApiKeys
from mcreg.stores.issuer_keys import IssuerKeyStore, SealedIssuerKeys, load_kek
from mcreg.stores.learner_vault import PostgresLearnerVault
from mcreg.stores.log_keys import LogKeys
from mcreg.stores.signing import RegistryIdentity, load_identity


@dataclass
class Services:
    settings: Settings
    database: Database
    pool: ConnectionPool
    registry: Registry
    keys: ApiKeys
    identity: RegistryIdentity
    log_keys: LogKeys
    issuer_keys: IssuerKeyStore

    def close(self) -> None:
        self.registry.close()
        self.pool.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    address: tuple[str, int] | None = None,
) -> Services:
    """The registry and its stores. ``address`` is where an HTTP server will listen: links name it, unless the
    settings name a public URL."""
    settings = settings or Settings()
    if address:
        settings = settings.served_at(*address)
    database = open_database(settings)
    env = database.library_env
    if settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = settings.postgres_schema
    # After a restart of the server, a request must not fail on a connection the server dropped, nor wait out the
    # pool's backoff (it doubles to minutes): each connection is checked as it is handed out, reconnecting gives up
    # after 5 s and starts afresh at the next request, which waits 5 s for a connection, not 30 (decision 47).
    pool = ConnectionPool(
        database.conninfo,
        min_size=1,
        max_size=4,
        open=True,
        timeout=5.0,
        reconnect_timeout=5.0,
        check=ConnectionPool.check_connection,
    )
    vault = PostgresLearnerVault(pool, settings.postgres_schema)
    vault.create_table()
    keys = ApiKeys(pool, settings.postgres_schema)
    keys.create_table()
    kek = settings.key_encryption_key  # opened only by a process that signs or makes keys
    sealed_keys = SealedIssuerKeys(pool, settings.postgres_schema, lambda: load_kek(settings, kek))
    sealed_keys.create_table()
    registry = Registry(env, vault=vault, issuer_key_vault=sealed_keys, clock=clock or (lambda: datetime.now(UTC)))
    structlog.get_logger(__name__).info(
        "registry.opened", database=database.kind, schema=settings.postgres_schema or "public", env=settings.env
    )
    identity = load_identity(pool, settings.postgres_schema, settings.public_url)
    log_keys = LogKeys(pool, settings.postgres_schema, identity.log_origin, lambda: sealed_keys.kek)
    log_keys.create_table()
    if log_keys.seal_unsealed_key():
        structlog.get_logger(__name__).info("log_key.sealed", origin=identity.log_origin)
    issuer_keys = IssuerKeyStore(registry, sealed_keys, settings.public_url)
    return Services(settings, database, pool, registry, keys, identity, log_keys, issuer_keys)


VIEW_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}
"""Connections per view: its writer, plus a lag or check query and a swap at the same time."""


def view_env(services: Services) -> dict[str, str]:
    """Where a view keeps its tables: beside the registry's events, with a connection pool of ``VIEW_POOL``."""
    env = services.database.library_env | VIEW_POOL
    if services.settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = services.settings.postgres_schema
    return env


def open_read_models(services: Services) -> ReadModels:
    """The read models beside the registry's events, their tables created if missing. Close them after use."""
    return ReadModels(services.registry, view_env(services))


def open_transparency_log(services: Services) -> TransparencyLog:
    """The registry's transparency log, its tables created if missing. Close it after use."""
    return TransparencyLog(services.registry, view_env(services), services.log_keys)


def followers(read_models: ReadModels, transparency_log: TransparencyLog, **options: Any) -> ProjectionWorker:
    """One worker keeping every read model and the transparency log up to date, a thread each.

    A projection that loses its database waits for it to come back rather than stopping the worker.
    """
    return ProjectionWorker([*read_models.select(), transparency_log], outage=unavailable, **options)
