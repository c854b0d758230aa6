"""The monthly bulletin (SPEC §10): a document a leader can print, built from the reports.

The October 2026 world (tests/reporting/world.py) has unit A (东街市场管理处) ranked C
and on the black list (on time 3 of 7), unit B (城管执法局) graded A but not ranked
(2 due cases < min_cases 5), and unit A's cases a0, a4, a6, a7 open past their deadlines.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pypdf
import pypdfium2
import pytest

from shared import clock
from shared.embedded_db import REPO_ROOT
from tests.factories import auth
from tests.reporting.world import October, build_october

# Printed in November: October has ended, so the bulletin is dated 1 November.
PRINTED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SCREENSHOTS = REPO_ROOT / ".data" / "screenshots"


@pytest.fixture
async def october(inspections, registry, reporting, db) -> October:
    world = await build_october(inspections, registry, db)
    with clock.travel_to(PRINTED):
        run = await reporting.post(
            "/v1/accountability/runs", json={"period": "2026-10"}, headers=auth(world.w.admin)
        )
    assert run.status_code == 201, run.text
    return world


async def _bulletin(reporting, person, **params):
    with clock.travel_to(PRINTED):
        return await reporting.get(
            "/v1/reports/bulletin", params={"month": "2026-10", **params}, headers=auth(person)
        )


def _text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_the_bulletin_pdf_names_the_month_units_grades_lists_and_overdue_cases(
    reporting, october: October
):
    w = october.w
    response = await _bulletin(reporting, w.leader)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = _text(response.content)
    squeezed = re.sub(r"\s+", "", text)

    region = re.sub(r"\s+", "", w.region.name)
    assert f"{region}创建国家卫生城市工作2026年10月通报" in squeezed
    assert "2026年11月01日" in squeezed  # dated the day after the month
    # The league: unit A ranked 1st with 60.0 and grade C; unit B graded A but unranked.
    assert "1东街市场管理处7442.9%（3/7）60.0C" in squeezed
    assert "—城管执法局22100.0%（2/2）94.0A" in squeezed
    black = squeezed[squeezed.index("二、黑榜") : squeezed.index("三、红榜")]
    assert "东街市场管理处42.9%（3/7）C" in black and "城管执法局" not in black
    notices = squeezed[squeezed.index("四、本月问责") : squeezed.index("五、超期未处置问题")]
    assert "通报东街市场管理处" in notices
    overdue = squeezed[squeezed.index("五、超期未处置问题") : squeezed.index("六、检查盲点")]
    assert overdue.count("东街市场管理处") == 4  # a0, a4, a6, a7, still open in November
    assert "垃圾桶无盖" in overdue

    # Page 1 as a picture, for a person to look at (not committed).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = pypdfium2.PdfDocument(response.content)[0]
    page.render(scale=1.5).to_pil().save(SCREENSHOTS / "bulletin-2026-10-page1.png")


async def test_the_chinese_font_is_embedded_and_the_same_data_gives_the_same_bytes(
    reporting, october: October
):
    first = await _bulletin(reporting, october.w.admin)
    again = await _bulletin(reporting, october.w.admin)
    assert first.content == again.content
    reader = pypdf.PdfReader(io.BytesIO(first.content))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [
        font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        for font in fonts.values()
    ]
    assert descriptors and all("/FontFile2" in d for d in descriptors)  # TrueType, embedded


async def test_the_html_bulletin_carries_the_same_figures(reporting, october: October):
    w = october.w
    response = await _bulletin(reporting, w.leader, format="html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f"{w.region.name}创建国家卫生城市工作2026年10月通报" in page
    for figures in (
        ["东街市场管理处", "7", "4", "42.9%（3/7）", "60.0", "C"],
        ["城管执法局", "2", "2", "100.0%（2/2）", "94.0", "A"],
    ):
        assert "".join(f"<td>{cell}</td>" for cell in figures) in page
    assert page.count("data:image/png;base64,") == 3  # the three charts, inline (offline)


async def test_only_admins_and_leaders_read_the_bulletin_and_a_bad_month_is_refused(
    reporting, october: October
):
    w = october.w
    for person in (w.inspector, w.unit_user):
        assert (await _bulletin(reporting, person)).status_code == 403
    bad = await _bulletin(reporting, w.admin, month="2026-13")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    unknown = await _bulletin(reporting, w.admin, format="docx")
    assert unknown.status_code == 422
