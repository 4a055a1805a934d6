"""Credential status: each credential's row says what its events say, and nothing about the learner but an id."""

from __future__ import annotations

import dataclasses
from datetime import date

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.aggregates.credential import Credential
from tests.projections.conftest import issue_many
from tests.world import World


def test_each_row_agrees_with_its_credential(services: Services, world: World, read_models: ReadModels):
    registry, provider = services.registry, world.provider
    active, suspended, reinstated, revoked = issue_many(world, 4)
    later = world.issue(date(2024, 6, 1), valid_until=date(2029, 6, 1))
    registry.suspend_credential(provider, suspended, reason="fees unpaid", effective=date(2024, 4, 1))
    registry.suspend_credential(provider, reinstated, reason="fees unpaid", effective=date(2024, 4, 1))
    registry.reinstate_credential(provider, reinstated, effective=date(2024, 4, 15))
    registry.suspend_credential(provider, revoked, reason="fraud suspected", effective=date(2024, 4, 1))
    registry.revoke_credential(provider, revoked, reason="fraud", effective=date(2024, 5, 1))

    read_models.catch_up()

    view = read_models.credential_status
    for credential_id in (active, suspended, reinstated, revoked, later):
        credential = registry.get(Credential, credential_id)
        row = view.get(credential_id)
        assert row is not None
        assert (row.provider_id, row.microcredential_id, row.spec_version) == (
            world.provider_id,
            world.microcredential_id,
            1,
        )
        assert (row.issued_on, row.valid_until) == (credential.issued_on, credential.valid_until)
        assert (row.qa_basis_kind, row.qa_basis_id, row.qa_basis_version) == (
            "accreditation",
            credential.qa_basis.id,
            credential.qa_basis.version,
        )
        assert row.learner_id == credential.learner_id
        assert row.status == credential.status
        assert (row.revoked_on, row.revocation_reason) == (credential.revoked_on, credential.revocation_reason)
    assert view.get(suspended).suspended_since == date(2024, 4, 1)
    assert view.get(reinstated).suspended_since is None
    assert view.get(revoked).suspended_since is None  # revocation ends the suspension


def test_rows_hold_no_learner_personal_data(world: World, read_models: ReadModels):
    (credential_id,) = issue_many(world, 1)  # the learner is "Learner 0", born 1995-12-10, ada@example.org
    read_models.catch_up()

    row = read_models.credential_status.get(credential_id)

    values = [str(value) for value in dataclasses.asdict(row).values()]
    assert not any("Learner" in v or "ada@example.org" in v or "1995-12-10" in v for v in values)


def test_a_provider_looks_up_its_credentials_by_status(services: Services, world: World, read_models: ReadModels):
    credentials = issue_many(world, 5)
    services.registry.revoke_credential(world.provider, credentials[3], reason="issued_in_error")
    other = World(services.registry)
    other.issue()
    read_models.catch_up()
    view = read_models.credential_status

    assert {row.credential_id for row in view.by_provider(world.provider_id)} == set(credentials)
    assert [row.credential_id for row in view.by_provider(world.provider_id, "revoked")] == [credentials[3]]
    assert view.by_provider(world.provider_id, "suspended") == []


def test_a_provider_pages_through_its_credentials_in_issue_order(world: World, read_models: ReadModels):
    march = issue_many(world, 3, date(2024, 3, 1))
    april = issue_many(world, 2, date(2024, 4, 1))
    read_models.catch_up()
    view = read_models.credential_status

    pages, after = [], None
    while page := view.by_provider(world.provider_id, limit=2, after=after):
        pages.append([row.credential_id for row in page])
        after = (page[-1].issued_on, page[-1].credential_id)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [credential_id for page in pages for credential_id in page] == sorted(march) + sorted(april)
    assert {row.credential_id for row in view.get_many([*april, world.provider_id])} == set(april)
