"""Schemathesis against the ASGI app: every REST operation, no 5xx, every answer as the OpenAPI description says.

Checks: not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance
(problem documents included) and response_headers_conformance; and every problem's ``type`` is one the
registry describes at ``/problems/{slug}``.

Each operation is a test of its own, on a registry of its own, so one operation's cases never change what
another's see, and a known bug is marked (a strict xfail) on the operation it is in. Cases come from the
operation's Hypothesis strategy (``schema[path][method].as_strategy()``), valid and invalid data alike; about
half of them name real objects instead of random ids, so requests get past 404 into the registry's rules. Each
case is sent with the key of the role that acts on the operation's objects (the agency for accreditations,
reviews, imports and its identifiers for providers; the provider for micro-credentials and credentials; the
institution for recognitions; an auditor for the event feed) and the operator's key for everything else.
Refusals are 403 problems, which the description documents. Invalid data may also drop the key, for a 401.

Hypothesis runs derandomized with a fixed number of examples per operation, so CI sees the same cases every
time. ``schemathesis.pytest.from_fixture`` (one test, operations as subtests) does not run on pytest 9.2, and
the app needs a database, which a module cannot have at import: hence strategies under ``@given`` here.

GraphQL (``/graphql``) is left out: its answers are GraphQL documents, which the GraphQL tests check.
"""

from __future__ import annotations

import os
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from api.app import ROUTERS, create_app
from api.bootstrap import Services
from api.problems import PROBLEMS
from projections.read_models import ReadModels
from registry.learners import PersonalData
from registry.stamp import Actor
from registry.vocabulary import Role
from tests.world import SPEC

EXAMPLES = int(os.environ.get("MCREG_SCHEMATHESIS_EXAMPLES", "30"))
"""Cases per operation: 30 for each of the ~45 operations take about a minute on two cores; raise it to hunt."""

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]

OPERATIONS = sorted(
    (route.path, method)
    for module in ROUTERS
    for route in module.router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)

KNOWN_BUGS: dict[tuple[str, str], str] = {}
"""Operations schemathesis finds a bug in, with the bug: each is a strict xfail until it is fixed."""

OWNERS = {
    "accreditations": Role.QA_AGENCY,
    "reviews": Role.QA_AGENCY,
    "import": Role.QA_AGENCY,
    "microcredentials": Role.PROVIDER,
    "credentials": Role.PROVIDER,
    "recognitions": Role.INSTITUTION,
}
"""Who writes to each collection; the operator writes to the others (agencies, providers, keys)."""

CASES: Counter[str] = Counter()

TODAY = datetime.now(UTC).date()  # the registry's clock: UTC
START = TODAY - timedelta(days=400)


class World:
    """One of each object, owned by the organisations whose keys the cases are sent with."""

    def __init__(self, services: Services) -> None:
        r = services.registry
        operator = Actor(uuid.uuid4(), Role.OPERATOR, key_id="schemathesis")
        self.agency = r.register_agency(operator, name="Agency", country="NL", registered_on=START)
        self.provider = r.register_provider(operator, names={"en": "Provider"}, country="NL", registered_on=START)
        self.institution = r.register_provider(operator, names={"en": "Institution"}, country="BE", registered_on=START)
        agency = Actor(self.agency, Role.QA_AGENCY)
        provider = Actor(self.provider, Role.PROVIDER)
        institution = Actor(self.institution, Role.INSTITUTION)
        self.accreditation = r.grant_accreditation(
            agency,
            provider_id=self.provider,
            outcome="positive with conditions or restrictions",
            conditions=[("Publish assessment criteria", TODAY + timedelta(days=90))],
            valid_from=START,
            decided_on=START,
        )
        self.microcredential = r.specify_microcredential(
            provider, provider_id=self.provider, specified_on=START, **SPEC
        )
        self.review = r.open_review(agency, microcredential_id=self.microcredential, opened_on=START)
        self.credential = r.issue_credential(
            provider, microcredential_id=self.microcredential, learner=PersonalData("Ana Kovač"), issued_on=TODAY
        )
        self.recognition = r.request_recognition(
            institution, credential_id=self.credential, institution_id=self.institution, purpose="admission"
        )
        keys = services.keys
        self.tokens = {
            Role.OPERATOR: keys.create(operator.org, Role.OPERATOR, name="schemathesis").token,
            Role.QA_AGENCY: keys.create(self.agency, Role.QA_AGENCY, name="schemathesis").token,
            Role.PROVIDER: keys.create(self.provider, Role.PROVIDER, name="schemathesis").token,
            Role.INSTITUTION: keys.create(self.institution, Role.INSTITUTION, name="schemathesis").token,
            Role.AUDITOR: keys.create(uuid.uuid4(), Role.AUDITOR, name="schemathesis").token,
        }
        spare = keys.create(self.provider, Role.PROVIDER, name="schemathesis: to revoke").token
        self.ids = {
            "agency_id": str(self.agency),
            "provider_id": str(self.provider),
            "institution_id": str(self.institution),
            "accreditation_id": str(self.accreditation),
            "microcredential_id": str(self.microcredential),
            "review_id": str(self.review),
            "credential_id": str(self.credential),
            "recognition_id": str(self.recognition),
            "prefix": spare.split("_")[1],  # never a key the cases are sent with
            "slug": "forbidden",
        }

    def token(self, method: str, path: str) -> str:
        """The key of the role that acts on the operation's objects; the operator's for the rest."""
        if path == "/v1/events":
            return self.tokens[Role.AUDITOR]
        if method != "POST":
            return self.tokens[Role.OPERATOR]
        if path.startswith("/v1/providers/"):  # an agency's own identifier for a provider
            return self.tokens[Role.QA_AGENCY]
        collection = path.removeprefix("/v1/").split("/")[0].split(":")[0]
        return self.tokens[OWNERS.get(collection, Role.OPERATOR)]

    def name_real_objects(self, case: Any) -> None:
        """Replace about half the generated ids, in the path and at the body's top level, by real ones."""
        for values in (case.path_parameters, case.body if isinstance(case.body, dict) else None):
            for name, value in list((values or {}).items()):
                if name in self.ids and zlib.crc32(repr(value).encode()) % 2 == 0:
                    values[name] = self.ids[name]


@pytest.fixture
def world(services: Services) -> World:
    return World(services)


@pytest.fixture
def api(services: Services, read_models: ReadModels, world: World) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(services, read_models))


@pytest.fixture(scope="module", autouse=True)
def cases_generated(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and CASES:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations")


def operation_param(path: str, method: str) -> Any:
    bug = KNOWN_BUGS.get((method, path))
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(path, method, id=f"{method} {path}", marks=marks)


@pytest.mark.parametrize(("path", "method"), [operation_param(*op) for op in OPERATIONS])
def test_operation(api: Any, world: World, path: str, method: str, record_property: Any) -> None:
    operation = api[path][method]
    token = world.token(method, path)
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=strategy)
    def call(case: Any) -> None:
        CASES[operation.label] += 1
        world.name_real_objects(case)
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        if response.status_code >= 400:  # a problem whose type the registry describes at /problems/{slug}
            assert response.json()["type"].rsplit("/problems/", 1)[-1] in PROBLEMS, response.text

    call()
    record_property("schemathesis_cases", CASES[operation.label])


def test_every_operation_in_the_description_is_tested(api: Any) -> None:
    described = {
        (result.ok().path, result.ok().method.upper())
        for result in api.get_all_operations()
        if not result.ok().path.startswith("/graphql")
    }
    assert described == set(OPERATIONS)
