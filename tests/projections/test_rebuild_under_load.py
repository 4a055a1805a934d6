"""A rebuild while the worker follows a registry that keeps recording: nothing is lost or applied twice."""

from __future__ import annotations

import threading
from datetime import date

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from tests.projections.conftest import issue_many
from tests.world import World


def test_rebuilding_and_checking_while_the_worker_follows_new_events(
    services: Services, world: World, read_models: ReadModels
):
    credentials = issue_many(world, 50)
    writing = threading.Event()
    writing.set()

    def keep_recording() -> None:
        day = 0
        while writing.is_set():
            day += 1
            (credential_id,) = issue_many(world, 1)
            services.registry.suspend_credential(
                world.provider, credential_id, reason="checks", effective=date(2024, 3, 1 + day % 28)
            )

    writer = threading.Thread(target=keep_recording)
    with read_models.worker(idle=0.05) as worker:
        writer.start()
        try:
            read_models.rebuild(page_size=7)
            assert read_models.check(page_size=7).equal
            read_models.rebuild(["audit_timeline"], page_size=7)
        finally:
            writing.clear()
            writer.join()
        head = services.registry.recorder.max_notification_id()
        for projector in read_models.select():
            projector.view.wait(services.registry.name, head, timeout=10)

    assert worker.errors == {}
    assert set(read_models.lag().values()) == {0}
    assert read_models.check().equal
    rows = read_models.credential_status.rows("credential_status")
    assert len(rows) > len(credentials)
    assert len(read_models.audit_timeline.rows("audit_timeline")) == head
