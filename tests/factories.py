"""Small typed, keyword-only factories for test data, and tokens for each role.

Every test builds its own region with ``await make_world(db)`` (or the finer
factories), so tests never see each other's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.regions.service import provision_region
from shared.auth import issue_token, password_hash
from shared.models import (
    Category,
    Checklist,
    Chief,
    Division,
    Person,
    PointType,
    Region,
    SamplePoint,
    Unit,
)
from shared.settings import CommonSettings

PASSWORD = "correct-horse-battery"
# Hashing once keeps factories fast; argon2 is deliberately slow.
_PASSWORD_HASH = password_hash.hash(PASSWORD)


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


async def count_rows(session: AsyncSession, model: Any, **where: Any) -> int:
    """How many rows of ``model`` have the given column values (``region_id=…``, …)."""
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return await session.scalar(stmt)


def token_for(person: Person) -> str:
    """A JWT for ``person``, signed the way ``POST /v1/auth/token`` signs it."""
    settings = CommonSettings()
    return issue_token(
        secret=settings.jwt_secret,
        ttl_seconds=3600,
        person_id=person.id,
        region_id=person.region_id,
        role=person.role,
        unit_id=person.unit_id,
        username=person.username,
        token_version=person.token_version,
    )


def auth(person: Person) -> dict[str, str]:
    """``Authorization`` header for ``person``."""
    return {"Authorization": f"Bearer {token_for(person)}"}


def service_headers(region_id: uuid.UUID) -> dict[str, str]:
    """Headers of a service-to-service call acting for ``region_id``."""
    return {
        "Authorization": f"Bearer {CommonSettings().service_token}",
        "X-Region-Id": str(region_id),
    }


async def make_region(
    session: AsyncSession,
    *,
    code: str | None = None,
    name: str = "Test district",
    timezone: str = "Asia/Shanghai",
) -> Region:
    region = await provision_region(
        session, code=code or f"r-{_suffix()}", name=name, timezone=timezone
    )
    await session.commit()
    return region


async def categories_of(session: AsyncSession, region: Region) -> dict[str, Category]:
    """The region's seeded 2014 categories by code (C1 … C8)."""
    rows = await session.scalars(select(Category).where(Category.region_id == region.id))
    return {c.code: c for c in rows}


async def make_person(
    session: AsyncSession,
    *,
    region: Region,
    role: str,
    unit: Unit | None = None,
    username: str | None = None,
    display_name: str | None = None,
) -> Person:
    person = Person(
        region_id=region.id,
        id=uuid.uuid4(),
        username=username or f"{role}-{_suffix()}",
        password_hash=_PASSWORD_HASH,
        display_name=display_name or role.title(),
        role=role,
        unit_id=unit.id if unit else None,
        active=True,
    )
    session.add(person)
    await session.commit()
    return person


async def make_unit(
    session: AsyncSession,
    *,
    region: Region,
    code: str | None = None,
    name: str | None = None,
    kind: str = "department",
) -> Unit:
    unit = Unit(
        region_id=region.id,
        id=uuid.uuid4(),
        code=code or f"U-{_suffix()}",
        name=name or "Test unit",
        kind=kind,
    )
    session.add(unit)
    await session.commit()
    return unit


async def make_division(
    session: AsyncSession,
    *,
    region: Region,
    level: str,
    parent: Division | None = None,
    code: str | None = None,
    name: str | None = None,
) -> Division:
    division_id = uuid.uuid4()
    path = (parent.path if parent else "/") + f"{division_id}/"
    division = Division(
        region_id=region.id,
        id=division_id,
        parent_id=parent.id if parent else None,
        level=level,
        code=code or f"D-{_suffix()}",
        name=name or level.title(),
        path=path,
    )
    session.add(division)
    await session.commit()
    return division


DEFAULT_ITEMS: list[dict[str, Any]] = [
    {"code": "M-01", "text": "五公示齐全", "points": 10, "veto_below": None, "tags": []},
    {"code": "M-02", "text": "划行归市, 无摊外经营", "points": 10, "veto_below": None, "tags": []},
    {
        "code": "M-03",
        "text": "三防设施完好",
        "points": 10,
        "veto_below": None,
        "tags": ["epidemic"],
    },
    {"code": "M-04", "text": "活禽隔离宰杀", "points": 20, "veto_below": 0.7, "tags": []},
]


async def make_point_type(
    session: AsyncSession,
    *,
    region: Region,
    category: Category | None = None,
    code: str | None = None,
    name: str = "农贸市场",
    pass_mark: float = 80.0,
    visit_every_days: int = 7,
    items: list[dict[str, Any]] | None = None,
) -> tuple[PointType, Checklist]:
    """A point type with checklist version 1."""
    if category is None:
        category = (await categories_of(session, region))["C5"]
    point_type = PointType(
        region_id=region.id,
        id=uuid.uuid4(),
        code=code or f"T-{_suffix()}",
        name=name,
        category_id=category.id,
        pass_mark=pass_mark,
        visit_every_days=visit_every_days,
    )
    session.add(point_type)
    await session.flush()
    items = items if items is not None else DEFAULT_ITEMS
    checklist = Checklist(
        region_id=region.id,
        id=uuid.uuid4(),
        point_type_id=point_type.id,
        version=1,
        items=items,
        max_points=sum(i["points"] for i in items),
    )
    session.add(checklist)
    await session.commit()
    return point_type, checklist


async def make_sample_point(
    session: AsyncSession,
    *,
    region: Region,
    point_type: PointType,
    division: Division,
    unit: Unit,
    code: str | None = None,
    name: str = "东街农贸市场",
    lat: float = 28.4400,
    lon: float = 118.2000,
    status: str = "active",
    address: str = "东街 1 号",
) -> SamplePoint:
    point = SamplePoint(
        region_id=region.id,
        id=uuid.uuid4(),
        code=code or f"SP-{_suffix()}",
        name=name,
        point_type_id=point_type.id,
        division_id=division.id,
        address=address,
        lat=lat,
        lon=lon,
        unit_id=unit.id,
        status=status,
    )
    session.add(point)
    await session.commit()
    return point


async def make_chief(
    session: AsyncSession,
    *,
    region: Region,
    person: Person,
    kind: str = "grid",
    division: Division | None = None,
    road_name: str | None = None,
) -> Chief:
    chief = Chief(
        region_id=region.id,
        id=uuid.uuid4(),
        person_id=person.id,
        kind=kind,
        division_id=division.id if division else None,
        road_name=road_name,
    )
    session.add(chief)
    await session.commit()
    return chief


@dataclass
class World:
    """A small region: one street → community → grid, two units, a market type and point,
    and one account per role (plus a second unit's account)."""

    region: Region
    admin: Person
    inspector: Person
    leader: Person
    unit: Unit
    unit_user: Person
    other_unit: Unit
    other_unit_user: Person
    street: Division
    community: Division
    grid: Division
    point_type: PointType
    checklist: Checklist
    point: SamplePoint
    extra: dict[str, Any] = field(default_factory=dict)


async def make_world(session: AsyncSession, *, timezone: str = "Asia/Shanghai") -> World:
    region = await make_region(session, timezone=timezone)
    unit = await make_unit(session, region=region, name="东街市场管理处")
    other_unit = await make_unit(session, region=region, name="城管执法局")
    street = await make_division(session, region=region, level="street", name="永丰街道")
    community = await make_division(session, region=region, level="community", parent=street)
    grid = await make_division(session, region=region, level="grid", parent=community)
    point_type, checklist = await make_point_type(session, region=region)
    point = await make_sample_point(
        session, region=region, point_type=point_type, division=grid, unit=unit
    )
    return World(
        region=region,
        admin=await make_person(session, region=region, role="admin"),
        inspector=await make_person(session, region=region, role="inspector"),
        leader=await make_person(session, region=region, role="leader"),
        unit=unit,
        unit_user=await make_person(session, region=region, role="unit", unit=unit),
        other_unit=other_unit,
        other_unit_user=await make_person(session, region=region, role="unit", unit=other_unit),
        street=street,
        community=community,
        grid=grid,
        point_type=point_type,
        checklist=checklist,
        point=point,
    )


# --- photos and inspection bodies (inspections ingest tests) -------------------


def jpeg_bytes(*, taken_at: str | None = None, seed: int = 0) -> bytes:
    """A small real JPEG; ``taken_at`` ("YYYY:MM:DD HH:MM:SS") becomes EXIF DateTimeOriginal.
    Different ``seed`` values give different bytes."""
    import io

    from PIL import Image

    image = Image.new("RGB", (16, 16), color=(seed % 256, (seed // 256) % 256, 120))
    exif = Image.Exif()
    exif[270] = f"test photo {seed}"  # ImageDescription: distinct seeds, distinct bytes
    if taken_at is not None:
        exif.get_ifd(0x8769)[36867] = taken_at
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(*, seed: int = 0) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), color=(seed % 256, 10, 10)).save(out, "PNG")
    return out.getvalue()


async def upload_photo(client: Any, person: Person, data: bytes | None = None) -> uuid.UUID:
    """PUT a photo to the inspections app as ``person``; returns its new id."""
    photo_id = uuid.uuid4()
    response = await client.put(
        f"/v1/photos/{photo_id}",
        content=data if data is not None else jpeg_bytes(seed=uuid.uuid4().int % 65536),
        headers=auth(person),
    )
    assert response.status_code == 201, response.text
    return photo_id


def inspection_body(world: World, **overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/inspections body for ``world.point``: every default item passed,
    on site, finished a minute ago."""
    from datetime import timedelta

    from shared import clock

    now = clock.now()
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "sample_point_id": str(world.point.id),
        "checklist_version": 1,
        "source": "woodpecker",
        "started_at": (now - timedelta(minutes=20)).isoformat(),
        "finished_at": (now - timedelta(minutes=1)).isoformat(),
        "location": {"lat": world.point.lat, "lon": world.point.lon, "accuracy_m": 8},
        "results": [
            {"item_code": item["code"], "outcome": "pass", "grade": 10}
            for item in world.checklist.items
        ],
        "cases": [],
        "epidemic": {"health_code_checked": True, "temperature_checked": True, "masks_worn": True},
    }
    body.update(overrides)
    return body


# ---------------------------------------------------------------- cases (HTTP helpers)


async def report_case(client: Any, person: Person, **fields: Any) -> dict[str, Any]:
    """``POST /v1/cases`` as ``person`` (defaults: an expert finding, normal severity)."""
    body = {
        "id": str(uuid.uuid4()),
        "source": "expert",
        "description": "垃圾桶无盖, 周边有积水",
        "severity": "normal",
        **fields,
    }
    response = await client.post("/v1/cases", json=body, headers=auth(person))
    assert response.status_code == 201, response.text
    return response.json()
