"""What every benchmark starts from: a database of its own and a provider ready to issue.

Benchmarks run as whole processes (`python bench/<name>.py`), so this module is
imported from beside them.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg

from mcreg.database import open_database
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings

CREDENTIAL_ISSUED = "registry.credential:Credential.Issued"
"""The stored topic of an issued credential (fixed by ``registry/topics.py`` whatever module defines the class)."""

SPEC = {
    "title": {"en": "Benchmarking"},
    "learning_outcomes": [{"text": "Measure before claiming"}],
    "ects": "3",
    "eqf_level": 6,
    "isced_field": "0613",
    "assessment": "exam",
    "participation": "online",
    "qa_type": "internal",
    "languages": ["en"],
}
ISSUED_ON = date(2024, 3, 1)
"""An issue date the issuer's accreditation covers."""


def settings() -> Settings:
    """The environment's database, or an embedded one in a new temporary folder."""
    return Settings(data_dir=Path(tempfile.mkdtemp(prefix="mcreg-bench-")))


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of an `mcreg` process on ``settings``' database and schema, with its data folder and KEK:
    the log's key and the issuers' keys are sealed under the KEK, so a process without it cannot open them."""
    env = os.environ | {
        "MCREG_DATABASE_URL": str(settings.database_url),
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "MCREG_DATA_DIR": str(settings.data_dir),
    }
    if settings.key_encryption_key is not None:
        env["MCREG_KEY_ENCRYPTION_KEY"] = settings.key_encryption_key.get_secret_value()
    return env | extra


@contextmanager
def fresh_schema(base: Settings) -> Iterator[Settings]:
    """Settings for an empty schema of its own on ``base``'s database, dropped afterwards."""
    database = open_database(base)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield base.model_copy(update={"database_url": database.conninfo, "postgres_schema": schema})
    finally:
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def accredited_issuer(registry: Registry) -> tuple[Actor, uuid.UUID]:
    """A provider accredited from 2021 and one micro-credential of its: who issues, and what."""
    operator = Actor(uuid.uuid4(), Role.OPERATOR, key_id="bench")
    agency_id = registry.register_agency(operator, name="Bench QA", country="NL", registered_on=date(2015, 1, 1))
    provider_id = registry.register_provider(
        operator, names={"en": "Bench University"}, country="NL", registered_on=date(2015, 1, 1)
    )
    registry.grant_accreditation(
        Actor(agency_id, Role.QA_AGENCY), provider_id=provider_id, outcome="positive", valid_from=date(2021, 1, 1)
    )
    provider = Actor(provider_id, Role.PROVIDER)
    microcredential_id = registry.specify_microcredential(
        provider, provider_id=provider_id, specified_on=date(2021, 1, 1), **SPEC
    )
    return provider, microcredential_id
