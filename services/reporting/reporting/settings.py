"""Reporting settings: the shared ``CW_*`` part plus what only reporting needs."""

from __future__ import annotations

from shared.settings import CommonSettings


class ReportingSettings(CommonSettings):
    pass
