"""What a caller of the REST API sees: problems for bad input, idempotent writes, keys, batches, who reads what."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import anyio
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from starlette.types import Message
from structlog.testing import capture_logs

from mcreg.api.auth import Authenticator, TokenVerifier
from mcreg.bootstrap import Services
from mcreg.registry.vocabulary import Role
from mcreg.stores.api_keys import KeyRefused
from tests.api.rest import As, caller
from tests.registry.test_deqar_import import KNOWN_INSTITUTIONS
from tests.testdata import data_path
from tests.world import SPEC, World

PROBLEM = "application/problem+json"


@pytest.fixture
def world(services: Services) -> World:
    return World(services.registry)


@pytest.fixture
def operator(services: Services, client: TestClient) -> As:
    return caller(services, client, Role.OPERATOR, uuid4())


@pytest.fixture
def provider(services: Services, client: TestClient, world: World) -> As:
    return caller(services, client, Role.PROVIDER, world.provider_id)


def head(services: Services) -> int:
    return services.registry.recorder.max_notification_id() or 0


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith(f"/problems/{slug}")
    assert problem["status"] == status
    assert problem["detail"]
    return problem


AGENCY = {"name": "Agentschap Kwaliteit", "country": "NL", "registered_on": "2020-01-01"}


# Authentication ------------------------------------------------------------------


def test_a_write_without_a_key_is_401_with_a_bearer_challenge_and_writes_nothing(
    services: Services, client: TestClient
) -> None:
    before = head(services)
    response = client.post("/v1/agencies", json=AGENCY)
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert head(services) == before


def test_revoked_expired_and_made_up_keys_are_refused(services: Services, client: TestClient) -> None:
    org = uuid4()
    revoked = services.keys.create(org, Role.OPERATOR, name="old")
    services.keys.revoke(revoked.key.prefix)
    expired = services.keys.create(org, Role.OPERATOR, name="gone", expires_at=datetime.now(UTC) - timedelta(days=1))
    valid = services.keys.create(org, Role.OPERATOR, name="live")
    forged = valid.token[:-4] + ("AAAA" if not valid.token.endswith("AAAA") else "BBBB")
    for token in (revoked.token, expired.token, forged, "mcreg_nope_nope", "not-a-key"):
        response = client.post("/v1/agencies", json=AGENCY, headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "unauthenticated")
    assert head(services) == 0


def test_keys_are_stored_hashed_and_secrets_with_underscores_still_authenticate(services: Services) -> None:
    for _ in range(40):  # URL-safe secrets often hold "_"; the prefix is hex and never does
        made = services.keys.create(uuid4(), Role.AUDITOR, name="auditor")
        assert services.keys.authenticate(made.token, datetime.now(UTC)).prefix == made.key.prefix
    with services.pool.connection() as conn:
        digests = [
            bytes(row[0]) for row in conn.execute(f"SELECT digest FROM {services.settings.postgres_schema}.api_keys")
        ]
    assert all(len(d) == 32 and made.token.encode() not in d for d in digests)


def test_the_operator_hands_out_keys_over_http_and_an_organisation_can_revoke_its_own(
    services: Services, client: TestClient, operator: As, world: World
) -> None:
    made = operator.post("/v1/keys", {"role": "provider", "org": str(world.provider_id), "name": "grading system"})
    assert made.status_code == 201, made.text
    token, prefix = made.json()["token"], made.json()["prefix"]
    assert made.headers["location"] == f"/v1/keys/{prefix}"
    provider = As(client, token)
    assert provider.get(f"/v1/keys/{prefix}").json()["revoked_at"] is None
    assert "token" not in provider.get(f"/v1/keys/{prefix}").json()
    assert provider.post(f"/v1/keys/{prefix}/revoke").status_code == 200
    assert_problem(provider.get(f"/v1/keys/{prefix}"), 401, "unauthenticated")


def test_a_key_named_with_a_control_character_is_a_422_not_a_database_error(operator: As, world: World) -> None:
    body = {"role": "provider", "org": str(world.provider_id), "name": "grading\u0000system"}  # found by Schemathesis
    problem = assert_problem(operator.post("/v1/keys", body), 422, "invalid-input")
    assert (problem["field"], problem["rule"]) == ("name", "may not contain control characters")


def test_a_key_names_a_registered_organisation_of_its_role(operator: As, world: World) -> None:
    problem = assert_problem(
        operator.post("/v1/keys", {"role": "qa_agency", "org": str(world.provider_id), "name": "x"}),
        422,
        "invalid-input",
    )
    assert problem["field"] == "org"
    problem = assert_problem(
        operator.post("/v1/keys", {"role": "national_authority", "name": "x"}), 422, "invalid-input"
    )
    assert problem["field"] == "country"


def test_a_national_authority_hands_out_keys_only_to_its_own_countrys_organisations(
    services: Services, client: TestClient, world: World
) -> None:
    belgian = world.register_provider("BE", "Université Exemple")
    dutch_authority = caller(services, client, Role.NATIONAL_AUTHORITY, uuid4(), "NL")
    ok = dutch_authority.post("/v1/keys", {"role": "provider", "org": str(world.provider_id), "name": "nl"})
    assert ok.status_code == 201, ok.text
    refused = dutch_authority.post("/v1/keys", {"role": "provider", "org": str(belgian), "name": "be"})
    assert_problem(refused, 403, "forbidden")
    assert_problem(dutch_authority.post("/v1/keys", {"role": "auditor", "name": "a"}), 403, "forbidden")


# Bad input --------------------------------------------------------------------------


def test_malformed_json_is_a_400_and_writes_nothing(services: Services, operator: As) -> None:
    response = operator.client.post(
        "/v1/agencies",
        content=b'{"name": "x", ',
        headers=operator.headers() | {"Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-request")
    assert head(services) == 0


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (AGENCY | {"founded": 1999}, "founded", "is not a known field"),
        ({k: v for k, v in AGENCY.items() if k != "name"}, "name", "is required"),
        (AGENCY | {"registered_on": "31/12/2020"}, "registered_on", "must be a date (YYYY-MM-DD)"),
        (AGENCY | {"esg_activities": "programme"}, "esg_activities", "input should be a valid list"),
        (AGENCY | {"country": "XX"}, "country", "must be an ISO 3166-1 alpha-2 country code"),
        (AGENCY | {"name": "Agency\u0000"}, "name", "may not contain control characters"),
        (AGENCY | {"registered_on": "2999-01-01"}, "registered_on", None),
    ],
)
def test_a_bad_field_is_a_422_naming_the_field_and_rule_and_writes_nothing(
    services: Services, operator: As, body: dict, field: str, rule: str | None
) -> None:
    problem = assert_problem(operator.post("/v1/agencies", body), 422, "invalid-input")
    assert problem["field"] == field
    if rule:
        assert problem["rule"] == rule
    assert head(services) == 0


def test_an_oversize_body_is_a_413(services: Services, client: TestClient, operator: As) -> None:
    limit = services.settings.max_body_bytes
    body = AGENCY | {"name": "x" * (limit + 1)}
    assert_problem(operator.post("/v1/agencies", body), 413, "payload-too-large")
    assert head(services) == 0


def test_unknown_ids_are_404_problems(operator: As) -> None:
    missing = uuid4()
    for path in (f"/v1/agencies/{missing}", f"/v1/credentials/{missing}", f"/v1/credentials/{missing}/verify"):
        problem = assert_problem(operator.get(path), 404, "not-found")
        assert str(missing) in problem["detail"]
    assert_problem(operator.post(f"/v1/agencies/{missing}/suspend", {"reason": "x"}), 404, "not-found")
    assert_problem(operator.get("/v1/nowhere"), 404, "not-found")
    assert_problem(operator.get(f"/v1/agencies/{missing}x"), 422, "invalid-input")


def test_every_problem_type_is_described_at_its_uri(client: TestClient, operator: As) -> None:
    problem = assert_problem(operator.post("/v1/agencies", AGENCY | {"country": "XX"}), 422, "invalid-input")
    path = "/" + problem["type"].split("/", 3)[3]
    described = client.get(path)
    assert described.status_code == 200
    assert described.json()["status"] == 422


# Idempotency, Location, request ids -----------------------------------------------------------


def test_the_same_key_and_body_give_the_same_answer_and_write_once(services: Services, operator: As) -> None:
    first = operator.post("/v1/agencies", AGENCY, key="agency-1")
    written = head(services)
    again = operator.post("/v1/agencies", AGENCY, key="agency-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.headers["location"] == again.headers["location"] == first.json()["href"]
    assert head(services) == written


def test_the_same_key_with_another_body_is_a_409_and_writes_nothing(services: Services, operator: As) -> None:
    operator.post("/v1/agencies", AGENCY, key="agency-1")
    written = head(services)
    assert_problem(
        operator.post("/v1/agencies", AGENCY | {"name": "Other"}, key="agency-1"), 409, "idempotency-key-reused"
    )
    assert head(services) == written


def test_idempotency_keys_are_per_organisation(services: Services, client: TestClient) -> None:
    one = caller(services, client, Role.OPERATOR, uuid4())
    two = caller(services, client, Role.OPERATOR, uuid4())
    a = one.post("/v1/agencies", AGENCY, key="same")
    b = two.post("/v1/agencies", AGENCY | {"name": "Another agency"}, key="same")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_request_ids_are_echoed_or_made_and_quoted_in_problems(client: TestClient, operator: As) -> None:
    mine = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert mine.headers["x-request-id"] == "trace-42"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    refused = client.post(
        "/v1/agencies", json=AGENCY | {"country": "XX"}, headers=operator.headers() | {"X-Request-ID": "trace-43"}
    )
    assert assert_problem(refused, 422, "invalid-input")["instance"] == "urn:request:trace-43"


# Credentials: single, batch, reading ------------------------------------------------------


def credential_body(world: World, **extra) -> dict:
    return {"microcredential_id": str(world.microcredential_id), "learner": {"name": "Ana Kovač"}} | extra


def test_only_the_provider_and_authorities_see_the_learner_and_grade(
    services: Services, client: TestClient, world: World, provider: As
) -> None:
    issued = provider.post("/v1/credentials", credential_body(world, issued_on="2024-03-01", grade="9"))
    assert issued.status_code == 201, issued.text
    path = issued.headers["location"]
    public = client.get(path).json()
    assert public["learner"] is None and public["grade"] is None and public["status"] == "active"
    own = provider.get(path).json()
    assert own["learner"]["name"] == "Ana Kovač" and own["grade"] == "9"
    authority = caller(services, client, Role.NATIONAL_AUTHORITY, uuid4(), "NL").get(path).json()
    assert authority["learner"]["name"] == "Ana Kovač"
    foreign = caller(services, client, Role.NATIONAL_AUTHORITY, uuid4(), "BE").get(path).json()
    assert foreign["learner"] is None


def test_a_batch_with_a_bad_row_writes_nothing_unless_partial(services: Services, world: World, provider: As) -> None:
    rows = [credential_body(world, issued_on="2024-03-01"), credential_body(world, issued_on="not a date")]
    rows.append(credential_body(world, issued_on="2018-01-01"))  # before the micro-credential was specified
    before = head(services)
    problem = assert_problem(provider.post("/v1/credentials:batch", {"rows": rows}), 422, "batch-rejected")
    assert [e["row"] for e in problem["errors"]] == [1]
    assert head(services) == before
    partial = provider.post("/v1/credentials:batch", {"rows": rows, "partial": True})
    assert partial.status_code == 201, partial.text
    answer = partial.json()
    assert (answer["issued"], answer["refused"]) == (1, 2)
    assert [r["row"] for r in answer["results"]] == [0, 1, 2]
    assert answer["results"][0]["id"] and answer["results"][1]["field"] == "issued_on"
    assert answer["results"][2]["field"] == "issued_on"


def test_a_batch_streams_as_ndjson(services: Services, world: World, provider: As) -> None:
    lines = "\n".join(json.dumps(credential_body(world, issued_on="2024-03-01")) for _ in range(250)) + "\n"
    response = provider.client.post(
        "/v1/credentials:batch",
        content=lines.encode(),
        headers=provider.headers("batch-1") | {"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["issued"] == 250
    broken = provider.client.post(
        "/v1/credentials:batch",
        content=b'{"microcredential_id": \n',
        headers=provider.headers() | {"Content-Type": "application/x-ndjson"},
    )
    assert_problem(broken, 400, "malformed-request")


def test_a_batch_over_the_row_limit_is_refused(services: Services, world: World, provider: As) -> None:
    rows = [credential_body(world)] * (services.settings.max_batch_rows + 1)
    problem = assert_problem(provider.post("/v1/credentials:batch", {"rows": rows}), 422, "invalid-input")
    assert problem["field"] == "rows"


def test_verify_answers_status_and_qa_chain_as_of_a_date(client: TestClient, world: World, provider: As) -> None:
    credential = provider.post("/v1/credentials", credential_body(world, issued_on="2024-03-01")).json()["id"]
    provider.post(f"/v1/credentials/{credential}/suspend", {"reason": "under investigation", "effective": "2024-06-01"})
    then = client.get(f"/v1/credentials/{credential}/verify", params={"as_of": "2024-05-01"}).json()
    assert (then["status"], then["valid"]) == ("active", True)
    assert then["qa_at_issue"] == {
        "basis": {"kind": "accreditation", "id": str(world.accreditation_id), "version": 1},
        "standing": "in_force",
    }
    now = client.get(f"/v1/credentials/{credential}/verify").json()
    assert (now["status"], now["valid"]) == ("suspended", False)
    assert now["title"] == SPEC["title"] and now["signature"] == "signed"
    assert_problem(
        client.get(f"/v1/credentials/{credential}/verify", params={"as_of": "yesterday"}), 422, "invalid-input"
    )


# The event feed ---------------------------------------------------------------------------


def test_auditors_page_through_the_event_log_in_order_and_filter_it(
    services: Services, client: TestClient, world: World
) -> None:
    auditor = caller(services, client, Role.AUDITOR, uuid4())
    first = auditor.get("/v1/events", limit=3).json()
    assert [e["position"] for e in first["events"]] == [1, 2, 3]
    rest = auditor.get("/v1/events", after=first["next_after"], limit=1000).json()
    assert rest["events"][0]["position"] == 4 and rest["events"][-1]["position"] == rest["head"] == head(services)
    mine = auditor.get("/v1/events", aggregate=str(world.accreditation_id)).json()["events"]
    assert [e["type"] for e in mine] == ["Accreditation.Created"] or mine[0]["aggregate_id"] == str(
        world.accreditation_id
    )
    typed = auditor.get("/v1/events", type="Agency.Registered").json()["events"]
    assert [e["aggregate_id"] for e in typed] == [str(world.agency_id)]
    assert typed[0]["state"]["stamp"]
    assert_problem(client.get("/v1/events"), 401, "unauthenticated")
    assert_problem(caller(services, client, Role.PROVIDER, world.provider_id).get("/v1/events"), 403, "forbidden")
    assert_problem(auditor.get("/v1/events", type="drop table"), 422, "invalid-input")


# Operations ----------------------------------------------------------------------------------


def test_readiness_and_metrics(services: Services, client: TestClient, world: World) -> None:
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["head"] == head(services)
    assert set(ready["lag"]) >= {"credential_status", "dashboard"}
    client.get("/healthz")
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'mcreg_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "mcreg_http_request_duration_seconds_bucket" in text
    assert f"mcreg_events_appended_total {float(head(services))}" in text
    assert 'mcreg_projection_lag_events{projection="credential_status"}' in text
    # The webhook outbox has not followed the log here: every event is still to be owed.
    assert f'mcreg_projection_lag_events{{projection="webhook_outbox"}} {float(head(services))}' in text


# OAuth2 bearer tokens --------------------------------------------------------------------------


@pytest.fixture
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def token_verifier(key: Ed25519PrivateKey) -> TokenVerifier:
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    return TokenVerifier("https://login.example", "mcreg", json.dumps({"keys": [jwk | {"kid": "k1"}]}))


def access_token(key: Ed25519PrivateKey, **claims) -> str:
    now = datetime.now(UTC)
    payload = {
        "iss": "https://login.example",
        "aud": "mcreg",
        "sub": str(uuid4()),
        "exp": now + timedelta(minutes=5),
        "mcreg_role": "national_authority",
        "mcreg_country": "NL",
    } | claims
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": "k1"})


def test_bearer_tokens_from_the_configured_issuer_act_as_their_organisation(
    services: Services, client: TestClient, issuer_key: Ed25519PrivateKey
) -> None:
    client.app.state.authenticator = Authenticator(services.keys, token_verifier(issuer_key), services.registry.clock)
    token = access_token(issuer_key)
    made = client.post("/v1/agencies", json=AGENCY, headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201, made.text
    for bad in (
        access_token(issuer_key, aud="someone-else"),
        access_token(issuer_key, exp=datetime.now(UTC) - timedelta(minutes=1)),
        access_token(issuer_key, iss="https://evil.example"),
        access_token(Ed25519PrivateKey.generate()),
        access_token(issuer_key, mcreg_role="emperor"),
    ):
        refused = client.post("/v1/agencies", json=AGENCY, headers={"Authorization": f"Bearer {bad}"})
        assert_problem(refused, 401, "unauthenticated")


def test_a_token_needs_a_configured_issuer(services: Services, issuer_key: Ed25519PrivateKey) -> None:
    authenticator = Authenticator(services.keys, None, services.registry.clock)
    with pytest.raises(KeyRefused):
        authenticator.actor(access_token(issuer_key))


def test_dates_in_problem_fields_are_plain(world: World, provider: As) -> None:
    problem = assert_problem(
        provider.post("/v1/credentials", credential_body(world, issued_on=str(date.today() + timedelta(days=3)))),
        422,
        "invalid-input",
    )
    assert problem["field"] == "issued_on"


# DEQAR import --------------------------------------------------------------------------------------------


DEQAR = data_path("deqar")


def test_an_agency_imports_all_four_deqar_examples_over_http_and_a_second_import_writes_nothing(
    services: Services, client: TestClient, operator: As
) -> None:
    musique = operator.post(
        "/v1/agencies", {"name": "MusiQuE", "acronym": "MusiQuE", "country": "BE", "registered_on": "2010-01-01"}
    ).json()["id"]
    aracis = operator.post(
        "/v1/agencies", {"name": "ARACIS", "acronym": "ARACIS", "country": "RO", "registered_on": "2010-01-01"}
    ).json()["id"]
    for country, names, extra in (*KNOWN_INSTITUTIONS, ("RO", {"ro": "Universitatea Ion Mincu"}, {})):
        registered = operator.post("/v1/providers", {"names": names, "country": country, **extra})
        assert registered.status_code == 201, registered.text
    mincu = registered.json()["id"]
    as_musique = caller(services, client, Role.QA_AGENCY, UUID(musique))
    as_aracis = caller(services, client, Role.QA_AGENCY, UUID(aracis))
    assert as_aracis.post(f"/v1/providers/{mincu}/identifiers", {"identifier": "S003"}).status_code == 200

    def import_all() -> list[dict]:
        answers = []
        for name in ("institutional.json", "programme.json", "joint_programme.json", "institutional_programme.json"):
            importer = as_aracis if name == "institutional_programme.json" else as_musique
            response = importer.post("/v1/import/deqar", json.loads((DEQAR / name).read_text()))
            assert response.status_code == 200, response.text
            answers.append(response.json())
        return answers

    first = import_all()
    assert [(a["created"], a["refused"]) for a in first] == [(2, 0), (2, 0), (1, 0), (1, 0)], first
    written = head(services)
    second = import_all()
    assert [(a["unchanged"], a["created"], a["refused"]) for a in second] == [
        (2, 0, 0),
        (2, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
    ]
    assert head(services) == written
    refused = as_aracis.post("/v1/import/deqar", json.loads((DEQAR / "programme.json").read_text())).json()
    assert refused["refused"] == 2 and refused["reports"][0]["error"]["rule"] == "own-reports"
    assert_problem(client.post("/v1/import/deqar", json=[]), 401, "unauthenticated")


def test_a_batch_whose_client_left_before_its_body_arrived_is_logged_abandoned_not_as_a_failure(
    client: TestClient, provider: As
) -> None:
    # A client that gives up (its timeout, while the database fails over) leaves before the server reads its body.
    answered: list[Message] = []

    async def left() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        answered.append(message)

    headers = [(b"authorization", f"Bearer {provider.token}".encode()), (b"content-type", b"application/json")]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/credentials:batch",
        "raw_path": b"/v1/credentials:batch",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [*headers, (b"idempotency-key", b"left-early")],
        "http_version": "1.1",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    with capture_logs() as logs:
        anyio.run(client.app, scope, left, send)  # type: ignore[arg-type]
    assert [m["status"] for m in answered if m["type"] == "http.response.start"] == [499]
    assert "request.failed" not in [entry["event"] for entry in logs]
