"""Deadline policies per severity; every region is seeded with urgent 24 hours,
normal 3 workdays and complex 7 workdays."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import record_change
from shared.errors import NotFound
from shared.models import DeadlinePolicy
from shared.models.registry import SEVERITIES


async def list_policies(session: AsyncSession, *, region_id: uuid.UUID) -> list[DeadlinePolicy]:
    rows = await session.scalars(
        select(DeadlinePolicy).where(DeadlinePolicy.region_id == region_id)
    )
    return sorted(rows, key=lambda p: SEVERITIES.index(p.severity))


async def get_policy(
    session: AsyncSession, *, region_id: uuid.UUID, severity: str
) -> DeadlinePolicy:
    policy = await session.scalar(
        select(DeadlinePolicy).where(
            DeadlinePolicy.region_id == region_id, DeadlinePolicy.severity == severity
        )
    )
    if policy is None:
        raise NotFound(f"No policy for severity {severity!r}.")
    return policy


async def put_policy(
    session: AsyncSession, *, region_id: uuid.UUID, severity: str, amount: int, unit: str
) -> DeadlinePolicy:
    old = (
        await session.execute(
            select(DeadlinePolicy.amount, DeadlinePolicy.unit).where(
                DeadlinePolicy.region_id == region_id, DeadlinePolicy.severity == severity
            )
        )
    ).first()
    record_change(
        session,
        region_id=region_id,
        record_type="deadline_policies",
        record_id=severity,
        before={"amount": old.amount, "unit": old.unit} if old is not None else None,
        after={"amount": amount, "unit": unit},
    )
    stmt = insert(DeadlinePolicy).values(
        region_id=region_id, severity=severity, amount=amount, unit=unit
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[DeadlinePolicy.region_id, DeadlinePolicy.severity],
        set_={"amount": amount, "unit": unit, "updated_at": func.now()},
    ).returning(DeadlinePolicy)
    return (await session.scalars(stmt, execution_options={"populate_existing": True})).one()
