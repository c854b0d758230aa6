"""Typed settings shared by every service.

Each service adds a small class with its own env prefix (``REGISTRY_``,
``INSPECTIONS_``, ``REPORTING_``). Nothing here is read at import time: the app
factory builds the settings object in its lifespan so tests can override env.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults. They make `make run` work on a fresh clone and are
# refused when CW_ENV=production (see `refuse_development_secrets`).
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_SERVICE_TOKEN = "dev-only-service-token-change-me"
DEV_BOOTSTRAP_ADMIN = "admin:admin-dev-password"
MIN_SECRET_LENGTH = 32  # both secrets are bearer credentials: too short is guessable


class CommonSettings(BaseSettings):
    """Database, auth and wiring that every service reads from ``CW_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="CW_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    # DATABASE_URL is the conventional unprefixed name; CW_DATABASE_URL also works.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CW_DATABASE_URL")
    )
    # The pool should cover a process's usual concurrency: overflow connections are
    # opened and closed per burst, and a PostgreSQL connect costs more than a query.
    db_pool_size: int = 20
    db_max_overflow: int = 10
    # Bounded waits (SPEC §3): a frozen or unreachable database answers 503 with
    # Retry-After within seconds instead of holding the client. Each bounds one step;
    # a request fails at its first step that runs out, so the worst case is about
    # acquire + statement, not the sum of all four.
    db_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="Opening a new connection to PostgreSQL."
    )
    db_acquire_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        description="Waiting for a pooled connection (or an ingest turn) while all are busy.",
    )
    db_statement_timeout_seconds: float = Field(
        default=5.0, gt=0, description="One SQL statement, measured by the client."
    )
    db_commit_timeout_seconds: float = Field(
        default=5.0, gt=0, description="The commit at the end of a request or background step."
    )
    # Regions share a process fairly (shared.region_share): a region is "active" for this
    # long after its last request, and while another one is, a region's heavy requests
    # (ingest) hold at most their per-region share of the process's turns.
    region_active_window_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long after its last request a region counts as active here.",
    )

    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_seconds: int = 12 * 3600
    # How long a service trusts its cached copy of a person's token version: the most
    # time an older token still works elsewhere after an account change (at most 5 s).
    token_version_cache_seconds: float = Field(default=2.0, ge=0, le=5)
    service_token: str = DEV_SERVICE_TOKEN

    bootstrap_admin: str | None = DEV_BOOTSTRAP_ADMIN
    bootstrap_region: str = "default:Default region"
    demo: bool = True

    log_level: str = "INFO"
    log_json: bool = True

    registry_url: str = "http://127.0.0.1:8001"
    inspections_url: str = "http://127.0.0.1:8002"
    reporting_url: str = "http://127.0.0.1:8003"
    # Where Swagger's Authorize button signs in, for the services that do not sign people
    # in themselves. Unset: the registry at registry_url (right for `make run`). Behind
    # the gateway the browser cannot reach that address; there it is /v1/auth/token.
    docs_sign_in_url: str | None = None
    http_timeout_seconds: float = 3.0
    http_retries: int = 2

    # Shifts this process's clock (shared.clock); for e2e tests only, refused in production.
    clock_offset_seconds: float = 0.0

    @model_validator(mode="after")
    def refuse_development_secrets(self) -> CommonSettings:
        if self.env != "production":
            return self
        weak = []
        if self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < MIN_SECRET_LENGTH:
            weak.append("CW_JWT_SECRET")
        if self.service_token == DEV_SERVICE_TOKEN or len(self.service_token) < MIN_SECRET_LENGTH:
            weak.append("CW_SERVICE_TOKEN")
        if self.bootstrap_admin == DEV_BOOTSTRAP_ADMIN:
            weak.append("CW_BOOTSTRAP_ADMIN")
        if not self.database_url:
            weak.append("DATABASE_URL")
        if self.clock_offset_seconds:
            weak.append("CW_CLOCK_OFFSET_SECONDS (must be unset)")
        if weak:
            raise ValueError("production refuses development defaults; set " + ", ".join(weak))
        return self
