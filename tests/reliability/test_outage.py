"""An outage: PostgreSQL is killed under a running ``mcreg serve``, then started again.

While the database is away, a read and a write answer ``503`` with
``Retry-After`` and the ``database-unavailable`` problem (never ``500``),
``/readyz`` says not ready and GraphQL answers an error with a code. Once
the server is back the pool reconnects, and the write retried with the same
Idempotency-Key is applied exactly once, and the read models, which waited
through the outage, take it in.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from mcreg.bootstrap import bootstrap
from mcreg.settings import Settings
from tests.reliability.servers import Api, Cluster
from tests.world import World

# The test makes, kills and restarts a PostgreSQL cluster of its own, whatever DATABASE_URL says.
pytestmark = [pytest.mark.postgres, pytest.mark.embedded]

CREDENTIAL = "query($id: ID!) { credential(id: $id) { id status } }"


def graphql(http: httpx.Client, credential_id: str) -> dict[str, Any]:
    return http.post("/graphql", json={"query": CREDENTIAL, "variables": {"id": credential_id}}).json()


def refused_for_outage(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/problems/database-unavailable")


def test_a_database_outage_answers_503_and_a_retried_write_lands_once(cluster: Cluster, tmp_path: Path) -> None:
    settings = Settings(database_url=cluster.url, data_dir=tmp_path)
    services = bootstrap(settings)
    world = World(services.registry)
    token = services.keys.create(world.provider_id, world.provider.role, name="outage").token
    events = services.registry.recorder.events_table_name
    services.close()
    api = Api("", cluster.url, tmp_path, tmp_path / "serve.log")
    api.start()
    auth = {"Authorization": f"Bearer {token}"}
    issue = {
        "microcredential_id": str(world.microcredential_id),
        "learner": {"name": "Grace"},
        "issued_on": "2024-03-01",
    }
    try:
        with httpx.Client(base_url=api.url, timeout=30) as http:
            first = http.post("/v1/credentials", json=issue, headers=auth | {"Idempotency-Key": "before"})
            assert first.status_code == 201, first.text
            credential_id = first.json()["id"]

            cluster.kill()
            started = time.monotonic()
            refused_for_outage(http.get(f"/v1/providers/{world.provider_id}"))
            refused_for_outage(http.post("/v1/credentials", json=issue, headers=auth | {"Idempotency-Key": "during"}))
            assert time.monotonic() - started < 20, "a client learns of the outage in seconds"
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["type"].endswith("/problems/not-ready")
            (error,) = graphql(http, credential_id)["errors"]
            assert error["extensions"]["code"] == "DATABASE_UNAVAILABLE"
            described = http.get("/problems/database-unavailable")
            assert described.status_code == 200
            assert described.json()["status"] == 503

            cluster.start()
            deadline = time.monotonic() + 60
            while http.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the registry is ready again once its database is back"
                time.sleep(0.2)
            assert http.get(f"/v1/providers/{world.provider_id}").status_code == 200
            # A pooled connection may still learn of the restart on its first use: that request answers 503 too,
            # and the client does what the problem says, retrying with the same key until it lands.
            retried = []
            for _ in range(20):
                answer = http.post("/v1/credentials", json=issue, headers=auth | {"Idempotency-Key": "during"})
                if answer.status_code != 503:
                    retried.append(answer)
                    if len(retried) == 2:
                        break
                else:
                    refused_for_outage(answer)
                    time.sleep(0.2)
            assert [r.status_code for r in retried] == [201, 201], [r.text for r in retried]
            assert retried[0].json()["id"] == retried[1].json()["id"] != credential_id
            # The read models kept following through the outage: the retried credential reaches them too.
            deadline = time.monotonic() + 30
            while not graphql(http, retried[0].json()["id"])["data"]["credential"]:
                assert time.monotonic() < deadline, "the read models follow again once the database is back"
                time.sleep(0.2)
    finally:
        api.kill()
    with psycopg.connect(cluster.url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {events} WHERE topic LIKE %s", ["%:Credential.Issued"]).fetchone()
    assert row == (2,), "the credential before the outage and the retried one, each once"
