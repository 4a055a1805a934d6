"""Races: commands that decide on what another command changes at the same moment.

Every command saves only if what it relied on is unchanged when it commits
(decision 25); the loser gets a retryable ``ConcurrentUpdate`` (HTTP 409), never
a half-written or inconsistent history.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from uuid import UUID

import pytest

from mcreg.bootstrap import Services, bootstrap
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import LearnerVault
from mcreg.registry.application import Registry
from mcreg.registry.errors import ConcurrentUpdate, DomainError, NoQualityAssurance
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import World


class InterleavingVault:
    """The learner-key vault, calling ``meanwhile`` once, between issuance's checks and its save."""

    def __init__(self, vault: LearnerVault, meanwhile: Callable[[], None]) -> None:
        self.vault = vault
        self.meanwhile: Callable[[], None] | None = meanwhile

    def create_keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return self.vault.create_keys(learner_ids)

    def __getattr__(self, name: str):
        return getattr(self.vault, name)


@pytest.fixture
def other_process(services: Services) -> Services:
    """A second registry on the same database, as another API process would be."""
    other = bootstrap(services.settings)
    yield other
    other.close()


def test_an_issuance_loses_to_a_withdrawal_saved_between_its_check_and_its_save(
    services: Services, other_process: Services
) -> None:
    world = World(services.registry)
    withdraw = lambda: other_process.registry.withdraw_accreditation(  # noqa: E731
        world.agency, world.accreditation_id, reason="fraud in assessments", effective=date(2024, 1, 1)
    )
    registry = services.registry
    registry.vault = InterleavingVault(registry.vault, withdraw)
    before = registry.recorder.max_notification_id()

    with pytest.raises(ConcurrentUpdate):
        world.issue(date(2024, 3, 1))

    # Only the withdrawal was written; asked again, the issuance sees it and is refused for its reason.
    assert registry.recorder.max_notification_id() == before + 1
    assert registry.get(Accreditation, world.accreditation_id).withdrawn_on == date(2024, 1, 1)
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 3, 1))
    # Issued before the withdrawal took effect, it is still quality-assured, and records the new version.
    credential = registry.get(Credential, world.issue(date(2023, 12, 1)))
    assert credential.qa_basis.version == registry.get(Accreditation, world.accreditation_id).version


def test_in_memory_as_on_postgresql_a_save_whose_relied_on_decision_changed_meanwhile_writes_nothing(
    registry: Registry,
) -> None:
    """Decision 25 is the recorder's rule on both persistence modules, not a feature of PostgreSQL."""
    world = World(registry)
    withdraw = lambda: registry.withdraw_accreditation(  # noqa: E731
        world.agency, world.accreditation_id, reason="fraud in assessments", effective=date(2024, 1, 1)
    )
    registry.vault = InterleavingVault(registry.vault, withdraw)
    before = registry.recorder.max_notification_id() or 0

    with pytest.raises(ConcurrentUpdate):
        world.issue(date(2024, 3, 1))

    (written,) = registry.recorder.select_notifications(before + 1, 10)
    assert (written.originator_id, written.topic) == (
        world.accreditation_id,
        "registry.accreditation:Accreditation.Withdrawn",
    )
    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 3, 1))


def test_32_conflicting_commands_on_one_credential_leave_one_history_and_no_faults(
    services: Services, other_process: Services
) -> None:
    registry = services.registry
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    institutions = [world.register_provider("BE", f"Université {i}") for i in range(8)]
    registries = (services.registry, other_process.registry)
    barrier = threading.Barrier(32)

    def attempt(i: int) -> str:
        r = registries[i % 2]
        barrier.wait()
        try:
            match i % 4:
                case 0:
                    r.revoke_credential(world.provider, credential_id, reason="fraud")
                case 1:
                    r.suspend_credential(world.provider, credential_id, reason=f"check {i}")
                case 2:
                    r.reinstate_credential(world.provider, credential_id)
                case 3:
                    institution = Actor(institutions[i // 4], Role.INSTITUTION, key_id="be")
                    recognition = r.request_recognition(
                        institution, credential_id=credential_id, institution_id=institution.org, purpose="admission"
                    )
                    r.decide_recognition(institution, recognition, outcome="recognised", ects_recognised="5")
            return "ok"
        except DomainError as error:
            return error.type

    with ThreadPoolExecutor(32) as pool:
        outcomes = Counter(pool.map(attempt, range(32)))

    assert set(outcomes) <= {"ok", "concurrent-update", "state-conflict"}, outcomes
    events = list(registry.events.get(credential_id))
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert sum(type(e).__name__ == "Revoked" for e in events) <= 1
    assert len(events) - 1 <= outcomes["ok"]  # every change to the credential was somebody's acknowledged success

    # Every recorded recognition decision states the credential's status as the log had it when it committed.
    notifications = registry.recorder.select_notifications(1, 10_000)
    position = {(n.originator_id, n.originator_version): n.id for n in notifications}
    decided = [
        (n.id, registry.mapper.to_domain_event(n)) for n in notifications if n.topic.endswith("Recognition.Decided")
    ]
    assert decided, "some recognitions were decided"
    for at, decision in decided:
        credential = None
        for event in events:
            if position[(credential_id, event.originator_version)] < at:
                credential = event.mutate(credential)
        assert decision.verdict.credential_status == credential.status_on(decision.stamp.effective)


def test_reference_data_kept_in_one_process_never_decides_on_a_version_another_process_replaced(
    services: Services, other_process: Services
) -> None:
    """The micro-credential, provider, QA decision and agency an issuance read are kept in the process for the
    next one; a withdrawal saved by another process since must still refuse that next issuance."""
    registry = services.registry
    world = World(registry)
    world.issue(date(2024, 3, 1))
    kept = registry.reference_data.get(world.accreditation_id)
    assert kept is not None, "the accreditation the issuance relied on is kept as reference data"

    other_process.registry.withdraw_accreditation(
        world.agency, world.accreditation_id, reason="fraud in assessments", effective=date(2024, 1, 1)
    )
    before = registry.recorder.max_notification_id()

    with pytest.raises(NoQualityAssurance):
        world.issue(date(2024, 3, 1))
    assert registry.recorder.max_notification_id() == before
    credential = registry.get(Credential, world.issue(date(2023, 12, 1)))
    assert credential.qa_basis.version == kept.version + 1  # the withdrawal's version, not the one kept


def test_a_withdrawal_between_an_issuance_reading_kept_reference_data_and_its_save_is_caught_at_commit(
    services: Services, other_process: Services
) -> None:
    registry = services.registry
    world = World(registry)
    world.issue(date(2024, 3, 1))  # keeps the reference data the next issuance reads
    withdraw = lambda: other_process.registry.withdraw_accreditation(  # noqa: E731
        world.agency, world.accreditation_id, reason="fraud in assessments", effective=date(2024, 1, 1)
    )
    registry.vault = InterleavingVault(registry.vault, withdraw)
    before = registry.recorder.max_notification_id()

    with pytest.raises(NoQualityAssurance):  # checked at commit, found changed, decided again on the stored version
        world.issue(date(2024, 3, 1))
    assert registry.recorder.max_notification_id() == before + 1  # the withdrawal alone
