"""Wire models of deadline policies: how long a unit has to rectify, by severity."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import DeadlineUnit, Severity

# A year is the longest sensible time limit in either unit.
MAX_AMOUNT = {"hours": 24 * 366, "workdays": 366}


class DeadlinePolicyWrite(RequestModel):
    amount: int = Field(gt=0, description="How many hours or working days.")
    unit: DeadlineUnit

    @model_validator(mode="after")
    def _at_most_a_year(self) -> DeadlinePolicyWrite:
        if self.amount > MAX_AMOUNT[self.unit]:
            raise ValueError(f"amount must be at most {MAX_AMOUNT[self.unit]} {self.unit}")
        return self


class DeadlinePolicyRead(ResponseModel):
    severity: Severity
    amount: int
    unit: DeadlineUnit
    updated_at: datetime
