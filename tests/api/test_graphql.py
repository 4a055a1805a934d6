"""Institutions, authorities and auditors ask the registry questions over GraphQL."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

from mcreg.registry.vocabulary import Role
from tests.world import World


def ask(client, query: str, *, token: str | None = None, **variables):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


CREDENTIAL = """query($id: ID!) { credential(id: $id) {
  id status issuedOn revokedOn revocationReason qaBasis { kind id version } } }"""


def test_an_institution_looks_up_a_credential_once_the_read_side_has_caught_up(services, read_models, client):
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    services.registry.revoke_credential(world.provider, credential_id, reason="fraud", effective=date(2024, 6, 1))
    read_models.catch_up()

    credential = ask(client, CREDENTIAL, id=str(credential_id))["data"]["credential"]

    assert credential["status"] == "revoked"
    assert credential["revokedOn"] == "2024-06-01"
    assert credential["qaBasis"] == {"kind": "accreditation", "id": str(world.accreditation_id), "version": 1}


def test_an_unknown_credential_is_null_and_a_malformed_id_is_a_clear_error(services, read_models, client):
    read_models.catch_up()
    assert ask(client, CREDENTIAL, id="00000000-0000-0000-0000-000000000000")["data"]["credential"] is None
    (error,) = ask(client, CREDENTIAL, id="not-a-uuid")["errors"]
    assert error["message"] == "id: must be a UUID"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_auditor_asks_what_the_registry_said_before_a_withdrawal(services, read_models, client):
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    before = datetime.now(UTC).isoformat()
    services.registry.withdraw_accreditation(
        world.agency, world.accreditation_id, reason="found deficient", effective=date(2023, 6, 1)
    )
    query = """query($id: ID!, $asOf: Date, $knownAt: DateTime) {
      credentialStanding(id: $id, asOf: $asOf, knownAt: $knownAt) { status qaAtIssue { standing } } }"""

    then = ask(client, query, id=str(credential_id), asOf="2024-03-01", knownAt=before)["data"]["credentialStanding"]
    now = ask(client, query, id=str(credential_id), asOf="2024-03-01")["data"]["credentialStanding"]

    assert then == {"status": "active", "qaAtIssue": {"standing": "in_force"}}
    assert now == {"status": "active", "qaAtIssue": {"standing": "withdrawn"}}


def test_a_providers_credentials_come_in_pages_with_cursors(services, read_models, client):
    world = World(services.registry)
    issued = [world.issue(date(2024, 3, day)) for day in range(1, 6)]
    read_models.catch_up()
    query = """query($provider: ID!, $after: String) { credentials(providerId: $provider, first: 2, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }"""

    token = services.keys.create(world.provider_id, Role.PROVIDER, name="provider").token

    seen, after = [], None
    while True:
        page = ask(client, query, token=token, provider=str(world.provider_id), after=after)["data"]["credentials"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == [str(i) for i in issued]


def test_the_history_of_an_aggregate_says_who_did_what_and_when_it_took_effect(services, read_models, client):
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    services.registry.suspend_credential(world.provider, credential_id, reason="inquiry", idempotency_key="k-1")
    read_models.catch_up()
    query = """query($id: ID!) { history(aggregateId: $id) { edges { node {
      version eventType actorOrg actorRole effective idempotencyKey } } } }"""

    events = [e["node"] for e in ask(client, query, id=str(credential_id))["data"]["history"]["edges"]]

    assert [e["eventType"] for e in events] == ["Issued", "Suspended"]
    assert {e["actorOrg"] for e in events} == {str(world.provider_id)}
    assert events[0]["effective"] == "2024-03-01"
    assert events[1]["idempotencyKey"] == "k-1"


def test_a_status_filter_is_checked_against_the_vocabulary(services, read_models, client):
    world = World(services.registry)
    query = "query($p: ID!, $s: String) { credentials(providerId: $p, status: $s) { edges { cursor } } }"
    (error,) = ask(client, query, p=str(world.provider_id), s="active\u0000")["errors"]  # found: a database error
    assert error["message"] == "status: must be one of 'active', 'suspended', 'revoked'"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_over_limit_pages_are_refused_with_a_clear_message(services, read_models, client):
    world = World(services.registry)
    query = "query($p: ID!) { credentials(providerId: $p, first: 1000) { edges { cursor } } }"
    (error,) = ask(client, query, p=str(world.provider_id))["errors"]
    assert error["message"] == "first: must be from 1 to 100"


def test_abusive_documents_are_refused_at_validation_before_any_resolver_runs(services, read_models, client):
    nested = "query { credential(id: 1) { " + "qaBasis { " * 50 + "id" + " }" * 50 + " } }"

    def aliases(count: int) -> str:
        return "query { " + " ".join(f"a{i}: credential(id: 1) {{ id }}" for i in range(count)) + " }"

    tokens = "query { " + " ".join(f"c{i}: __typename" for i in range(20000)) + " }"
    cases = ((nested, "depth"), (aliases(100), "alias"), (aliases(1000), "token"), (tokens, "token"))
    for document, limit in cases:
        body = ask(client, document)
        assert body.get("data") is None, limit
        assert any(limit in error["message"].lower() for error in body["errors"]), body["errors"][:2]


def test_a_document_asked_again_answers_for_its_own_variables_and_its_limits_still_hold(services, read_models, client):
    world = World(services.registry)
    first, second = world.issue(date(2024, 3, 1)), world.issue(date(2024, 4, 1))
    read_models.catch_up()

    # The same text is parsed once and kept: each asking still gets the credential its variables name.
    answers = [ask(client, CREDENTIAL, id=str(c))["data"]["credential"] for c in (first, second, first)]
    assert [a["id"] for a in answers] == [str(first), str(second), str(first)]
    assert [a["issuedOn"] for a in answers] == ["2024-03-01", "2024-04-01", "2024-03-01"]

    nested = "query { credential(id: 1) { " + "qaBasis { " * 50 + "id" + " }" * 50 + " } }"
    for _ in range(2):  # a kept document is refused again, each time
        body = ask(client, nested)
        assert body.get("data") is None
        assert "depth" in body["errors"][0]["message"].lower()


def test_in_production_the_schema_cannot_be_introspected_but_client_errors_still_explain(services, read_models):
    from fastapi.testclient import TestClient

    from mcreg.api.app import create_app

    services.settings = services.settings.model_copy(update={"env": "production"})
    with TestClient(create_app(services, read_models)) as production:
        refused = ask(production, "{ __schema { types { name } } }")
        assert refused.get("data") is None
        assert "introspection" in refused["errors"][0]["message"].lower()
        (error,) = ask(production, CREDENTIAL, id="not-a-uuid")["errors"]
        assert error["message"] == "id: must be a UUID"


def test_a_cursor_that_decodes_but_holds_no_position_is_a_clear_error(services, read_models, client):
    world = World(services.registry)
    forged = base64.urlsafe_b64encode(b"yesterday|someone").decode()
    query = "query($p: ID!, $a: String) { credentials(providerId: $p, after: $a) { edges { cursor } } }"
    token = services.keys.create(world.provider_id, Role.PROVIDER, name="provider").token
    (error,) = ask(client, query, token=token, p=str(world.provider_id), a=forged)["errors"]
    assert error["message"] == "after: is not a cursor this query gave"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_public_may_not_list_a_providers_credentials_nor_may_another_provider(services, read_models, client):
    world = World(services.registry)
    world.issue(date(2024, 3, 1))
    read_models.catch_up()
    query = "query($p: ID!) { credentials(providerId: $p) { edges { node { id } } } }"
    other = services.keys.create(world.register_provider("NL", "Other"), Role.PROVIDER, name="other").token
    belgian = services.keys.create(world.agency_id, Role.NATIONAL_AUTHORITY, name="be", country="BE").token
    dutch = services.keys.create(world.agency_id, Role.NATIONAL_AUTHORITY, name="nl", country="NL").token

    for token in (None, other, belgian):
        (error,) = ask(client, query, token=token, p=str(world.provider_id))["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
    assert len(ask(client, query, token=dutch, p=str(world.provider_id))["data"]["credentials"]["edges"]) == 1
