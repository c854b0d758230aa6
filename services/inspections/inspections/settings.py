"""Inspections settings: the shared ``CW_*`` part plus what only inspections needs.

Service-specific variables carry the ``INSPECTIONS_`` prefix.
"""

from __future__ import annotations

from limits import parse
from pydantic import AliasChoices, Field, field_validator

from shared.settings import CommonSettings


def _env(name: str) -> AliasChoices:
    return AliasChoices(f"INSPECTIONS_{name}")


class InspectionsSettings(CommonSettings):
    photo_dir: str = Field(
        default=".data/photos",
        validation_alias=_env("PHOTO_DIR"),
        description="Folder for photo bytes, stored by sha256 (used unless S3 is configured).",
    )
    max_photo_bytes: int = Field(default=15 * 1024 * 1024, validation_alias=_env("MAX_PHOTO_BYTES"))
    s3_bucket: str | None = Field(default=None, validation_alias=_env("S3_BUCKET"))
    s3_endpoint_url: str | None = Field(default=None, validation_alias=_env("S3_ENDPOINT_URL"))
    s3_region: str | None = Field(default=None, validation_alias=_env("S3_REGION"))
    s3_access_key_id: str | None = Field(default=None, validation_alias=_env("S3_ACCESS_KEY_ID"))
    s3_secret_access_key: str | None = Field(
        default=None, validation_alias=_env("S3_SECRET_ACCESS_KEY")
    )
    s3_prefix: str = Field(default="photos/", validation_alias=_env("S3_PREFIX"))

    context_cache_seconds: float = Field(
        default=45.0,
        validation_alias=_env("CONTEXT_CACHE_SECONDS"),
        description="How long a sample point's registry context is reused (0 disables).",
    )
    context_cache_size: int = Field(default=2048, validation_alias=_env("CONTEXT_CACHE_SIZE"))

    registry_budget_seconds: float = Field(
        default=2.0,
        gt=0,
        validation_alias=_env("REGISTRY_BUDGET_SECONDS"),
        description=(
            "The most a submission waits for the registry's sample-point context, retries "
            "included, before it is kept pending (202): the fallback exists so that a "
            "phone is not kept waiting."
        ),
    )
    pending_retry_seconds: float = Field(
        default=5.0,
        validation_alias=_env("PENDING_RETRY_SECONDS"),
        description="How often pending inspections are retried against the registry (0 = never).",
    )
    pending_batch_size: int = Field(default=20, validation_alias=_env("PENDING_BATCH_SIZE"))

    open311_rate_limit: str = Field(
        default="60/minute",
        validation_alias=_env("OPEN311_RATE_LIMIT"),
        description="Open311 calls allowed per API key (a `limits` string, e.g. 60/minute).",
    )
    open311_anonymous_rate_limit: str = Field(
        default="120/minute",
        validation_alias=_env("OPEN311_ANONYMOUS_RATE_LIMIT"),
        description="Open311 reads without an API key allowed per client address.",
    )

    @field_validator("open311_rate_limit", "open311_anonymous_rate_limit")
    @classmethod
    def _parses_as_rate_limit(cls, value: str) -> str:
        parse(value)  # refuse a typo at start-up, not at the first request
        return value
