"""Whatever the history and however it was projected, step by step, the read tables equal a rebuild from scratch.

Random histories of issuance, suspension, reinstatement and revocation go
through the registry on PostgreSQL, projected in catch-up steps of random
page sizes (sometimes one read model only) between the writes. Afterwards
``check`` finds the live tables equal to a fresh build, a rebuild leaves
every row as it was, and each row agrees with its credential.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcreg.bootstrap import Services, bootstrap, open_read_models
from mcreg.database import Database
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.errors import DomainError
from mcreg.registry.vocabulary import RevocationReason
from mcreg.settings import Settings
from tests.projections.conftest import issue_many, snapshot
from tests.world import World

days = st.integers(0, 300).map(lambda n: date(2024, 3, 1) + timedelta(days=n))
credential = st.integers(0, 1000)  # an index into the credentials issued so far
read_model = st.sampled_from([None, "credential_status", "audit_timeline"])  # None: all of them
steps = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(1, 4)),
        st.tuples(st.just("suspend"), credential, days),
        st.tuples(st.just("reinstate"), credential, days),
        st.tuples(st.just("revoke"), credential, days, st.sampled_from(RevocationReason)),
        st.tuples(
            st.just("project"), st.integers(1, 6), st.sampled_from([None, "credential_status", "audit_timeline"])
        ),
    ),
    min_size=1,
    max_size=20,
)


@contextmanager
def registry_on_a_new_schema(database: Database, data_dir: Path) -> Iterator[tuple[Services, ReadModels]]:
    """A registry and its read models of their own, for one example."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    services = bootstrap(Settings(database_url=database.conninfo, postgres_schema=schema, data_dir=data_dir))
    read_models = open_read_models(services)
    try:
        yield services, read_models
    finally:
        read_models.close()
        services.close()
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=steps)
def test_incremental_projection_equals_a_rebuild(database: Database, tmp_path_factory, history):
    with registry_on_a_new_schema(database, tmp_path_factory.getbasetemp()) as (services, read_models):
        registry, world = services.registry, World(services.registry)
        credentials: list = []
        for step in history:
            match step:
                case ("issue", count):
                    credentials += issue_many(world, count)
                case ("project", page_size, name):
                    read_models.catch_up(None if name is None else [name], page_size=page_size)
                case (command, index, effective, *reason) if credentials:
                    target = credentials[index % len(credentials)]
                    with suppress(DomainError):  # a step the credential's state does not allow
                        if command == "suspend":
                            registry.suspend_credential(world.provider, target, reason="review", effective=effective)
                        elif command == "reinstate":
                            registry.reinstate_credential(world.provider, target, effective=effective)
                        else:
                            registry.revoke_credential(world.provider, target, reason=reason[0], effective=effective)
        read_models.catch_up(page_size=3)
        projected = snapshot(read_models)

        assert read_models.check(page_size=4).equal
        read_models.rebuild(page_size=5)
        assert snapshot(read_models) == projected

        view = read_models.credential_status
        for credential_id in credentials:
            row, aggregate = view.get(credential_id), registry.get(Credential, credential_id)
            assert (row.status, row.revoked_on) == (aggregate.status, aggregate.revoked_on)
            open_suspension = aggregate.suspensions[-1].start if aggregate.status == "suspended" else None
            assert row.suspended_since == open_suspension
