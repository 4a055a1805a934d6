"""The composition root: settings in, a running registry and its stores out.

The only place that reads the environment (through ``Settings``) and decides
which database, vault and logging a process uses. Tests call ``bootstrap``
with their own settings instead of patching anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import ConnectionPool

from mcreg.database import Database, open_database, open_read_database, unavailable
from mcreg.projections.engine import Projector, open_datastore, open_view
from mcreg.projections.lease import Leases
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.projections.webhook_outbox import OutboxProjection, OutboxView
from mcreg.projections.worker import ProjectionWorker
from mcreg.registry.application import Registry
from mcreg.settings import Settings
from mcreg.stores.api_keys import ApiKeys
from mcreg.stores.group_commit import GroupCommitRecorder
from mcreg.stores.issuer_keys import IssuerKeyStore, SealedIssuerKeys, load_kek
from mcreg.stores.learner_vault import PostgresLearnerVault
from mcreg.stores.log_keys import LogKeys
from mcreg.stores.signing import RegistryIdentity, load_identity
from mcreg.webhooks.delivery import DeliveryWorker
from mcreg.webhooks.subscriptions import Webhooks
from mcreg.webhooks.urls import UrlPolicy

STUDENT_LOOKUP = b"mcreg student number lookup v1"
"""What the key student numbers are looked up by is derived from the KEK for (decision 69)."""


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
    read_database: Database | None = None
    """A streaming replica that serves reads, if one is configured."""

    def close(self) -> None:
        if isinstance(self.registry.recorder, GroupCommitRecorder):
            self.registry.recorder.stop_coalescing()
        self.registry.close()
        self.pool.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    address: tuple[str, int] | None = None,
    registry_pool: Mapping[str, str] | None = None,
) -> Services:
    """The registry and its stores. ``address`` is where an HTTP server will listen: links name it, unless the
    settings name a public URL. ``registry_pool`` sizes the event store's pool (the library's ``POSTGRES_POOL_*``
    settings; ``WORKER_REGISTRY_POOL`` for a worker), by default the library's."""
    settings = settings or Settings()
    if address:
        settings = settings.served_at(*address)
    database = open_database(settings)
    env = database.library_env | dict(registry_pool or {})
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
    registry = Registry(
        env,
        vault=vault,
        issuer_key_vault=sealed_keys,
        clock=clock or (lambda: datetime.now(UTC)),
        lookup_key=functools.cache(lambda: sealed_keys.kek.derive(STUDENT_LOOKUP)),
    )
    structlog.get_logger(__name__).info(
        "registry.opened", database=database.kind, schema=settings.postgres_schema or "public", env=settings.env
    )
    identity = load_identity(pool, settings.postgres_schema, settings.public_url)
    log_keys = LogKeys(pool, settings.postgres_schema, identity.log_origin, lambda: sealed_keys.kek)
    log_keys.create_table()
    if log_keys.seal_unsealed_key():
        structlog.get_logger(__name__).info("log_key.sealed", origin=identity.log_origin)
    issuer_keys = IssuerKeyStore(registry, sealed_keys, settings.public_url)
    read_database = open_read_database(settings)
    return Services(settings, database, pool, registry, keys, identity, log_keys, issuer_keys, read_database)


def coalesce_commits(services: Services) -> None:
    """Have concurrent commands of this process share transactions, as the settings say (an API process does)."""
    settings, recorder = services.settings, services.registry.recorder
    if isinstance(recorder, GroupCommitRecorder) and settings.group_commit_size > 1:
        recorder.coalesce(settings.group_commit_size, settings.group_commit_wait_ms / 1000, settings.group_commit_queue)


VIEW_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}
"""Connections per view that readers open (an API process): a query, plus a lag or check query and a swap."""

WORKER_VIEW_POOL = {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2", "POSTGRES_CONNECT_TIMEOUT": "30"}
"""The one pool every view of a worker (``mcreg project``) writes through: four page transactions at once, the
others waiting their turn for up to 30 s (a page's transaction takes milliseconds to seconds), then taken for an
outage, waited out (decision 81)."""

WORKER_REGISTRY_POOL = {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2"}
"""The event store's pool in a worker: its LISTEN session (``projections.news``) and the followers' reads of the
log, which are short; a read that finds it busy waits and tries again as the library's reads do."""

WORKER_CONNECTIONS = 14
"""At most this many connections, plus ``Settings.webhook_concurrency``, are what one ``mcreg project`` holds: its
lease session (1), the event store's pool (4), the services' pool (4), its views' pool (4) and webhook delivery's
(a connection per thread, and one more)."""


def view_env(services: Services, *, replica: bool = False) -> dict[str, str]:
    """Where a view keeps its tables: beside the registry's events, with a connection pool of ``VIEW_POOL``; with
    ``replica``, on the read database, whose tables the primary's worker made and keeps."""
    if replica and services.read_database is None:
        raise ValueError("no read database is configured (MCREG_READ_DATABASE_URL)")
    database = services.read_database if replica and services.read_database else services.database
    env = database.library_env | VIEW_POOL
    if replica:
        env["CREATE_TABLE"] = "no"  # a replica is read-only
    if services.settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = services.settings.postgres_schema
    return env


def open_worker_views(services: Services) -> PostgresDatastore:
    """The pool that a worker's views share (``WORKER_VIEW_POOL``), beside the registry's events: give it to
    ``open_read_models``, ``open_transparency_log`` and ``open_webhooks``, and close it once they are done."""
    return open_datastore(view_env(services) | WORKER_VIEW_POOL)


def open_read_models(
    services: Services, *, replica: bool = False, views: PostgresDatastore | None = None
) -> ReadModels:
    """The read models beside the registry's events, their tables created if missing (with ``replica``: on the
    read database, to read only), each with a pool of its own or all on ``views``'s. Close them after use."""
    return ReadModels(services.registry, view_env(services, replica=replica), datastore=views)


def open_transparency_log(
    services: Services, *, replica: bool = False, views: PostgresDatastore | None = None
) -> TransparencyLog:
    """The registry's transparency log, its tables created if missing (with ``replica``: on the read database, to
    read only), on a pool of its own or on ``views``'s. Close it after use."""
    env = view_env(services, replica=replica)
    return TransparencyLog(services.registry, env, services.log_keys, datastore=views)


def open_webhooks(services: Services, *, views: PostgresDatastore | None = None) -> Webhooks:
    """The webhook subscriptions and their outbox beside the registry's events, on a pool of its own or on
    ``views``'s. Close ``webhooks.view`` after use."""
    view = cast(OutboxView, open_view(OutboxProjection, view_env(services), datastore=views))
    policy = UrlPolicy(development=services.settings.env == "development")
    return Webhooks(services.registry, view, policy, lambda: services.issuer_keys.vault.kek)


def open_leases(services: Services) -> Leases:
    """This process's leases on the projections of the registry's schema, on a session of their own. Close them
    after use (which lets every lease go)."""
    return Leases(services.database.conninfo, services.settings.postgres_schema or "public")


def followers(
    read_models: ReadModels, transparency_log: TransparencyLog, webhooks: Webhooks, leases: Leases, **options: Any
) -> ProjectionWorker:
    """One worker keeping every read model, the transparency log and the webhook outbox up to date, a thread each,
    each while this process holds its lease: any number of processes may run it, and each projection is
    written by one of them at a time (the log's checkpoints signed by its holder alone: one tree).

    A projection that loses its database waits for it to come back rather than stopping the worker.
    """
    outbox = Projector(webhooks.registry, OutboxProjection(), webhooks.view)
    return ProjectionWorker(
        [*read_models.select(), transparency_log, outbox], outage=unavailable, leases=leases, **options
    )


def deliverer(services: Services, webhooks: Webhooks, **options: Any) -> DeliveryWorker:
    """The webhook delivery worker, on a view of the outbox of its own with a connection per thread (and one more
    for a query besides). Close ``worker.view`` after use."""
    settings = services.settings
    options = {"concurrency": settings.webhook_concurrency, "timeout": settings.webhook_timeout} | options
    env = view_env(services) | {"POSTGRES_POOL_SIZE": str(options["concurrency"]), "POSTGRES_MAX_OVERFLOW": "1"}
    view = cast(OutboxView, open_view(OutboxProjection, env))
    return DeliveryWorker(
        view, services.registry.recorder, webhooks.secrets, webhooks.policy, outage=unavailable, **options
    )
