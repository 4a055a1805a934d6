"""The composition root: settings in, a running registry and its stores out.

The only place that reads the environment (through ``Settings``) and decides
which database, vault and logging a process uses. Tests call ``bootstrap``
with their own settings instead of patching anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from psycopg_pool import ConnectionPool

from api.database import Database, open_database
from api.issuer_keys import IssuerKeyStore, load_kek
from api.keys import ApiKeys
from api.learner_vault import PostgresLearnerVault
from api.settings import Settings
from api.signing import RegistryKey, load_registry_key
from registry.application import Registry


@dataclass
class Services:
    settings: Settings
    database: Database
    pool: ConnectionPool
    registry: Registry
    keys: ApiKeys
    signing_key: RegistryKey
    issuer_keys: IssuerKeyStore

    def close(self) -> None:
        self.registry.close()
        self.pool.close()


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> Services:
    settings = settings or Settings()
    database = open_database(settings)
    env = database.library_env
    if settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = settings.postgres_schema
    pool = ConnectionPool(database.conninfo, min_size=1, max_size=4, open=True)
    vault = PostgresLearnerVault(pool, settings.postgres_schema)
    vault.create_table()
    keys = ApiKeys(pool, settings.postgres_schema)
    keys.create_table()
    registry = Registry(env, vault=vault, clock=clock or (lambda: datetime.now(UTC)))
    structlog.get_logger(__name__).info(
        "registry.opened", database=database.kind, schema=settings.postgres_schema or "public", env=settings.env
    )
    signing_key = load_registry_key(pool, settings.postgres_schema, settings.public_url)
    kek = settings.key_encryption_key  # opened only by a process that signs
    issuer_keys = IssuerKeyStore(
        pool, settings.postgres_schema, registry, settings.public_url, lambda: load_kek(settings, kek)
    )
    issuer_keys.create_table()
    return Services(settings, database, pool, registry, keys, signing_key, issuer_keys)
