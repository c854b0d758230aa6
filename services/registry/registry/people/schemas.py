"""Wire models of people (accounts). Password hashes never leave the service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import PersonRole

Username = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
]
# Passwords are taken exactly as typed: no whitespace stripping.
Password = Annotated[str, StringConstraints(min_length=8, max_length=256, strip_whitespace=False)]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9+\-() ]+$")]


class PersonCreate(RequestModel):
    username: Username
    password: Password
    display_name: DisplayName
    phone: Phone | None = None
    role: PersonRole
    unit_id: uuid.UUID | None = None


class PersonUpdate(RequestModel):
    """Only the fields sent change; ``active: false`` blocks sign-in."""

    # None defaults without Optional: omitted means unchanged, explicit null is refused.
    display_name: DisplayName = None  # type: ignore[assignment]
    role: PersonRole = None  # type: ignore[assignment]
    active: bool = None  # type: ignore[assignment]
    phone: Phone | None = None
    unit_id: uuid.UUID | None = None


class PasswordSet(RequestModel):
    password: Password
    current_password: (
        Annotated[str, StringConstraints(max_length=256, strip_whitespace=False)] | None
    ) = None


class PersonRead(ResponseModel):
    id: uuid.UUID
    username: str
    display_name: str
    phone: str | None
    role: PersonRole
    unit_id: uuid.UUID | None
    active: bool
    version: int
    updated_at: datetime
