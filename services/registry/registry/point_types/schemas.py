"""Wire models of point types and their deadline-policy override."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import DeadlineUnit, Severity

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
PassMark = Annotated[float, Field(ge=0, le=100)]
VisitEveryDays = Annotated[int, Field(ge=1, le=366)]


class DeadlineLimit(RequestModel):
    """How long a unit has for one severity: ``amount`` hours or working days."""

    amount: Annotated[int, Field(gt=0, le=10_000)]
    unit: DeadlineUnit


DeadlinePolicyOverride = dict[Severity, DeadlineLimit]


class PointTypeCreate(RequestModel):
    code: Code
    name: Name
    category_id: uuid.UUID
    pass_mark: PassMark = 80.0
    visit_every_days: VisitEveryDays = 7
    deadline_policy: DeadlinePolicyOverride | None = Field(
        default=None,
        description="Per-severity override of the region's deadline policies, "
        'e.g. {"urgent": {"amount": 12, "unit": "hours"}}; severities left out keep the region default.',
    )


class PointTypeUpdate(RequestModel):
    """Only the fields sent change; `deadline_policy: null` removes the override."""

    code: Code | None = None
    name: Name | None = None
    category_id: uuid.UUID | None = None
    pass_mark: PassMark | None = None
    visit_every_days: VisitEveryDays | None = None
    deadline_policy: DeadlinePolicyOverride | None = None


class PointTypeRead(ResponseModel):
    id: uuid.UUID
    code: str
    name: str
    category_id: uuid.UUID
    pass_mark: float
    visit_every_days: int
    deadline_policy: dict[str, dict] | None
    current_checklist_version: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted: bool
