"""Wire models of sample points (样本点) and of the import report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import PointStatus as Status

Code = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(max_length=400)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class SamplePointCreate(RequestModel):
    code: Code
    name: Name
    point_type_id: uuid.UUID
    division_id: uuid.UUID = Field(
        description="Usually a grid (网格); any division of the region is accepted."
    )
    address: Address = ""
    lat: Lat
    lon: Lon
    unit_id: uuid.UUID
    status: Status = "active"


class SamplePointUpdate(RequestModel):
    """Only the fields sent change."""

    code: Code | None = None
    name: Name | None = None
    point_type_id: uuid.UUID | None = None
    division_id: uuid.UUID | None = None
    address: Address | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    unit_id: uuid.UUID | None = None
    status: Status | None = None


class SamplePointRead(ResponseModel):
    id: uuid.UUID
    code: str
    name: str
    point_type_id: uuid.UUID
    division_id: uuid.UUID
    address: str
    lat: float
    lon: float
    unit_id: uuid.UUID
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    deleted: bool = Field(description="True only for tombstones in `updated_since` lists.")
    distance_m: float | None = Field(
        default=None, description="Great-circle distance from `near`, in metres (only with `near`)."
    )


class ImportError_(ResponseModel):
    row: int = Field(description="Row number in the file; the header is row 1.")
    column: str | None
    loc: list[str | int]
    msg: str


class ImportResult(ResponseModel):
    rows: int
    inserted: int
    updated: int
    unchanged: int
