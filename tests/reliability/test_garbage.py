"""Garbage: real documents, mutated at random, sent where strangers send documents: never a server error.

A signed credential goes to `POST /v1/verify` and the four DEQAR examples to
`POST /v1/import/deqar`, each with fields deleted, retyped, emptied, nested or
swapped by hypothesis. The answer is a verdict or a problem document, never a
5xx, and a mutated import writes nothing an unmutated report would not.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.trust.errors import ProofTransformationError
from mcreg.registry.trust.linked_data import canonical_nquads
from mcreg.registry.vocabulary import Role
from tests.api.rest import caller
from tests.testdata import data_path
from tests.world import OPERATOR, World

DEQAR = data_path("deqar")
EXAMPLES = [json.loads((DEQAR / name).read_text()) for name in sorted(p.name for p in DEQAR.glob("*.json"))]

REPLACEMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.just(""),
    st.just([]),
    st.just({}),
    st.just("2024-02-30"),
    st.just("z" + "1" * 90),
    st.just("did:web:elsewhere.example#key-1"),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: keys of objects, indexes of arrays."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one to three places deleted, replaced by junk, or wrapped in a list."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        places = paths(result)
        if not places:
            break
        place = draw(st.sampled_from(places))
        parent = result
        for step in place[:-1]:
            parent = parent[step]
        last = place[-1]
        action = draw(st.sampled_from(("delete", "replace", "wrap")))
        if action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]]
        else:
            parent[last] = draw(REPLACEMENTS)
    return result


def differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """Where ``after`` differs from ``before``, as paths with both values."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() | after.keys():
            yield from differences(before.get(key, "<absent>"), after.get(key, "<absent>"), f"{path}/{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (one, other) in enumerate(zip(before, after, strict=True)):
            yield from differences(one, other, f"{path}/{index}")
    elif before != after:
        yield f"{path}: {before!r} -> {after!r}"


def same_statements(document: dict[str, Any], other: Any) -> bool:
    """Whether ``other``, a dict with the same proof, reads as the same RDF statements as ``document``."""
    if not isinstance(other, dict) or other.get("proof") != document["proof"]:
        return False
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    try:
        return canonical_nquads({k: v for k, v in other.items() if k != "proof"}) == canonical_nquads(unsigned)
    except ProofTransformationError:
        return False


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_mutated_credentials_get_a_verdict_never_a_server_error(
    services: Services, client: TestClient, read_models: ReadModels
) -> None:
    world = World(services.registry)
    credential_id = world.issue(date(2024, 3, 1))
    read_models.catch_up()
    provider = caller(services, client, Role.PROVIDER, world.provider_id)
    vc = provider.get(f"/v1/credentials/{credential_id}/vc").json()
    assert client.post("/v1/verify", json=vc).json()["valid"] is True

    @FUZZ
    @given(mutated(vc))
    def check(presented: Any) -> None:
        response = client.post("/v1/verify", json=presented)
        assert response.status_code < 500, response.text
        if response.status_code == 200 and response.json()["valid"]:
            # eddsa-rdfc-2022 signs the statements JSON-LD reads, not the bytes: a change that verifies may only
            # be one that reads as the same statements (a value wrapped in a one-element list, say)
            assert same_statements(vc, presented), list(differences(vc, presented))

    check()


def test_mutated_deqar_reports_are_refused_by_name_never_a_server_error(services: Services, client: TestClient) -> None:
    agency_id = services.registry.register_agency(
        OPERATOR, name="MusiQuE", acronym="MusiQuE", country="BE", registered_on=date(2010, 1, 1)
    )
    agency = caller(services, client, Role.QA_AGENCY, UUID(str(agency_id)))

    @FUZZ
    @given(st.sampled_from(EXAMPLES).flatmap(mutated))
    def check(file: Any) -> None:
        response = agency.post("/v1/import/deqar", file)
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            for report in response.json()["reports"]:
                refused = report["status"] == "refused"
                assert refused == (report["error"] is not None), report
                if refused:
                    assert report["error"]["type"] and report["error"]["detail"], report

    check()
