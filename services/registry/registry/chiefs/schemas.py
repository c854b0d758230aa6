"""Wire models of chiefs (片长 area, 网格长 grid, 路长 road)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import ChiefKind

RoadName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ChiefCreate(RequestModel):
    person_id: uuid.UUID
    kind: ChiefKind
    division_id: uuid.UUID | None = None
    road_name: RoadName | None = None


class ChiefUpdate(RequestModel):
    """Only the fields sent change; the result is checked as a whole."""

    # None defaults without Optional: omitted means unchanged, explicit null is refused.
    person_id: uuid.UUID = None  # type: ignore[assignment]
    kind: ChiefKind = None  # type: ignore[assignment]
    division_id: uuid.UUID | None = None
    road_name: RoadName | None = None


class ChiefRead(ResponseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    kind: ChiefKind
    division_id: uuid.UUID | None
    road_name: str | None
    version: int
    updated_at: datetime
