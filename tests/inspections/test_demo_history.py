"""The demo district's history (SPEC §13): made through the services' own write paths.

The module loads a copy of the demo district (random region code and username
prefix, next to whatever other tests create), records its history with the
inspections service's generator — through the in-process registry app, as on
first start — and then lets the reporting service judge the past months
(about 20 s, most of it the registry answering 172 context requests in-process).

Who wrote what is checked from the database itself: a fingerprint (row count and
an md5 of every row) of each table holding the region's rows, taken before and
after each step. The inspections step may change only tables whose model lives
in ``shared.models.inspections``, the reporting step only those of
``shared.models.reporting``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from inspections.demo.history import HISTORY_DAYS, History, Summary, generate_history, load_cast
from registry.demo.loader import load_demo_region
from reporting.accountability.demo import catch_up_demo
from shared import clock
from shared.db import create_sessionmaker
from shared.models import Base, Case, CaseEvent, Inspection, Person
from shared.workdays import DeadlineRules
from tests.factories import auth

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Demo:
    region_id: uuid.UUID
    code: str
    prefix: str
    now: datetime
    last_month: str
    summary: Summary
    changed_by_inspections: set[str]
    changed_by_reporting: set[str]
    months_judged: list[str]


# Models modules of shared.models → the service that owns (writes) their tables (SPEC §2).
_OWNERS = {
    "registry": "registry",
    "inspections": "inspections",
    "notifications": "inspections",
    "open311": "inspections",
    "reporting": "reporting",
}


def _owner(table: str) -> str:
    """The service whose models module declares ``table`` (SPEC §2's owner)."""
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table:
            module = mapper.class_.__module__.rsplit(".", 1)[-1]
            return _OWNERS.get(module, module)
    return "unknown"


async def _fingerprints(engine: AsyncEngine, region_id: uuid.UUID) -> dict[str, tuple]:
    """(rows, md5 of all rows) of the region in every table with a region_id, and its region."""
    async with engine.connect() as conn:
        tables = list(
            await conn.scalars(
                text(
                    """
                    SELECT table_name FROM information_schema.columns
                    WHERE table_schema = 'public' AND column_name = 'region_id'
                    ORDER BY table_name
                    """
                )
            )
        )
        prints = {}
        for table in tables:
            row = (
                await conn.execute(
                    text(
                        f"""
                        SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))
                        FROM "{table}" t WHERE region_id = :rid
                        """
                    ),
                    {"rid": region_id},
                )
            ).one()
            prints[table] = tuple(row)
        prints["regions"] = tuple(
            (
                await conn.execute(
                    text(
                        "SELECT count(*), md5(string_agg(r::text, '')) FROM regions r WHERE id = :rid"
                    ),
                    {"rid": region_id},
                )
            ).one()
        )
    return prints


def _changed(before: dict[str, tuple], after: dict[str, tuple]) -> set[str]:
    return {table for table in after if before.get(table) != after[table]}


@pytest.fixture(scope="module")
async def demo(engine: AsyncEngine, inspections_app: FastAPI, reporting_app: FastAPI) -> Demo:
    suffix = uuid.uuid4().hex[:8]
    code, prefix = f"gf-{suffix}", f"demo{suffix}"
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        region = await load_demo_region(session, code=code, username_prefix=prefix)
    now = clock.now()
    today = now.astimezone(TZ).date()
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)

    before = await _fingerprints(engine, region.id)
    async with sessions() as session, session.begin():
        summary = await generate_history(
            session, inspections_app, region_code=code, username_prefix=prefix, now=now
        )
    assert summary is not None
    middle = await _fingerprints(engine, region.id)
    months = await catch_up_demo(
        sessions,
        run_hour=reporting_app.state.settings.daily_run_hour,
        wait_seconds=5,
        region_code=code,
    )
    after = await _fingerprints(engine, region.id)
    return Demo(
        region_id=region.id,
        code=code,
        prefix=prefix,
        now=now,
        last_month=first_of_last_month.strftime("%Y-%m"),
        summary=summary,
        changed_by_inspections=_changed(before, middle),
        changed_by_reporting=_changed(middle, after),
        months_judged=months,
    )


async def _person(db: AsyncSession, demo: Demo, suffix: str) -> Person:
    person = await db.scalar(select(Person).where(Person.username == f"{demo.prefix}-{suffix}"))
    assert person is not None
    return person


async def test_each_step_writes_only_the_tables_its_service_owns(demo: Demo) -> None:
    assert demo.changed_by_inspections, "the history wrote nothing"
    assert {_owner(t) for t in demo.changed_by_inspections} == {"inspections"}, (
        demo.changed_by_inspections
    )
    assert {"inspections", "cases", "case_events", "photos"} <= demo.changed_by_inspections
    assert {_owner(t) for t in demo.changed_by_reporting} == {"reporting"}, (
        demo.changed_by_reporting
    )
    assert {"notices", "accountability_runs", "blacklist_entries"} <= demo.changed_by_reporting


async def test_last_months_units_report_ranks_at_least_five_units_with_due_cases(
    reporting: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    leader = await _person(db, demo, "leader")
    response = await reporting.get(
        "/v1/reports/units", params={"month": demo.last_month}, headers=auth(leader)
    )
    assert response.status_code == 200, response.text
    ranked = [u for u in response.json()["items"] if u["rank"] is not None and u["due"] > 0]
    assert len(ranked) >= 5, [(u["unit_code"], u["due"]) for u in response.json()["items"]]
    # The units differ, as real ones do: not everybody gets the same grade.
    assert len({u["grade"] for u in ranked}) >= 2


async def test_the_coverage_report_has_blind_spots_and_points_visited_in_time(
    reporting: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    leader = await _person(db, demo, "leader")
    response = await reporting.get("/v1/reports/coverage", headers=auth(leader))
    assert response.status_code == 200, response.text
    body = response.json()
    blind = {p["sample_point_id"] for p in body["blind_spots"]}
    points = {p["sample_point_id"] for p in body["items"]}
    assert blind and points - blind, (len(blind), len(points))


async def test_notices_and_a_black_list_were_raised_for_the_past_months(
    reporting: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    assert demo.last_month in demo.months_judged
    leader = await _person(db, demo, "leader")
    notices = await reporting.get("/v1/accountability/notices", headers=auth(leader))
    assert notices.status_code == 200, notices.text
    assert notices.json()["items"], "no accountability notice"
    lists = await reporting.get(
        "/v1/reports/red-black-list", params={"month": demo.last_month}, headers=auth(leader)
    )
    assert lists.status_code == 200, lists.text
    assert lists.json()["black"], lists.json()


async def test_cases_of_every_fate_exist(db: AsyncSession, demo: Demo) -> None:
    rows = (
        await db.execute(
            select(
                Case.status,
                Case.closed_on_time,
                Case.rework_count > 0,
                Case.extension_count > 0,
                Case.return_count > 0,
                Case.due_at < demo.now,
            ).where(Case.region_id == demo.region_id)
        )
    ).all()
    fates = Counter()
    for status, on_time, reworked, extended, returned, past_due in rows:
        if status == "closed":
            fates["closed on time" if on_time else "closed late"] += 1
            fates["reworked then closed"] += reworked
            fates["extended then closed"] += extended
            fates["returned, re-dispatched, closed"] += returned
        if status == "assigned" and past_due:
            fates["open and overdue"] += 1
        if status in ("parked", "cancelled"):
            fates[status] += 1
    expected = {
        "closed on time",
        "closed late",
        "reworked then closed",
        "extended then closed",
        "returned, re-dispatched, closed",
        "open and overdue",
        "parked",
        "cancelled",
    }
    assert expected <= {fate for fate, n in fates.items() if n}, fates


async def test_visits_happen_in_office_hours_by_both_inspectors(
    db: AsyncSession, demo: Demo
) -> None:
    rows = (
        await db.execute(
            select(Inspection.inspector_id, Inspection.started_at, Inspection.finished_at).where(
                Inspection.region_id == demo.region_id
            )
        )
    ).all()
    assert len(rows) == demo.summary.inspections > 100
    assert len({r.inspector_id for r in rows}) == 2
    for _, started, finished in rows:
        start, end = started.astimezone(TZ), finished.astimezone(TZ)
        assert start.date() == end.date() and start < end
        assert time(8, 30) <= start.time() and end.time() <= time(17, 30), (start, end)
        assert not time(11, 50) < start.time() < time(14, 30), start
    hours = Counter(r.finished_at.astimezone(TZ).hour for r in rows)
    assert len(hours) >= 6  # spread over the working day, not stamped at one time
    days = {r.finished_at.astimezone(TZ).date() for r in rows}
    assert len(days) >= 20


async def test_case_steps_are_taken_by_the_people_whose_job_they_are(
    db: AsyncSession, demo: Demo
) -> None:
    rows = (
        await db.execute(
            select(CaseEvent.action, Person.role, func.count())
            .join(
                Person,
                (Person.region_id == CaseEvent.region_id) & (Person.id == CaseEvent.actor_id),
            )
            .where(CaseEvent.region_id == demo.region_id)
            .group_by(CaseEvent.action, Person.role)
        )
    ).all()
    roles = {(action, role) for action, role, _ in rows}
    assert {("rectify", "unit"), ("verify", "inspector"), ("reject", "inspector")} <= roles
    assert {("extend", "admin"), ("park", "admin"), ("cancel", "admin")} <= roles
    assert ("return", "unit") in roles and ("dispatch", "admin") in roles
    # Every event happened before the history's end, none in the future.
    latest = await db.scalar(
        select(func.max(CaseEvent.at)).where(CaseEvent.region_id == demo.region_id)
    )
    assert latest is not None and latest <= demo.now


async def test_the_same_district_and_day_give_the_same_history(
    db: AsyncSession, demo: Demo
) -> None:
    cast = await load_cast(db, demo.region_id, demo.prefix)
    assert cast is not None
    plans = [
        History(db, FastAPI(), cast, now=demo.now, days=HISTORY_DAYS).plan(DeadlineRules())
        for _ in range(2)
    ]
    assert plans[0] == plans[1] and len(plans[0]) > 500
    later = History(db, FastAPI(), cast, now=demo.now + timedelta(days=1), days=HISTORY_DAYS)
    assert later.plan(DeadlineRules()) != plans[0]


async def test_a_region_with_a_history_gets_no_second_one(
    engine: AsyncEngine, inspections_app: FastAPI, demo: Demo
) -> None:
    async with create_sessionmaker(engine)() as session, session.begin():
        again = await generate_history(
            session, inspections_app, region_code=demo.code, username_prefix=demo.prefix
        )
    assert again is None
    assert datetime.now(UTC) >= demo.now


async def test_last_months_bulletin_reads_as_the_office_would_issue_it(
    reporting: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    import io
    import re

    import pypdf
    import pypdfium2

    from shared.embedded_db import REPO_ROOT

    leader = await _person(db, demo, "leader")
    response = await reporting.get(
        "/v1/reports/bulletin", params={"month": demo.last_month}, headers=auth(leader)
    )
    assert response.status_code == 200, response.text
    pages = pypdf.PdfReader(io.BytesIO(response.content)).pages
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))
    year, month = demo.last_month.split("-")
    assert f"上饶市广丰区创建国家卫生城市工作{int(year)}年{int(month)}月通报" in text
    # A league of real units with grades, a black list and the month's notices.
    league = text[text.index("一、责任单位排名") : text.index("二、黑榜")]
    assert len(re.findall(r"\d+\.\d%（\d+/\d+）\d+\.\d[ABCDE]", league)) >= 5
    assert "无。" not in text[text.index("二、黑榜") : text.index("三、红榜")]
    assert "通报" in text[text.index("四、本月问责") : text.index("五、超期未处置问题")]
    folder = REPO_ROOT / ".data" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    pypdfium2.PdfDocument(response.content)[0].render(scale=1.5).to_pil().save(
        folder / "bulletin-demo-page1.png"
    )
