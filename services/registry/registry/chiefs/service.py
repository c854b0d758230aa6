"""Rules of chiefs: an active person of the region answers for a division of the right
level (area: street or community, grid: a grid) or for a named road."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, Unprocessable
from shared.listing import keyset_page
from shared.models import Chief, Division, Person

LEVELS_BY_KIND = {"area": ("street", "community"), "grid": ("grid",), "road": None}


def _bad(field: str, msg: str, detail: str) -> Unprocessable:
    return Unprocessable(detail, errors=[{"loc": ["body", field], "msg": msg}])


async def list_chiefs(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    person: uuid.UUID | None,
    kind: str | None,
    division: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Chief], str | None]:
    stmt = select(Chief).where(Chief.region_id == region_id)
    if person is not None:
        stmt = stmt.where(Chief.person_id == person)
    if kind is not None:
        stmt = stmt.where(Chief.kind == kind)
    if division is not None:
        stmt = stmt.where(Chief.division_id == division)
    return await keyset_page(
        session, stmt, order_by=[Chief.created_at, Chief.id], cursor=cursor, limit=limit
    )


async def _validate(session: AsyncSession, region_id: uuid.UUID, state: dict[str, Any]) -> None:
    person = await session.scalar(
        select(Person).where(Person.region_id == region_id, Person.id == state["person_id"])
    )
    if person is None or not person.active:
        raise _bad(
            "person_id", "no such active person", "The person does not exist or is inactive."
        )
    kind = state["kind"]
    levels = LEVELS_BY_KIND[kind]
    if kind == "road":
        if not state.get("road_name"):
            raise _bad("road_name", "required for a road chief", "A road chief needs a road_name.")
    else:
        if state.get("road_name") is not None:
            raise _bad("road_name", "only for road chiefs", "Only road chiefs have a road_name.")
        if state.get("division_id") is None:
            raise _bad(
                "division_id", f"required for a {kind} chief", f"A {kind} chief needs a division."
            )
    if state.get("division_id") is not None:
        division = await session.scalar(
            select(Division).where(
                Division.region_id == region_id,
                Division.id == state["division_id"],
                Division.deleted_at.is_(None),
            )
        )
        if division is None:
            raise _bad("division_id", "no such division", "The division does not exist.")
        if levels is not None and division.level not in levels:
            wanted = " or ".join(levels)
            raise _bad(
                "division_id", f"must be a {wanted}", f"A {kind} chief answers for a {wanted}."
            )


async def _ensure_unique(
    session: AsyncSession, region_id: uuid.UUID, state: dict[str, Any], exclude: uuid.UUID | None
) -> None:
    stmt = select(Chief.id).where(
        Chief.region_id == region_id,
        Chief.person_id == state["person_id"],
        Chief.kind == state["kind"],
        Chief.division_id.is_(None)
        if state.get("division_id") is None
        else Chief.division_id == state["division_id"],
        Chief.road_name.is_(None)
        if state.get("road_name") is None
        else Chief.road_name == state["road_name"],
    )
    if exclude is not None:
        stmt = stmt.where(Chief.id != exclude)
    if await session.scalar(stmt) is not None:
        raise Conflict("This person already holds exactly this chief post.")


async def create_chief(
    session: AsyncSession, *, region_id: uuid.UUID, state: dict[str, Any]
) -> Chief:
    await _validate(session, region_id, state)
    await _ensure_unique(session, region_id, state, exclude=None)
    chief = Chief(region_id=region_id, id=uuid.uuid4(), **state)
    session.add(chief)
    await session.flush()
    await session.refresh(chief)
    return chief


async def update_chief(session: AsyncSession, chief: Chief, changes: dict[str, Any]) -> Chief:
    state = {
        "person_id": chief.person_id,
        "kind": chief.kind,
        "division_id": chief.division_id,
        "road_name": chief.road_name,
        **changes,
    }
    await _validate(session, chief.region_id, state)
    await _ensure_unique(session, chief.region_id, state, exclude=chief.id)
    for field, value in changes.items():
        setattr(chief, field, value)
    await session.flush()
    await session.refresh(chief)
    return chief


async def delete_chief(session: AsyncSession, chief: Chief) -> None:
    await session.delete(chief)
    await session.flush()
