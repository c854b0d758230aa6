"""Inspections settings: the shared ``CW_*`` part plus what only inspections needs."""

from __future__ import annotations

from shared.settings import CommonSettings


class InspectionsSettings(CommonSettings):
    pass
