"""Load a person the caller may see: admins and leaders see everyone in the region,
everybody else only themselves."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from shared.auth import CurrentUser, require_roles
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.models import Person

PeopleReader = Depends(require_roles("admin", "leader"))


async def load_person(session: SessionDep, region_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    person = await session.scalar(
        select(Person).where(Person.region_id == region_id, Person.id == person_id)
    )
    if person is None:
        raise NotFound("No such person.")
    return person


async def visible_person(
    person_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> Person:
    if principal.role not in ("admin", "leader") and principal.person_id != person_id:
        raise Forbidden("Only admins and leaders read other people's accounts.")
    return await load_person(session, principal.region_id, person_id)


async def me(session: SessionDep, principal: CurrentUser) -> Person:
    if principal.person_id is None:
        raise NotFound("Service callers have no account.")
    return await load_person(session, principal.region_id, principal.person_id)


VisiblePerson = Annotated[Person, Depends(visible_person)]
Me = Annotated[Person, Depends(me)]
