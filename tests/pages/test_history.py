"""The history page: an auditor, or anyone curious, reads what happened to a public record, who recorded it, when,
where each event sits in the transparency log, and what the record said on a date; never a learner's data."""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR, World

SEALED_REASON = "She admitted to plagiarism"
NOTE = "Caught copying in the exam"


def get(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, f"{path}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def caught_up(client: TestClient, read_models: ReadModels) -> None:
    read_models.catch_up()
    client.app.state.transparency_log.catch_up()  # type: ignore[attr-defined]


def rows(html: str) -> list[str]:
    """The events table's rows, as text without tags."""
    body = html[html.index('<table class="events">') :]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr.*?</tr>", body, re.S)[1:]]


@pytest.fixture
def credential_id(services: Services, world: World) -> UUID:
    r = services.registry
    credential_id = world.issue(
        issued_on=date(2024, 3, 1), learner=PersonalData("Ana Kovač", date(1999, 1, 2), "ana@example.org"), grade="9/10"
    )
    r.suspend_credential(world.provider, credential_id, reason=SEALED_REASON, effective=date(2024, 5, 1))
    r.reinstate_credential(world.provider, credential_id, effective=date(2024, 6, 1))
    r.revoke_credential(world.provider, credential_id, reason="fraud", note=NOTE, effective=date(2024, 9, 1))
    return credential_id


def test_a_credential_s_history_shows_each_event_with_reason_codes_only(
    client: TestClient, read_models: ReadModels, credential_id: UUID
) -> None:
    caught_up(client, read_models)
    html = get(client, f"/history/{credential_id}")

    events = rows(html)
    assert [e.split(" Universiteit")[0] for e in events] == [
        "The credential was issued",
        "The credential was suspended",
        "The credential's suspension was lifted",
        "The credential was revoked Reason: fraud ( fraud )",
    ]
    assert "Universiteit Voorbeeld , provider 2024-05-01" in events[1], "who recorded it, and when it took effect"
    for private in ("Ana", "Kovač", "ana@example.org", "1999", "9/10", SEALED_REASON, NOTE, "learner"):
        assert private not in html, private
    assert "<h1>History of a credential</h1>" in html


def test_each_event_links_its_inclusion_proof_against_the_latest_checkpoint(
    client: TestClient, read_models: ReadModels, credential_id: UUID
) -> None:
    caught_up(client, read_models)
    html = get(client, f"/history/{credential_id}")

    proofs = re.findall(r'href="(/v1/log/proof/inclusion\?index=(\d+))"', html)
    assert len(proofs) == 4
    positions = [e.notification_id for e in read_models.audit_timeline.of_aggregate(credential_id)]
    for (link, index), position in zip(proofs, positions, strict=True):
        proof = client.get(link).json()
        assert (proof["index"], proof["position"]) == (int(index), position)
        assert proof["tree_size"] == client.app.state.transparency_log.size()  # type: ignore[attr-defined]
        assert f"Leaf {index}: inclusion proof" in html


def test_an_event_the_log_has_not_taken_in_yet_says_so(
    client: TestClient, read_models: ReadModels, credential_id: UUID
) -> None:
    read_models.catch_up()  # the log is not
    html = get(client, f"/history/{credential_id}")
    assert "inclusion proof" not in html and html.count("Not in a signed checkpoint yet") == 4


def test_the_state_is_shown_as_it_stood_on_the_date_asked(
    client: TestClient, read_models: ReadModels, credential_id: UUID
) -> None:
    caught_up(client, read_models)

    def field(html: str, label: str) -> str:
        found = re.search(rf'<th scope="row">{label}</th><td>(.*?)</td>', html, re.S)
        assert found, label
        return re.sub(r"<[^>]+>", "", found.group(1)).strip()

    suspended = get(client, f"/history/{credential_id}?as_of=2024-05-15")
    assert field(suspended, "Status") == "suspended"
    assert field(suspended, "Revoked on") == "none"
    assert "As it stood on 2024-05-15" in suspended
    active = get(client, f"/history/{credential_id}?as_of=2024-07-01")
    assert field(active, "Status") == "active"
    revoked = get(client, f"/history/{credential_id}")
    assert (field(revoked, "Status"), field(revoked, "Reason for revocation")) == ("revoked", "fraud")
    before = get(client, f"/history/{credential_id}?known_at=2000-01-01")
    assert "The registry had not recorded this yet at that time." in before


def test_agencies_providers_accreditations_and_micro_credentials_have_histories(
    client: TestClient, services: Services, read_models: ReadModels, world: World
) -> None:
    services.registry.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2024, 1, 10))
    caught_up(client, read_models)

    agency = get(client, f"/history/{world.agency_id}")
    assert rows(agency)[1].startswith("The agency's registration was suspended the registry's operator 2024-01-10")
    assert "<h1>History of a QA agency</h1>" in agency
    provider = get(client, f"/history/{world.provider_id}")
    assert "The accreditation was granted" not in provider and "An accreditation was granted" in provider
    accreditation = get(client, f"/history/{world.accreditation_id}?as_of=2020-06-01")
    assert re.search(r"Standing</th><td>not yet valid</td>", accreditation)
    assert f'<a href="/history/{world.provider_id}">Universiteit Voorbeeld</a>' in accreditation, "named, and linked"
    microcredential = get(client, f"/history/{world.microcredential_id}")
    assert "Data analysis with Python" in microcredential
    assert "The micro-credential was specified" in microcredential


def test_what_is_private_or_unknown_has_no_history(
    client: TestClient, services: Services, read_models: ReadModels, world: World
) -> None:
    """A recognition's details are its institution's and the issuer's (decision 21): its history is not public,
    and the page answers as for an id the registry never gave, so it does not even tell that it exists."""
    institution_id = world.register_provider("BE", "Université Exemple")
    recognition_id = services.registry.request_recognition(
        Actor(institution_id, Role.INSTITUTION, key_id="institution"),
        credential_id=world.issue(),
        institution_id=institution_id,
        purpose="admission",
    )
    caught_up(client, read_models)
    assert read_models.audit_timeline.of_aggregate(recognition_id), "the recognition has events"
    for hidden in (recognition_id, uuid4()):
        html = get(client, f"/history/{hidden}", status=404)
        assert "No public history" in html and str(hidden) in html


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/history/not-a-uuid", 400, "is not an identifier of the registry"),
        ("/history/%3Cscript%3Ealert(1)", 400, "&lt;script&gt;alert(1)"),
        ("/history/{id}?as_of=2024-13-01", 400, 'The field "as_of" cannot be "2024-13-01"'),
        ("/history/{id}?as_of=yesterday", 400, 'The field "as_of"'),
        ("/history/{id}?known_at=1066-10-14", 400, 'The field "known_at"'),
        ("/history/{id}?after=-1", 400, 'The field "after"'),
    ],
)
def test_bad_input_is_a_page_saying_what_is_wrong(
    client: TestClient, world: World, read_models: ReadModels, path: str, status: int, says: str
) -> None:
    read_models.catch_up()
    html = get(client, path.format(id=world.microcredential_id), status=status)
    assert says in html and "<script>" not in html and "Traceback" not in html


def test_a_refusal_is_worded_in_the_pages_language(client: TestClient) -> None:
    german = {"Accept-Language": "de"}
    malformed = client.get("/history/not-an-id", headers=german)
    assert malformed.status_code == 400 and "Ungültige Anfrage" in malformed.text
    unknown = client.get("/history/00000000-0000-4000-8000-000000000000", headers=german)
    assert unknown.status_code == 404 and "Kein öffentlicher Verlauf" in unknown.text


def test_identifiers_added_are_told_in_words_never_a_learner_s_number_or_a_course_s_ids(
    client: TestClient, services: Services, read_models: ReadModels, world: World
) -> None:
    r = services.registry
    credential_id = world.issue(issued_on=date(2024, 3, 1), learner=PersonalData("Ana Kovač"))
    for identifier in ("sis_student:s1234567", "sis_course:2026-S1/MATH101", "lti_resource_link:link-77"):
        scheme, value = identifier.split(":", 1)
        r.add_credential_identifier(world.provider, credential_id, scheme=scheme, value=value)
    r.add_provider_identifier(world.provider, world.provider_id, scheme="schac", value="voorbeeld.nl")
    caught_up(client, read_models)

    credential = get(client, f"/history/{credential_id}")
    added = "Identifiers from the provider's own systems were added to the credential Added:"
    assert [e.split(" Universiteit")[0] for e in rows(credential)[1:]] == [
        f"{added} a student number. Their values are not public.",
        f"{added} a course id. Their values are not public.",
        f"{added} an LTI resource link id. Their values are not public.",
    ]
    for private in ("s1234567", "MATH101", "link-77", "IdentifiersAdded", "Ana"):
        assert private not in credential, private
    provider = get(client, f"/history/{world.provider_id}")
    assert "Identifiers from other registers were recorded for the provider Added: SCHAC code voorbeeld.nl" in " ".join(
        rows(provider)
    )
    german = client.get(f"/history/{credential_id}", headers={"Accept-Language": "de"}).text
    assert "eine Matrikelnummer" in german and "s1234567" not in german
