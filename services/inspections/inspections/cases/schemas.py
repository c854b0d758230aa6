"""Wire models of cases, their actions and their events."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, Field

from shared.coordinates import GeoPoint
from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import CaseActionName as ActionName
from shared.vocabulary import CaseSource as Source
from shared.vocabulary import CaseStatus, Severity


class Location(GeoPoint):
    """Where the problem is; ``crs`` (default ``wgs84``) as the phone's map SDK reports it."""


class LocationRead(ResponseModel):
    lat: float
    lon: float


class CaseCreate(RequestModel):
    """A case not tied to an inspection (an expert group's finding, a supervision note)."""

    id: uuid.UUID = Field(description="Client-generated id; posting the same body again is safe.")
    source: Source
    description: str = Field(min_length=1, max_length=4000)
    severity: Severity
    sample_point_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    division_id: uuid.UUID | None = None
    location: Location | None = None
    address: str | None = Field(default=None, max_length=400)
    unit_id: uuid.UUID | None = None
    reported_at: AwareDatetime | None = Field(
        default=None, description="When the problem was found; defaults to now."
    )
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class CaseAction(RequestModel):
    """One step of the workflow; which fields are required depends on the action."""

    action: ActionName
    note: str | None = Field(default=None, max_length=4000)
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    unit_id: uuid.UUID | None = Field(default=None, description="dispatch: the unit to assign.")
    due_at: AwareDatetime | None = Field(
        default=None,
        description=(
            "dispatch/resume: optional deadline (default from the policy and calendar); "
            "extend: required new deadline; request_extension: optional proposed deadline."
        ),
    )
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="mark_duplicate: the surviving case."
    )


class CaseRead(ResponseModel):
    """A case; ``overdue`` is computed (assigned and past ``due_at``), ``version`` is the ETag."""

    id: uuid.UUID
    sample_point_id: uuid.UUID | None
    inspection_id: uuid.UUID | None
    item_code: str | None
    source: str
    category_id: uuid.UUID | None
    point_type_id: uuid.UUID | None
    division_id: uuid.UUID | None
    description: str
    severity: str
    location: LocationRead | None
    address: str | None
    unit_id: uuid.UUID | None
    reporter_id: uuid.UUID | None
    status: CaseStatus
    due_at: datetime | None
    reported_at: datetime
    dispatched_at: datetime | None
    rectified_at: datetime | None = Field(description="The first rectification.")
    last_rectified_at: datetime | None = Field(description="The latest rectification.")
    closed_at: datetime | None
    closed_on_time: bool | None
    rework_count: int
    extension_count: int
    return_count: int
    overdue: bool
    duplicate_of: uuid.UUID | None
    duplicate_candidates: list[uuid.UUID] = Field(
        description=(
            "A citizen's report (Open311): open cases of the same point type within 50 m when "
            "it came in; the admin may mark_duplicate it onto one of them."
        )
    )
    extension_requested: bool
    extension_requested_at: datetime | None
    extension_requested_due_at: datetime | None
    photo_ids: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class CaseEventRead(ResponseModel):
    """An immutable step; ``from``/``to`` are the statuses before and after it."""

    id: uuid.UUID
    case_id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    from_status: str | None = Field(serialization_alias="from")
    to_status: str = Field(serialization_alias="to")
    note: str | None
    photo_ids: list[uuid.UUID]
    unit_id: uuid.UUID | None
    due_at: datetime | None


class AllowedActionsRead(ResponseModel):
    """What the caller may do to a case now; the version is the one to send as ``If-Match``."""

    status: CaseStatus
    version: int
    allowed_actions: list[ActionName]


class CaseImportResult(ResponseModel):
    created: int
    case_ids: list[uuid.UUID]
