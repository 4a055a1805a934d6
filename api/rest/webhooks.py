"""Webhooks over HTTP: an organisation that may read the change feed subscribes a URL to event types, and hears
of each such event as a signed Standard Webhooks request (the rules: ``mcreg.webhooks``).

The secret is in the creation answer only. A receiver verifies a delivery with the ``standardwebhooks`` package:
``Webhook(secret).verify(body, headers)`` (README, "Webhooks").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import Field, StringConstraints

from mcreg.api.deps import Caller, Hooks
from mcreg.api.rest.common import PROBLEM_RESPONSES, IdempotencyKey, Input, Output
from mcreg.projections.webhook_outbox import Subscription
from mcreg.webhooks.delivery import MAX_FAILURES
from mcreg.webhooks.subscriptions import MOST_OVERLAP, ROTATION_OVERLAP, Webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)

EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+\.[A-Za-z]+$", max_length=100)]


class NewWebhook(Input):
    url: str = Field(
        max_length=2000,
        examples=["https://registry.example.edu/hooks/mcreg"],
        description="Where deliveries are POSTed: https (plain http only to a loopback address, in development); "
        "in production it must resolve to public addresses only",
    )
    types: list[EventType] = Field(
        default=[], max_length=100, description="Event types to deliver, e.g. Credential.Revoked; none for every type"
    )


class WebhookOut(Output):
    id: UUID
    url: str
    types: list[str]
    created_at: datetime
    starts_after: int = Field(
        description="Events recorded after this log position are delivered (and those a replay asked for)"
    )
    delivered_through: int = Field(description="The last position delivered, in order")
    pending: int = Field(description="Events owed and not yet delivered")
    failures: int = Field(description=f"Failed attempts in a row (disabled at {MAX_FAILURES})")
    retry_at: datetime | None = Field(description="When the next attempt is made, after a failure")
    last_error: str | None
    disabled_at: datetime | None = Field(description="Set when the failures disabled it; a replay enables it again")
    disabled_reason: str | None
    previous_secret_until: datetime | None = Field(
        default=None,
        description="After a secret rotation: until when deliveries are signed with the secret before it too",
    )


class CreatedWebhook(WebhookOut):
    secret: str = Field(
        description="Shown once: the Standard Webhooks signing secret (whsec_…); the registry keeps it sealed"
    )


class SecretRotation(Input):
    overlap_seconds: int = Field(
        default=ROTATION_OVERLAP,
        ge=0,
        le=MOST_OVERLAP,
        description="How long deliveries are signed with the secret before this one too (0: not at all)",
    )


class RotatedSecret(WebhookOut):
    secret: str = Field(description="Shown once: the new signing secret (whsec_…)")


class WebhookList(Output):
    webhooks: list[WebhookOut]


def _out(webhooks: Webhooks, s: Subscription) -> WebhookOut:
    return WebhookOut(
        id=s.id,
        url=s.url,
        types=s.types,
        created_at=s.created_at,
        starts_after=s.starts_after,
        delivered_through=s.delivered_through,
        pending=webhooks.pending(s),
        failures=s.failures,
        retry_at=s.retry_at,
        last_error=s.last_error,
        disabled_at=s.disabled_at,
        disabled_reason=s.disabled_reason,
        previous_secret_until=s.previous_until if s.previous_until and s.previous_until > datetime.now(UTC) else None,
    )


@router.post("", status_code=201, summary="Subscribe a URL to event types (auditors and the operator)")
def create_webhook(
    body: NewWebhook, response: Response, actor: Caller, webhooks: Hooks, key: IdempotencyKey = None
) -> CreatedWebhook:
    """Events of the types named, recorded from now on, are POSTed to the URL, signed with the secret answered
    here once (and to a retry with the same Idempotency-Key). Who may subscribe, and to what, is who may read the
    change feed."""
    made = webhooks.subscribe(actor, body.url, body.types, key)
    response.headers["Location"] = f"/v1/webhooks/{made.subscription.id}"
    return CreatedWebhook(**_out(webhooks, made.subscription).model_dump(), secret=made.secret)


@router.get("", summary="The caller's organisation's webhooks")
def list_webhooks(actor: Caller, webhooks: Hooks) -> WebhookList:
    return WebhookList(webhooks=[_out(webhooks, s) for s in webhooks.subscriptions(actor)])


@router.get("/{webhook_id}", summary="A webhook: how its deliveries fare, and why it was disabled if it was")
def get_webhook(webhook_id: UUID, actor: Caller, webhooks: Hooks) -> WebhookOut:
    return _out(webhooks, webhooks.subscription(actor, webhook_id))


@router.delete("/{webhook_id}", status_code=204, summary="Delete a webhook and what it was still owed")
def delete_webhook(webhook_id: UUID, actor: Caller, webhooks: Hooks) -> Response:
    webhooks.unsubscribe(actor, webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/replay", summary="Deliver again every event of the webhook's types after a position")
def replay_webhook(
    webhook_id: UUID,
    actor: Caller,
    webhooks: Hooks,
    after: Annotated[
        int | None,
        Query(
            alias="from",
            ge=0,
            description="Replay the events after this log position; by default after the last one delivered",
        ),
    ] = None,
) -> WebhookOut:
    """Enables a disabled webhook again; events already owed are not owed twice."""
    return _out(webhooks, webhooks.replay(actor, webhook_id, after))


@router.post("/{webhook_id}/secret", summary="Rotate a webhook's signing secret, the old one signing too for a while")
def rotate_webhook_secret(
    webhook_id: UUID, actor: Caller, webhooks: Hooks, body: SecretRotation | None = None, key: IdempotencyKey = None
) -> RotatedSecret:
    """A new secret, answered here once (and to a retry with the same Idempotency-Key, which rotates nothing more).
    For `overlap_seconds` (a day by default) every delivery carries two signatures in `webhook-signature`, by the
    new secret and by the one before, so a receiver verifies with either while it changes over; then the new
    one's only. Rotating again during an overlap drops the oldest secret."""
    overlap = (body or SecretRotation()).overlap_seconds
    made = webhooks.rotate_secret(actor, webhook_id, overlap, key)
    return RotatedSecret(**_out(webhooks, made.subscription).model_dump(), secret=made.secret)
