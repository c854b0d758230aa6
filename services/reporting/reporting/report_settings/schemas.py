"""Wire models of the report parameters (score weights, inspector quota, accountability rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from shared.schemas import RequestModel

Grade = Literal["A", "B", "C", "D", "E"]


class VolumeBand(RequestModel):
    min_due: int = Field(ge=0, le=100_000, description="Lowest `due` count of the band.")
    points: float = Field(ge=0, le=10, description="Volume points (out of 10) for the band.")


class ScoreWeightsUpdate(RequestModel):
    closure: float = Field(ge=0, le=1000, description="Weight of closure_rate.")
    on_time: float = Field(ge=0, le=1000, description="Weight of on_time_rate.")
    rework: float = Field(ge=0, le=1000, description="Weight of (1 - rework_rate).")
    volume: float = Field(ge=0, le=1000, description="Weight of the banded volume score.")
    volume_bands: list[VolumeBand] | None = Field(
        default=None,
        max_length=20,
        description="Bands of the volume score; omitted means the default bands.",
    )
    min_cases: int = Field(
        default=5, ge=0, le=100_000, description="Fewest due cases for a unit to be ranked."
    )

    @model_validator(mode="after")
    def _some_weight(self) -> ScoreWeightsUpdate:
        if self.closure + self.on_time + self.rework + self.volume <= 0:
            raise ValueError("at least one weight must be positive")
        return self


class ScoreWeightsRead(BaseModel):
    closure: float
    on_time: float
    rework: float
    volume: float
    volume_bands: list[dict]
    min_cases: int
    version: int
    updated_at: datetime | None


class InspectorQuotaUpdate(RequestModel):
    facility: int = Field(ge=0, le=1000, description="Facility cases a patrol member owes a week.")
    hygiene: int = Field(ge=0, le=1000, description="Hygiene cases a patrol member owes a week.")
    facility_tags: list[str] = Field(
        default_factory=lambda: ["facility"],
        max_length=50,
        description="Checklist item tags that make a case a facility case.",
    )
    facility_category_codes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Category codes whose cases are all facility cases.",
    )


class InspectorQuotaRead(BaseModel):
    facility: int
    hygiene: int
    facility_tags: list[str]
    facility_category_codes: list[str]
    version: int
    updated_at: datetime | None


class Escalation(RequestModel):
    times: int = Field(ge=1, le=12, description="Black-list appearances within the window.")
    level: Literal["interview", "accountability"]


class AccountabilityRulesUpdate(RequestModel):
    black_on_time_rate_below: float = Field(ge=0, le=1)
    min_due: int = Field(
        default=1,
        ge=1,
        le=100_000,
        description="Fewest due cases in the month for the black-list rule to apply to a "
        "unit (separate from the ranking's `min_cases`).",
    )
    red_on_time_rate_at_least: float = Field(ge=0, le=1)
    red_grades: list[Grade] = Field(default_factory=lambda: ["A"], max_length=5)
    window_months: int = Field(default=3, ge=1, le=12)
    escalations: list[Escalation] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _within_window(self) -> AccountabilityRulesUpdate:
        for esc in self.escalations:
            if esc.times > self.window_months:
                raise ValueError("an escalation cannot need more appearances than window_months")
        return self


class AccountabilityRulesRead(BaseModel):
    black_on_time_rate_below: float
    min_due: int
    red_on_time_rate_at_least: float
    red_grades: list[str]
    window_months: int
    escalations: list[dict]
    version: int
    updated_at: datetime | None
