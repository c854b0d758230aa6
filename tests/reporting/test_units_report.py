"""GET /v1/reports/units: every counter, rate, score, grade and rank against hand-computed values."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.factories import auth, make_world
from tests.reporting.helpers import by_unit, drive_case, local, set_world_policy
from tests.reporting.world import (
    EXPECTED_A,
    EXPECTED_B,
    EXPECTED_VERDICTS,
    ZERO,
    October,
    build_october,
    verdicts,
)


@pytest.fixture
async def oct_world(inspections, registry, db) -> October:
    return await build_october(inspections, registry, db)


def figures(row: dict, keys) -> dict:
    return {k: row[k] for k in keys}


async def test_units_report_matches_hand_computed_october_figures(reporting, oct_world: October):
    w = oct_world.w
    response = await reporting.get("/v1/reports/units?month=2026-10", headers=auth(w.leader))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"]["from"] == "2026-10-01T00:00:00+08:00"
    assert body["period"]["to"] == "2026-11-01T00:00:00+08:00"
    assert body["min_cases"] == 5
    items = body["items"]
    assert len(items) == 3

    unit_a = by_unit(items, w.unit.id)
    assert figures(unit_a, EXPECTED_A) == EXPECTED_A
    assert (unit_a["rank"], unit_a["ranked"]) == (1, True)

    unit_b = by_unit(items, w.other_unit.id)
    assert figures(unit_b, EXPECTED_B) == EXPECTED_B
    # due 2 < min_cases 5: listed with its score, but not ranked.
    assert (unit_b["rank"], unit_b["ranked"]) == (None, False)

    unit_c = by_unit(items, oct_world.unit_c.id)
    assert figures(unit_c, ZERO) == ZERO
    assert [r["unit_id"] for r in items][0] == str(w.unit.id)  # ranked units come first

    # The same month given as local dates (to inclusive) is the same report.
    same = await reporting.get(
        "/v1/reports/units?from=2026-10-01&to=2026-10-31", headers=auth(w.admin)
    )
    assert same.json()["items"] == items
    # …and as RFC 3339 instants (the UTC spelling of the local month).
    utc = await reporting.get(
        "/v1/reports/units",
        params={"from": "2026-09-30T16:00:00Z", "to": "2026-10-31T16:00:00Z"},
        headers=auth(w.admin),
    )
    assert utc.json()["items"] == items


async def test_the_product_itself_decides_which_world_cases_closed_on_time(
    inspections, oct_world: October
):
    # The world's cases were only driven through the API: the stored verdicts are the
    # product's, read back the way a user reads a case.
    assert await verdicts(inspections, oct_world) == EXPECTED_VERDICTS


async def test_an_extension_granted_after_a_late_rectification_leaves_it_late(
    inspections, registry, reporting, db
):
    w = await make_world(db)
    await set_world_policy(registry, w)
    case_id = await drive_case(
        inspections,
        w,
        point=w.point,
        unit_user=w.unit_user,
        dispatched_at=local(10, 1, 9),
        due_at=local(10, 4, 9),
        steps=[
            ("rectify", local(10, 5, 10)),  # a day late
            ("reject", local(10, 6, 9)),
            ("extend", local(10, 6, 12), local(10, 12, 18)),  # now past the late rectification
            ("rectify", local(10, 8, 10)),
            ("verify", local(10, 9, 10)),
        ],
    )
    response = await reporting.get("/v1/reports/units?month=2026-10", headers=auth(w.leader))
    unit = by_unit(response.json()["items"], w.unit.id)
    # Each rectification is judged against the deadline in force when it was made: the
    # extension does not turn the first one into an on-time one.
    assert figures(unit, ("rectified", "rectified_on_time", "rectified_late")) == {
        "rectified": 2,
        "rectified_on_time": 1,
        "rectified_late": 1,
    }
    assert figures(unit, ("rework", "extended", "due", "closed", "closed_on_time")) == {
        "rework": 1,
        "extended": 1,
        "due": 1,
        "closed": 1,
        "closed_on_time": 1,  # SPEC §6.3: the last rectify before closing was on time
    }
    case = (await inspections.get(f"/v1/cases/{case_id}", headers=auth(w.admin))).json()
    assert (case["due_at"], case["closed_on_time"]) == ("2026-10-12T10:00:00Z", True)


async def test_a_utc_month_would_count_a_local_november_deadline(reporting, oct_world: October):
    """The UTC calendar month holds a7 (due 10-31 16:30 UTC); the local month does not."""
    w = oct_world.w
    utc_month = await reporting.get(
        "/v1/reports/units",
        params={"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
        headers=auth(w.admin),
    )
    unit_a = by_unit(utc_month.json()["items"], w.unit.id)
    # a0 carried over, a1–a6, and a7 (its deadline falls before 11-01 00:00 UTC).
    assert unit_a["due"] == 8
    november = await reporting.get("/v1/reports/units?month=2026-11", headers=auth(w.admin))
    unit_a = by_unit(november.json()["items"], w.unit.id)
    # a0, a4 and a6 still open from earlier months, a7 due on 11-01 local.
    assert (unit_a["due"], unit_a["closed"], unit_a["assigned"]) == (4, 0, 0)
    assert unit_a["overdue_open"] == 4


async def test_min_cases_and_weights_from_score_weights_change_scores_and_ranks(
    reporting, oct_world: October
):
    w = oct_world.w
    put = await reporting.put(
        "/v1/reports/score-weights",
        json={"closure": 50, "on_time": 50, "rework": 0, "volume": 0, "min_cases": 2},
        headers=auth(w.admin),
    )
    assert put.status_code == 200, put.text
    assert put.json()["min_cases"] == 2 and put.headers["ETag"] == '"1"'
    items = (await reporting.get("/v1/reports/units?month=2026-10", headers=auth(w.leader))).json()[
        "items"
    ]
    unit_a, unit_b = by_unit(items, w.unit.id), by_unit(items, w.other_unit.id)
    # A: 50·4/7 + 50·3/7 = 50.0 → D; B: 100 → A. Both ranked now.
    assert (unit_a["score"], unit_a["grade"], unit_a["rank"]) == (50.0, "D", 2)
    assert (unit_b["score"], unit_b["grade"], unit_b["rank"]) == (100.0, "A", 1)
    assert [r["unit_id"] for r in items[:2]] == [str(w.other_unit.id), str(w.unit.id)]


async def test_exports_carry_the_json_rows_with_headings_by_language(reporting, oct_world: October):
    w = oct_world.w
    rows = (await reporting.get("/v1/reports/units?month=2026-10", headers=auth(w.admin))).json()[
        "items"
    ]

    def flat(row: dict) -> dict:
        return {k: (v["value"] if isinstance(v, dict) else v) for k, v in row.items()}

    xlsx = await reporting.get(
        "/v1/reports/units?month=2026-10&format=xlsx",
        headers={**auth(w.admin), "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"},
    )
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    table = list(sheet.iter_rows(values_only=True))
    title, header = table[0][0], table[1]
    assert (
        title == f"责任单位考核 — {w.region.name} — 2026年10月01日至2026年10月31日（Asia/Shanghai）"
    )
    assert header[:4] == ("单位ID", "单位编码", "责任单位", "派遣数")
    assert sheet.freeze_panes == "A3"
    keys = [
        "unit_id", "unit_code", "unit_name", "assigned", "rectified", "rectified_on_time",
        "rectified_late", "open", "overdue_open", "rework", "returned", "extended", "parked",
        "due", "closed", "closed_on_time", "closure_rate", "on_time_rate", "rework_rate",
        "volume_points", "score", "grade", "rank",
    ]  # fmt: skip
    assert len(header) == len(keys)
    assert [dict(zip(keys, r, strict=True)) for r in table[2:]] == [
        {k: flat(row)[k] for k in keys} for row in rows
    ]

    csv_response = await reporting.get(
        "/v1/reports/units?month=2026-10&format=csv",
        headers={**auth(w.admin), "Accept-Language": "en-GB,zh;q=0.5"},
    )
    assert csv_response.headers["content-type"].startswith("text/csv")
    reader = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert reader[0] == [
        f"Responsible units — {w.region.name} — 2026-10-01 to 2026-10-31 (Asia/Shanghai)"
    ]
    assert reader[1][:4] == ["Unit ID", "Unit code", "Unit", "Assigned"]

    def text(value) -> str:
        return "" if value is None else str(value)

    assert reader[2:] == [[text(flat(row)[k]) for k in keys] for row in rows]


async def test_each_unit_reads_only_its_own_row_and_leaders_read_all(
    reporting, oct_world: October, db
):
    w = oct_world.w
    own = await reporting.get("/v1/reports/units?month=2026-10", headers=auth(w.unit_user))
    assert own.status_code == 200
    [row] = own.json()["items"]
    assert row["unit_id"] == str(w.unit.id) and row["due"] == 7 and row["rank"] == 1
    other = await reporting.get("/v1/reports/units?month=2026-10", headers=auth(w.other_unit_user))
    assert [r["unit_id"] for r in other.json()["items"]] == [str(w.other_unit.id)]
    exported = await reporting.get(
        "/v1/reports/units?month=2026-10&format=csv", headers=auth(w.other_unit_user)
    )
    assert str(w.unit.id) not in exported.text and str(w.other_unit.id) in exported.text

    assert (await reporting.get("/v1/reports/units", headers=auth(w.inspector))).status_code == 403
    assert (await reporting.get("/v1/reports/units")).status_code == 401
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert (await reporting.get("/v1/reports/units", headers=bad_token)).status_code == 401

    # Another region's leader sees its own units only, none of these.
    elsewhere = await make_world(db)
    theirs = await reporting.get("/v1/reports/units?month=2026-10", headers=auth(elsewhere.leader))
    ids = {r["unit_id"] for r in theirs.json()["items"]}
    assert ids == {str(elsewhere.unit.id), str(elsewhere.other_unit.id)}
    assert all(r["due"] == 0 for r in theirs.json()["items"])


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("month=2026-13", ["query", "month"]),
        ("month=oct", ["query", "month"]),
        ("from=2026-10-05&to=2026-10-01", ["query", "from"]),
        ("from=yesterday", ["query", "from"]),
        ("from=2016-01-01&to=2026-11-01", ["query", "to"]),
        ("month=2026-10&from=2026-10-01", ["query", "month"]),
        ("format=pdf", ["query", "format"]),
    ],
)
async def test_bad_periods_and_formats_are_problem_details(reporting, db, query, loc):
    w = await make_world(db)
    response = await reporting.get(f"/v1/reports/units?{query}", headers=auth(w.admin))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 422 and any(e["loc"] == loc for e in body["errors"])


async def test_the_whole_three_year_campaign_is_one_period(reporting, db):
    w = await make_world(db)
    response = await reporting.get(
        "/v1/reports/units?from=2023-11-29&to=2026-11-29", headers=auth(w.admin)
    )
    assert response.status_code == 200, response.text
    assert {row["unit_id"] for row in response.json()["items"]} == {
        str(w.unit.id),
        str(w.other_unit.id),
    }
