"""Free text about a learner is personal data: sealed under the learner's key, gone from every table once forgotten.

A provider suspends and revokes a learner's credentials with notes that name her; a university records a
recognition whose substantial differences, appeal grounds and withdrawal reason name her too. The operator
then forgets her (``mcreg forget-learner``), and nothing stored, raw events or read-model tables,
still holds any of those words; REST and GraphQL read them before and show them erased after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest
import structlog
from psycopg import sql
from typer.testing import CliRunner, Result

from mcreg.bootstrap import Services
from mcreg.cli import app
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.application import Registry
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.api.test_graphql import ask
from tests.world import OPERATOR, World, learner

NAME = "Zebulon Quixotic-Marchbanks"
SUSPENSION = f"{NAME} is under investigation for plagiarism"
REVOCATION = f"{NAME} admitted to plagiarism in the final project"
DIFFERENCE = f"{NAME} did no supervised lab work"
REASON = f"The programme requires {NAME} to have 2 ECTS of lab practice"
GROUNDS = f"{NAME} did the lab work online under supervision"
NEW_DIFFERENCE = f"{NAME} lacks the statistics module"
NEW_REASON = f"Statistics is compulsory for {NAME}'s programme"
WITHDRAWAL = f"{NAME} enrolled at another university"
SECRETS = (NAME, SUSPENSION, REVOCATION, DIFFERENCE, REASON, GROUNDS, NEW_DIFFERENCE, NEW_REASON, WITHDRAWAL)
GRACE = "Grace Hopper was away on a naval posting"

NOTES = {"Suspended": "reason", "Revoked": "note", "Appealed": "grounds", "Withdrawn": "reason"}  # event: free text
RECOGNITION = """query($id: ID!) { recognition(id: $id) { id differences { difference reason } } }"""


@dataclass
class Story:
    learner_id: UUID
    revoked: UUID
    recognised: UUID
    withdrawn: UUID
    graces: UUID
    institution: As


def tell(services: Services, client) -> Story:
    """Zebulon's credentials, suspended and revoked, and two recognitions of one; Grace's credential, suspended."""
    registry = services.registry
    world = World(registry)
    provider = world.provider
    zebulon = uuid4()
    revoked = world.issue(date(2024, 3, 1), learner=learner(NAME), learner_id=zebulon)
    recognised_credential = world.issue(date(2024, 3, 1), learner=learner(NAME), learner_id=zebulon)
    graces = world.issue(date(2024, 3, 1), learner=learner("Grace Hopper"))
    registry.suspend_credential(provider, revoked, reason=SUSPENSION, effective=date(2024, 4, 1))
    registry.reinstate_credential(provider, revoked, effective=date(2024, 4, 15))
    registry.revoke_credential(provider, revoked, reason="fraud", note=REVOCATION, effective=date(2024, 5, 1))
    registry.suspend_credential(provider, graces, reason=GRACE, effective=date(2024, 4, 1))

    university = world.register_provider("DE", "Technische Universität Beispiel")
    institution = caller(services, client, Role.INSTITUTION, university)
    request = {
        "credential_id": str(recognised_credential),
        "institution_id": str(university),
        "requested_on": "2024-04-01",
    }
    recognised = institution.post("/v1/recognitions", request | {"purpose": "credit_transfer"}).json()["id"]
    refusal = {"outcome": "refused", "ects_recognised": "0", "decided_on": "2024-05-01"}
    differences = [{"difference": DIFFERENCE, "reason": REASON}]
    assert institution.post(
        f"/v1/recognitions/{recognised}/decision", refusal | {"differences": differences}
    ).is_success
    appeal = {"grounds": GROUNDS, "effective": "2024-05-10"}
    assert institution.post(f"/v1/recognitions/{recognised}/appeal", appeal).is_success
    overturned = {
        "outcome": "overturned",
        "recognition_outcome": "recognised_partially",
        "ects_recognised": "2",
        "differences": [{"difference": NEW_DIFFERENCE, "reason": NEW_REASON}],
        "decided_on": "2024-06-01",
    }
    assert institution.post(f"/v1/recognitions/{recognised}/appeal-decision", overturned).is_success
    withdrawn = institution.post("/v1/recognitions", request | {"purpose": "admission"}).json()["id"]
    assert institution.post(f"/v1/recognitions/{withdrawn}/withdraw", {"reason": WITHDRAWAL}).is_success
    return Story(zebulon, revoked, UUID(recognised), UUID(withdrawn), graces, institution)


def stored_text(services: Services, schema: str) -> str:
    """Everything stored in the registry's schema, as text: each event's state decoded, each other table's rows."""
    with psycopg.connect(services.database.conninfo) as conn:
        events = conn.execute(sql.SQL("SELECT state FROM {}.registry_events").format(sql.Identifier(schema))).fetchall()
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name <> %s",
            [schema, "registry_events"],
        ).fetchall()
        rows = [
            text
            for (table,) in tables
            for (text,) in conn.execute(
                sql.SQL("SELECT t::text FROM {}.{} t").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchall()
        ]
    assert events and len(tables) > 10
    return "\n".join([bytes(state).decode() for (state,) in events] + rows)


def notes(registry: Registry, aggregate_id: UUID) -> list[tuple[str, str | None]]:
    """The free text of each of the aggregate's events, as the registry opens it (None once erased)."""
    events = registry.repository.event_store.get(aggregate_id)
    fields = [(event, NOTES.get(type(event).__name__)) for event in events]
    return [(field, registry.open_text(getattr(event, field), aggregate_id, field)) for event, field in fields if field]


def forget_learner_cli(services: Services, learner_id: UUID) -> Result:
    """``mcreg forget-learner``, run on the test's database and schema."""
    env = {
        "MCREG_DATABASE_URL": services.database.conninfo,
        "POSTGRES_SCHEMA": services.settings.postgres_schema,
        "MCREG_LOG_FORMAT": "json",
    }
    logging = structlog.get_config()
    try:
        return CliRunner().invoke(app, ["forget-learner", str(learner_id)], prog_name="mcreg", env=env)
    finally:
        structlog.configure(**logging)


def found(stored: str) -> list[str]:
    return [secret for secret in SECRETS if secret in stored]


def test_forgetting_a_learner_leaves_no_plaintext_of_her_in_events_or_read_models(
    services: Services, read_models: ReadModels, client, schema: str
):
    story = tell(services, client)
    read_models.catch_up()
    assert found(stored_text(services, schema)) == []  # sealed from the start, never copied out in clear

    assert forget_learner_cli(services, story.learner_id).exit_code == 0
    read_models.catch_up()

    assert found(stored_text(services, schema)) == []
    assert services.registry.learner_data(story.revoked) is None


def test_readers_show_the_text_while_the_key_exists_and_erased_after(
    services: Services, read_models: ReadModels, client
):
    story = tell(services, client)
    read_models.catch_up()
    institution = story.institution
    in_force = [{"difference": NEW_DIFFERENCE, "reason": NEW_REASON}]
    assert institution.get(f"/v1/recognitions/{story.recognised}").json()["verdict"]["differences"] == in_force
    graphql = ask(client, RECOGNITION, token=institution.token, id=str(story.recognised))["data"]["recognition"]
    assert graphql["differences"] == in_force
    registry = services.registry
    assert notes(registry, story.revoked) == [("reason", SUSPENSION), ("note", REVOCATION)]
    assert notes(registry, story.recognised) == [("grounds", GROUNDS)]
    assert notes(registry, story.withdrawn) == [("reason", WITHDRAWAL)]

    registry.forget_learner(OPERATOR, story.learner_id)
    read_models.catch_up()

    erased = [{"difference": None, "reason": None}]
    assert institution.get(f"/v1/recognitions/{story.recognised}").json()["verdict"]["differences"] == erased
    graphql = ask(client, RECOGNITION, token=institution.token, id=str(story.recognised))["data"]["recognition"]
    assert graphql["differences"] == erased
    assert notes(registry, story.revoked) == [("reason", None), ("note", None)]
    assert notes(registry, story.recognised) == [("grounds", None)]
    assert notes(registry, story.withdrawn) == [("reason", None)]
    # Another learner's notes are untouched.
    assert notes(registry, story.graces) == [("reason", GRACE)]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("revoke", {"reason": "fraud", "note": "x" * 4001}, "note"),
        ("revoke", {"reason": "fraud", "note": 42}, "note"),
        ("suspend", {"reason": "   "}, "reason"),
    ],
)
def test_bad_free_text_gets_a_problem_naming_the_field(services: Services, client, path, body, field):
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    answer = provider.post(f"/v1/credentials/{credential_id}/{path}", body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_bad_free_text_on_a_recognition_gets_a_problem_naming_the_field(services: Services, client):
    story = tell(services, client)
    institution = story.institution
    credential_id = services.registry.get(Recognition, story.recognised).credential_id
    request = {"credential_id": str(credential_id), "institution_id": str(institution.org), "purpose": "admission"}
    recognition = institution.post("/v1/recognitions", request).json()["id"]
    refusal = {"outcome": "refused", "ects_recognised": "0"}

    too_long = [{"difference": "No lab work", "reason": "x" * 4001}]
    answer = institution.post(f"/v1/recognitions/{recognition}/decision", refusal | {"differences": too_long})
    assert (answer.status_code, answer.json()["field"]) == (422, "differences[0].reason")

    fine = [{"difference": "No lab work", "reason": "Lab work is compulsory"}]
    assert institution.post(f"/v1/recognitions/{recognition}/decision", refusal | {"differences": fine}).is_success
    answer = institution.post(f"/v1/recognitions/{recognition}/appeal", {"grounds": "x" * 20001})
    assert (answer.status_code, answer.json()["field"]) == (422, "grounds")
    answer = institution.post(f"/v1/recognitions/{recognition}/withdraw", {"reason": 7})
    assert (answer.status_code, answer.json()["field"]) == (422, "reason")
