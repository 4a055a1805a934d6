"""Organisations' webhook subscriptions: made, listed, deleted and replayed, with the rules each must keep.

Who may subscribe is who may read the change feed (``/v1/events``): an auditor or the operator, for any event
type. A subscription is its organisation's: another organisation neither sees nor touches it (404). Its
secret (``whsec_…``) is made here, shown once, and kept sealed under the key-encryption key like the issuers'
private keys; the delivery worker opens it to sign.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing import utils
from eventsourcing.domain import DomainEvent

from mcreg.projections.webhook_outbox import OutboxView, Subscription
from mcreg.registry.application import Registry
from mcreg.registry.errors import IdempotencyKeyReused, InvalidInput, NotFound, StateConflict
from mcreg.registry.permissions import require_role
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.stores.event_store import events_table
from mcreg.stores.issuer_keys import KeyEncryptionKey, KeyUnavailable
from mcreg.webhooks.urls import UrlPolicy

FEED_READERS = (Role.AUDITOR, Role.OPERATOR)
"""Who may read the change feed, and so subscribe to it."""

MAX_SUBSCRIPTIONS = 20
"""Subscriptions one organisation may hold."""

ROTATION_OVERLAP = 86_400
"""Seconds the secret before a rotation goes on signing deliveries beside the new one, by default: a day for the
receiver to take the new one in."""
MOST_OVERLAP = 7 * 86_400


def known_event_types() -> frozenset[str]:
    """Every event type the registry stores, as the feed names them (``Credential.Revoked``)."""
    return frozenset(
        topic.split(":", 1)[1]
        for topic, cls in utils._topic_cache.items()
        if topic.startswith("registry.") and isinstance(cls, type) and issubclass(cls, DomainEvent)
    )


@dataclass(frozen=True, slots=True)
class Made:
    """A new subscription and its secret, which is shown this once."""

    subscription: Subscription
    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """The webhooks' side of readiness."""

    lag: int
    """Events recorded that the outbox has not yet owed to anyone."""
    owed: int
    """Deliveries owed to enabled subscriptions."""
    behind: int
    """Events from the earliest one still owed to an enabled subscription to the head: 0 when all is delivered."""
    retrying: int
    """Enabled subscriptions whose receiver failed the last attempt, waiting to try again."""
    disabled: int
    """Subscriptions disabled after failing too often (their owners see why in ``GET /v1/webhooks``)."""


class Webhooks:
    """Subscriptions in the outbox's tables; ``kek`` seals and opens their secrets."""

    def __init__(
        self, registry: Registry, view: OutboxView, policy: UrlPolicy, kek: Callable[[], KeyEncryptionKey]
    ) -> None:
        self.registry = registry
        self.view = view
        self.policy = policy
        self.kek = kek

    def subscribe(self, actor: Actor, url: str, types: Sequence[str], idempotency_key: str | None = None) -> Made:
        """A subscription of the caller's organisation to events of ``types`` (every type if none) recorded from
        now on, delivered to ``url``. Asked again with the same ``idempotency_key``, the same subscription and
        secret (the first answer may have been lost); with that key for another URL or types, IdempotencyKeyReused.
        """
        require_role(actor, *FEED_READERS)
        unknown = sorted(set(types) - known_event_types())
        if unknown:
            raise InvalidInput("types", f"{', '.join(unknown)} is not an event type of the registry")
        self.policy.check(url)
        if len(self.view.subscriptions(actor.org)) >= MAX_SUBSCRIPTIONS:
            raise StateConflict(f"an organisation may hold at most {MAX_SUBSCRIPTIONS} webhook subscriptions")
        id = uuid4()
        secret = secrets.token_bytes(32)
        kek = self.kek()
        nonce, sealed = kek.seal_secret(secret, _aad(id))
        head = self.registry.recorder.max_notification_id() or 0
        sealed_secret = (kek.id, nonce, sealed)
        wanted = sorted(set(types))
        subscription = self.view.subscribe(
            self.registry.name, id, actor.org, actor.role, url, wanted, sealed_secret, head, idempotency_key
        )
        if subscription.id != id:  # made before with this key
            if (subscription.url, subscription.types) != (url, wanted):
                raise IdempotencyKeyReused("this Idempotency-Key made a webhook with another URL or types")
            secret = self.secret(subscription)
        return Made(subscription, _shown(secret))

    def subscriptions(self, actor: Actor) -> list[Subscription]:
        """The caller's organisation's subscriptions."""
        require_role(actor, *FEED_READERS)
        return self.view.subscriptions(actor.org)

    def subscription(self, actor: Actor, id: UUID) -> Subscription:
        """One of the caller's organisation's subscriptions; NotFound for any other."""
        require_role(actor, *FEED_READERS)
        subscription = self.view.subscription(id)
        if subscription is None or subscription.org != actor.org:
            raise NotFound("webhook", id)
        return subscription

    def lag(self) -> int:
        """Events recorded that the outbox has not yet owed to anyone."""
        tracked = self.view.position(self.registry.name)  # first: the head read after it is at least as far
        return (self.registry.recorder.max_notification_id() or 0) - tracked

    def health(self) -> DeliveryHealth:
        """How the outbox and its deliveries fare, in counts (they name no organisation or URL: anyone may read
        them)."""
        lag = self.lag()  # first: the head read after it is at least as far as the outbox's rows
        head = self.registry.recorder.max_notification_id() or 0
        outbox = self.view.health()
        behind = 0 if outbox.oldest_owed is None else head - outbox.oldest_owed + 1
        return DeliveryHealth(lag, outbox.owed, behind, outbox.retrying, outbox.disabled)

    def pending(self, subscription: Subscription) -> int:
        return self.view.pending(subscription.id)

    def unsubscribe(self, actor: Actor, id: UUID) -> None:
        self.view.unsubscribe(self.subscription(actor, id).id)

    def replay(self, actor: Actor, id: UUID, after: int | None) -> Subscription:
        """Owe the subscription again its events after ``after`` (by default, after the last it was delivered),
        enabling it again if it was disabled."""
        subscription = self.subscription(actor, id)
        head = self.registry.recorder.max_notification_id() or 0
        start = subscription.delivered_through if after is None else after
        if start > head:
            raise InvalidInput("from", f"must not be beyond the head of the log ({head})")
        self.view.replay(self.registry.name, id, start, events_table(self.registry.recorder))
        return self.subscription(actor, id)

    def rotate_secret(
        self, actor: Actor, id: UUID, overlap: int = ROTATION_OVERLAP, idempotency_key: str | None = None
    ) -> Made:
        """A new signing secret for the subscription, shown this once; for ``overlap`` seconds deliveries are signed
        with the secret before it too. Asked again with the same ``idempotency_key``, the same new secret (the
        first answer may have been lost: rotating again would leave the receiver knowing neither)."""
        self.subscription(actor, id)
        if not 0 <= overlap <= MOST_OVERLAP:
            raise InvalidInput("overlap_seconds", f"must be from 0 to {MOST_OVERLAP} seconds (a week)")
        secret = secrets.token_bytes(32)
        kek = self.kek()
        nonce, sealed = kek.seal_secret(secret, _aad(id))
        if not self.view.rotate(id, (kek.id, nonce, sealed), overlap, idempotency_key):
            secret = self.secret(self.subscription(actor, id))  # the retried rotation's
        return Made(self.subscription(actor, id), _shown(secret))

    def secret(self, subscription: Subscription) -> bytes:
        """The subscription's signing secret."""
        return self._open(subscription.id, subscription.kek_id, subscription.nonce, subscription.sealed)

    def secrets(self, subscription: Subscription) -> list[bytes]:
        """The secrets deliveries are signed with now: the subscription's, then the one before the last rotation
        while its overlap lasts."""
        opened = [self.secret(subscription)]
        s = subscription
        if s.previous_until is not None and s.previous_until > datetime.now(UTC):
            assert s.previous_kek_id is not None and s.previous_nonce is not None and s.previous_sealed is not None
            opened.append(self._open(s.id, s.previous_kek_id, s.previous_nonce, s.previous_sealed))
        return opened

    def _open(self, id: UUID, kek_id: str, nonce: bytes, sealed: bytes) -> bytes:
        kek = self.kek()
        what = f"the secret of webhook {id}"
        if kek_id != kek.id:
            raise KeyUnavailable(f"{what} was sealed under another key-encryption key")
        return kek.open_secret(nonce, sealed, _aad(id), what)


def _shown(secret: bytes) -> str:
    return "whsec_" + base64.b64encode(secret).decode()


def _aad(id: UUID) -> bytes:
    return b"mcreg-webhook-secret:" + id.bytes
