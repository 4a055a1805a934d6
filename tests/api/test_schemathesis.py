"""Schemathesis against the ASGI app: every REST operation, no 5xx, every answer as the OpenAPI description says.

Checks: not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance
(problem documents included) and response_headers_conformance; and every problem's ``type`` is one the
registry describes at ``/problems/{slug}``.

Each operation is a test of its own, on a registry of its own, so one operation's cases never change what
another's see, and a known bug is marked (a strict xfail) on the operation it is in. Cases come from the
operation's Hypothesis strategy (``schema[path][method].as_strategy()``), valid and invalid data alike; about
half of them name real objects instead of random ids, so requests get past 404 into the registry's rules. Two
in three cases are sent with the key of the role that acts on the operation's objects (the agency for
accreditations, reviews, imports and its identifiers for providers; the provider for micro-credentials and
credentials; the institution for recognitions; an auditor for the event feed and webhooks; the operator for
everything else), the rest with any role's key, a national authority's and none (the public) included.
Refusals are 401 and 403 problems, which the description documents.

The stateful phase (``test_workflows_follow_the_links``) chains operations through the OpenAPI links the
description derives (``api/rest/links.py``): create, then act on what was created.

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
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from mcreg.api.app import ROUTERS, create_app
from mcreg.api.problems import PROBLEMS
from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import SPEC

EXAMPLES = int(os.environ.get("MCREG_SCHEMATHESIS_EXAMPLES", "30"))
"""Cases per operation: 30 for each of the ~45 operations take about a minute on two cores; raise it to hunt."""
STATEFUL_STEPS = int(os.environ.get("MCREG_SCHEMATHESIS_STEPS", "600"))
"""Steps of the stateful phase, in scenarios of up to 10 linked steps each."""

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

CALLERS = st.one_of(st.none(), st.none(), st.sampled_from(Role))
"""Who sends a case: two in three times the operation's owner (None), else any role, the public included."""

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
            Role.NATIONAL_AUTHORITY: keys.create(
                uuid.uuid4(), Role.NATIONAL_AUTHORITY, name="schemathesis", country="NL"
            ).token,
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

    def specify_validly(self, case: Any) -> None:
        """Half the micro-credentials a scenario starts with get a valid specification, so chains reach issuance:
        a random one meets every rule of Annex I only by luck."""
        if case.operation.label == "POST /v1/microcredentials" and zlib.crc32(repr(case.body).encode()) % 2 == 0:
            case.body = {**SPEC, "provider_id": str(self.provider)}

    def headers(self, method: str, path: str, role: Role | None = None) -> dict[str, str]:
        """The key of ``role``; by default, of the role that acts on the operation's objects (the operator's for
        the rest). The public sends none."""
        role = role or self.owner(method, path)
        return {} if role == Role.PUBLIC else {"Authorization": f"Bearer {self.tokens[role]}"}

    @staticmethod
    def owner(method: str, path: str) -> Role:
        if path.startswith(("/v1/events", "/v1/webhooks")):
            return Role.AUDITOR
        if method != "POST":
            return Role.OPERATOR
        if path.startswith("/v1/providers/"):  # an agency's own identifier for a provider
            return Role.QA_AGENCY
        collection = path.removeprefix("/v1/").split("/")[0].split(":")[0]
        return OWNERS.get(collection, Role.OPERATOR)

    def name_real_objects(self, case: Any, *, every: bool = False) -> None:
        """Replace about half the generated ids (or every one), in the path and at the body's top level, by real
        ones."""
        for values in (case.path_parameters, case.body if isinstance(case.body, dict) else None):
            for name, value in list((values or {}).items()):
                if name in self.ids and (every or zlib.crc32(repr(value).encode()) % 2 == 0):
                    values[name] = self.ids[name]


@pytest.fixture
def world(services: Services) -> World:
    return World(services)


ONLY_DESCRIBED_LINKS = SchemathesisConfig.from_dict({"phases": {"stateful": {"inference": {"algorithms": []}}}})
"""The stateful phase follows the links the description gives, not links Schemathesis guesses from field names."""


@pytest.fixture
def api(services: Services, read_models: ReadModels) -> Any:
    return schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(services, read_models), config=ONLY_DESCRIBED_LINKS
    )


@pytest.fixture(scope="module", autouse=True)
def cases_generated(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and CASES:
        with capture.global_and_fixture_disabled():
            steps = CASES.pop("stateful", 0)
            reporter.write_line(
                f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations; {steps} stateful steps"
            )


def operation_param(path: str, method: str) -> Any:
    bug = KNOWN_BUGS.get((method, path))
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(path, method, id=f"{method} {path}", marks=marks)


@pytest.mark.parametrize(("path", "method"), [operation_param(*op) for op in OPERATIONS])
def test_operation(api: Any, world: World, path: str, method: str, record_property: Any) -> None:
    operation = api[path][method]
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=strategy, role=CALLERS)
    def call(case: Any, role: Role | None) -> None:
        CASES[operation.label] += 1
        world.name_real_objects(case)
        if path == "/v1/events/stream":  # a stream ends when the client leaves: this client can only ask it to end
            case.query = {**(case.query or {}), "until": 0}
        response = case.call_and_validate(headers=world.headers(method, path, role), checks=CHECKS)
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


STATEFUL_CHECKS = [*CHECKS, checks.ensure_resource_availability, checks.use_after_free]


def test_workflows_follow_the_links(api: Any, services: Services) -> None:
    """The stateful phase: create an object, then act on it through the description's links, in random order.

    Chains like agency → suspend → reinstate, micro-credential → review → decision → appeal, micro-credential →
    credential → suspend → revoke, and credential → recognition → decision → appeal run with each step's owner's
    key. Besides the checks of every case, an object a 201 created must not be a 404 to the operations its links
    lead to. Each scenario has a world of its own, so what one scenario suspended or revoked does not change what
    the next one sees.

    Schemathesis follows a link or not by a coin it does not let Hypothesis replay, and the registry's answers
    decide which steps can come next, so Hypothesis may find that a scenario it replays draws differently. Its
    own runner then ends the suite and starts another; so do we, on the next seed, until STATEFUL_STEPS steps
    ran. A check that fails is kept aside before Hypothesis sees it, so no replay can hide it.
    """
    failures: list[str] = []
    linked: Counter[str] = Counter()  # steps that followed a link and succeeded, by operation

    class Workflow(api.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.world = World(services)

        def step(self, input: Any) -> Any:
            CASES["stateful"] += 1
            if input.transition is None:  # a scenario's first step acts on the world's objects
                self.world.name_real_objects(input.case, every=True)
                self.world.specify_validly(input.case)
            output = super().step(input)
            if input.transition is not None and output.response.status_code < 300:
                linked[input.case.operation.label] += 1
            return output

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": self.world.headers(case.method, case.path)}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=STATEFUL_CHECKS, recorder=self.recorder)
                if response.status_code >= 400:
                    assert response.json()["type"].rsplit("/problems/", 1)[-1] in PROBLEMS, response.text
            except (AssertionError, FailureGroup) as failure:
                failures.append(f"{case.operation.label} answered {response.status_code}: {failure}")
                raise

    suites = 0
    while CASES["stateful"] < STATEFUL_STEPS and suites < 100 and not failures:
        try:
            seed(suites)(Workflow).run(
                settings=settings(
                    max_examples=STATEFUL_STEPS // 5,
                    stateful_step_count=10,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        except FlakyStrategyDefinition:
            pass  # the suite drew differently on replay: the next one starts afresh
        except AssertionError as error:  # Hypothesis asserts, too, when a replay draws past an earlier draw
            if failures or _innermost_module(error) != "hypothesis.internal.conjecture.datatree":
                raise
        suites += 1
    assert not failures, "\n".join(failures)
    assert CASES["stateful"] >= STATEFUL_STEPS
    assert len(linked) >= 8, linked  # the phase chains: a dozen or more operations succeed on what a link gave


def _innermost_module(error: BaseException) -> str:
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_globals["__name__"] if traceback else ""
