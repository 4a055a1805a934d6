"""Processes that start at once on a fresh database (two ``mcreg project`` and an API, as a deployment or the
failover drill starts them) each create the tables they need: none fails on another's ``CREATE``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mcreg.bootstrap import bootstrap, open_read_models, open_transparency_log, open_webhooks
from mcreg.database import Database
from mcreg.settings import Settings

STARTERS = 4


def test_processes_starting_at_once_on_a_fresh_schema_all_make_their_tables(
    database: Database, schema: str, tmp_path: Path
) -> None:
    together = threading.Barrier(STARTERS)

    def start() -> list[str]:
        together.wait()
        services = bootstrap(Settings(database_url=database.conninfo, postgres_schema=schema, data_dir=tmp_path))
        try:
            read_models = open_read_models(services)
            log = open_transparency_log(services)
            webhooks = open_webhooks(services)
            webhooks.view.close()
            log.close()
            read_models.close()
            return sorted(read_models.names)
        finally:
            services.close()

    with ThreadPoolExecutor(STARTERS) as pool:
        opened = [future.result() for future in [pool.submit(start) for _ in range(STARTERS)]]
    assert all(names == opened[0] for names in opened) and "dashboard" in opened[0]
