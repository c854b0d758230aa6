"""Wire models of divisions (street → community → grid)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, computed_field

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import DivisionLevel as Level

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DivisionCreate(RequestModel):
    parent_id: uuid.UUID | None = Field(
        default=None, description="The enclosing division; none for a street."
    )
    level: Level
    code: Code
    name: Name


class DivisionUpdate(RequestModel):
    """Only the fields sent change. ``parent_id`` moves the division with its whole subtree."""

    parent_id: uuid.UUID | None = None
    # Defaults of None without Optional types: omitting a field leaves it alone,
    # while an explicit null is refused (these columns cannot be empty).
    level: Level = None  # type: ignore[assignment]
    code: Code = None  # type: ignore[assignment]
    name: Name = None  # type: ignore[assignment]


class DivisionRead(ResponseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    level: Level
    code: str
    name: str
    version: int
    updated_at: datetime
    deleted_at: datetime | None = Field(default=None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deleted(self) -> bool:
        """True for a tombstone (only listed with ``?updated_since=``)."""
        return self.deleted_at is not None
