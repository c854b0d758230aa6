"""POST /v1/cases/import: an expert group's list as CSV or XLSX, all rows or none."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from shared.models import Case, CaseEvent
from tests.factories import World, auth, categories_of, make_world


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


def csv_file(text: str, name: str = "cases.csv") -> dict:
    return {"file": (name, text.encode("utf-8"), "text/csv")}


async def cases_in(db, region_id: uuid.UUID) -> list[Case]:
    rows = await db.scalars(
        select(Case).where(Case.region_id == region_id).order_by(Case.reported_at, Case.id)
    )
    return list(rows)


async def test_a_good_csv_creates_every_case(inspections, w: World, db) -> None:
    text = (
        "sample_point_code,address,lat,lon,category_code,description,severity,unit_code,source,reported_at\n"
        f"{w.point.code},,,,,市场内活禽未隔离,urgent,,,2026-11-20 09:30\n"
        f",人民路 8 号后巷,28.45,118.21,C4,后巷垃圾堆积,normal,{w.other_unit.code},supervision,\n"
        ",胜利街公厕,,,,公厕无洗手液,complex,,,\n"
    )
    response = await inspections.post(
        "/v1/cases/import", files=csv_file(text), headers=auth(w.admin)
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["created"] == 3 and len(result["case_ids"]) == 3

    by_id = {str(c.id): c for c in await cases_in(db, w.region.id)}
    market, lane, toilet = (by_id[i] for i in result["case_ids"])
    assert market.status == "assigned" and market.unit_id == w.unit.id
    assert market.sample_point_id == w.point.id and market.division_id == w.grid.id
    assert market.category_id == w.point_type.category_id
    assert market.source == "expert"  # the default source of an imported list
    # A spreadsheet's local time is the region's time zone.
    assert market.reported_at == datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert market.due_at is not None
    assert lane.status == "assigned" and lane.unit_id == w.other_unit.id
    assert lane.source == "supervision" and (lane.lat, lane.lon) == (28.45, 118.21)
    assert lane.category_id == (await categories_of(db, w.region))["C4"].id
    assert toilet.status == "reported" and toilet.unit_id is None and toilet.due_at is None
    assert toilet.address == "胜利街公厕"
    assert all(c.reporter_id == w.admin.id for c in (market, lane, toilet))
    events = await db.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.region_id == w.region.id)
    )
    assert events == 5  # three reports, two dispatches


async def test_a_bad_row_rejects_the_whole_file_with_row_numbers(inspections, w: World, db) -> None:
    text = (
        "sample_point_code,address,description,severity,unit_code,category_code,reported_at,lat,lon\n"
        f"{w.point.code},,ok row,normal,,,,,\n"  # row 2: fine
        "NOPE,,unknown point,normal,,,,,\n"  # row 3
        ",x,bad severity,huge,,,,,\n"  # row 4
        ",x,bad unit,normal,U-NOPE,C9,,,\n"  # row 5 (two problems)
        ",,no place,normal,,,,,\n"  # row 6
        "\n"  # a blank line is not a row
        ",x,,normal,,,2099-01-01T00:00:00+08:00,,\n"  # row 8 (two problems)
        ",x,half location,normal,,,,28.4,\n"  # row 9
    )
    response = await inspections.post(
        "/v1/cases/import", files=csv_file(text), headers=auth(w.admin)
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert sorted({e["row"] for e in errors}) == [3, 4, 5, 6, 8, 9]
    assert {(e["row"], e["loc"][-1]) for e in errors} == {
        (3, "sample_point_code"),
        (4, "severity"),
        (5, "unit_code"),
        (5, "category_code"),
        (6, "address"),
        (8, "description"),
        (8, "reported_at"),
        (9, "lat"),
    }
    assert await cases_in(db, w.region.id) == []


async def test_a_good_xlsx_creates_every_case(inspections, w: World, db) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Description", "Severity", "Sample_Point_Code", "reported_at", "notes"])
    sheet.append(["摊位外经营", "normal", w.point.code, datetime(2026, 11, 27, 15, 0), "extra"])
    sheet.append(["灭蝇灯损坏", "urgent", w.point.code, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    files = {
        "file": (
            "cases.xlsx",
            buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    response = await inspections.post("/v1/cases/import", files=files, headers=auth(w.admin))
    assert response.status_code == 201, response.text
    cases = await cases_in(db, w.region.id)
    assert [c.description for c in cases] == ["摊位外经营", "灭蝇灯损坏"]
    assert cases[0].reported_at == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert all(c.status == "assigned" for c in cases)


async def test_files_that_are_not_lists_of_cases_are_refused(inspections, w: World, db) -> None:
    for files in (
        csv_file(""),
        csv_file("description,severity\n"),
        csv_file("what,ever\n1,2\n"),
        {"file": ("x.xlsx", b"PK\x03\x04 not really a zip", "application/octet-stream")},
        {"file": ("x.csv", b"\xff\xfe\x00garbage\x81", "text/csv")},
    ):
        response = await inspections.post("/v1/cases/import", files=files, headers=auth(w.admin))
        assert response.status_code == 422, files
    response = await inspections.post("/v1/cases/import", headers=auth(w.admin))
    assert response.status_code == 422
    assert await cases_in(db, w.region.id) == []


async def test_an_imported_point_of_another_region_is_unknown(inspections, w: World, db) -> None:
    stranger = await make_world(db)
    text = f"sample_point_code,description,severity\n{stranger.point.code},x,normal\n"
    response = await inspections.post(
        "/v1/cases/import", files=csv_file(text), headers=auth(w.admin)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["row"] == 2
