"""Wire models of the reports (the units report in full; others are described in OpenAPI text)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class Rate(BaseModel):
    value: float | None = Field(description="numerator / denominator, 4 places; null when 0/0")
    numerator: int
    denominator: int


class PeriodRead(BaseModel):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    timezone: str
    month: str | None

    model_config = {"populate_by_name": True}


class UnitRow(BaseModel):
    unit_id: uuid.UUID
    unit_code: str
    unit_name: str
    assigned: int
    rectified: int
    rectified_on_time: int
    rectified_late: int
    open: int
    overdue_open: int
    rework: int
    returned: int
    extended: int
    parked: int
    due: int
    closed: int
    closed_on_time: int
    closure_rate: Rate
    on_time_rate: Rate
    rework_rate: Rate
    volume_points: float
    score: float | None
    grade: str | None
    rank: int | None
    ranked: bool


class UnitsReportRead(BaseModel):
    period: PeriodRead
    generated_at: str
    weights: dict
    min_cases: int
    items: list[UnitRow]
