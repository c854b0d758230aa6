"""Wire models of health-city standards and their ordered categories (sections)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import RequestModel, ResponseModel

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Edition = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.\-]+$")
]


class CategoryCreate(RequestModel):
    code: Code
    name: Name


class StandardCreate(RequestModel):
    code: Code
    name: Name
    version: Edition = Field(description="The edition, e.g. `2021`.")
    categories: list[CategoryCreate] = Field(
        min_length=1, max_length=50, description="The sections in order; ordinals are 1, 2, …"
    )


class CategoryRead(ResponseModel):
    id: uuid.UUID
    standard_id: uuid.UUID
    code: str
    name: str
    ordinal: int


class StandardRead(ResponseModel):
    id: uuid.UUID
    code: str
    name: str
    version: str
    created_at: datetime
    categories: list[CategoryRead]
