"""Report parameters stored as data per region (``report_settings``), with their defaults.

A region without a row uses the defaults below; the first ``PUT`` creates the
row (``version`` 1). Every report reads the effective values through
:func:`load_settings`.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import ReportSettings

DEFAULT_VOLUME_BANDS: list[dict[str, Any]] = [
    {"min_due": 20, "points": 10},
    {"min_due": 10, "points": 8},
    {"min_due": 5, "points": 6},
    {"min_due": 1, "points": 4},
]
DEFAULT_SCORE_WEIGHTS: dict[str, Any] = {
    "closure": 30,
    "on_time": 30,
    "rework": 30,
    "volume": 10,
    "volume_bands": DEFAULT_VOLUME_BANDS,
}
DEFAULT_MIN_CASES = 5
DEFAULT_INSPECTOR_QUOTA: dict[str, Any] = {
    "facility": 1,
    "hygiene": 3,
    "facility_tags": ["facility"],
    "facility_category_codes": [],
}
DEFAULT_ACCOUNTABILITY_RULES: dict[str, Any] = {
    "black_on_time_rate_below": 0.8,
    # The black list's own floor of due cases (SPEC §8), separate from the ranking's
    # min_cases: a unit late on both of its two cases is black-listed.
    "min_due": 1,
    "red_on_time_rate_at_least": 0.95,
    "red_grades": ["A"],
    "window_months": 3,
    "escalations": [
        {"times": 2, "level": "interview"},
        {"times": 3, "level": "accountability"},
    ],
}


@dataclass(frozen=True)
class EffectiveSettings:
    score_weights: dict[str, Any]
    min_cases: int
    inspector_quota: dict[str, Any]
    accountability_rules: dict[str, Any]
    version: int
    updated_at: datetime | None


def _merged(stored: dict[str, Any] | None, default: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(default)
    out.update(stored or {})
    return out


async def load_settings(session: AsyncSession, region_id: uuid.UUID) -> EffectiveSettings:
    row = await session.get(ReportSettings, region_id)
    if row is None:
        return EffectiveSettings(
            score_weights=copy.deepcopy(DEFAULT_SCORE_WEIGHTS),
            min_cases=DEFAULT_MIN_CASES,
            inspector_quota=copy.deepcopy(DEFAULT_INSPECTOR_QUOTA),
            accountability_rules=copy.deepcopy(DEFAULT_ACCOUNTABILITY_RULES),
            version=0,
            updated_at=None,
        )
    return EffectiveSettings(
        score_weights=_merged(row.score_weights, DEFAULT_SCORE_WEIGHTS),
        min_cases=row.min_cases,
        inspector_quota=_merged(row.inspector_quota, DEFAULT_INSPECTOR_QUOTA),
        accountability_rules=_merged(row.accountability_rules, DEFAULT_ACCOUNTABILITY_RULES),
        version=row.version,
        updated_at=row.updated_at,
    )


async def row_for_update(session: AsyncSession, region_id: uuid.UUID) -> ReportSettings:
    """The region's row, created with the defaults when absent (version 0 until flushed)."""
    row = await session.get(ReportSettings, region_id, with_for_update=True)
    if row is None:
        row = ReportSettings(
            region_id=region_id,
            score_weights=copy.deepcopy(DEFAULT_SCORE_WEIGHTS),
            min_cases=DEFAULT_MIN_CASES,
            inspector_quota=copy.deepcopy(DEFAULT_INSPECTOR_QUOTA),
            accountability_rules=copy.deepcopy(DEFAULT_ACCOUNTABILITY_RULES),
        )
        session.add(row)
    return row
