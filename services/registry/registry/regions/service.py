"""Provisioning regions: the operator's ``chuangwei region create`` and the bootstrap."""

from __future__ import annotations

import uuid
import zoneinfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.regions.seed import DEFAULT_DEADLINE_POLICIES, STANDARD_2014
from shared.auth import password_hash
from shared.errors import Conflict, Unprocessable
from shared.models import Category, DeadlinePolicy, Person, Region, Standard


def parse_credentials(value: str) -> tuple[str, str]:
    """``username:password`` → the two parts (the password may contain colons)."""
    username, sep, password = value.partition(":")
    if not sep or not username or not password:
        raise ValueError("expected USERNAME:PASSWORD")
    return username.strip(), password


async def provision_region(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    timezone: str = "Asia/Shanghai",
    admin_username: str | None = None,
    admin_password: str | None = None,
) -> Region:
    """Create a region with the 2014 standard, default deadline policies and an admin."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise Unprocessable(f"Unknown time zone {timezone!r}.") from exc
    if await session.scalar(select(Region.id).where(Region.code == code)):
        raise Conflict(f"A region with code {code!r} already exists.")
    if admin_username and await session.scalar(
        select(Person.id).where(Person.username == admin_username)
    ):
        raise Conflict(f"The username {admin_username!r} is taken.")

    region = Region(id=uuid.uuid4(), code=code, name=name, timezone=timezone)
    session.add(region)
    await session.flush()

    standard = Standard(
        region_id=region.id,
        id=uuid.uuid4(),
        code=STANDARD_2014["code"],
        name=STANDARD_2014["name"],
        version=STANDARD_2014["version"],
    )
    session.add(standard)
    await session.flush()
    for ordinal, (cat_code, cat_name) in enumerate(STANDARD_2014["categories"], start=1):
        session.add(
            Category(
                region_id=region.id,
                id=uuid.uuid4(),
                standard_id=standard.id,
                code=cat_code,
                name=cat_name,
                ordinal=ordinal,
            )
        )
    for severity, amount, unit in DEFAULT_DEADLINE_POLICIES:
        session.add(
            DeadlinePolicy(region_id=region.id, severity=severity, amount=amount, unit=unit)
        )
    if admin_username and admin_password:
        session.add(
            Person(
                region_id=region.id,
                id=uuid.uuid4(),
                username=admin_username,
                password_hash=password_hash.hash(admin_password),
                display_name=f"{name} administrator",
                role="admin",
                active=True,
            )
        )
    await session.flush()
    return region


async def count_regions(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Region)) or 0
