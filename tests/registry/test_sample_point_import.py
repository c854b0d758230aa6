"""Import and export of sample points: all-or-nothing validation, upsert by code, round trips."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from shared.models import SamplePoint
from tests.factories import auth, make_person, make_region, make_world

HEADER = ["code", "name", "point_type_code", "division_code", "address", "lat", "lon", "unit_code"]


def csv_bytes(rows: list[list], *, bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def good_rows(world, count: int = 3) -> list[list]:
    return [
        [
            f"IMP-{i:03d}",
            f"导入点 {i}",
            world.point_type.code,
            world.grid.code,
            f"北街 {i} 号",
            28.40 + i / 1000,
            118.10 + i / 1000,
            world.unit.code,
        ]
        for i in range(count)
    ]


async def upload(registry, person, content: bytes, filename: str = "points.csv", ctype=None):
    ctype = ctype or ("text/csv" if filename.endswith(".csv") else "application/octet-stream")
    return await registry.post(
        "/v1/sample-points/import",
        files={"file": (filename, content, ctype)},
        headers=auth(person),
    )


async def snapshot(db, region_id):
    rows = await db.scalars(
        select(SamplePoint)
        .where(SamplePoint.region_id == region_id)
        .execution_options(populate_existing=True)
    )
    return {
        p.code: (p.name, p.address, p.lat, p.lon, p.unit_id, p.division_id, p.version) for p in rows
    }


async def test_a_good_csv_inserts_then_updates_by_code(registry, db):
    world = await make_world(db)
    response = await upload(registry, world.admin, csv_bytes([HEADER, *good_rows(world)], bom=True))
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 3, "inserted": 3, "updated": 0, "unchanged": 0}
    rows = good_rows(world)
    rows[1][1] = "改名了"
    response = await upload(registry, world.admin, csv_bytes([HEADER, *rows]))
    assert response.json() == {"rows": 3, "inserted": 0, "updated": 1, "unchanged": 2}
    state = await snapshot(db, world.region.id)
    assert state["IMP-001"][0] == "改名了" and state["IMP-001"][-1] == 2
    assert state["IMP-000"][-1] == 1


async def test_a_good_xlsx_with_extra_columns_imports(registry, db):
    world = await make_world(db)
    rows = [[*HEADER, "comment"], *[[*r, "ignored"] for r in good_rows(world)]]
    response = await upload(registry, world.admin, xlsx_bytes(rows), "points.xlsx")
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 3


async def test_one_bad_row_rejects_the_whole_file_and_changes_nothing(registry, db):
    world = await make_world(db)
    before = await snapshot(db, world.region.id)
    rows = good_rows(world, 5)
    rows.append(
        [world.point.code, "会被拒绝的更新", *rows[0][2:]]
    )  # an update to an existing point
    rows[2][5] = 200  # latitude out of range on file row 4
    rows[3][7] = "NO-SUCH-UNIT"  # row 5
    rows[4][0] = rows[0][0]  # duplicate code on row 6
    rows[1][6] = "east"  # row 3
    response = await upload(registry, world.admin, csv_bytes([HEADER, *rows]))
    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {(3, "lon"), (4, "lat"), (5, "unit_code"), (6, "code")}
    assert all(e["msg"] for e in body["errors"])
    assert await snapshot(db, world.region.id) == before


async def test_missing_required_column_is_422(registry, db):
    world = await make_world(db)
    header = [c for c in HEADER if c != "lat"]
    rows = [[v for i, v in enumerate(r) if HEADER[i] != "lat"] for r in good_rows(world)]
    response = await upload(registry, world.admin, csv_bytes([header, *rows]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["column"] == "lat"
    assert response.json()["errors"][0]["row"] == 1
    empty = await upload(registry, world.admin, b"")
    assert empty.status_code == 422


async def test_unknown_format_is_415_and_too_large_is_413(registry, registry_app, db, monkeypatch):
    world = await make_world(db)
    response = await upload(registry, world.admin, b"%PDF-1.4 ...", "points.pdf", "application/pdf")
    assert response.status_code == 415
    response = await upload(registry, world.admin, b"\xd0\xcf\x11\xe0legacy", "points.xls")
    assert response.status_code == 415
    gbk = csv_bytes([HEADER]).decode().encode("utf-8") + "名字".encode("gbk")
    response = await upload(registry, world.admin, gbk, "points.csv")
    assert response.status_code == 415
    monkeypatch.setattr(registry_app.state.settings, "max_upload_bytes", 200)
    big = csv_bytes([HEADER, *good_rows(world, 20)])
    response = await upload(registry, world.admin, big)
    assert response.status_code == 413
    assert await snapshot(db, world.region.id) == {
        world.point.code: (await snapshot(db, world.region.id))[world.point.code]
    }


async def test_only_admins_import(registry, db):
    world = await make_world(db)
    content = csv_bytes([HEADER, *good_rows(world)])
    for person in (world.inspector, world.leader, world.unit_user):
        assert (await upload(registry, person, content)).status_code == 403
    stranger = await make_person(db, region=await make_region(db), role="admin")
    response = await upload(registry, stranger, content)
    assert response.status_code == 422  # the world's codes mean nothing in another region
    assert len(await snapshot(db, world.region.id)) == 1


async def test_csv_export_imports_back_unchanged_and_an_edit_updates_one_point(registry, db):
    world = await make_world(db)
    await upload(registry, world.admin, csv_bytes([HEADER, *good_rows(world)]))
    before = await snapshot(db, world.region.id)
    exported = await registry.get(
        "/v1/sample-points/export", params={"format": "csv"}, headers=auth(world.admin)
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    again = await upload(registry, world.admin, exported.content)
    assert again.status_code == 200, again.text
    assert again.json() == {"rows": 4, "inserted": 0, "updated": 0, "unchanged": 4}
    assert await snapshot(db, world.region.id) == before
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0].startswith("Sample points — ")  # the title row; headings below it
    code_col, address_col = table[1].index("code"), table[1].index("address")
    edited = next(r for r in table if r[code_col] == "IMP-002")
    edited[address_col] = "新地址 99 号"
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(table)
    response = await upload(registry, world.admin, buffer.getvalue().encode())
    assert response.json()["updated"] == 1 and response.json()["unchanged"] == 3
    after = await snapshot(db, world.region.id)
    assert after["IMP-002"][1] == "新地址 99 号" and after["IMP-002"][-1] == 2
    assert {k: v for k, v in after.items() if k != "IMP-002"} == {
        k: v for k, v in before.items() if k != "IMP-002"
    }


async def test_xlsx_export_round_trips(registry, db):
    world = await make_world(db)
    await upload(registry, world.admin, csv_bytes([HEADER, *good_rows(world)]))
    before = await snapshot(db, world.region.id)
    exported = await registry.get(
        "/v1/sample-points/export", params={"format": "xlsx"}, headers=auth(world.leader)
    )
    assert exported.status_code == 200
    again = await upload(registry, world.admin, exported.content, "export.xlsx")
    assert again.json() == {"rows": 4, "inserted": 0, "updated": 0, "unchanged": 4}
    assert await snapshot(db, world.region.id) == before
    workbook = load_workbook(io.BytesIO(exported.content))
    sheet = workbook.active
    header = [c.value for c in sheet[2]]  # row 1 is the title
    for row in sheet.iter_rows(min_row=3):
        if row[header.index("code")].value == "IMP-000":
            row[header.index("lat")].value = 28.5
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = await upload(registry, world.admin, buffer.getvalue(), "edited.xlsx")
    assert response.json()["updated"] == 1
    assert (await snapshot(db, world.region.id))["IMP-000"][2] == 28.5


async def test_unit_accounts_export_only_their_points(registry, db):
    world = await make_world(db)
    await upload(registry, world.admin, csv_bytes([HEADER, *good_rows(world)]))
    exported = await registry.get("/v1/sample-points/export", headers=auth(world.other_unit_user))
    assert exported.status_code == 200
    # The title and the headings, no point of another unit.
    assert len(list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))) == 2
    bad = await registry.get(
        "/v1/sample-points/export", params={"format": "pdf"}, headers=auth(world.admin)
    )
    assert bad.status_code == 422


async def test_a_chinese_export_for_people_imports_back_unchanged(registry, db):
    world = await make_world(db)
    await upload(registry, world.admin, csv_bytes([HEADER, *good_rows(world)]))
    before = await snapshot(db, world.region.id)
    exported = await registry.get(
        "/v1/sample-points/export",
        params={"format": "xlsx"},
        headers={**auth(world.admin), "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet["A1"].value.startswith(f"样本点 — {world.region.name} — 导出于 ")
    assert [c.value for c in sheet[2]][:8] == [
        "编码", "名称", "类型编码", "网格编码", "地址", "纬度", "经度", "责任单位编码",
    ]  # fmt: skip
    assert sheet.freeze_panes == "A3"
    again = await upload(registry, world.admin, exported.content, "导出.xlsx")
    assert again.json() == {"rows": 4, "inserted": 0, "updated": 0, "unchanged": 4}
    assert await snapshot(db, world.region.id) == before
