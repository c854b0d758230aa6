"""Wire models of accountability runs and notices."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import RequestModel


class RunCreate(RequestModel):
    period: str = Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="The month to apply the rules to, YYYY-MM in the region's time zone.",
        examples=["2026-10"],
    )


class NoticeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    unit_id: uuid.UUID | None
    person_id: uuid.UUID | None
    level: str
    rule: str
    reason: str
    period: str
    case_ids: list[uuid.UUID]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period: str
    trigger: str
    started_at: datetime
    notices_created: int
    actor_id: uuid.UUID | None


class RunResult(RunRead):
    black: list[dict] = Field(description="Units black-listed for the period, with their figures.")
    red: list[dict] = Field(description="Units red-listed for the period, with their figures.")
    notices: list[NoticeRead] = Field(description="Every notice of the period (new and earlier).")
