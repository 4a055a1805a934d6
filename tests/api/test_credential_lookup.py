"""A registrar finds its credentials by the names its own systems gave them: the SIS course id, the LTI context id,
the student number. Within its own provider only, never for the public, and never by the student number of a
learner who was forgotten; the number itself is stored nowhere, only a keyed hash of it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from psycopg.sql import SQL

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.vocabulary import Role
from tests.api.rest import As, caller
from tests.world import OPERATOR, World

COURSE = "2026-S1/MATH101"
CONTEXT = "c1d887f0-a1a3-4bca-ae25-c375edcc131a"


def look(who: As, **query: Any) -> Any:
    """A lookup, its query in the body: a student number never goes in a URL."""
    return who.post("/v1/lookup/credentials", query)


def found(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["credentials"]]


def issue(world: World, student: str | None, **course: str) -> str:
    learner = PersonalData("Ana Kovač", student_id=student)
    return str(world.issue(learner=learner, **course))


@pytest.fixture
def other(services: Services) -> World:
    """Another provider, in another country, whose systems happen to use the same course id and student number."""
    return World(services.registry)


def test_a_provider_finds_its_credentials_by_course_context_and_student_number(
    world: World, other: World, provider: As, read_models: ReadModels
) -> None:
    first = issue(world, "s1234567", course_id=COURSE, lti_context_id=CONTEXT)
    second = issue(world, "s7654321", course_id=COURSE)
    issue(world, None)  # no identifier at all
    issue(other, "s1234567", course_id=COURSE, lti_context_id=CONTEXT)  # the same names in another provider's SIS
    row = {"microcredential_id": str(world.microcredential_id), "issued_on": "2024-03-02", "lti_context_id": CONTEXT}
    batch = provider.post(
        "/v1/credentials:batch", {"rows": [row | {"learner": {"name": "Jan", "student_id": "s1234567"}}]}
    )
    assert batch.status_code == 201, batch.text
    third = batch.json()["results"][0]["id"]
    read_models.catch_up()
    assert sorted(found(look(provider, identifier=f"sis_course:{COURSE}"))) == sorted([first, second])
    assert sorted(found(look(provider, identifier=f"lti_context:{CONTEXT}"))) == sorted([first, third])
    by_student = look(provider, identifier="sis_student:s1234567")
    assert sorted(found(by_student)) == sorted([first, third])
    assert by_student.json()["provider_id"] == str(world.provider_id)
    assert by_student.json()["credentials"][0]["href"].startswith("/v1/credentials/")
    assert found(look(provider, identifier="sis_student:s0000000")) == []


def test_the_student_number_is_stored_nowhere_and_its_hash_is_scoped_to_the_provider(
    world: World, other: World, services: Services, read_models: ReadModels
) -> None:
    issue(world, "s1234567")
    issue(other, "s1234567")
    read_models.catch_up()
    rows = read_models.credential_identifiers.rows("credential_identifiers")
    digests = {bytes(row["student_digest"]) for row in rows}
    assert len(digests) == 2  # the same number in two providers' systems: two hashes
    assert all(b"s1234567" not in d and len(d) == 32 for d in digests)
    assert "s1234567" not in repr(rows)


def test_forgetting_the_learner_makes_the_student_number_find_nothing(
    world: World, provider: As, read_models: ReadModels
) -> None:
    credential = issue(world, "s1234567", course_id=COURSE)
    read_models.catch_up()
    assert found(look(provider, identifier="sis_student:s1234567")) == [credential]
    world.registry.forget_learner(OPERATOR, world.registry.get(Credential, UUID(credential)).learner_id)
    # At once, before the read model hears of the erasure ...
    assert found(look(provider, identifier="sis_student:s1234567")) == []
    read_models.catch_up()
    # ... and after it, when its hash is gone; the course, not personal, still finds the credential.
    assert found(look(provider, identifier="sis_student:s1234567")) == []
    assert found(look(provider, identifier=f"sis_course:{COURSE}")) == [credential]
    rows = read_models.credential_identifiers.rows("credential_identifiers")
    assert [row["student_digest"] for row in rows] == [None]
    assert read_models.check(["credential_identifiers"]).equal  # a rebuild has no key to hash the number with


def test_only_the_provider_and_those_who_read_its_learners_may_look_up(
    world: World, other: World, services: Services, client: TestClient, provider: As, public: As
) -> None:
    issue(world, "s1234567", course_id=COURSE)
    mine = {"identifier": "sis_student:s1234567", "provider": str(world.provider_id)}
    nl = caller(services, client, Role.NATIONAL_AUTHORITY, OPERATOR.org, country="NL")
    be = caller(services, client, Role.NATIONAL_AUTHORITY, OPERATOR.org, country="BE")
    operator = caller(services, client, Role.OPERATOR, OPERATOR.org)
    agency = caller(services, client, Role.QA_AGENCY, world.agency_id)
    for allowed in (provider, nl, operator):
        assert look(allowed, **mine).status_code == 200
    for refused in (be, agency, public):
        assert look(refused, **mine).status_code == 403
    assert look(public, identifier="sis_student:s1234567").status_code == 403
    assert provider.get("/v1/lookup/credentials", **mine).status_code == 405  # a student number goes in no URL
    theirs = {"identifier": f"sis_course:{COURSE}", "provider": str(other.provider_id)}
    assert look(provider, **theirs).status_code == 403


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"identifier": "orcid:0000-0002-1825-0097"}, "identifier", "must be scheme:value"),
        ({"identifier": "sis_student:s 123"}, "identifier", "student number"),
        ({"identifier": "lti_context:has space"}, "identifier", "LTI context id"),
        ({"identifier": "erasmus:NL GRONING03"}, "identifier", "credential's identifier"),
    ],
)
def test_a_credential_lookup_names_the_field_and_rule_it_breaks(
    provider: As, params: dict[str, str], field: str, rule: str
) -> None:
    response = look(provider, **params)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and rule in response.json()["rule"]


def test_others_than_a_provider_name_the_provider(services: Services, client: TestClient) -> None:
    operator = caller(services, client, Role.OPERATOR, OPERATOR.org)
    response = look(operator, identifier=f"sis_course:{COURSE}")
    assert (response.status_code, response.json()["field"]) == (422, "provider")


def test_a_course_is_read_a_page_at_a_time(world: World, provider: As, read_models: ReadModels) -> None:
    issued = sorted(issue(world, None, course_id=COURSE) for _ in range(3))
    read_models.catch_up()
    pages: list[str] = []
    params: dict[str, Any] = {"identifier": f"sis_course:{COURSE}", "limit": 2}
    while True:
        page = look(provider, **params)
        pages.extend(found(page))
        if page.json()["next"] is None:
            break
        params["after"] = page.json()["next"]
    assert pages == issued


def test_the_provider_adds_identifiers_after_issue_and_the_credential_is_found_by_them(
    world: World,
    other: World,
    services: Services,
    client: TestClient,
    provider: As,
    public: As,
    read_models: ReadModels,
) -> None:
    credential = issue(world, None)
    read_models.catch_up()
    path = f"/v1/credentials/{credential}/external-identifiers"
    assert provider.post(path, {"identifier": f"sis_course:{COURSE}"}).status_code == 200
    assert provider.post(path, {"identifier": f"sis_course:{COURSE}"}).status_code == 200  # the same again: no-op
    assert provider.post(path, {"identifier": "sis_course:OTHER-1"}).status_code == 409
    assert provider.post(path, {"identifier": "sis_student:s2468"}).status_code == 200
    assert provider.post(path, {"identifier": "sis_student:s1357"}).status_code == 409
    shown = provider.get(f"/v1/credentials/{credential}").json()
    assert (shown["course_id"], shown["learner"]["student_id"]) == (COURSE, "s2468")
    events = services.registry.events.get(UUID(credential))
    assert "s2468" not in repr([services.registry.mapper.to_stored_event(e).state for e in events])
    read_models.catch_up()
    assert found(look(provider, identifier=f"sis_course:{COURSE}")) == [credential]
    assert found(look(provider, identifier="sis_student:s2468")) == [credential]
    # Only the issuing provider adds them; a bad identifier is refused naming the field.
    theirs = caller(services, client, Role.PROVIDER, other.provider_id)
    operator = caller(services, client, Role.OPERATOR, OPERATOR.org)
    assert theirs.post(path, {"identifier": "lti_context:ctx-9"}).status_code == 403
    assert operator.post(path, {"identifier": "lti_context:ctx-9"}).status_code == 403
    assert public.post(path, {"identifier": "lti_context:ctx-9"}).status_code == 401
    for bad in ("erasmus:NL GRONING03", "lti_context:has space", "orcid:1"):
        refused = provider.post(path, {"identifier": bad})
        assert (refused.status_code, refused.json()["field"]) == (422, "identifier")
    # Erased with the learner: the number added after issue finds nothing, and no new one is taken.
    world.registry.forget_learner(OPERATOR, world.registry.get(Credential, UUID(credential)).learner_id)
    assert provider.post(path, {"identifier": "sis_student:s2468"}).status_code == 409
    read_models.catch_up()
    assert found(look(provider, identifier="sis_student:s2468")) == []
    assert read_models.check(["credential_identifiers"]).equal


def test_a_credential_issued_with_a_student_number_keeps_it(world: World, provider: As) -> None:
    credential = issue(world, "s1234567")
    path = f"/v1/credentials/{credential}/external-identifiers"
    assert provider.post(path, {"identifier": "sis_student:s1234567"}).status_code == 200
    conflict = provider.post(path, {"identifier": "sis_student:s7654321"})
    assert conflict.status_code == 409 and "s1234567" not in conflict.text  # the number is not told back


LINK = "200d101f-2c14-434a-a0f3-57c2a42369fd"


def test_a_credential_is_found_by_its_lti_resource_link_given_at_issue_or_added_later(
    world: World, provider: As, public: As, read_models: ReadModels
) -> None:
    mc = str(world.microcredential_id)
    by_json = provider.post(
        "/v1/credentials", {"microcredential_id": mc, "learner": {"name": "Ana"}, "lti_resource_link_id": LINK}
    )
    assert by_json.status_code == 201, by_json.text
    text = f"row_key,microcredential_id,learner_name,lti_resource_link_id\nr1,{mc},Jan,{LINK}\nr2,{mc},Eva,has space\n"
    headers = provider.headers() | {"Content-Type": "text/csv"}
    imported = provider.client.post(
        "/v1/credentials:import", content=text.encode(), params={"all_or_nothing": "false"}, headers=headers
    )
    assert imported.status_code == 200, imported.text
    rows = imported.json()["results"]
    assert [(r["status"], r.get("column")) for r in rows] == [("issued", None), ("refused", "lti_resource_link_id")]
    by_csv = rows[0]["id"]
    later = issue(world, None)
    path = f"/v1/credentials/{later}/external-identifiers"
    assert provider.post(path, {"identifier": f"lti_resource_link:{LINK}"}).status_code == 200
    assert provider.post(path, {"identifier": "lti_resource_link:another"}).status_code == 409
    read_models.catch_up()
    expected = sorted([by_json.json()["id"], by_csv, later])
    assert sorted(found(look(provider, identifier=f"lti_resource_link:{LINK}"))) == expected
    assert provider.get(f"/v1/credentials/{later}").json()["lti_resource_link_id"] == LINK
    assert public.get(f"/v1/credentials/{later}").json()["lti_resource_link_id"] is None  # the provider's, as a course
    # Its rule, as the other schemes': at issue, added later, looked up; each a 422 naming its field.
    bad = provider.post(
        "/v1/credentials", {"microcredential_id": mc, "learner": {"name": "Ana"}, "lti_resource_link_id": "a b"}
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "lti_resource_link_id")
    assert "LTI resource link id" in bad.json()["rule"]
    for refused in (
        provider.post(path, {"identifier": "lti_resource_link:a b"}),
        look(provider, identifier="lti_resource_link:"),
    ):
        assert (refused.status_code, refused.json()["field"]) == (422, "identifier")
    assert read_models.check(["credential_identifiers"]).equal


def test_a_registry_from_before_the_resource_link_gains_its_column_on_start(
    world: World, provider: As, read_models: ReadModels
) -> None:
    course = issue(world, None, course_id=COURSE)
    read_models.catch_up()
    view = read_models.credential_identifiers
    with view.datastore.transaction(commit=True) as curs:  # the table, and its row, as made before resource links
        curs.execute(SQL("ALTER TABLE {0}.credential_identifiers DROP COLUMN lti_resource_link_id").format(view.schema))
    view.create_table()  # what starting the registry does
    linked = issue(world, None, lti_resource_link_id=LINK)
    read_models.catch_up()
    assert found(look(provider, identifier=f"sis_course:{COURSE}")) == [course]
    assert found(look(provider, identifier=f"lti_resource_link:{LINK}")) == [linked]
