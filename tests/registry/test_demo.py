"""The demo district (上饶市广丰区) that `make run` loads into an empty database.

The demo is loaded once for the module under a random region code and
username prefix, next to whatever other tests create (region codes and
usernames are unique across the database). The bootstrap test runs the real
first-start path against a throw-away database of its own.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from registry.bootstrap import bootstrap
from registry.demo import data
from registry.demo.loader import DEMO_REGION_CODE, load_demo_region
from shared.db import create_engine, create_sessionmaker
from shared.errors import Conflict
from shared.models import (
    ArchiveItem,
    CalendarDay,
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
from tests.paging import all_pages


@dataclass(frozen=True)
class Demo:
    region_id: uuid.UUID
    code: str
    prefix: str


async def _load(engine: AsyncEngine) -> Demo:
    suffix = uuid.uuid4().hex[:8]
    code, prefix = f"gf-{suffix}", f"demo{suffix}"
    async with create_sessionmaker(engine)() as session, session.begin():
        region = await load_demo_region(session, code=code, username_prefix=prefix)
    return Demo(region_id=region.id, code=code, prefix=prefix)


@pytest.fixture(scope="module")
async def demo(engine: AsyncEngine) -> Demo:
    return await _load(engine)


async def _points(db: AsyncSession, demo: Demo) -> list[SamplePoint]:
    stmt = select(SamplePoint).where(SamplePoint.region_id == demo.region_id)
    return list(await db.scalars(stmt.order_by(SamplePoint.code)))


async def test_the_region_is_guangfeng_with_the_2014_standards_eight_categories(
    db: AsyncSession, demo: Demo
) -> None:
    region = await db.get(Region, demo.region_id)
    assert (region.name, region.timezone) == ("上饶市广丰区", "Asia/Shanghai")
    codes = await db.scalars(
        select(Category.code).where(Category.region_id == demo.region_id).order_by(Category.ordinal)
    )
    assert list(codes) == [f"C{n}" for n in range(1, 9)]
    assert DEMO_REGION_CODE == "guangfeng"


async def test_the_district_has_172_sample_points_inside_its_bounding_box_each_in_a_grid(
    db: AsyncSession, demo: Demo
) -> None:
    points = await _points(db, demo)
    assert len(points) == 172
    lat_min, lat_max, lon_min, lon_max = data.BBOX
    assert all(lat_min <= p.lat <= lat_max and lon_min <= p.lon <= lon_max for p in points)
    levels = dict(
        (
            await db.execute(
                select(Division.id, Division.level).where(Division.region_id == demo.region_id)
            )
        ).all()
    )
    assert {levels[p.division_id] for p in points} == {"grid"}
    assert len({p.code for p in points}) == 172
    assert len({p.name for p in points}) == 172, "every demo point has its own name"
    assert all(p.address.startswith("上饶市广丰区") for p in points)
    assert {p.status for p in points} == {"active"}


async def test_point_counts_are_weighted_toward_restaurants_markets_and_back_lanes(
    db: AsyncSession, demo: Demo
) -> None:
    rows = await db.execute(
        select(PointType.name, func.count(SamplePoint.id))
        .join(
            SamplePoint,
            (SamplePoint.region_id == PointType.region_id)
            & (SamplePoint.point_type_id == PointType.id),
        )
        .where(PointType.region_id == demo.region_id)
        .group_by(PointType.name)
    )
    counts = Counter(dict(rows.all()))
    assert counts.most_common(1)[0][0] == "小餐饮"
    assert counts["背街小巷"] > counts["医院"]
    assert counts["农贸市场"] >= 8
    assert sum(counts.values()) == 172


async def test_every_point_type_has_a_version_1_checklist_scored_out_of_its_item_points(
    db: AsyncSession, demo: Demo
) -> None:
    types = list(await db.scalars(select(PointType).where(PointType.region_id == demo.region_id)))
    assert 18 <= len(types) <= 25
    checklists = {
        c.point_type_id: c
        for c in await db.scalars(select(Checklist).where(Checklist.region_id == demo.region_id))
    }
    assert set(checklists) == {t.id for t in types}
    for point_type in types:
        checklist = checklists[point_type.id]
        assert checklist.version == 1
        assert 5 <= len(checklist.items) <= 10, point_type.name
        assert float(checklist.max_points) == sum(i["points"] for i in checklist.items)
        assert all(
            set(i) == {"code", "text", "points", "veto_below", "tags"} for i in checklist.items
        )
        assert point_type.pass_mark in (80, 85)
        assert point_type.visit_every_days in (7, 14, 30)


async def test_market_checklist_vetoes_live_poultry_below_70_percent_and_tags_epidemic_items(
    db: AsyncSession, demo: Demo
) -> None:
    market = await db.scalar(
        select(PointType).where(PointType.region_id == demo.region_id, PointType.name == "农贸市场")
    )
    checklist = await db.scalar(select(Checklist).where(Checklist.point_type_id == market.id))
    poultry = next(i for i in checklist.items if "活禽" in i["text"])
    assert (poultry["points"], poultry["veto_below"]) == (20, 0.7)
    assert "epidemic" in poultry["tags"]
    assert any("vector" in i["tags"] for i in checklist.items)
    assert market.visit_every_days == 7


async def test_point_types_map_onto_every_one_of_the_eight_categories(
    db: AsyncSession, demo: Demo
) -> None:
    rows = await db.execute(
        select(PointType.name, Category.code)
        .join(
            Category,
            (Category.region_id == PointType.region_id) & (Category.id == PointType.category_id),
        )
        .where(PointType.region_id == demo.region_id)
    )
    by_name = dict(rows.all())
    assert set(by_name.values()) == {f"C{n}" for n in range(1, 9)}
    assert by_name["小餐饮"] == "C6"
    assert by_name["医院"] == "C7"
    assert by_name["公厕"] == "C3"


async def test_divisions_form_a_street_community_grid_tree_with_materialised_paths(
    db: AsyncSession, demo: Demo
) -> None:
    divisions = list(await db.scalars(select(Division).where(Division.region_id == demo.region_id)))
    by_id = {d.id: d for d in divisions}
    streets = [d for d in divisions if d.level == "street"]
    assert 4 <= len(streets) <= 6
    assert {d.code for d in streets} >= {"GF-YF", "GF-LL", "GF-FX"}
    for d in divisions:
        parent = by_id.get(d.parent_id)
        expected_parent_level = {"street": None, "community": "street", "grid": "community"}
        assert (parent.level if parent else None) == expected_parent_level[d.level]
        assert d.path == (parent.path if parent else "/") + f"{d.id}/"
        if parent:
            assert d.code.startswith(parent.code + "-")
    children = Counter(d.parent_id for d in divisions)
    assert all(3 <= children[s.id] <= 4 for s in streets)
    communities = [d for d in divisions if d.level == "community"]
    assert all(2 <= children[c.id] <= 3 for c in communities)
    assert by_id[next(d.id for d in divisions if d.code == "GF-YF-01-G1")].name == "城东社区第1网格"


async def test_every_grid_has_a_grid_chief_and_streets_and_main_roads_have_theirs(
    db: AsyncSession, demo: Demo
) -> None:
    grids = set(
        await db.scalars(
            select(Division.id).where(
                Division.region_id == demo.region_id, Division.level == "grid"
            )
        )
    )
    chiefs = list(await db.scalars(select(Chief).where(Chief.region_id == demo.region_id)))
    assert {c.division_id for c in chiefs if c.kind == "grid"} == grids
    assert len([c for c in chiefs if c.kind == "area"]) == len(data.STREETS)
    roads = {c.road_name for c in chiefs if c.kind == "road"}
    assert {"永丰大道", "人民路", "丰溪路"} <= roads
    roles = set(
        await db.scalars(select(Person.role).where(Person.id.in_([c.person_id for c in chiefs])))
    )
    assert roles == {"leader"}


async def test_units_cover_departments_street_offices_and_companies(
    db: AsyncSession, demo: Demo
) -> None:
    units = list(await db.scalars(select(Unit).where(Unit.region_id == demo.region_id)))
    assert 15 <= len(units) <= 25
    assert {u.kind for u in units} == {"department", "street_office", "company", "other"}
    assert all(u.contact_phone for u in units)
    names = {u.name for u in units}
    assert {"广丰区市场监督管理局", "广丰区城市管理局", "广丰区农贸市场管理有限公司"} <= names
    # Back lanes answer to the street office of their own street.
    lanes = await db.execute(
        select(Unit.code, Division.path)
        .select_from(SamplePoint)
        .join(PointType, PointType.id == SamplePoint.point_type_id)
        .join(Unit, Unit.id == SamplePoint.unit_id)
        .join(Division, Division.id == SamplePoint.division_id)
        .where(SamplePoint.region_id == demo.region_id, PointType.code == "BJXX")
    )
    street_offices = {
        d.id: f"GF-JD-{d.code.removeprefix('GF-')}"
        for d in await db.scalars(
            select(Division).where(Division.region_id == demo.region_id, Division.level == "street")
        )
    }
    for unit_code, path in lanes.all():
        street_id = uuid.UUID(path.strip("/").split("/")[0])
        assert unit_code == street_offices[street_id]


async def test_the_working_calendar_holds_the_2026_holidays_and_make_up_days(
    db: AsyncSession, demo: Demo
) -> None:
    days = {
        d.day: d
        for d in await db.scalars(
            select(CalendarDay).where(CalendarDay.region_id == demo.region_id)
        )
    }
    assert days[date(2026, 10, 1)].kind == "holiday"
    assert days[date(2026, 2, 17)].name == "春节"
    assert days[date(2026, 2, 14)].kind == "workday", "a Saturday worked for the Spring Festival"
    assert days[date(2026, 10, 10)].kind == "workday"
    # Every year the chinesecalendar package knows, nothing typed by hand or estimated.
    assert {d.year for d in days} == set(range(2004, 2027))
    assert date(2026, 3, 2) not in days, "an ordinary Monday is not listed"


async def test_every_category_has_required_archive_items_without_files(
    db: AsyncSession, demo: Demo
) -> None:
    rows = await db.execute(
        select(Category.code, func.count(ArchiveItem.id))
        .join(
            ArchiveItem,
            (ArchiveItem.region_id == Category.region_id)
            & (ArchiveItem.category_id == Category.id),
        )
        .where(Category.region_id == demo.region_id, ArchiveItem.required)
        .group_by(Category.code)
    )
    counts = dict(rows.all())
    assert set(counts) == {f"C{n}" for n in range(1, 9)}
    assert all(n >= 3 for n in counts.values())


@pytest.mark.parametrize(
    ("suffix", "role"),
    [
        ("admin", "admin"),
        ("inspector", "inspector"),
        ("inspector2", "inspector"),
        ("leader", "leader"),
        ("unit-market", "unit"),
        ("unit-cityadmin", "unit"),
    ],
)
async def test_demo_accounts_sign_in_with_the_demo_password(
    registry: httpx.AsyncClient, db: AsyncSession, demo: Demo, suffix: str, role: str
) -> None:
    username = f"{demo.prefix}-{suffix}"
    response = await registry.post(
        "/v1/auth/token", data={"username": username, "password": data.DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    person = await db.scalar(select(Person).where(Person.username == username))
    assert (person.role, person.region_id) == (role, demo.region_id)
    wrong = await registry.post(
        "/v1/auth/token", data={"username": username, "password": "not-the-password"}
    )
    assert wrong.status_code == 401


async def test_unit_accounts_belong_to_the_market_company_and_the_city_administration(
    db: AsyncSession, demo: Demo
) -> None:
    rows = await db.execute(
        select(Person.username, Unit.code)
        .join(Unit, (Unit.region_id == Person.region_id) & (Unit.id == Person.unit_id))
        .where(Person.username.in_([f"{demo.prefix}-unit-market", f"{demo.prefix}-unit-cityadmin"]))
    )
    assert dict(rows.all()) == {
        f"{demo.prefix}-unit-market": "GF-NMGS",
        f"{demo.prefix}-unit-cityadmin": "GF-CGJ",
    }


async def test_demo_admin_can_list_the_demo_sample_points(
    registry: httpx.AsyncClient, demo: Demo
) -> None:
    token = (
        await registry.post(
            "/v1/auth/token",
            data={"username": f"{demo.prefix}-admin", "password": data.DEMO_PASSWORD},
        )
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    points = await all_pages(registry, "/v1/sample-points", headers=headers, limit=100)
    codes = [p["code"] for p in points]
    assert len(codes) == 172
    assert "GF-NMSC-001" in codes


async def test_loading_again_gives_the_same_district(
    db: AsyncSession, engine: AsyncEngine, demo: Demo
) -> None:
    other = await _load(engine)

    async def snapshot(region_id: uuid.UUID) -> list[tuple]:
        rows = await db.execute(
            select(SamplePoint.code, SamplePoint.name, SamplePoint.lat, SamplePoint.lon)
            .where(SamplePoint.region_id == region_id)
            .order_by(SamplePoint.code)
        )
        return [tuple(r) for r in rows.all()]

    assert await snapshot(other.region_id) == await snapshot(demo.region_id)


async def test_loading_with_taken_usernames_is_refused_and_creates_nothing(
    engine: AsyncEngine, db: AsyncSession, demo: Demo
) -> None:
    code = f"gf-{uuid.uuid4().hex[:8]}"
    with pytest.raises(Conflict):
        async with create_sessionmaker(engine)() as session, session.begin():
            await load_demo_region(session, code=code, username_prefix=demo.prefix)
    assert await db.scalar(select(Region.id).where(Region.code == code)) is None


# -- the first-start path: bootstrap() on an empty database ------------------------


@pytest.fixture
async def empty_database(empty_database_url: str):
    """An engine on a fresh database migrated to head (see tests/conftest.py)."""
    engine = create_engine(empty_database_url, application_name="chuangwei.tests.demo")
    yield engine
    await engine.dispose()


async def test_bootstrap_loads_the_demo_region_on_an_empty_database(
    empty_database: AsyncEngine,
) -> None:
    settings = CommonSettings(
        env="test", demo=True, bootstrap_admin="admin:boot-pass", bootstrap_region="default:默认"
    )
    sessionmaker = create_sessionmaker(empty_database)
    await bootstrap(sessionmaker, settings)
    await bootstrap(sessionmaker, settings)  # a second start changes nothing

    async with sessionmaker() as session:
        regions = dict((await session.execute(select(Region.code, Region.id))).all())
        assert set(regions) == {"default", "guangfeng"}
        points = await session.scalar(
            select(func.count())
            .select_from(SamplePoint)
            .where(SamplePoint.region_id == regions["guangfeng"])
        )
        assert points == 172
        people = dict((await session.execute(select(Person.username, Person.region_id))).all())
        assert people["admin"] == regions["default"]
        assert people["demo-admin"] == regions["guangfeng"]
        assert people["demo-unit-market"] == regions["guangfeng"]


async def test_bootstrap_with_the_demo_off_creates_only_the_bootstrap_region(
    empty_database: AsyncEngine,
) -> None:
    settings = CommonSettings(env="test", demo=False, bootstrap_admin="admin:boot-pass")
    sessionmaker = create_sessionmaker(empty_database)
    await bootstrap(sessionmaker, settings)

    async with sessionmaker() as session:
        assert list(await session.scalars(select(Region.code))) == ["default"]
        assert list(await session.scalars(select(Person.username))) == ["admin"]
