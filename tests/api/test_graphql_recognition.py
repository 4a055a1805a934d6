"""Institutions follow recognitions and national authorities read their dashboard over GraphQL: counts only."""

from __future__ import annotations

from uuid import uuid4

from mcreg.registry.vocabulary import Role
from tests.api.test_graphql import ask
from tests.projections.histories import record_history

RECOGNITIONS = """query($credential: ID, $institution: ID, $status: String, $first: Int, $after: String) {
  recognitions(credentialId: $credential, institutionId: $institution, status: $status, first: $first, after: $after) {
    edges { node { id status outcome ectsRecognised differences { difference reason } decidedOn credentialStatus
      qaBasis { kind } qaStanding appeal institutionCountry issuerCountry institution { country }
      credential { status } } }
    pageInfo { hasNextPage endCursor } } }"""

DASHBOARD = """query($country: String, $from: String, $to: String) {
  dashboard(country: $country, from: $from, to: $to) { country from to
  issued { total { issued revoked } byCountry { country issued revoked } byEqfLevel { eqfLevel issued revoked }
    byIscedBroadField { iscedBroadField issued revoked } byMonth { month issued revoked } }
  qaCoverage { underAccreditation underReview total positiveShare byStanding { standing credentials } }
  recognitionRates { country decided outcomes { outcome recognitions share } }
  crossBorder { fromCountry toCountry total outcomes { outcome recognitions } } } }"""


def test_a_german_university_pages_through_its_recognitions_and_reads_one_overturned_on_appeal(
    services, read_models, client
):
    history = record_history(services.registry)
    read_models.catch_up()
    full, refused, _, withdrawn = history.recognitions
    token = services.keys.create(history.de_institution_id, Role.INSTITUTION, name="registrar").token

    seen, after = [], None
    while True:
        page = ask(client, RECOGNITIONS, token=token, institution=str(history.de_institution_id), first=2, after=after)
        connection = page["data"]["recognitions"]
        seen += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert [r["id"] for r in seen] == [str(full), str(refused), str(withdrawn)]  # in the order requested
    overturned = seen[1]
    assert (overturned["status"], overturned["outcome"], overturned["appeal"]) == (
        "appeal_decided",
        "recognised_partially",
        "overturned",
    )
    assert overturned["ectsRecognised"] == "2.00"
    assert overturned["differences"] == [
        {"difference": "No lab work", "reason": "The programme requires supervised lab work"}
    ]
    assert (overturned["issuerCountry"], overturned["institution"]) == ("BE", {"country": "DE"})
    assert (overturned["credentialStatus"], overturned["qaBasis"]) == ("active", {"kind": "review"})
    assert seen[2]["status"] == "withdrawn"
    withdrawn_only = ask(
        client, RECOGNITIONS, token=token, institution=str(history.de_institution_id), status="withdrawn"
    )
    assert [edge["node"]["id"] for edge in withdrawn_only["data"]["recognitions"]["edges"]] == [str(withdrawn)]

    of_credential = ask(client, RECOGNITIONS, token=token, credential=str(history.nl_credentials[0]))["data"][
        "recognitions"
    ]
    assert [edge["node"]["id"] for edge in of_credential["edges"]] == [str(full)]
    query = "query($id: ID!) { recognition(id: $id) { id outcome credential { status } } }"
    assert ask(client, query, token=token, id=str(full))["data"]["recognition"] == {
        "id": str(full),
        "outcome": "recognised",
        "credential": {"status": "active"},
    }
    assert ask(client, query, id="00000000-0000-0000-0000-000000000000")["data"]["recognition"] is None


def test_recognition_details_are_for_the_institution_and_the_authorities_concerned(services, read_models, client):
    history = record_history(services.registry)
    read_models.catch_up()
    full = history.recognitions[0]  # a German university recognises a Dutch credential
    credential = str(history.nl_credentials[0])

    def seen(token):
        page = ask(client, RECOGNITIONS, token=token, credential=credential)["data"]["recognitions"]
        return [edge["node"]["id"] for edge in page["edges"]]

    def authority(country):
        return services.keys.create(uuid4(), Role.NATIONAL_AUTHORITY, name=country, country=country).token

    operator = services.keys.create(uuid4(), Role.OPERATOR, name="operator").token
    assert seen(None) == []
    assert seen(authority("FR")) == []
    assert seen(authority("DE")) == seen(authority("NL")) == seen(operator) == [str(full)]
    query = "query($id: ID!) { recognition(id: $id) { id } }"
    refused = ask(client, query, id=str(full))
    assert refused["data"]["recognition"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other_institution = services.keys.create(history.nl_credentials[0], Role.INSTITUTION, name="x").token
    assert ask(client, query, token=other_institution, id=str(full))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_recognitions_are_asked_of_one_credential_or_one_institution_with_clear_errors(services, read_models, client):
    history = record_history(services.registry)
    read_models.catch_up()
    credential, institution = str(history.nl_credentials[0]), str(history.de_institution_id)

    for variables, message in (
        ({}, "recognitions: give either credentialId or institutionId"),
        (
            {"credential": credential, "institution": institution},
            "recognitions: give either credentialId or institutionId",
        ),
        ({"credential": "42"}, "credentialId: must be a UUID"),
        ({"credential": credential, "status": "decided"}, "status: filters an institution's recognitions only"),
        ({"institution": institution, "status": "lost"}, "status: must be one of "),
        ({"institution": institution, "after": "bm90IGEgY3Vyc29y"}, "after: is not a cursor this query gave"),
        ({"institution": institution, "first": 0}, "first: must be from 1 to 100"),
    ):
        (error,) = ask(client, RECOGNITIONS, **variables)["errors"]
        assert error["message"].startswith(message), variables
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_national_authority_reads_volumes_coverage_rates_and_flows_without_any_learner_data(
    services, read_models, client
):
    record_history(services.registry)
    read_models.catch_up()

    everywhere = ask(client, DASHBOARD)["data"]["dashboard"]

    issued = everywhere["issued"]
    assert issued["total"] == {"issued": 6, "revoked": 1}
    assert issued["byCountry"] == [
        {"country": "BE", "issued": 2, "revoked": 0},
        {"country": "NL", "issued": 4, "revoked": 1},
    ]
    assert issued["byEqfLevel"] == [
        {"eqfLevel": 5, "issued": 2, "revoked": 0},
        {"eqfLevel": 6, "issued": 4, "revoked": 1},
    ]
    assert issued["byIscedBroadField"] == [{"iscedBroadField": "06", "issued": 6, "revoked": 1}]
    assert [m["month"] for m in issued["byMonth"]] == ["2024-03", "2024-04", "2024-05"]
    coverage = everywhere["qaCoverage"]
    assert (coverage["underAccreditation"], coverage["underReview"], coverage["total"]) == (4, 2, 6)
    assert sum(s["credentials"] for s in coverage["byStanding"]) == 6
    rates = {r["country"]: r for r in everywhere["recognitionRates"]}
    assert rates["DE"]["decided"] == 2
    assert rates["DE"]["outcomes"] == [
        {"outcome": "recognised", "recognitions": 1, "share": 0.5},
        {"outcome": "recognised_partially", "recognitions": 1, "share": 0.5},
    ]
    assert [(f["fromCountry"], f["toCountry"], f["total"]) for f in everywhere["crossBorder"]] == [
        ("BE", "DE", 1),
        ("BE", "NL", 1),
        ("NL", "DE", 1),
    ]

    spring = ask(client, DASHBOARD, country="nl", **{"from": "2024-04", "to": "2024-05"})["data"]["dashboard"]
    assert (spring["country"], spring["from"], spring["to"]) == ("NL", "2024-04", "2024-05")
    assert spring["issued"]["byMonth"] == [{"month": "2024-04", "issued": 1, "revoked": 1}]

    type_names = ask(client, '{ __type(name: "Dashboard") { fields { name } } }')["data"]["__type"]["fields"]
    assert not {"learner", "name", "email", "birthDate"} & {f["name"] for f in type_names}


def test_dashboard_months_are_checked_before_anything_is_read(services, read_models, client):
    read_models.catch_up()
    for variables, message in (
        ({"from": "2024-13"}, "from: must be a month as YYYY-MM, e.g. 2024-03"),
        ({"to": "March 2024"}, "to: must be a month as YYYY-MM, e.g. 2024-03"),
        ({"from": "2024-03-01"}, "from: must be a month as YYYY-MM, e.g. 2024-03"),
        ({"from": "2024-06", "to": "2024-03"}, "to: must not be before from"),
        ({"country": "XX"}, "country: must be an ISO 3166-1 alpha-2 country code"),
    ):
        body = ask(client, DASHBOARD, **variables)
        (error,) = body["errors"]
        assert (error["message"], error["extensions"]["code"]) == (message, "BAD_USER_INPUT"), variables
        assert body["data"] is None


HISTORY = """query($id: ID!) { history(aggregateId: $id) { edges { node { eventType } } } }"""


def test_a_recognitions_history_is_read_by_its_parties_and_auditors_never_by_the_public(services, read_models, client):
    """Decisions 21, 48 and 65: a recognition's timeline names who asked, who decided and when; it is private."""
    history = record_history(services.registry)
    read_models.catch_up()
    recognition = history.recognitions[0]
    university = services.keys.create(history.de_institution_id, Role.INSTITUTION, name="registrar").token
    auditor = services.keys.create(uuid4(), Role.AUDITOR, name="auditor").token
    stranger = services.keys.create(uuid4(), Role.INSTITUTION, name="another university").token

    for token in (None, stranger):
        refused = ask(client, HISTORY, token=token, id=str(recognition))
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "history" in refused["errors"][0]["message"]
    for token in (university, auditor):
        events = ask(client, HISTORY, token=token, id=str(recognition))["data"]["history"]["edges"]
        assert events and events[0]["node"]["eventType"] == "Requested"

    credential = history.nl_credentials[0]
    public = ask(client, HISTORY, id=str(credential))["data"]["history"]["edges"]
    assert public[0]["node"]["eventType"] == "Issued"


def test_the_history_page_and_graphql_agree_on_which_histories_are_public():
    from mcreg.api.pages.history_state import PUBLIC
    from mcreg.projections.audit_timeline import PUBLIC_HISTORIES

    assert set(PUBLIC) == PUBLIC_HISTORIES
