"""What one verification asks of the database, statement by statement."""

from __future__ import annotations

from datetime import date

from tests.api.test_graphql_standing import statements_sent
from tests.world import World


def test_a_verification_with_its_inclusion_proof_sends_13_statements(services, read_models, client, monkeypatch):
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    read_models.catch_up()
    client.app.state.transparency_log.catch_up()
    client.get(f"/v1/credentials/{credential_id}/verify")  # the credential is read once into the process's cache

    with statements_sent(monkeypatch) as sent:
        response = client.get(f"/v1/credentials/{credential_id}/verify")

    assert response.status_code == 200, response.text
    assert response.json()["transparency_log"]["position"] > 0
    # The credential, its QA decision, the decision's agency, its micro-credential, the issuer's keys and its
    # provider (fast-forwards of the library's cache); its status-list entry; the position of its issuance, the
    # log's size, the leaf at that position, the proof's subtrees and the checkpoint; its recognitions' outcomes.
    # The inclusion proof does not read back the position it was asked of.
    assert len(sent) == 13, "\n".join(" ".join(str(statement).split()) for statement in sent)
