"""Rules of accounts: unique usernames everywhere, unit accounts tied to a unit of the
region, slow password hashes computed off the event loop."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.people.schemas import PersonCreate
from shared.auth import Principal, forget_token_version, hash_password, verify_password
from shared.errors import Conflict, Unprocessable
from shared.listing import keyset_page
from shared.models import Person, Unit


async def list_people(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    role: str | None,
    unit: uuid.UUID | None,
    active: bool | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Person], str | None]:
    stmt = select(Person).where(Person.region_id == region_id)
    if role is not None:
        stmt = stmt.where(Person.role == role)
    if unit is not None:
        stmt = stmt.where(Person.unit_id == unit)
    if active is not None:
        stmt = stmt.where(Person.active.is_(active))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Person.username.ilike(pattern), Person.display_name.ilike(pattern)))
    return await keyset_page(
        session, stmt, order_by=[Person.username, Person.id], cursor=cursor, limit=limit
    )


async def _check_unit(session: AsyncSession, region_id: uuid.UUID, unit_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(Unit.id).where(
            Unit.region_id == region_id, Unit.id == unit_id, Unit.deleted_at.is_(None)
        )
    )
    if found is None:
        raise Unprocessable(
            "The unit does not exist.",
            errors=[{"loc": ["body", "unit_id"], "msg": "no such unit"}],
        )


def _require_unit_for_unit_role(role: str, unit_id: uuid.UUID | None) -> None:
    if role == "unit" and unit_id is None:
        raise Unprocessable(
            "A unit account must belong to a unit.",
            errors=[{"loc": ["body", "unit_id"], "msg": "required for role 'unit'"}],
        )


def _revoke_tokens(person: Person) -> None:
    """Every token issued so far stops working (in every service within seconds)."""
    person.token_version += 1
    forget_token_version(person.id)


async def create_person(
    session: AsyncSession, *, region_id: uuid.UUID, body: PersonCreate
) -> Person:
    _require_unit_for_unit_role(body.role, body.unit_id)
    if body.unit_id is not None:
        await _check_unit(session, region_id, body.unit_id)
    if await session.scalar(select(Person.id).where(Person.username == body.username)):
        raise Conflict(f"The username {body.username!r} is taken.")
    person = Person(
        region_id=region_id,
        id=uuid.uuid4(),
        username=body.username,
        password_hash=await hash_password(body.password),
        display_name=body.display_name,
        phone=body.phone,
        role=body.role,
        unit_id=body.unit_id,
        active=True,
    )
    session.add(person)
    await session.flush()
    await session.refresh(person)
    return person


async def update_person(
    session: AsyncSession, person: Person, changes: dict[str, Any], *, principal: Principal
) -> Person:
    if person.id == principal.person_id and (
        changes.get("active") is False or changes.get("role", person.role) != person.role
    ):
        raise Conflict("You cannot deactivate or change the role of your own account.")
    role = changes.get("role", person.role)
    unit_id = changes["unit_id"] if "unit_id" in changes else person.unit_id
    _require_unit_for_unit_role(role, unit_id)
    if "unit_id" in changes and unit_id is not None and unit_id != person.unit_id:
        await _check_unit(session, person.region_id, unit_id)
    if any(
        field in changes and changes[field] != getattr(person, field)
        for field in ("active", "role", "unit_id")
    ):
        _revoke_tokens(person)
    for field, value in changes.items():
        setattr(person, field, value)
    await session.flush()
    await session.refresh(person)
    return person


async def set_password(
    session: AsyncSession,
    person: Person,
    *,
    password: str,
    current_password: str | None,
    principal: Principal,
) -> None:
    if person.id == principal.person_id:
        ok = current_password is not None and await verify_password(
            current_password, person.password_hash
        )
        if not ok:
            raise Unprocessable(
                "Changing your own password needs your current password.",
                errors=[{"loc": ["body", "current_password"], "msg": "missing or wrong"}],
            )
    person.password_hash = await hash_password(password)
    _revoke_tokens(person)
    await session.flush()
