"""The webhook outbox: which stored event each subscription is still owed, kept from the log exactly once.

``webhook_subscriptions`` holds each organisation's subscriptions (URL, event types, the secret sealed by the
shell, delivery state); ``webhook_outbox`` one row per (subscription, position) not yet delivered. The
``OutboxProjection`` follows the whole log (stored records only, nothing decoded) and, in each page's transaction,
fans the page's events out to the subscriptions that want their types, after the position each subscription
starts from. A subscription starts, or replays, from a position read under the same tracking lock that a page
writer holds (``OutboxView.subscribe``, ``OutboxView.replay``): no event falls between a backfill and the fan-out,
and none is owed twice. Delivering (HTTP) is the shell's (``mcreg.webhooks``); its SQL is here, beside the tables.

The outbox is no read model: a rebuild would owe every subscriber the whole log again, so it is never rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.engine import Projection, View
from mcreg.projections.reading import Recorded

Fanned = tuple[list[int], list[str]]
"""A page's positions and their event types (``Credential.Issued``), in log order."""

SUBSCRIPTION_COLUMNS = (
    "id, org, role, url, types, starts_after, created_at, kek_id, nonce, sealed, failures, retry_at, last_error,"
    " disabled_at, disabled_reason, delivered_through, idempotency_key, previous_kek_id, previous_nonce,"
    " previous_sealed, previous_until, rotation_key"
)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as stored: whose, where to, for which event types, and how its deliveries fare."""

    id: UUID
    org: UUID
    role: str
    url: str
    types: list[str]
    """Event types (``Credential.Revoked``) delivered; empty for every type."""
    starts_after: int
    created_at: datetime
    kek_id: str
    nonce: bytes
    sealed: bytes
    failures: int
    """Failed attempts in a row at the event it is stuck on (0 once one is delivered)."""
    retry_at: datetime | None
    last_error: str | None
    disabled_at: datetime | None
    disabled_reason: str | None
    delivered_through: int
    """The last position delivered, in order."""
    idempotency_key: str | None
    """The key the request that made it was sent with: a retry answers this subscription again."""
    previous_kek_id: str | None
    """The secret before the last rotation, sealed, which deliveries are also signed with until ``previous_until``."""
    previous_nonce: bytes | None
    previous_sealed: bytes | None
    previous_until: datetime | None
    rotation_key: str | None
    """The Idempotency-Key of the last rotation: a retry with it answers the secret it made, rotating nothing."""


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """How deliveries fare over every subscription, in counts that name no subscription, organisation or URL."""

    disabled: int
    """Subscriptions disabled after failing ``MAX_FAILURES`` times in a row."""
    retrying: int
    """Enabled subscriptions stuck on an event their receiver has refused or not answered, waiting to try again."""
    owed: int
    """Deliveries owed to enabled subscriptions."""
    oldest_owed: int | None
    """The earliest position owed to an enabled subscription: the delivery lag is the head's distance from it."""


class OutboxView(View[Fanned]):
    """``webhook_subscriptions`` and ``webhook_outbox``; a page fans its events out in one ``INSERT … SELECT``."""

    tables = ()  # never rebuilt: see the module's docstring

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        s = self.schema
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.webhook_subscriptions ("
                    " id uuid PRIMARY KEY, org uuid NOT NULL, role text NOT NULL, url text NOT NULL,"
                    " types text[] NOT NULL, starts_after int8 NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
                    " kek_id text NOT NULL, nonce bytea NOT NULL, sealed bytea NOT NULL,"
                    " failures int4 NOT NULL DEFAULT 0, retry_at timestamptz, last_error text,"
                    " disabled_at timestamptz, disabled_reason text, delivered_through int8 NOT NULL DEFAULT 0,"
                    " idempotency_key text, UNIQUE (org, idempotency_key))"
                ).format(s),
                # Secret rotation came later: tables from before get its columns.
                SQL(
                    "ALTER TABLE {0}.webhook_subscriptions ADD COLUMN IF NOT EXISTS previous_kek_id text,"
                    " ADD COLUMN IF NOT EXISTS previous_nonce bytea, ADD COLUMN IF NOT EXISTS previous_sealed bytea,"
                    " ADD COLUMN IF NOT EXISTS previous_until timestamptz, ADD COLUMN IF NOT EXISTS rotation_key text"
                ).format(s),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.webhook_outbox ("
                    " subscription_id uuid NOT NULL REFERENCES {0}.webhook_subscriptions ON DELETE CASCADE,"
                    " position int8 NOT NULL, PRIMARY KEY (subscription_id, position))"
                ).format(s),
            ]
        )
        wanted = "(cardinality(w.types) = 0 OR {type} = ANY(w.types))"
        self.fan_out_statement = SQL(
            "INSERT INTO {0}.webhook_outbox (subscription_id, position)"
            " SELECT w.id, e.position FROM unnest(%s::int8[], %s::text[]) AS e(position, type)"
            " JOIN {0}.webhook_subscriptions AS w ON w.disabled_at IS NULL AND e.position > w.starts_after"
            " AND " + wanted.format(type="e.type") + " ON CONFLICT DO NOTHING"
        ).format(s)
        self.insert_subscription_statement = SQL(
            "INSERT INTO {0}.webhook_subscriptions"
            " (id, org, role, url, types, starts_after, kek_id, nonce, sealed, idempotency_key)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (org, idempotency_key) DO NOTHING"
            " RETURNING " + SUBSCRIPTION_COLUMNS
        ).format(s)
        self.select_subscriptions_statement = SQL(
            "SELECT " + SUBSCRIPTION_COLUMNS + " FROM {0}.webhook_subscriptions WHERE org = %s ORDER BY created_at, id"
        ).format(s)
        self.select_keyed_statement = SQL(
            "SELECT " + SUBSCRIPTION_COLUMNS + " FROM {0}.webhook_subscriptions WHERE org = %s AND idempotency_key = %s"
        ).format(s)
        self.select_subscription_statement = SQL(
            "SELECT " + SUBSCRIPTION_COLUMNS + " FROM {0}.webhook_subscriptions WHERE id = %s"
        ).format(s)
        self.delete_subscription_statement = SQL("DELETE FROM {0}.webhook_subscriptions WHERE id = %s").format(s)
        # A replay owes again what it covers, up to where the fan-out is: beyond, the fan-out owes it.
        self.backfill_statement = SQL(
            "INSERT INTO {0}.webhook_outbox (subscription_id, position)"
            " SELECT w.id, e.notification_id FROM {1} AS e JOIN {0}.webhook_subscriptions AS w ON w.id = %(id)s"
            " WHERE e.notification_id > %(after)s AND e.notification_id <= %(tracked)s"
            " AND " + wanted.format(type="split_part(e.topic, ':', 2)") + " ON CONFLICT DO NOTHING"
        )
        self.restart_statement = SQL(
            "UPDATE {0}.webhook_subscriptions SET disabled_at = NULL, disabled_reason = NULL, failures = 0,"
            " retry_at = NULL, last_error = NULL, starts_after = greatest(%(after)s, %(tracked)s) WHERE id = %(id)s"
        ).format(s)
        # The secret in use becomes the previous one, signing beside the new one for the overlap; a previous one
        # still in its overlap is dropped. A retry with the rotation's key changes nothing (no row returned).
        self.rotate_statement = SQL(
            "UPDATE {0}.webhook_subscriptions SET previous_kek_id = kek_id, previous_nonce = nonce,"
            " previous_sealed = sealed, previous_until = now() + make_interval(secs => %(overlap)s),"
            " kek_id = %(kek_id)s, nonce = %(nonce)s, sealed = %(sealed)s, rotation_key = %(key)s"
            " WHERE id = %(id)s AND (%(key)s::text IS NULL OR rotation_key IS DISTINCT FROM %(key)s)"
            " RETURNING " + SUBSCRIPTION_COLUMNS
        ).format(s)
        # Per enabled subscription, its outbox rows through the primary key: no scan of other subscriptions' rows.
        self.health_statement = SQL(
            "SELECT count(*) FILTER (WHERE w.disabled_at IS NOT NULL) AS disabled,"
            " count(*) FILTER (WHERE w.disabled_at IS NULL AND w.failures > 0) AS retrying,"
            " coalesce(sum(o.owed) FILTER (WHERE w.disabled_at IS NULL), 0) AS owed,"
            " min(o.oldest) FILTER (WHERE w.disabled_at IS NULL) AS oldest_owed"
            " FROM {0}.webhook_subscriptions AS w, LATERAL (SELECT count(*) AS owed, min(position) AS oldest"
            " FROM {0}.webhook_outbox WHERE subscription_id = w.id) AS o"
        ).format(s)
        self.pending_count_statement = SQL(
            "SELECT count(*) AS n FROM {0}.webhook_outbox WHERE subscription_id = %s"
        ).format(s)
        # Delivery: subscriptions with something owed and no retry pending, most overdue first.
        self.due_statement = SQL(
            "SELECT w.id FROM {0}.webhook_subscriptions AS w WHERE w.disabled_at IS NULL"
            " AND (w.retry_at IS NULL OR w.retry_at <= now())"
            " AND EXISTS (SELECT FROM {0}.webhook_outbox AS o WHERE o.subscription_id = w.id)"
            " ORDER BY w.retry_at NULLS FIRST, random() LIMIT %s"
        ).format(s)
        self.channel = f"mcreg_webhook_outbox_{self.datastore.schema or 'public'}"
        """Announces, on commit, that a page owed subscriptions something."""
        self.notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel))
        self.listen_statement = SQL("LISTEN {0}").format(Identifier(self.channel))
        self.lease_statement = SQL("SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS leased")
        self.release_statement = SQL("SELECT pg_advisory_unlock(hashtextextended(%s, 0))")
        self.owed_statement = SQL(
            "SELECT position FROM {0}.webhook_outbox WHERE subscription_id = %s ORDER BY position LIMIT %s"
        ).format(s)
        self.delivered_statement = SQL(
            "WITH done AS (DELETE FROM {0}.webhook_outbox WHERE subscription_id = %(id)s AND position = %(position)s)"
            " UPDATE {0}.webhook_subscriptions SET failures = 0, retry_at = NULL, last_error = NULL,"
            " delivered_through = %(position)s WHERE id = %(id)s"
        ).format(s)
        self.failed_statement = SQL(
            "UPDATE {0}.webhook_subscriptions SET failures = failures + 1, last_error = %(error)s,"
            " retry_at = now() + make_interval(secs => %(wait)s),"
            " disabled_at = CASE WHEN failures + 1 >= %(limit)s THEN now() END,"
            " disabled_reason = CASE WHEN failures + 1 >= %(limit)s THEN %(reason)s END"
            " WHERE id = %(id)s RETURNING failures, disabled_at IS NOT NULL AS disabled"
        ).format(s)

    def write(self, curs: Cursor[DictRow], changes: Fanned) -> None:
        positions, types = changes
        if positions:
            curs.execute(self.fan_out_statement, [positions, types])
            if curs.rowcount:
                curs.execute(self.notify_statement)  # delivered on commit: the delivery workers wake at once

    # -- subscriptions (the API's side)

    def subscribe(
        self,
        application_name: str,
        id: UUID,
        org: UUID,
        role: str,
        url: str,
        types: Sequence[str],
        sealed_secret: tuple[str, bytes, bytes],
        head: int,
        idempotency_key: str | None = None,
    ) -> Subscription:
        """Store a subscription owed every event after ``head``, the head of the log now (or after where the
        fan-out is, if it is further on). The organisation's subscription made with ``idempotency_key`` if there
        is one already (then nothing is stored)."""
        kek_id, nonce, sealed = sealed_secret
        with self.datastore.transaction(commit=True) as curs:
            tracked = self.lock(curs, application_name)
            values = [id, org, role, url, list(types), max(head, tracked), kek_id, nonce, sealed, idempotency_key]
            curs.execute(self.insert_subscription_statement, values)
            row = curs.fetchone()
            if row is None:
                curs.execute(self.select_keyed_statement, [org, idempotency_key])
                row = curs.fetchone()
        assert row is not None
        return Subscription(**row)

    def subscriptions(self, org: UUID) -> list[Subscription]:
        with self.datastore.transaction() as curs:
            curs.execute(self.select_subscriptions_statement, [org])
            return [Subscription(**row) for row in curs.fetchall()]

    def subscription(self, id: UUID) -> Subscription | None:
        with self.datastore.transaction() as curs:
            curs.execute(self.select_subscription_statement, [id])
            row = curs.fetchone()
        return None if row is None else Subscription(**row)

    def pending(self, id: UUID) -> int:
        """How many events the subscription is owed."""
        with self.datastore.transaction() as curs:
            curs.execute(self.pending_count_statement, [id])
            row = curs.fetchone()
        return 0 if row is None else int(row["n"])

    def rotate(self, id: UUID, sealed_secret: tuple[str, bytes, bytes], overlap: float, key: str | None) -> bool:
        """Make ``sealed_secret`` the subscription's secret, the one before it signing beside it for ``overlap``
        seconds; False, having changed nothing, if the last rotation was asked with ``key`` already."""
        kek_id, nonce, sealed = sealed_secret
        params = {"id": id, "kek_id": kek_id, "nonce": nonce, "sealed": sealed, "overlap": overlap, "key": key}
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.rotate_statement, params)
            return curs.fetchone() is not None

    def health(self) -> OutboxHealth:
        """Disabled and retrying subscriptions, and what is owed, over every organisation."""
        with self.datastore.transaction() as curs:
            curs.execute(self.health_statement)
            row = curs.fetchone()
        assert row is not None
        return OutboxHealth(row["disabled"], row["retrying"], int(row["owed"]), row["oldest_owed"])

    def unsubscribe(self, id: UUID) -> None:
        """Forget the subscription and what it was owed."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.delete_subscription_statement, [id])

    def replay(self, application_name: str, id: UUID, after: int, events_table: Identifier) -> int:
        """Owe the subscription again every event of its types after ``after``, and enable it if it was disabled;
        the position the fan-out had reached. The events up to it are owed here, those after it by the fan-out,
        which starts after it (or after ``after``, if that is further on)."""
        with self.datastore.transaction(commit=True) as curs:
            tracked = self.lock(curs, application_name)
            params = {"id": id, "after": after, "tracked": tracked}
            curs.execute(self.restart_statement, params)
            curs.execute(self.backfill_statement.format(self.schema, events_table), params)
        return tracked

    # -- delivery (the delivery worker's side)

    def due(self, curs: Cursor[DictRow], limit: int) -> list[UUID]:
        """Subscriptions owed something that may be tried now."""
        curs.execute(self.due_statement, [limit])
        return [row["id"] for row in curs.fetchall()]

    def lease(self, curs: Cursor[DictRow], id: UUID) -> bool:
        """Take the subscription's lease for ``curs``'s session (released with it, or when its process dies)."""
        curs.execute(self.lease_statement, [str(id)])
        row = curs.fetchone()
        return bool(row and row["leased"])

    def release(self, curs: Cursor[DictRow], id: UUID) -> None:
        curs.execute(self.release_statement, [str(id)])

    def owed(self, curs: Cursor[DictRow], id: UUID, limit: int) -> list[int]:
        """The first ``limit`` positions owed to the subscription, in log order."""
        curs.execute(self.owed_statement, [id, limit])
        return [row["position"] for row in curs.fetchall()]

    def delivered(self, curs: Cursor[DictRow], id: UUID, position: int) -> None:
        curs.execute(self.delivered_statement, {"id": id, "position": position})

    def failed(self, curs: Cursor[DictRow], id: UUID, error: str, wait: float, limit: int, reason: str) -> bool:
        """Count a failed attempt, to be tried again after ``wait`` seconds; whether it disabled the subscription
        (its ``limit``-th failure in a row, ``reason`` saying why)."""
        curs.execute(self.failed_statement, {"id": id, "error": error, "wait": wait, "limit": limit, "reason": reason})
        row = curs.fetchone()
        return bool(row and row["disabled"])


class OutboxProjection(Projection[Fanned]):
    """Keeps the webhook outbox: every event of the log, owed to the subscriptions that want its type."""

    name = "webhook_outbox"
    topics = ()  # every event
    view_class = OutboxView
    decodes = False
    skippable = False  # an event skipped here would be an event some subscriber never hears of

    def changes(self) -> Fanned:
        return [], []

    def fold(self, recorded: Iterable[Recorded]) -> Fanned:
        """The positions and types of the events, as their topics name them: nothing is decoded."""
        positions, types = self.changes()
        for r in recorded:
            positions.append(r.position)
            types.append(r.topic.split(":", 1)[-1])
        return positions, types
