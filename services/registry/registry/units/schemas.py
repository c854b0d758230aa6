"""Wire models of responsible units (责任单位)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, computed_field

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import UnitKind as Kind

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9+\-() ]+$")]


class UnitCreate(RequestModel):
    code: Code
    name: Name
    kind: Kind = "department"
    contact_phone: Phone | None = None


class UnitUpdate(RequestModel):
    """Only the fields sent change; ``contact_phone: null`` clears the phone."""

    # None defaults without Optional: omitted means unchanged, explicit null is refused.
    code: Code = None  # type: ignore[assignment]
    name: Name = None  # type: ignore[assignment]
    kind: Kind = None  # type: ignore[assignment]
    contact_phone: Phone | None = None


class UnitRead(ResponseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: Kind
    contact_phone: str | None
    version: int
    updated_at: datetime
    deleted_at: datetime | None = Field(default=None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deleted(self) -> bool:
        """True for a tombstone (only listed with ``?updated_since=``)."""
        return self.deleted_at is not None
