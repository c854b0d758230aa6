"""Spreadsheets for people (SPEC §8): a title row, local date-times as real spreadsheet
date-times in the region's zone, frozen headings, widths, headings by Accept-Language."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from tests.factories import auth
from tests.reporting.world import October, build_october


@pytest.fixture
async def october(inspections, registry, db) -> October:
    return await build_october(inspections, registry, db)


async def test_an_xlsx_export_has_a_title_local_date_times_frozen_headings_and_widths(
    reporting, october: October
):
    w = october.w
    answer = await reporting.get(
        "/v1/reports/overdue?month=2026-10&format=xlsx",
        headers={**auth(w.leader), "Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet["A1"].value == (
        f"超期未处置问题 — {w.region.name} — 2026年10月01日至2026年10月31日（Asia/Shanghai）"
    )
    headings = [c.value for c in sheet[2]]
    assert headings[:3] == ["案件ID", "问题描述", "紧急程度"]
    assert sheet.freeze_panes == "A3"
    due = headings.index("处置时限")
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    # a4 was due at 18:00 on 12 October in Shanghai: that wall-clock time, as a date-time.
    cell = rows[str(october.cases["a4"])][due]
    assert cell.is_date and cell.value == datetime(2026, 10, 12, 18, 0)
    assert cell.number_format == "yyyy-mm-dd hh:mm:ss"
    # Columns as wide as their content: the description column fits its Chinese text.
    description = sheet.column_dimensions["B"].width
    assert description >= 2 * len("垃圾桶无盖") and sheet.column_dimensions["A"].width >= 36


async def test_a_csv_export_has_the_title_then_english_headings_and_local_times(
    reporting, october: October
):
    w = october.w
    answer = await reporting.get(
        "/v1/reports/overdue?month=2026-10&format=csv", headers=auth(w.leader)
    )
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0] == [
        f"Overdue cases — {w.region.name} — 2026-10-01 to 2026-10-31 (Asia/Shanghai)"
    ]
    due = table[1].index("Due at")
    [a4] = [row for row in table[2:] if row[0] == str(october.cases["a4"])]
    assert a4[due] == "2026-10-12 18:00:00"  # local, as a spreadsheet reads a date-time
