"""Fixtures for the read side: the read models on each test's own schema, and a small issued world."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from mcreg.bootstrap import Services
from mcreg.projections.credential_status import CredentialStatusProjection, CredentialStatusView
from mcreg.projections.engine import Projection, event_class
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.application import IssueRow
from tests.world import World, learner


def issue_many(world: World, count: int, issued_on: date = date(2024, 3, 1)) -> list[UUID]:
    """``count`` credentials issued in one bulk command (one transaction)."""
    rows = [IssueRow(world.microcredential_id, learner(f"Learner {i}"), issued_on) for i in range(count)]
    result = world.registry.issue_credentials(world.provider, rows)
    return [credential_id for credential_id in result.issued if credential_id is not None]


def snapshot(read_models: ReadModels) -> dict[str, Any]:
    """Every row of every read model's tables, and each read model's tracked position."""
    return {
        "rows": {table: p.view.rows(table) for p in read_models.select() for table in p.view.tables},
        "positions": {p.name: p.view.position(read_models.app.name) for p in read_models.select()},
    }


class PowerCut(BaseException):
    """The process dies in the middle of a transaction.

    A ``BaseException``, as ``SystemExit`` is: the process ends, so the engine must not take it for an event
    it cannot apply (which it would hold in quarantine)."""


def crashing_after(pages: int) -> type[Projection[Any]]:
    """The credential status projection, whose view dies inside the transaction of page ``pages + 1``."""

    class CrashingView(CredentialStatusView):
        written = 0

        def write(self, curs: Any, changes: Any) -> None:
            super().write(curs, changes)  # the rows are in the transaction...
            CrashingView.written += 1
            if CrashingView.written > pages:
                raise PowerCut  # ...and go with it

    class CrashingCredentialStatus(CredentialStatusProjection):
        view_class = CrashingView

    return CrashingCredentialStatus


WANTING_REVOCATIONS = ("credential_status", "audit_timeline", "dashboard", "indicators", "issuer_status_lists")
"""The read models that a revocation that cannot be decoded stops; the others never read it."""


def poison(services: Services) -> int:
    """Store a revocation that cannot be decoded (its state is not even JSON); its position."""
    revoked = get_topic(event_class(Credential, "Revoked"))
    [position] = services.registry.recorder.insert_events([StoredEvent(uuid4(), 1, revoked, b'{"reason": "trunc')])
    assert position is not None
    return position
