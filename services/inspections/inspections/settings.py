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
    ingest_turns_per_region: int = Field(
        default=1,
        ge=0,
        validation_alias=_env("INGEST_TURNS_PER_REGION"),
        description=(
            "While another region is active (CW_REGION_ACTIVE_WINDOW_SECONDS), a region's "
            "submissions hold at most this many of the process's CW_DB_POOL_SIZE turns at "
            "once; alone, a region may use them all (0: no per-region limit)."
        ),
    )

    # ---- notifications (SPEC §9)
    notifications_enabled: bool | None = Field(
        default=None,
        validation_alias=_env("NOTIFICATIONS_ENABLED"),
        description=(
            "Run the notification loops (fan-out and webhook delivery, the due_soon/overdue "
            "scheduler, the daily digest) inside the service. Unset means on, except with "
            "CW_ENV=test (tests start them explicitly)."
        ),
    )
    notifications_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_POLL_SECONDS"),
        description="How often an idle dispatcher looks for new events and due deliveries.",
    )
    notifications_batch_size: int = Field(
        default=50, gt=0, validation_alias=_env("NOTIFICATIONS_BATCH_SIZE")
    )
    notifications_concurrency: int = Field(
        default=16,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_CONCURRENCY"),
        description="HTTP deliveries one replica sends at the same time.",
    )
    notifications_http_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_HTTP_TIMEOUT_SECONDS"),
        description=(
            "The whole of one delivery attempt (connect, send, answer); a receiver that "
            "hangs is cut off after it and the attempt counts as failed."
        ),
    )
    notifications_retry_first_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_RETRY_FIRST_SECONDS"),
        description="Gap before the first retry; each later gap doubles (with jitter).",
    )
    notifications_retry_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_RETRY_MAX_SECONDS"),
        description="The longest gap between two attempts.",
    )
    notifications_retry_for_seconds: float = Field(
        default=86400.0,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_RETRY_FOR_SECONDS"),
        description="How long a delivery is retried before it is marked failed.",
    )
    notifications_due_soon_hours: float = Field(
        default=24.0,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_DUE_SOON_HOURS"),
        description="case.due_soon fires this long before due_at.",
    )
    notifications_schedule_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias=_env("NOTIFICATIONS_SCHEDULE_SECONDS"),
        description="How often the due_soon/overdue/digest scheduler runs (once across replicas).",
    )
    notifications_digest_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        validation_alias=_env("NOTIFICATIONS_DIGEST_HOUR"),
        description="Local hour (region time zone) from which the day's unit.digest is sent.",
    )

    @property
    def notifications_active(self) -> bool:
        if self.notifications_enabled is None:
            return self.env != "test"
        return self.notifications_enabled

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
