"""GraphQL's ``credentialsByIdentifier`` answers as ``POST /v1/lookup/credentials`` does, for every caller: the same
credentials to those who may look up, the same refusals (FORBIDDEN where REST says 403, BAD_USER_INPUT naming the
same field where it says 422), a student number only within the provider that gave it, and never in a URL.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.world import OPERATOR, World

COURSE = "2026-S1/MATH101"
CONTEXT = "c1d887f0-a1a3-4bca-ae25-c375edcc131a"
LINK = "200d101f-2c14-434a-a0f3-57c2a42369fd"
QUERY = """query($identifier: String!, $provider: ID, $after: ID, $limit: Int!) {
  credentialsByIdentifier(identifier: $identifier, provider: $provider, after: $after, limit: $limit) {
    identifier providerId credentialIds next credentials { id status } } }"""


def rest(who: As, identifier: str, provider: str | None = None, after: str | None = None, limit: int = 100) -> Any:
    """REST's answer: the page's ids, identifier, provider and next; or the status and the field it names."""
    body = {"identifier": identifier, "provider": provider, "after": after, "limit": limit}
    response = who.post("/v1/lookup/credentials", {k: v for k, v in body.items() if v is not None})
    answer = response.json()
    if response.status_code == 200:
        ids = [c["id"] for c in answer["credentials"]]
        return (ids, answer["identifier"], answer["provider_id"], answer["next"])
    return (response.status_code, answer.get("field"))


def graphql(who: As, identifier: str, provider: str | None = None, after: str | None = None, limit: int = 100) -> Any:
    """GraphQL's answer, in the same shape: a refusal as the status REST would answer it with."""
    variables = {"identifier": identifier, "provider": provider, "after": after, "limit": limit}
    response = who.client.post("/graphql", json={"query": QUERY, "variables": variables}, headers=who.headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    if answer.get("errors"):
        (error,) = answer["errors"]
        code = error["extensions"]["code"]
        status = {"FORBIDDEN": 403, "NOT_FOUND": 404, "BAD_USER_INPUT": 422}[code]
        return (status, error["message"].split(":")[0] if status == 422 else None)
    found = answer["data"]["credentialsByIdentifier"]
    assert [c["id"] for c in found["credentials"]] == found["credentialIds"]  # the read models have caught up
    return (found["credentialIds"], found["identifier"], found["providerId"], found["next"])


def issue(world: World, student: str | None, **course: str) -> str:
    return str(world.issue(learner=PersonalData("Ana Kovač", student_id=student), **course))


@pytest.fixture
def other(services: Services) -> World:
    """Another provider, in another country, whose systems happen to use the same course id and student number."""
    return World(services.registry)


def test_graphql_finds_what_rest_finds_for_whoever_asks(
    world: World,
    other: World,
    services: Services,
    client: TestClient,
    provider: As,
    public: As,
    read_models: ReadModels,
) -> None:
    issue(world, "s1234567", course_id=COURSE, lti_context_id=CONTEXT, lti_resource_link_id=LINK)
    issue(world, "s7654321", course_id=COURSE)
    issue(other, "s1234567", course_id=COURSE, lti_context_id=CONTEXT)
    forgotten = issue(world, "s2468", course_id=COURSE)
    read_models.catch_up()
    world.registry.forget_learner(OPERATOR, world.registry.get(Credential, UUID(forgotten)).learner_id)
    mine, theirs = str(world.provider_id), str(other.provider_id)
    callers = {
        "provider": provider,
        "their provider": caller(services, client, Role.PROVIDER, other.provider_id),
        "nl authority": caller(services, client, Role.NATIONAL_AUTHORITY, OPERATOR.org, country="NL"),
        "be authority": caller(services, client, Role.NATIONAL_AUTHORITY, OPERATOR.org, country="BE"),
        "operator": caller(services, client, Role.OPERATOR, OPERATOR.org),
        "agency": caller(services, client, Role.QA_AGENCY, world.agency_id),
        "auditor": caller(services, client, Role.AUDITOR, OPERATOR.org),
        "public": public,
    }
    questions: list[dict[str, Any]] = [
        {"identifier": f"sis_course:{COURSE}"},
        {"identifier": f"sis_course:{COURSE}", "provider": mine},
        {"identifier": f"sis_course:{COURSE}", "provider": mine, "limit": 1},
        {"identifier": f"lti_context:{CONTEXT}", "provider": theirs},
        {"identifier": f"lti_resource_link:{LINK}", "provider": mine},
        {"identifier": "sis_student:s1234567", "provider": mine},  # the other provider's learner is not found
        {"identifier": "sis_student:s1234567", "provider": theirs},
        {"identifier": "sis_student:s2468", "provider": mine},  # forgotten, before the read model heard of it
        {"identifier": "sis_student:s 1", "provider": mine},
        {"identifier": "erasmus:NL GRONING03", "provider": mine},
        {"identifier": f"sis_course:{COURSE}", "provider": mine, "limit": 1001},
        {"identifier": f"sis_course:{COURSE}", "provider": "00000000-0000-4000-8000-000000000000"},
    ]
    answers = {}
    for name, who in callers.items():
        for question in questions:
            answer = rest(who, **question)
            assert graphql(who, **question) == answer, (name, question)
            answers[name, str(question)] = answer
    # What they agree on is the rule: the provider and those who read its learners find its credentials, no one else.
    student = str({"identifier": "sis_student:s1234567", "provider": mine})
    assert [len(answers[name, student][0]) for name in ("provider", "nl authority", "operator")] == [1, 1, 1]
    assert [answers[name, student] for name in ("their provider", "be authority", "agency", "auditor", "public")] == [
        (403, None)
    ] * 5
    assert answers["provider", str({"identifier": "sis_student:s2468", "provider": mine})][0] == []
    assert answers["operator", str({"identifier": f"sis_course:{COURSE}"})] == (422, "provider")
    assert answers["provider", str(questions[8])] == (422, "identifier")
    assert answers["provider", str(questions[10])] == (422, "limit")


def test_graphql_pages_as_rest_does(world: World, provider: As, read_models: ReadModels) -> None:
    issued = sorted(issue(world, None, course_id=COURSE) for _ in range(3))
    read_models.catch_up()
    pages: list[str] = []
    after = None
    while True:
        ids, _, _, after = graphql(provider, f"sis_course:{COURSE}", after=after, limit=2)
        assert rest(provider, f"sis_course:{COURSE}", after=pages[-1] if pages else None, limit=2)[0] == ids
        pages.extend(ids)
        if after is None:
            break
    assert pages == issued


def test_a_student_number_is_never_asked_for_in_a_url(world: World, provider: As, read_models: ReadModels) -> None:
    issue(world, "s1234567")
    read_models.catch_up()
    query = '{ credentialsByIdentifier(identifier: "sis_student:s1234567") { credentialIds } }'
    response = provider.client.get("/graphql", params={"query": query}, headers=provider.headers())
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "POST" in error["message"]
