"""Wire models of inspections (SPEC §6.2)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from shared.coordinates import GeoPoint
from shared.schemas import RequestModel, ResponseModel

Source = Literal["woodpecker", "expert", "supervision", "leader", "self"]
Outcome = Literal["pass", "fail", "na"]
Severity = Literal["urgent", "normal", "complex"]
Validation = Literal["valid", "pending", "rejected"]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
PhotoIds = Annotated[list[uuid.UUID], Field(default_factory=list, max_length=30)]


class Location(GeoPoint):
    """Where the phone was; ``crs`` (default ``wgs84``) as its map SDK reports it."""

    accuracy_m: float | None = Field(default=None, ge=0)


class ResultCreate(RequestModel):
    """One checklist item: a `grade` 0–10 **or** a `deduction` (≤ the item's points), or
    neither (`pass` = full points, `fail` = 0); `na` takes neither and leaves the maximum."""

    item_code: str = Field(min_length=1, max_length=64)
    grade: int | None = Field(default=None, ge=0, le=10)
    deduction: float | None = Field(default=None, ge=0, le=100000)
    outcome: Outcome
    note: str | None = Field(default=None, max_length=2000)
    photo_ids: PhotoIds


class InspectionCaseCreate(RequestModel):
    """A problem found during the visit; it becomes a case assigned to the point's unit."""

    id: uuid.UUID
    item_code: str | None = Field(default=None, min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    severity: Severity = "normal"
    photo_ids: PhotoIds
    location: Location | None = None


class Epidemic(RequestModel):
    health_code_checked: bool | None = None
    temperature_checked: bool | None = None
    masks_worn: bool | None = None


class InspectionCreate(RequestModel):
    id: uuid.UUID
    sample_point_id: uuid.UUID
    checklist_version: int = Field(ge=1)
    source: Source = "woodpecker"
    started_at: UtcDatetime
    finished_at: UtcDatetime
    location: Location | None = None
    results: list[ResultCreate] = Field(min_length=1, max_length=500)
    cases: list[InspectionCaseCreate] = Field(default_factory=list, max_length=100)
    epidemic: Epidemic | None = None

    def photo_ids(self) -> list[uuid.UUID]:
        """Every photo the inspection uses (results and cases), first use first."""
        ids = [p for r in self.results for p in r.photo_ids]
        ids += [p for c in self.cases for p in c.photo_ids]
        return list(dict.fromkeys(ids))


class InspectionBatch(RequestModel):
    inspections: list[Any] = Field(
        max_length=100, description="Up to 100 inspection bodies, each as for POST /v1/inspections."
    )


# --- responses ---------------------------------------------------------------


class LocationRead(ResponseModel):
    lat: float
    lon: float
    accuracy_m: float | None = None


class EpidemicRead(ResponseModel):
    health_code_checked: bool | None
    temperature_checked: bool | None
    masks_worn: bool | None


class ResultRead(ResponseModel):
    item_code: str
    outcome: Outcome
    grade: int | None
    deduction: float | None
    points: float
    earned: float | None
    note: str | None
    photo_ids: list[uuid.UUID]


class InspectionRead(ResponseModel):
    id: uuid.UUID
    sample_point_id: uuid.UUID
    point_type_id: uuid.UUID | None
    category_id: uuid.UUID | None
    division_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    checklist_version: int
    inspector_id: uuid.UUID
    source: str
    started_at: datetime
    finished_at: datetime
    location: LocationRead | None
    distance_m: float | None
    off_site: bool
    suspect_photos: bool
    max_points: float | None
    earned_points: float | None
    score: float | None
    passed: bool | None
    vetoed_items: list[str]
    epidemic: EpidemicRead
    validation: Validation
    validation_error: dict[str, Any] | None
    created_at: datetime
    validated_at: datetime | None


class InspectionDetail(InspectionRead):
    results: list[ResultRead]
    case_ids: list[uuid.UUID]


class BatchItemResult(ResponseModel):
    id: str | None
    status: int
    error: dict[str, Any] | None = None


class BatchResult(ResponseModel):
    results: list[BatchItemResult]
