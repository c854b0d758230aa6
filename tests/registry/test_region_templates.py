"""A new region starts ready (SPEC §13): `chuangwei region create --template national|CODE`."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from registry.regions.templates import national_calendar
from shared import clock
from shared.models import (
    ArchiveItem,
    CalendarDay,
    Checklist,
    DeadlinePolicy,
    Division,
    Person,
    PointType,
    Region,
    SamplePoint,
    Unit,
)
from tests.factories import auth
from tests.registry.test_provisioning import _run_cli


async def _counts(db, region_id: uuid.UUID) -> dict[str, int]:
    async def count(model) -> int:
        return await db.scalar(
            select(func.count()).select_from(model).where(model.region_id == region_id)
        )

    return {
        "point_types": await count(PointType),
        "checklists": await count(Checklist),
        "archive_items": await count(ArchiveItem),
        "calendar_days": await count(CalendarDay),
    }


def test_the_national_calendar_has_2026_as_the_state_council_published_it():
    days = {day: (kind, name) for day, kind, name in national_calendar()}
    national_day = [date(2026, 10, d) for d in range(1, 8)]
    assert [days[d] for d in national_day] == [("holiday", "国庆节")] * 7
    assert days[date(2026, 9, 20)] == ("workday", "国庆节调休上班")  # a Sunday worked
    assert days[date(2026, 10, 10)] == ("workday", "国庆节调休上班")  # a Saturday worked
    assert days[date(2026, 2, 17)] == ("holiday", "春节")
    assert date(2026, 10, 8) not in days  # an ordinary Thursday


async def test_a_region_from_the_national_template_on_a_blank_database(empty_database_url):
    from shared.db import create_engine, create_sessionmaker

    result = _run_cli(
        "region", "create", "--code", "tpl-blank", "--name", "信州区", "--template", "national",
        "--admin", "tpl-blank-admin:a-long-password", database_url=empty_database_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "21 point types" in result.stdout
    engine = create_engine(empty_database_url, application_name="chuangwei.tests.templates")
    try:
        async with create_sessionmaker(engine)() as db:
            region = await db.scalar(select(Region).where(Region.code == "tpl-blank"))
            counts = await _counts(db, region.id)
            # the catalogue's 21 types, one checklist each, 27 archive documents, and every
            # holiday and make-up day of the package's years
            assert counts == {
                "point_types": 21,
                "checklists": 21,
                "archive_items": counts["archive_items"],
                "calendar_days": len(national_calendar()),
            }
            assert counts["archive_items"] > 8
            market = await db.scalar(
                select(Checklist)
                .join(PointType, PointType.id == Checklist.point_type_id)
                .where(PointType.region_id == region.id, PointType.code == "NMSC")
            )
            assert market.version == 1 and float(market.max_points) == 100.0
    finally:
        await engine.dispose()


async def test_an_unknown_template_changes_nothing_and_says_why(database_url, db):
    code = f"tpl-{uuid.uuid4().hex[:6]}"
    result = _run_cli(
        "region", "create", "--code", code, "--name", "某区", "--template", "no-such-region",
        "--admin", f"{code}-admin:a-long-password", database_url=database_url,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Unknown template 'no-such-region'" in result.stderr
    assert await db.scalar(select(Region).where(Region.code == code)) is None
    assert await db.scalar(select(Person).where(Person.username == f"{code}-admin")) is None


async def test_a_region_copies_another_regions_types_checklists_policies_and_archive(
    database_url, db, registry
):
    source = f"tpl-src-{uuid.uuid4().hex[:6]}"
    assert _run_cli(
        "region", "create", "--code", source, "--name", "上饶市", "--template", "national",
        "--admin", f"{source}-admin:a-long-password", database_url=database_url,
    ).returncode == 0  # fmt: skip
    src = await db.scalar(select(Region).where(Region.code == source))
    admin = await db.scalar(select(Person).where(Person.username == f"{source}-admin"))
    headers = auth(admin)
    # The source city tightens a policy and publishes a second checklist version.
    put = await registry.put(
        "/v1/deadline-policies/urgent", json={"amount": 12, "unit": "hours"}, headers=headers
    )
    assert put.status_code == 200, put.text
    market = await db.scalar(
        select(PointType).where(PointType.region_id == src.id, PointType.code == "NMSC")
    )
    items = [
        {"code": "M-01", "text": "五公示", "points": 60},
        {"code": "M-02", "text": "活禽隔离", "points": 40, "veto_below": 0.7},
    ]
    published = await registry.post(
        f"/v1/point-types/{market.id}/checklists", json={"items": items}, headers=headers
    )
    assert published.status_code == 201, published.text

    copy = f"tpl-copy-{uuid.uuid4().hex[:6]}"
    result = _run_cli(
        "region", "create", "--code", copy, "--name", "广信区", "--template", source,
        "--admin", f"{copy}-admin:a-long-password", database_url=database_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    new = await db.scalar(select(Region).where(Region.code == copy))
    source_counts, copied_counts = await _counts(db, src.id), await _counts(db, new.id)
    # Every type with its current checklist only (the source has two market versions).
    assert copied_counts == {**source_counts, "checklists": source_counts["checklists"] - 1}
    policies = {
        p.severity: (p.amount, p.unit)
        for p in await db.scalars(select(DeadlinePolicy).where(DeadlinePolicy.region_id == new.id))
    }
    assert policies["urgent"] == (12, "hours")
    copied = await db.scalar(
        select(Checklist)
        .join(PointType, PointType.id == Checklist.point_type_id)
        .where(PointType.region_id == new.id, PointType.code == "NMSC")
    )
    # The current version, as the new region's first.
    assert copied.version == 1
    assert [(i["code"], i["points"]) for i in copied.items] == [("M-01", 60), ("M-02", 40)]


async def test_a_templated_regions_deadline_skips_national_day_and_counts_its_make_up_day(
    database_url, db, inspections
):
    code = f"tpl-nd-{uuid.uuid4().hex[:6]}"
    assert _run_cli(
        "region", "create", "--code", code, "--name", "广丰区", "--template", "national",
        "--admin", f"{code}-admin:a-long-password", database_url=database_url,
    ).returncode == 0  # fmt: skip
    region = await db.scalar(select(Region).where(Region.code == code))
    admin = await db.scalar(select(Person).where(Person.username == f"{code}-admin"))
    # A point of the templated market type, registered through nothing but the rows the
    # registry owns (the template gave the type and its checklist).
    market = await db.scalar(
        select(PointType).where(PointType.region_id == region.id, PointType.code == "NMSC")
    )
    unit = Unit(region_id=region.id, id=uuid.uuid4(), code="U1", name="市场公司", kind="company")
    grid_id = uuid.uuid4()
    grid = Division(
        region_id=region.id, id=grid_id, level="street", code="S1", name="永丰街道",
        path=f"/{grid_id}/",
    )  # fmt: skip
    db.add_all([unit, grid])
    await db.flush()
    point = SamplePoint(
        region_id=region.id, id=uuid.uuid4(), code="SP1", name="东街农贸市场",
        point_type_id=market.id, division_id=grid.id, address="东街 1 号", lat=28.44,
        lon=118.2, unit_id=unit.id, status="active",
    )  # fmt: skip
    db.add(point)
    await db.commit()

    # Tuesday 29 September 2026, 10:00 in Shanghai: a complex case has 7 working days.
    # Wed 30 Sep (1); 1–7 Oct National Day; Thu 8 (2), Fri 9 (3), Sat 10 Oct — a make-up
    # working day (4); Mon 12 (5), Tue 13 (6), Wed 14 (7): due at the end of 14 October.
    dispatched = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
    with clock.travel_to(dispatched):
        created = await inspections.post(
            "/v1/cases",
            json={
                "id": str(uuid.uuid4()),
                "source": "expert",
                "sample_point_id": str(point.id),
                "description": "活禽区未隔离",
                "severity": "complex",
            },
            headers=auth(admin),
        )
    assert created.status_code == 201, created.text
    assert created.json()["due_at"] == "2026-10-14T15:59:59Z"
