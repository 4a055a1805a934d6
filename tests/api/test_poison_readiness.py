"""A read model stopped before a poison event: ``/readyz`` answers ``degraded`` (still 200, decision 55) and
``/metrics`` gives the held event's position; writes and the other read models go on."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from tests.projections.conftest import WANTING_REVOCATIONS, issue_many, poison
from tests.world import World


def test_readyz_says_degraded_and_metrics_give_the_poison_position(
    services: Services, client: TestClient, read_models: ReadModels
) -> None:
    world = World(services.registry)
    issue_many(world, 2)
    read_models.catch_up()
    assert client.get("/readyz").json()["status"] == "ready"
    assert 'mcreg_read_model_quarantined{read_model="credential_status"} 0.0' in client.get("/metrics").text

    position = poison(services)
    world.issue(date(2024, 3, 2))  # writes still work
    read_models.catch_up()

    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["stopped"] == dict.fromkeys(WANTING_REVOCATIONS, position)
    assert body["lag"]["catalogue"] == 0 and body["lag"]["credential_status"] > 0
    metrics = client.get("/metrics").text
    assert f'mcreg_read_model_quarantined{{read_model="credential_status"}} {float(position)}' in metrics
    assert 'mcreg_read_model_quarantined{read_model="catalogue"} 0.0' in metrics
    assert 'mcreg_read_model_quarantined{read_model="transparency_log"} 0.0' in metrics

    for name in WANTING_REVOCATIONS:
        read_models[name].skip(position)
    assert client.get("/readyz").json()["status"] == "ready"
