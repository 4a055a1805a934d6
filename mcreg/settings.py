"""Settings, read once from the environment by the composition root.

``MCREG_*`` variables configure mcreg; the eventsourcing library reads its own
``POSTGRES_*`` variables too (pool size, lock timeout, schema, …).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from limits import parse as parse_rate
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCREG_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MCREG_DATABASE_URL", "DATABASE_URL"),
        description="PostgreSQL URL of a real server; without it (and without POSTGRES_HOST) mcreg runs embedded.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of a streaming replica (as `target_session_attrs=prefer-standby` over a "
        "cluster's members) that `mcreg serve` reads the read models, the transparency log, exports and verification "
        "from; unset: the primary serves them.",
    )
    read_wait: float = Field(
        default=2.0,
        ge=0,
        le=30,
        description="Seconds a read presenting `MCREG-Position` waits for its read models to have applied it.",
    )
    read_lag_limit: int = Field(
        default=1000,
        ge=0,
        description="Events a replica's read models may lag the primary's before reads are served by the primary.",
    )
    # The library's own way to name a server, used when no URL is given.
    postgres_host: str | None = Field(default=None, validation_alias="POSTGRES_HOST")
    postgres_port: int = Field(default=5432, validation_alias="POSTGRES_PORT")
    postgres_dbname: str = Field(default="mcreg", validation_alias="POSTGRES_DBNAME")
    postgres_user: str = Field(default="mcreg", validation_alias="POSTGRES_USER")
    postgres_password: str = Field(default="", validation_alias="POSTGRES_PASSWORD")
    postgres_schema: str = Field(default="", validation_alias="POSTGRES_SCHEMA")
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("mcreg")),
        description="Where the embedded PostgreSQL keeps its data.",
    )
    env: Literal["development", "production"] = "development"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address clients reach the API at; problem types, DIDs and links are built on it. "
        "Unset: the address `mcreg serve` listens on (127.0.0.1 when it listens on every interface, 0.0.0.0).",
    )
    max_body_bytes: int = Field(default=1 << 20, description="Largest request body, except batches and imports.")
    max_batch_bytes: int = Field(default=64 << 20, description="Largest body of a batch issuance or an import.")
    max_batch_rows: int = Field(default=10_000, description="Most credentials one batch may issue.")
    max_csv_rows: int = Field(
        default=100_000,
        description="Most rows of one CSV import (`POST /v1/credentials:import`), written in chunks of at most "
        "`max_batch_rows`.",
    )
    auth_failure_limit: str = Field(
        default="30/minute",
        description="Refused keys or tokens one client address may present per moving window (as `30/minute`) "
        "before every key it presents is refused with a 429; counted in each API process.",
    )

    @field_validator("auth_failure_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        if parse_rate(value).amount < 1:  # parse_rate refuses what is not a rate, naming it
            raise ValueError("must allow at least one refusal per window")
        return value

    jwt_issuer: str | None = Field(
        default=None, description="Issuer (`iss`) of OAuth2 bearer tokens accepted besides API keys; unset: none."
    )
    jwt_audience: str = Field(default="mcreg", description="Audience (`aud`) bearer tokens must name.")
    key_encryption_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes (e.g. `openssl rand -base64 32`) that seal issuers' private keys "
        "and the log's. Required in production; in development a file in the data directory is made when it is unset.",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds a webhook receiver has to connect, and for each read."
    )
    webhook_concurrency: int = Field(default=4, ge=1, le=64, description="Webhook deliveries one worker makes at once.")
    jwt_jwks: Path | None = Field(default=None, description="A JWKS file with the issuer's public signing keys.")
    group_commit_size: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Most concurrent commands `mcreg serve` writes in one shared transaction (1: each its own).",
    )
    group_commit_wait_ms: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="Milliseconds the shared writer waits for more commands after the first before it commits "
        "(0: it takes those already waiting; others gather while it commits).",
    )
    group_commit_queue: int = Field(
        default=256,
        ge=1,
        description="Commands that may wait for the shared writer; one more is refused with a 503 and Retry-After.",
    )

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on ``host:port``: unless set, the public URL names that address."""
        if "public_url" in self.model_fields_set:
            return self
        return self.model_copy(update={"public_url": http_url(LOOPBACK_FOR.get(host, host), port)})


LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1"}
"""A link cannot name every interface: it names the loopback address instead."""


def http_url(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
