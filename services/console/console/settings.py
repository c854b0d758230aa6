"""Console settings: where the three services are, the session secret, the map tiles.

The console owns no tables, so it reads only the ``CW_*`` service URLs and its own
``CONSOLE_*`` variables. Development defaults make `make run` work on a fresh clone
and are refused with ``CW_ENV=production``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SESSION_SECRET = "dev-only-console-session-secret-change-me-0123456789"


def _cw(name: str) -> AliasChoices:
    return AliasChoices(f"CW_{name}")


class ConsoleSettings(BaseSettings):
    """What the console needs to reach the services and keep a signed-in session."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = Field(
        default="development", validation_alias=_cw("ENV")
    )
    registry_url: str = Field(default="http://127.0.0.1:8001", validation_alias=_cw("REGISTRY_URL"))
    inspections_url: str = Field(
        default="http://127.0.0.1:8002", validation_alias=_cw("INSPECTIONS_URL")
    )
    reporting_url: str = Field(
        default="http://127.0.0.1:8003", validation_alias=_cw("REPORTING_URL")
    )
    log_level: str = Field(default="INFO", validation_alias=_cw("LOG_LEVEL"))
    log_json: bool = Field(default=True, validation_alias=_cw("LOG_JSON"))
    http_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="One call to a service; reports over a long period take seconds by design.",
    )
    session_secret: str = Field(
        default=DEV_SESSION_SECRET, description="Signs the session cookie (≥ 32 characters)."
    )
    session_max_age_seconds: int = Field(
        default=12 * 3600,
        description="Idle sessions end; the API token's own expiry also ends one.",
    )
    cookie_secure: bool = Field(
        default=True,
        description=(
            "Mark the session cookie Secure. Browsers accept Secure cookies from "
            "http://localhost and 127.0.0.1; behind the gateway, serve HTTPS."
        ),
    )
    tile_url: str = Field(
        default="",
        description=(
            "Map tiles, e.g. http://tiles.intranet/{z}/{x}/{y}.png (a 天地图 or intranet "
            "tile server). Empty: points over a plain background, no request leaves the console."
        ),
    )
    tile_attribution: str = ""
    timezone: str = Field(
        default="Asia/Shanghai",
        description="How deadlines typed into forms are read (the region's zone).",
    )

    @model_validator(mode="after")
    def refuse_development_secret(self) -> ConsoleSettings:
        if self.env == "production" and (
            self.session_secret == DEV_SESSION_SECRET or len(self.session_secret) < 32
        ):
            raise ValueError("production refuses development defaults; set CONSOLE_SESSION_SECRET")
        return self
