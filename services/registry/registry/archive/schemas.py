"""Wire models of the 创卫 archive: required documents per category and their files."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import RequestModel, ResponseModel

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Description = Annotated[str, StringConstraints(max_length=5000)]


class ArchiveItemCreate(RequestModel):
    category_id: uuid.UUID
    code: Code
    title: Title
    description: Description = ""
    required: bool = True


class ArchiveItemUpdate(RequestModel):
    """Only the fields sent change."""

    # None defaults without Optional: omitted means unchanged, explicit null is refused.
    category_id: uuid.UUID = None  # type: ignore[assignment]
    code: Code = None  # type: ignore[assignment]
    title: Title = None  # type: ignore[assignment]
    description: Description = None  # type: ignore[assignment]
    required: bool = None  # type: ignore[assignment]


class ArchiveFileRead(ResponseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: uuid.UUID | None
    uploaded_at: datetime


class ArchiveItemRead(ResponseModel):
    id: uuid.UUID
    category_id: uuid.UUID
    code: str
    title: str
    description: str
    required: bool
    version: int
    updated_at: datetime
    files: list[ArchiveFileRead] = Field(default_factory=list)


class CategoryCompleteness(ResponseModel):
    category_id: uuid.UUID
    standard_id: uuid.UUID
    code: str
    name: str
    required_items: int
    items_with_files: int
    completeness: float = Field(
        ge=0, le=1, description="items_with_files / required_items; 1 when nothing is required."
    )
