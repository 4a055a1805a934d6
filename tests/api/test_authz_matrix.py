"""The authorisation matrix: every REST route, for every role, about its own or another's object → the status.

The matrix is the table ``authz_matrix.csv`` beside this file, one row per cell, sorted by route, then role.
Read a row ``method,route,role,object,status`` as "a caller in *role* sends *method route* about an *object*
and gets *status*":

- ``own``: the object belongs to the caller's organisation: its agency (and that agency's accreditations and
  reviews), its provider (and that provider's micro-credentials and credentials), its institution (and that
  institution's recognitions), its organisation's API keys; for a national authority, an object of its country.
  Every caller with an organisation is on the NL side of the world, so its own objects are NL objects.
- ``other``: an object of the same kind that belongs to another organisation, on the BE side of the world (so
  it is another country's for the national authority of NL too).
- ``none``: the role owns no object of that kind (the operator, an auditor, the public, or, say, a provider
  asked about a review). The request then names the NL object nearest to the caller: the review of the calling
  provider's own micro-credential, the accreditation granted to it, its own API key's organisation.

Statuses: 200/201/204 allowed; 401 no key on a route that needs one; 403 refused, for the caller's role or because
the object is not its own. Every request is otherwise valid, and each row of a route that changes state gets
objects of its own in a state where the command is allowed, so the only reason to refuse is who asks.

Rows worth knowing about:

- The operator administers the registry (organisations, keys) but takes no QA, issuing or recognition
  decision: those are 403 for it, as for any organisation that does not own the object.
- A QA agency may register a provider (``POST /v1/providers``), as in DEQAR, where an agency reports on
  institutions the register does not hold yet; and any agency may record its own identifier for any provider.
- An import answers per report: another agency's report (``POST /v1/import/deqar``, qa_agency, other) is a 200
  whose one report is refused for rule ``own-reports``, which the test checks.
- ``POST /v1/credentials:import`` (CSV) answers per row: a row naming another provider's micro-credential
  (provider, other) is a 200 whose one row is refused with problem ``forbidden``, which the test checks; any
  other role is refused the whole file with 403.
- ``POST /v1/providers/{provider_id}/external-identifiers``: the provider itself, or whoever governs its country
  (the operator, its national authority), as for renaming it; ``GET /v1/lookup`` is public, like providers;
  ``POST /v1/lookup/credentials`` (by course, LTI context or student number) is for those who read the provider's
  learners: the provider itself, the operator, its country's national authority. Only the issuing provider adds
  identifiers to a credential (``POST /v1/credentials/{credential_id}/external-identifiers``).
- ``POST /v1/credentials:batch`` must refuse a caller who may not issue the rows with 403, as ``POST
  /v1/credentials`` does; those cells fail while the batch answers 422 ``batch-rejected`` instead.
- The public reading a recognition gets 403 (the route accepts anonymous callers, and then refuses the
  details), not 401.
- A national authority may not change an accreditation or review that an agency of its country decided:
  only the deciding agency may.
- Exports (``…/vc``, ``…/elm``) carry the learner's name: the provider, the operator and the provider country's
  authority only; the public gets 403 (anonymous callers are accepted, then refused). So does the holder's link
  (``…/holder-link``), which shows it. Verification, status lists,
  DID documents and key lists are public.
- The operator may rotate a provider's keys and report them compromised (``/v1/issuers/{issuer_id}/keys…``): it
  holds every issuer's private keys, as their custodian; otherwise only the provider itself may.
- ``POST /credentials/issue`` (the W3C VC-API) signs for a provider only, under its own did:key: another
  provider's did:key is 403. The VC-API's verify routes are public, like ``/v1/verify``.
- The lists of the public registers (``GET /v1/agencies``, ``/v1/providers``, ``/v1/accreditations``,
  ``/v1/reviews``, ``/v1/microcredentials``) are public, like their items. ``GET /v1/credentials`` is for those who
  may read credentials' private side (the provider its own, the authority its country's, the operator) and
  auditors, who read the change feed anyway; ``GET /v1/recognitions`` for those who may read a recognition. A caller
  with a key of another role is 403, the public 401; the test checks each sees its own scope only.
- ``GET /v1/credentials/{credential_id}`` is 200 for everyone; the test also checks that the learner is shown
  only to the provider, the operator and the provider country's authority.

GraphQL (``/graphql``) is left out: one route serves every query there, so what a caller may see is decided
per query and field rather than per route; the GraphQL tests cover it.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from mcreg.api import auth
from mcreg.api.app import create_app
from mcreg.bootstrap import Services, bootstrap, open_read_models
from mcreg.database import Database
from mcreg.projections.audit_timeline import AuditTimelineProjection
from mcreg.projections.status_lists import StatusListsProjection
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings
from tests.world import SPEC

MATRIX = Path(__file__).with_name("authz_matrix.csv")
ROLES = [r.value for r in Role]
OBJECTS = ("own", "other", "none")
TODAY = datetime.now(UTC).date()  # the registry's clock: UTC
START = TODAY - timedelta(days=400)
FOUNDED = START - timedelta(days=365)


@dataclass(frozen=True)
class Cell:
    method: str
    route: str
    role: str
    object: str
    status: int

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} {self.role} {self.object}"


def read_matrix() -> list[Cell]:
    with MATRIX.open(newline="") as table:
        return [
            Cell(row["method"], row["route"], row["role"], row["object"], int(row["status"]))
            for row in csv.DictReader(table)
        ]


CELLS = read_matrix()


def rest_routes(app: FastAPI) -> dict[tuple[str, str], Dependant]:
    """(method, path) → dependant of every REST route, GraphQL excepted.

    ``app.routes`` holds included routers as they were included; ``iter_route_contexts`` walks them to the
    routes as served, with their full paths and the dependencies they run with.
    """
    routes = {}
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or context.path.startswith("/graphql"):
            continue
        for method in context.methods:
            routes[method, context.path] = context.dependant
    return routes


# The world ------------------------------------------------------------------------------------------------


@dataclass
class Side:
    """One country's organisations and one of each of their objects."""

    country: str
    authority: Actor
    agency: UUID
    provider: UUID
    institution: UUID
    accreditation: UUID = field(init=False)
    microcredential: UUID = field(init=False)  # issued from; no review ever links to it
    reviewed: UUID = field(init=False)  # the micro-credential that reviews are opened on
    review: UUID = field(init=False)
    credential: UUID = field(init=False)
    recognition: UUID = field(init=False)

    def actor(self, role: Role) -> Actor:
        org = {Role.QA_AGENCY: self.agency, Role.PROVIDER: self.provider, Role.INSTITUTION: self.institution}
        return Actor(org[role], role, key_id=f"matrix-{role.value}")


@dataclass
class Request:
    path: str
    body: Any = None
    token: str | None = None  # another key than the caller's usual one, for the same role
    csv: str | None = None  # a text/csv body instead of JSON
    form: dict[str, str] | None = None  # a page's form, sent as a browser sends it instead of ``body``


class Scene:
    """Two of everything, NL and BE, on the registry behind the app; keys for every caller; fresh objects."""

    def __init__(self, services: Services, client: TestClient) -> None:
        self.services = services
        self.registry = services.registry
        self.client = client
        self.operator = Actor(uuid.uuid4(), Role.OPERATOR, key_id="matrix-operator")
        self.nl = self.side("NL")
        self.be = self.side("BE")
        self.auditor = uuid.uuid4()
        orgs = {
            Role.OPERATOR: self.operator.org,
            Role.NATIONAL_AUTHORITY: self.nl.authority.org,
            Role.QA_AGENCY: self.nl.agency,
            Role.PROVIDER: self.nl.provider,
            Role.INSTITUTION: self.nl.institution,
            Role.AUDITOR: self.auditor,
        }
        self.tokens = {
            role.value: self.token(org, role, "NL" if role == Role.NATIONAL_AUTHORITY else None)
            for role, org in orgs.items()
        }

    # Keys

    def token(self, org: UUID, role: Role, country: str | None = None) -> str:
        return self.services.keys.create(org, role, name=f"matrix {role.value}", country=country).token

    def key(self, org: UUID, role: Role, country: str | None = None) -> str:
        """A fresh key's prefix."""
        return self.token(org, role, country).split("_")[1]

    # Organisations and their objects

    def side(self, country: str) -> Side:
        r = self.registry
        authority = Actor(uuid.uuid4(), Role.NATIONAL_AUTHORITY, key_id="matrix-authority", country=country)
        side = Side(
            country,
            authority,
            agency=self.agency(country),
            provider=r.register_provider(
                self.operator,
                names={"en": f"Provider {country}"},
                country=country,
                eter_id=f"{country}9001",
                registered_on=FOUNDED,
            ),
            institution=r.register_provider(
                self.operator, names={"en": f"Institution {country}"}, country=country, registered_on=FOUNDED
            ),
        )
        side.accreditation = self.accreditation(side)
        side.microcredential = self.microcredential(side)
        side.reviewed = self.microcredential(side)
        side.review = self.review(side)
        side.credential = self.credential(side)
        side.recognition = self.recognition(side)
        return side

    def agency(self, country: str, *, suspended: bool = False) -> UUID:
        agency = self.registry.register_agency(
            self.operator, name=f"Agency {country}", country=country, registered_on=FOUNDED
        )
        if suspended:
            self.registry.suspend_agency(self.operator, agency, reason="matrix")
        return agency

    def accreditation(self, side: Side, *, conditions: bool = False) -> UUID:
        return self.registry.grant_accreditation(
            side.actor(Role.QA_AGENCY),
            provider_id=side.provider,
            outcome="positive with conditions or restrictions" if conditions else "positive",
            conditions=[("Publish assessment criteria", TODAY + timedelta(days=365))] if conditions else [],
            valid_from=START,
            decided_on=START,
        )

    def microcredential(self, side: Side) -> UUID:
        return self.registry.specify_microcredential(
            side.actor(Role.PROVIDER), provider_id=side.provider, specified_on=START, **SPEC
        )

    def review(self, side: Side, *, until: str = "opened") -> UUID:
        agency = side.actor(Role.QA_AGENCY)
        review = self.registry.open_review(agency, microcredential_id=side.reviewed, opened_on=START)
        if until in ("decided", "appealed"):
            self.registry.decide_review(agency, review, decision="positive")
        if until == "appealed":
            self.registry.appeal_review(agency, review, grounds="matrix")
        return review

    def credential(self, side: Side, *, suspended: bool = False) -> UUID:
        provider = side.actor(Role.PROVIDER)
        credential = self.registry.issue_credential(
            provider, microcredential_id=side.microcredential, learner=PersonalData("Ana Kovač"), issued_on=TODAY
        )
        if suspended:
            self.registry.suspend_credential(provider, credential, reason="matrix")
        return credential

    def recognition(self, side: Side, *, until: str = "requested") -> UUID:
        institution = side.actor(Role.INSTITUTION)
        recognition = self.registry.request_recognition(
            institution, credential_id=side.credential, institution_id=side.institution, purpose="credit_transfer"
        )
        if until in ("decided", "appealed"):
            self.registry.decide_recognition(institution, recognition, outcome="recognised", ects_recognised="5")
        if until == "appealed":
            self.registry.appeal_recognition(institution, recognition, grounds="matrix")
        return recognition

    # Cells

    def of(self, obj: str) -> Side:
        """The side an object is on: the caller's own (NL), unless it is another organisation's (BE)."""
        return self.be if obj == "other" else self.nl

    def send(self, cell: Cell, request: Request) -> Any:
        token = None if cell.role == Role.PUBLIC else (request.token or self.tokens[cell.role])
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if cell.method == "GET":
            return self.client.get(request.path, headers=headers)
        if cell.method == "DELETE":
            return self.client.delete(request.path, headers=headers)
        if request.form is not None:
            return self.client.post(request.path, data=request.form, headers=headers)
        headers["Idempotency-Key"] = f"matrix-{uuid.uuid4()}"
        if request.csv is not None:
            return self.client.post(request.path, content=request.csv, headers=headers | {"Content-Type": "text/csv"})
        return self.client.post(request.path, json=request.body, headers=headers)


# A valid request for every route, given the caller's role and the object's owner -------------------------

Builder = Callable[[Scene, Role, str], Request]
BUILDERS: dict[tuple[str, str], Builder] = {}


def builds(method: str, route: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        BUILDERS[method, route] = builder
        return builder

    return register


def constant(method: str, route: str, path: str) -> None:
    BUILDERS[method, route] = lambda s, role, obj: Request(path)


constant("GET", "/healthz", "/healthz")
constant("GET", "/readyz", "/readyz")
constant("GET", "/metrics", "/metrics")
constant("GET", "/problems/{slug}", "/problems/forbidden")
constant("GET", "/v1/events", "/v1/events?limit=5")


def caught_up(path: str) -> Builder:
    """A list, asked once the read models hold the scene's objects."""

    def build(s: Scene, role: Role, obj: str) -> Request:
        s.client.app.state.read_models.catch_up()
        return Request(path)

    return build


for collection in ("agencies", "providers", "accreditations", "reviews", "microcredentials"):
    BUILDERS["GET", f"/v1/{collection}"] = caught_up(f"/v1/{collection}?country=NL&limit=5")
BUILDERS["GET", "/v1/credentials"] = caught_up("/v1/credentials?include_revoked=true&limit=500")
BUILDERS["GET", "/v1/recognitions"] = caught_up("/v1/recognitions?limit=500")
constant("GET", "/v1/events/stream", "/v1/events/stream?until=0")  # a stream that ends at once


def logged(path: str) -> Builder:
    """A transparency-log route, asked once the log holds the scene's events."""

    def build(s: Scene, role: Role, obj: str) -> Request:
        s.client.app.state.transparency_log.catch_up()
        return Request(path)

    return build


for route, path in (
    ("/v1/log/checkpoint", "/v1/log/checkpoint"),
    ("/v1/log/key", "/v1/log/key"),
    ("/v1/log/keys", "/v1/log/keys"),
    ("/v1/log/leaves/{index}", "/v1/log/leaves/0"),
    ("/v1/log/proof/inclusion", "/v1/log/proof/inclusion?index=0&size=2"),
    ("/v1/log/proof/consistency", "/v1/log/proof/consistency?from=1&to=2"),
):
    BUILDERS["GET", route] = logged(path)


# Agencies


@builds("POST", "/v1/agencies")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/v1/agencies", {"name": "Agency in the matrix", "country": s.of(obj).country})


def agency_change(suspended: bool, action: str, body: Any) -> Builder:
    def build(s: Scene, role: Role, obj: str) -> Request:
        agency = s.agency(s.of(obj).country, suspended=suspended)
        token = s.token(agency, Role.QA_AGENCY) if role == Role.QA_AGENCY and obj == "own" else None
        return Request(f"/v1/agencies/{agency}/{action}", body, token)

    return build


BUILDERS["POST", "/v1/agencies/{agency_id}/suspend"] = agency_change(False, "suspend", {"reason": "matrix"})
BUILDERS["POST", "/v1/agencies/{agency_id}/reinstate"] = agency_change(True, "reinstate", {})


@builds("GET", "/v1/agencies/{agency_id}")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/agencies/{s.of(obj).agency}")


# Providers


@builds("POST", "/v1/providers")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/v1/providers", {"names": {"en": "Provider in the matrix"}, "country": s.of(obj).country})


@builds("GET", "/v1/providers/{provider_id}")
def _(s: Scene, role: Role, obj: str) -> Request:
    side = s.of(obj)
    return Request(f"/v1/providers/{side.institution if role == Role.INSTITUTION else side.provider}")


@builds("POST", "/v1/providers/{provider_id}/identifiers")
def _(s: Scene, role: Role, obj: str) -> Request:
    side = s.of(obj)
    provider = side.institution if role == Role.INSTITUTION else side.provider
    return Request(f"/v1/providers/{provider}/identifiers", {"identifier": f"M-{uuid.uuid4().hex[:8]}"})


@builds("POST", "/v1/providers/{provider_id}/external-identifiers")
def _(s: Scene, role: Role, obj: str) -> Request:
    """The calling provider's own or another's; for anyone else a provider of its own, which holds no SCHAC yet."""
    side = s.of(obj)
    if role == Role.PROVIDER:
        provider = side.provider
    elif role == Role.INSTITUTION:
        provider = side.institution
    else:
        provider = s.registry.register_provider(
            s.operator, names={"en": f"Fresh {uuid.uuid4().hex[:6]}"}, country=side.country, registered_on=FOUNDED
        )
    schac = f"m{uuid.uuid4().hex[:8]}.example.org"
    return Request(f"/v1/providers/{provider}/external-identifiers", {"identifier": f"schac:{schac}"})


@builds("GET", "/v1/lookup")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/lookup?identifier=eter:{s.of(obj).country}9001")


@builds("POST", "/v1/lookup/credentials")
def _(s: Scene, role: Role, obj: str) -> Request:
    """A student number in the provider the cell is about: the caller's own, for a provider; an NL one for others."""
    return Request(
        "/v1/lookup/credentials", {"identifier": "sis_student:s1234567", "provider": str(s.of(obj).provider)}
    )


# Imports


@builds("POST", "/v1/import/deqar")
def _(s: Scene, role: Role, obj: str) -> Request:
    """A DEQAR report by the calling agency (own) or by another agency (other), on a provider the registry holds."""
    side = s.of(obj)
    report = {
        "agency": f"Agency {side.country}",
        "local_identifier": f"M-{uuid.uuid4().hex[:8]}",
        "activity": "Quality enhancement reviews of institutions",
        "status": "part of obligatory EQA system",
        "decision": "positive",
        "valid_from": str(START),
        "report_files": [{"original_location": "https://agency.example/report.pdf", "report_language": ["eng"]}],
        "institutions": [{"eter_id": f"{side.country}9001"}],
    }
    return Request("/v1/import/deqar", [report])


# Accreditations


@builds("POST", "/v1/accreditations")
def _(s: Scene, role: Role, obj: str) -> Request:
    body = {"provider_id": str(s.of(obj).provider), "outcome": "positive", "valid_from": str(START)}
    return Request("/v1/accreditations", body)


def accreditation_change(action: str, body: Any, conditions: bool = False) -> Builder:
    def build(s: Scene, role: Role, obj: str) -> Request:
        accreditation = s.accreditation(s.of(obj), conditions=conditions)
        return Request(f"/v1/accreditations/{accreditation}/{action}", body)

    return build


ACCREDITATION = "/v1/accreditations/{accreditation_id}"
BUILDERS["POST", f"{ACCREDITATION}/withdraw"] = accreditation_change("withdraw", {"reason": "matrix"})
BUILDERS["POST", f"{ACCREDITATION}/suspend"] = accreditation_change("suspend", {"reason": "matrix"})
BUILDERS["POST", f"{ACCREDITATION}/renew"] = accreditation_change(
    "renew", {"valid_to": str(TODAY + timedelta(days=10 * 365))}
)
BUILDERS["POST", f"{ACCREDITATION}/conditions-fulfilled"] = accreditation_change(
    "conditions-fulfilled", {"condition": 0}, conditions=True
)


@builds("GET", ACCREDITATION)
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/accreditations/{s.of(obj).accreditation}")


# Reviews


@builds("POST", "/v1/reviews")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/v1/reviews", {"microcredential_id": str(s.of(obj).reviewed)})


def review_change(until: str, action: str, body: Any) -> Builder:
    def build(s: Scene, role: Role, obj: str) -> Request:
        return Request(f"/v1/reviews/{s.review(s.of(obj), until=until)}/{action}", body)

    return build


REVIEW = "/v1/reviews/{review_id}"
BUILDERS["POST", f"{REVIEW}/report"] = review_change("opened", "report", {"summary": "Outcomes are assessed well"})
BUILDERS["POST", f"{REVIEW}/decision"] = review_change("opened", "decision", {"decision": "positive"})
BUILDERS["POST", f"{REVIEW}/appeal"] = review_change("decided", "appeal", {"grounds": "The panel was not heard"})
BUILDERS["POST", f"{REVIEW}/appeal-decision"] = review_change("appealed", "appeal-decision", {"outcome": "upheld"})
BUILDERS["POST", f"{REVIEW}/withdraw"] = review_change("opened", "withdraw", {"reason": "matrix"})


@builds("GET", REVIEW)
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/reviews/{s.of(obj).review}")


# Micro-credentials


@builds("POST", "/v1/microcredentials")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/v1/microcredentials", {"provider_id": str(s.of(obj).provider), **SPEC})


MICROCREDENTIAL = "/v1/microcredentials/{microcredential_id}"


@builds("POST", f"{MICROCREDENTIAL}/revise")
def _(s: Scene, role: Role, obj: str) -> Request:
    revision = {**SPEC, "title": {"en": "Data analysis with Python, revised"}}
    return Request(f"/v1/microcredentials/{s.microcredential(s.of(obj))}/revise", revision)


@builds("POST", f"{MICROCREDENTIAL}/retire")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/microcredentials/{s.microcredential(s.of(obj))}/retire", {})


@builds("GET", MICROCREDENTIAL)
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/microcredentials/{s.of(obj).microcredential}")


# Credentials


def new_credential(side: Side) -> dict[str, Any]:
    return {"microcredential_id": str(side.microcredential), "learner": {"name": "Ana Kovač"}}


@builds("POST", "/v1/credentials")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/v1/credentials", new_credential(s.of(obj)))


@builds("POST", "/v1/credentials:batch")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/v1/credentials:batch", {"rows": [new_credential(s.of(obj))]})


@builds("POST", "/v1/credentials:import")
def _(s: Scene, role: Role, obj: str) -> Request:
    row = f"matrix-{uuid.uuid4()},{s.of(obj).microcredential},Ana Kovač"
    return Request("/v1/credentials:import", csv=f"row_key,microcredential_id,learner_name\n{row}\n")


def credential_change(suspended: bool, action: str, body: Any) -> Builder:
    def build(s: Scene, role: Role, obj: str) -> Request:
        return Request(f"/v1/credentials/{s.credential(s.of(obj), suspended=suspended)}/{action}", body)

    return build


CREDENTIAL = "/v1/credentials/{credential_id}"
BUILDERS["POST", f"{CREDENTIAL}/suspend"] = credential_change(False, "suspend", {"reason": "matrix"})
BUILDERS["POST", f"{CREDENTIAL}/reinstate"] = credential_change(True, "reinstate", {})
BUILDERS["POST", f"{CREDENTIAL}/revoke"] = credential_change(False, "revoke", {"reason": "issued_in_error"})
BUILDERS["POST", f"{CREDENTIAL}/external-identifiers"] = credential_change(
    False, "external-identifiers", {"identifier": "sis_course:MATRIX-101"}
)


@builds("GET", CREDENTIAL)
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/credentials/{s.of(obj).credential}")


@builds("GET", f"{CREDENTIAL}/verify")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/credentials/{s.of(obj).credential}/verify")


# Recognitions


@builds("POST", "/v1/recognitions")
def _(s: Scene, role: Role, obj: str) -> Request:
    side = s.of(obj)
    body = {"credential_id": str(side.credential), "institution_id": str(side.institution), "purpose": "admission"}
    return Request("/v1/recognitions", body)


def recognition_change(until: str, action: str, body: Any) -> Builder:
    def build(s: Scene, role: Role, obj: str) -> Request:
        return Request(f"/v1/recognitions/{s.recognition(s.of(obj), until=until)}/{action}", body)

    return build


RECOGNITION = "/v1/recognitions/{recognition_id}"
BUILDERS["POST", f"{RECOGNITION}/decision"] = recognition_change(
    "requested", "decision", {"outcome": "recognised", "ects_recognised": "5"}
)
BUILDERS["POST", f"{RECOGNITION}/appeal"] = recognition_change("decided", "appeal", {"grounds": "Not heard"})
BUILDERS["POST", f"{RECOGNITION}/appeal-decision"] = recognition_change(
    "appealed", "appeal-decision", {"outcome": "upheld"}
)
BUILDERS["POST", f"{RECOGNITION}/withdraw"] = recognition_change("requested", "withdraw", {"reason": "matrix"})


@builds("GET", RECOGNITION)
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/recognitions/{s.of(obj).recognition}")


# API keys


def key_owner(s: Scene, role: Role, obj: str) -> tuple[UUID, Role]:
    """Whose key a cell is about: the caller's organisation's own, or another's of the same role.

    A national authority's own keys are those of its country's organisations (a provider here); the
    operator and the public ask about a NL provider's key.
    """
    side = s.of(obj)
    if role == Role.AUDITOR:
        return (s.auditor if obj == "own" else uuid.uuid4()), Role.AUDITOR
    if role in (Role.QA_AGENCY, Role.PROVIDER, Role.INSTITUTION):
        return side.actor(role).org, role
    return side.provider, Role.PROVIDER


@builds("POST", "/v1/keys")
def _(s: Scene, role: Role, obj: str) -> Request:
    org, key_role = key_owner(s, role, obj)
    body = {"role": key_role.value, "name": "matrix", "org": None if key_role == Role.AUDITOR else str(org)}
    return Request("/v1/keys", body)


@builds("GET", "/v1/keys/{prefix}")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/keys/{s.key(*key_owner(s, role, obj))}")


@builds("POST", "/v1/keys/{prefix}/revoke")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/keys/{s.key(*key_owner(s, role, obj))}/revoke")


# Webhooks: an organisation's own subscription, or another organisation's


def webhook(s: Scene, role: Role, obj: str) -> str:
    """A subscription of the caller's organisation (``own``), of another auditor's (``other``), or, for a role that
    may not subscribe, of another operator's (the scene's own would pass its limit of subscriptions)."""
    if obj == "other":
        owner = Actor(uuid.uuid4(), Role.AUDITOR)
    elif role == Role.AUDITOR:
        owner = Actor(s.auditor, Role.AUDITOR)
    elif role == Role.OPERATOR:
        owner = s.operator
    else:
        owner = Actor(uuid.uuid4(), Role.OPERATOR)
    made = s.client.app.state.webhooks.subscribe(owner, "http://127.0.0.1:9/hooks", [])
    return f"/v1/webhooks/{made.subscription.id}"


constant("GET", "/v1/webhooks", "/v1/webhooks")
BUILDERS["POST", "/v1/webhooks"] = lambda s, role, obj: Request(
    "/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "types": ["Credential.Revoked"]}
)
BUILDERS["GET", "/v1/webhooks/{webhook_id}"] = lambda s, role, obj: Request(webhook(s, role, obj))
BUILDERS["DELETE", "/v1/webhooks/{webhook_id}"] = lambda s, role, obj: Request(webhook(s, role, obj))
BUILDERS["POST", "/v1/webhooks/{webhook_id}/replay"] = lambda s, role, obj: Request(f"{webhook(s, role, obj)}/replay")
BUILDERS["POST", "/v1/webhooks/{webhook_id}/secret"] = lambda s, role, obj: Request(f"{webhook(s, role, obj)}/secret")


# Export, status lists, DID documents and issuer keys


def placed(s: Scene) -> None:
    """Let the status lists place the scene's credentials (an export needs the credential's place)."""
    s.client.app.state.read_models.catch_up([StatusListsProjection.name])


def exported_document(document: str) -> Builder:
    def build(s: Scene, role: Role, obj: str) -> Request:
        placed(s)
        return Request(f"/v1/credentials/{s.of(obj).credential}/{document}")

    return build


BUILDERS["GET", f"{CREDENTIAL}/vc"] = exported_document("vc")
BUILDERS["GET", f"{CREDENTIAL}/elm"] = exported_document("elm")
BUILDERS["GET", f"{CREDENTIAL}/holder-link"] = exported_document("holder-link")


@builds("POST", "/v1/verify")
def _(s: Scene, role: Role, obj: str) -> Request:
    """A credential as its provider exported it."""
    return Request("/v1/verify", exported(s))


# The W3C VC-API


@builds("POST", "/credentials/issue")
def _(s: Scene, role: Role, obj: str) -> Request:
    """A VC 2.0 credential naming the did:key of the provider the cell is about (the caller's own, for a provider)."""
    provider = s.of(obj).provider if role == Role.PROVIDER else s.nl.provider
    multikey = s.services.issuer_keys.signing_key(provider).key.public_key_multibase
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": f"did:key:{multikey}",
        "credentialSubject": {"id": "did:example:subject"},
    }
    return Request("/credentials/issue", {"credential": credential, "options": {}})


def exported(s: Scene) -> dict[str, Any]:
    """The NL credential as its provider exported it."""
    placed(s)
    token = s.tokens[Role.OPERATOR.value]
    vc = s.client.get(f"/v1/credentials/{s.nl.credential}/vc", headers={"Authorization": f"Bearer {token}"})
    assert vc.status_code == 200, vc.text
    document: dict[str, Any] = vc.json()
    return document


@builds("POST", "/credentials/verify")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request("/credentials/verify", {"verifiableCredential": exported(s), "options": {}})


@builds("POST", "/presentations/verify")
def _(s: Scene, role: Role, obj: str) -> Request:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [exported(s)],
    }
    return Request("/presentations/verify", {"verifiablePresentation": presentation, "options": {}})


@builds("GET", "/v1/status/{issuer_id}/{list_name}")
def _(s: Scene, role: Role, obj: str) -> Request:
    placed(s)
    return Request(f"/v1/status/{s.nl.provider}/revocation-0")


constant("GET", "/", "/")  # the home page, a page for people rather than a REST route; public like the API docs
constant("GET", "/verify", "/verify")  # pages for people, public like the verification they show


@builds("POST", "/verify")
def _(s: Scene, role: Role, obj: str) -> Request:
    """The credential as its provider exported it, pasted into the form."""
    return Request("/verify", form={"credential": json.dumps(exported(s))})


@builds("GET", "/verify/{credential_id}")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/verify/{s.nl.credential}")


@builds("GET", "/credentials/{credential_id}")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/credentials/{s.nl.credential}")


constant("GET", "/catalogue", "/catalogue?country=NL")


@builds("GET", "/history/{aggregate_id}")
def _(s: Scene, role: Role, obj: str) -> Request:
    """A page for people, public: a micro-credential's history, once the audit timeline holds it."""
    microcredential_id = s.microcredential(s.nl)
    s.client.app.state.read_models.catch_up([AuditTimelineProjection.name])
    return Request(f"/history/{microcredential_id}")


constant("GET", "/dashboard", "/dashboard")  # the national dashboard: counts only, public like GraphQL's dashboard
constant("GET", "/dashboard/{name}.csv", "/dashboard/issued.csv")
constant("GET", "/.well-known/did.json", "/.well-known/did.json")
constant("GET", "/did.json", "/did.json")
constant("GET", "/contexts/mcreg/v1.jsonld", "/contexts/mcreg/v1.jsonld")
constant("GET", "/contexts/mcreg/vocab.jsonld", "/contexts/mcreg/vocab.jsonld")


@builds("GET", "/issuers/{issuer_id}/did.json")
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/issuers/{s.nl.provider}/did.json")


ISSUER_KEYS = "/v1/issuers/{issuer_id}/keys"


@builds("GET", ISSUER_KEYS)
def _(s: Scene, role: Role, obj: str) -> Request:
    return Request(f"/v1/issuers/{s.nl.provider}/keys")


@builds("POST", ISSUER_KEYS)
def _(s: Scene, role: Role, obj: str) -> Request:
    """A provider rotates its own keys; the operator, the custodian of every private key, anyone's."""
    return Request(f"/v1/issuers/{s.of(obj).provider}/keys", {})


@builds("POST", f"{ISSUER_KEYS}/{{key_id}}/compromised")
def _(s: Scene, role: Role, obj: str) -> Request:
    """A key of the side's provider, fresh, reported compromised since an hour ago."""
    provider = s.of(obj).provider
    made = s.services.issuer_keys.rotate(s.operator, provider)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return Request(f"/v1/issuers/{provider}/keys/{made.key_id}/compromised", {"since": since})


# Who sees a credential's learner and grade: its provider, the operator, the provider country's authority.
PRIVATE_READERS = {("operator", "none"), ("national_authority", "own"), ("provider", "own")}


# Fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """One world for the whole matrix, on a schema of its own: building it per cell would take minutes."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    settings = Settings(database_url=database.conninfo, postgres_schema=name, data_dir=tmp_path_factory.getbasetemp())
    services = bootstrap(settings)
    read_models = open_read_models(services)
    try:
        with TestClient(create_app(services, read_models)) as client:
            yield Scene(services, client)
    finally:
        read_models.close()
        services.close()
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


# Tests ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_matrix(scene: Scene, cell: Cell) -> None:
    request = BUILDERS[cell.method, cell.route](scene, Role(cell.role), cell.object)
    response = scene.send(cell, request)
    assert response.status_code == cell.status, f"{cell.id}: {request.path} → {response.text}"
    if cell.status in (401, 403):
        slug = "unauthenticated" if cell.status == 401 else "forbidden"
        assert response.json()["type"].endswith(f"/problems/{slug}"), response.text
    if cell.route == CREDENTIAL and cell.method == "GET":
        shown = response.json()["learner"] is not None
        assert shown == ((cell.role, cell.object) in PRIVATE_READERS), response.text
    if cell.route in ("/v1/credentials", "/v1/recognitions") and cell.method == "GET" and cell.status == 200:
        # A list holds what the caller may read, and nothing else: the provider's own, the NL authority's NL ones.
        items = response.json()["items"]
        key = "provider_id" if cell.route == "/v1/credentials" else "institution_id"
        mine = {"provider": scene.nl.provider, "institution": scene.nl.institution}.get(cell.role)
        if mine is not None:
            assert {item[key] for item in items} == {str(mine)}, response.text
        if cell.role == "national_authority":
            country = "country" if cell.route == "/v1/credentials" else "issuer_country"
            assert {item[country] for item in items} == {"NL"}, response.text
        if cell.role in ("operator", "auditor"):
            assert len(items) >= 2, response.text
    if cell.route == "/v1/credentials:import" and cell.status == 200:
        # Rows are data: a row naming another provider's micro-credential is refused inside the 200, nothing written.
        (row,) = response.json()["results"]
        expected = ("issued", None) if cell.object == "own" else ("refused", "forbidden")
        assert (row["status"], row.get("problem")) == expected, response.text
    if cell.route == "/v1/import/deqar" and cell.status == 200:
        # An import answers per report: another agency's report is refused inside the 200, and nothing is written.
        (report,) = response.json()["reports"]
        if cell.object == "own":
            assert report["status"] == "created", response.text
        else:
            assert (report["status"], report["error"]["rule"]) == ("refused", "own-reports"), response.text


def test_the_matrix_names_every_route_for_every_role_and_nothing_else(scene: Scene) -> None:
    routes = set(rest_routes(scene.client.app))
    tabled = {(c.method, c.route) for c in CELLS}
    assert tabled - routes == set(), "rows for routes the app does not serve"
    assert routes - tabled == set(), "routes missing from the matrix"
    for method, route in sorted(routes):
        roles = {c.role for c in CELLS if (c.method, c.route) == (method, route)}
        assert roles == set(ROLES), f"{method} {route}: no rows for {set(ROLES) - roles}"
    assert set(BUILDERS) == routes, "every route needs a request builder"
    repeated = [key for key, n in Counter((c.method, c.route, c.role, c.object) for c in CELLS).items() if n > 1]
    assert repeated == []
    assert {c.object for c in CELLS} <= set(OBJECTS)
    assert all(c.status in (200, 201, 204, 401, 403, 404) for c in CELLS)
    assert [(c.route, c.method, ROLES.index(c.role)) for c in CELLS] == sorted(
        (c.route, c.method, ROLES.index(c.role)) for c in CELLS
    ), "keep the table sorted by route, then role"


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from dependency_calls(dependency)


def test_every_route_depends_on_caller_or_visitor(scene: Scene) -> None:
    """Each route says who may call it: ``caller`` (a key is required, directly or through ``role``) or
    ``visitor`` (anyone) — exactly one of them, so no route is open by omission."""
    unguarded = {}
    for (method, route), dependant in rest_routes(scene.client.app).items():
        guards = {auth.caller, auth.visitor} & set(dependency_calls(dependant))
        if len(guards) != 1:
            unguarded[f"{method} {route}"] = sorted(g.__name__ for g in guards)
    assert unguarded == {}
