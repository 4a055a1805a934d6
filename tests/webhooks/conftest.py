"""What the webhook tests share: the subscriptions beside the test's registry, and the outbox and delivery
workers running in the test's process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services, deliverer
from mcreg.projections.engine import Projector
from mcreg.projections.webhook_outbox import OutboxProjection
from mcreg.projections.worker import ProjectionWorker
from mcreg.webhooks.delivery import DeliveryWorker
from mcreg.webhooks.subscriptions import Webhooks


@pytest.fixture
def webhooks(client: TestClient) -> Webhooks:
    """The subscriptions the test's API answers with."""
    hooks: Webhooks = client.app.state.webhooks  # type: ignore[attr-defined]
    return hooks


@contextmanager
def delivering(services: Services, webhooks: Webhooks, **options: Any) -> Iterator[DeliveryWorker]:
    """The outbox kept from the log and delivered, until the block ends."""
    outbox = ProjectionWorker([Projector(services.registry, OutboxProjection(), webhooks.view)], idle=0.1)
    delivery = deliverer(services, webhooks, **options)
    try:
        with outbox, delivery:
            yield delivery
    finally:
        delivery.view.close()
    assert not outbox.errors and not delivery.errors
