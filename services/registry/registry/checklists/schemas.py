"""Wire models of checklists (测评细则): immutable, versioned lists of graded items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from shared.schemas import RequestModel, ResponseModel


class ChecklistItem(RequestModel):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    points: Annotated[float, Field(gt=0, le=1000)]
    veto_below: Annotated[
        float | None,
        Field(
            ge=0,
            le=1,
            description="A score rate (0..1) below which the item vetoes the whole inspection (一票否决).",
        ),
    ] = None
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=20)
    ] = []


class ChecklistCreate(RequestModel):
    items: Annotated[list[ChecklistItem], Field(min_length=1, max_length=500)]

    @field_validator("items")
    @classmethod
    def codes_are_unique(cls, items: list[ChecklistItem]) -> list[ChecklistItem]:
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                raise ValueError(f"item code {item.code!r} appears more than once")
            seen.add(item.code)
        return items


class ChecklistItemRead(ResponseModel):
    code: str
    text: str
    points: float
    veto_below: float | None = None
    tags: list[str] = []


class ChecklistRead(ResponseModel):
    id: uuid.UUID
    point_type_id: uuid.UUID
    version: int
    items: list[ChecklistItemRead]
    max_points: float
    published_at: datetime
    updated_at: datetime
