"""Reporting settings: the shared ``CW_*`` part plus what only reporting needs.

Service-specific variables carry the ``REPORTING_`` prefix.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from shared.settings import CommonSettings


def _env(name: str) -> AliasChoices:
    return AliasChoices(f"REPORTING_{name}")


class ReportingSettings(CommonSettings):
    # Whole-range reports and the first build of the monthly rollup run statements of
    # several seconds by design; the other services keep the shared 5 s default.
    db_statement_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("CW_DB_STATEMENT_TIMEOUT_SECONDS"),
        description="One SQL statement, measured by the client (reports run long ones).",
    )
    bulletin_font: str = Field(
        default="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        validation_alias=_env("BULLETIN_FONT"),
        description=(
            "The bulletin's TrueType text font for Latin letters and digits (Debian's "
            "fonts-dejavu-core), embedded in the PDF and used by the charts."
        ),
    )
    bulletin_cjk_font: str = Field(
        default="/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        validation_alias=_env("BULLETIN_CJK_FONT"),
        description=(
            "The TrueType font for Chinese text, embedded as the fallback of the text font "
            "(Debian's fonts-droid-fallback). Both are installed by `make install`."
        ),
    )

    @property
    def bulletin_fonts(self) -> tuple[str, str]:
        return self.bulletin_font, self.bulletin_cjk_font

    daily_run_enabled: bool | None = Field(
        default=None,
        validation_alias=_env("DAILY_RUN_ENABLED"),
        description=(
            "Run the accountability rules once a day inside the service. "
            "Unset means on, except with CW_ENV=test (tests switch it on explicitly)."
        ),
    )
    daily_run_hour: int = Field(
        default=1,
        ge=0,
        le=23,
        validation_alias=_env("DAILY_RUN_HOUR"),
        description="Local hour (region time zone) from which the day's run may happen.",
    )
    daily_check_seconds: float = Field(
        default=300.0,
        gt=0,
        validation_alias=_env("DAILY_CHECK_SECONDS"),
        description="How often each replica checks whether today's run is still to do.",
    )

    @property
    def daily_run_active(self) -> bool:
        if self.daily_run_enabled is None:
            return self.env != "test"
        return self.daily_run_enabled

    # A fair share for every region on a shared deployment (reporting/reports/fairness.py).
    heavy_report_days: int = Field(
        default=93,
        ge=1,
        validation_alias=_env("HEAVY_REPORT_DAYS"),
        description="A report over a period longer than this many days counts as heavy.",
    )
    heavy_reports_per_region: int = Field(
        default=1,
        ge=0,
        validation_alias=_env("HEAVY_REPORTS_PER_REGION"),
        description=(
            "Heavy reports one region may have computed at once in this process "
            "(0: no limit); the region's next one waits, other regions never do."
        ),
    )
    heavy_report_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        validation_alias=_env("HEAVY_REPORT_WAIT_SECONDS"),
        description="How long a heavy report waits for its region's slot before a 429.",
    )
    heavy_report_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        validation_alias=_env("HEAVY_REPORT_SHARE"),
        description=(
            "The most of the time one region's heavy reports may take in this process "
            "while another region is active: after one that took d seconds, the region's "
            "next starts d·(1/share − 1) seconds later at the earliest (1: no pause)."
        ),
    )
