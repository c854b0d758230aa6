"""Reporting as real processes: reports over HTTP, and the daily run with two replicas."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import httpx
import openpyxl
from sqlalchemy import func, select

from shared.embedded_db import REPO_ROOT
from shared.models import AccountabilityRun
from shared.processes import free_port, stop_process
from tests.factories import auth, make_world, report_case
from tests.waiting import eventually


async def test_a_case_reported_over_http_shows_in_the_units_report(stack, db):
    w = await make_world(db)
    async with httpx.AsyncClient(base_url=stack.url("inspections")) as inspections:
        case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    assert case["status"] == "assigned"
    async with httpx.AsyncClient(base_url=stack.url("reporting")) as reporting:
        mine = await reporting.get("/v1/reports/units", headers=auth(w.unit_user))
        assert mine.status_code == 200, mine.text
        [row] = mine.json()["items"]
        assert (row["unit_id"], row["assigned"], row["open"], row["overdue_open"]) == (
            str(w.unit.id),
            1,
            1,
            0,
        )
        xlsx = await reporting.get(
            "/v1/reports/units?format=xlsx",
            headers={**auth(w.leader), "Accept-Language": "zh-CN"},
        )
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0].startswith("责任单位考核 — ")  # the title row (SPEC §8)
        assert rows[1][2] == "责任单位" and len(rows) == 4  # title, headings, both units


def _start_replica(env: dict[str, str], port: int, log_name: str) -> subprocess.Popen:
    log = open(REPO_ROOT / ".data" / log_name, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "reporting.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def test_two_replicas_make_one_daily_run(database_url, db):
    """Two reporting processes with the daily run on, checking every half second, race for
    today's run of every region; each region gets exactly one."""
    w = await make_world(db)
    (REPO_ROOT / ".data").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CW_ENV": "test",
        "CW_LOG_LEVEL": "WARNING",
        "REPORTING_DAILY_RUN_ENABLED": "1",
        "REPORTING_DAILY_RUN_HOUR": "0",
        "REPORTING_DAILY_CHECK_SECONDS": "0.5",
    }
    replicas = [_start_replica(env, free_port(), f"e2e-reporting-replica{i}.log") for i in (1, 2)]

    async def daily_runs(region_id=w.region.id) -> int:
        return await db.scalar(
            select(func.count()).where(
                AccountabilityRun.region_id == region_id, AccountabilityRun.trigger == "daily"
            )
        )

    async def daily_runs_while_alive(region_id=w.region.id) -> int:
        assert all(p.poll() is None for p in replicas), "a replica exited; see .data/"
        return await daily_runs(region_id)

    try:
        await eventually(daily_runs_while_alive, within=60, what="the first daily run")
        # Instead of sleeping while the replicas wake again: two regions appear one after
        # the other, and each one's run proves the replicas ticked again after the first.
        for _ in range(2):
            later = await make_world(db)
            await eventually(
                lambda later=later: daily_runs_while_alive(later.region.id),
                within=30,
                what="a later tick",
            )
            assert await daily_runs(later.region.id) == 1
    finally:
        for proc in replicas:
            stop_process(proc)
    assert await daily_runs() == 1
