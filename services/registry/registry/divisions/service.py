"""Rules of the division tree: levels nest street → community → grid, ``path`` holds
the materialised ancestry, moves carry the whole subtree and never make a cycle."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.divisions.schemas import DivisionCreate
from shared.db import row_exists
from shared.errors import Conflict, Unprocessable
from shared.listing import keyset_page
from shared.models import Division, SamplePoint

PARENT_LEVEL: dict[str, str | None] = {"street": None, "community": "street", "grid": "community"}
CHILD_LEVEL: dict[str, str | None] = {"street": "community", "community": "grid", "grid": None}


async def lock_tree(session: AsyncSession, region_id: uuid.UUID) -> None:
    """Serialise tree changes of one region, so two concurrent moves cannot build a cycle."""
    await session.execute(
        text("select pg_advisory_xact_lock(hashtext('divisions:' || :region))"),
        {"region": str(region_id)},
    )


async def list_divisions(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    parent: uuid.UUID | None,
    level: str | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Division], str | None]:
    stmt = select(Division).where(Division.region_id == region_id)
    if parent is not None:
        stmt = stmt.where(Division.parent_id == parent)
    if level is not None:
        stmt = stmt.where(Division.level == level)
    if updated_since is not None:
        stmt = stmt.where(Division.updated_at >= updated_since)
        order = [Division.updated_at, Division.id]
    else:
        stmt = stmt.where(Division.deleted_at.is_(None))
        order = [Division.code, Division.id]
    return await keyset_page(session, stmt, order_by=order, cursor=cursor, limit=limit)


async def _parent(session: AsyncSession, region_id: uuid.UUID, parent_id: uuid.UUID) -> Division:
    parent = await session.scalar(
        select(Division).where(
            Division.region_id == region_id,
            Division.id == parent_id,
            Division.deleted_at.is_(None),
        )
    )
    if parent is None:
        raise Unprocessable(
            "The parent division does not exist.",
            errors=[{"loc": ["body", "parent_id"], "msg": "no such division"}],
        )
    return parent


def _check_nesting(level: str, parent: Division | None) -> None:
    wanted = PARENT_LEVEL[level]
    if wanted is None and parent is not None:
        raise Unprocessable(
            "A street is the top of the tree and has no parent.",
            errors=[{"loc": ["body", "parent_id"], "msg": "a street has no parent"}],
        )
    if wanted is not None and (parent is None or parent.level != wanted):
        raise Unprocessable(
            f"A {level} must sit inside a {wanted}.",
            errors=[{"loc": ["body", "parent_id"], "msg": f"must be a {wanted}"}],
        )


async def _ensure_code_free(session: AsyncSession, region_id: uuid.UUID, code: str) -> None:
    taken = await session.scalar(
        select(Division.id).where(Division.region_id == region_id, Division.code == code)
    )
    if taken is not None:
        raise Conflict(
            f"The division code {code!r} is already used (deleted divisions keep their codes)."
        )


async def create_division(
    session: AsyncSession, *, region_id: uuid.UUID, body: DivisionCreate
) -> Division:
    await lock_tree(session, region_id)
    parent = await _parent(session, region_id, body.parent_id) if body.parent_id else None
    _check_nesting(body.level, parent)
    await _ensure_code_free(session, region_id, body.code)
    division_id = uuid.uuid4()
    division = Division(
        region_id=region_id,
        id=division_id,
        parent_id=parent.id if parent else None,
        level=body.level,
        code=body.code,
        name=body.name,
        path=(parent.path if parent else "/") + f"{division_id}/",
    )
    session.add(division)
    await session.flush()
    await session.refresh(division)
    return division


async def update_division(
    session: AsyncSession, division: Division, changes: dict[str, Any]
) -> Division:
    region_id = division.region_id
    if "code" in changes and changes["code"] != division.code:
        await _ensure_code_free(session, region_id, changes["code"])
    new_level = changes.get("level", division.level)
    new_parent_id = changes.get("parent_id", division.parent_id)
    moving = new_parent_id != division.parent_id
    old_path = division.path
    if moving or new_level != division.level:
        await lock_tree(session, region_id)
        parent = await _parent(session, region_id, new_parent_id) if new_parent_id else None
        if parent is not None and parent.path.startswith(old_path):
            raise Unprocessable(
                "A division cannot move inside itself or one of its descendants.",
                errors=[{"loc": ["body", "parent_id"], "msg": "would create a cycle"}],
            )
        _check_nesting(new_level, parent)
        if new_level != division.level:
            await _check_children_fit(session, division, new_level)
        if moving:
            division.path = (parent.path if parent else "/") + f"{division.id}/"
    for field, value in changes.items():
        setattr(division, field, value)
    await session.flush()
    if moving:
        # Descendants keep their place under the moved node; only their ancestry prefix changes.
        await session.execute(
            update(Division.__table__)
            .where(
                Division.__table__.c.region_id == region_id,
                Division.__table__.c.path.startswith(old_path),
                Division.__table__.c.id != division.id,
            )
            .values(path=division.path + func.substr(Division.__table__.c.path, len(old_path) + 1))
        )
    await session.refresh(division)
    return division


async def _check_children_fit(session: AsyncSession, division: Division, level: str) -> None:
    child_levels = set(
        await session.scalars(
            select(Division.level)
            .where(
                Division.region_id == division.region_id,
                Division.parent_id == division.id,
                Division.deleted_at.is_(None),
            )
            .distinct()
        )
    )
    allowed = CHILD_LEVEL[level]
    if child_levels - {allowed}:
        raise Unprocessable(
            f"The division's children ({', '.join(sorted(child_levels))}) cannot sit in a {level}.",
            errors=[{"loc": ["body", "level"], "msg": "does not fit the children"}],
        )


async def delete_division(session: AsyncSession, division: Division) -> None:
    await lock_tree(session, division.region_id)
    has_children = await row_exists(
        session,
        Division.region_id == division.region_id,
        Division.parent_id == division.id,
        Division.deleted_at.is_(None),
    )
    if has_children:
        raise Conflict("The division still has child divisions; move or delete them first.")
    has_points = await row_exists(
        session,
        SamplePoint.region_id == division.region_id,
        SamplePoint.division_id == division.id,
        SamplePoint.deleted_at.is_(None),
    )
    if has_points:
        raise Conflict("Sample points still belong to the division; move them first.")
    division.deleted_at = func.now()
    await session.flush()
