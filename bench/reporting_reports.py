"""Reports over three years of history (issue 4): latency of every report, one month and all.

`uv run python bench/reporting_reports.py`:

1. :func:`history.ensure_history` — 5,000 points, 1,000,000 inspections, 2,000,000 cases,
   ~8.4 M case events in region ``bench-history`` (generated once, then reused); the
   database is brought to the current Alembic head first (cheap: new indexes only);
2. the real reporting service (uvicorn, 1 worker; ``CW_DEMO=0``,
   ``REPORTING_DAILY_RUN_ENABLED=0``) on that database, with a leader's JWT signed by
   ``shared.auth.issue_token`` with the development secret;
3. each report (units, coverage, inspectors, chiefs, overview, overdue, red-black-list)
   for October 2026 and for the whole range 2023-11-29 … 2026-11-29 (red-black-list is
   monthly only): one client (2 warm-ups, then up to 20 sequential requests) and 8
   concurrent clients — each run bounded in time, so a slow report stops early; the
   whole range with 8 clients is measured for units only;
   Before the runs the region's rollups — the units report's months
   (``unit_days``), the overview's and inspectors' days (``report_days``…) and the
   chiefs report's months of closed cases (``chief_case_months``) — are emptied and
   computed again by the calls the daily run makes, timed ("cold", once per
   deployment); the table's runs read them;
4. prints a markdown table and writes ``bench/results/reporting_reports.json``.

Targets (issue 13): every report p95 < 150 ms for a month and < 1 s for the whole
three-year range, one client. Sizes: BENCH_SEQUENTIAL (20) and BENCH_CONCURRENT (40) requests per run;
BENCH_REPORTS (a comma list) and BENCH_CLIENTS (``1,8``) narrow a run while working on a report.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    REPO_ROOT,
    LoadResult,
    ServerProcess,
    asyncpg_connect,
    percentile,
    run_load,
    write_results,
)

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "20"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "40"))
CLIENTS = 8
MONTH = "month=2026-10"
WHOLE_FROM, WHOLE_TO = "2023-11-29", "2026-11-29"
WHOLE = f"from={WHOLE_FROM}&to={WHOLE_TO}"
REPORTS = ["units", "coverage", "inspectors", "chiefs", "overview", "overdue", "red-black-list"]
# BENCH_REPORTS=units,chiefs measures only those (while working on one report).
if os.environ.get("BENCH_REPORTS"):
    REPORTS = [r for r in REPORTS if r in os.environ["BENCH_REPORTS"].split(",")]
# BENCH_CLIENTS=1 skips the 8-client runs.
CLIENT_COUNTS = [int(c) for c in os.environ.get("BENCH_CLIENTS", "1,8").split(",")]
MONTHLY_ONLY = {"red-black-list"}
# The whole range with 8 clients: units only (keeps the run ~5 minutes).
WHOLE_CONCURRENT = {"units"}
TARGET_MONTH_P95_MS = 150.0
TARGET_WHOLE_P95_MS = 1000.0
ROLLUP_TABLES = (
    "unit_days",
    "unit_day_runs",
    "report_days",
    "report_day_groups",
    "report_person_days",
    "report_redispatch_days",
    "report_day_runs",
    "chief_case_months",
    "chief_case_month_runs",
)
COLD = ("units", "overview", "inspectors", "chiefs")
SECONDS_PER_RUN = float(os.environ.get("BENCH_SECONDS_PER_RUN", "8"))


def upgrade(url: str) -> None:
    """Bring the cached history database to the current migration head (indexes only)."""
    from alembic import command
    from alembic.config import Config

    started = time.perf_counter()
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    print(f"migrated to head in {time.perf_counter() - started:.1f} s", flush=True)


async def leader_token(url: str) -> str:
    """A JWT for the bench region's leader, signed with the development secret."""
    from history import LEADER, REGION_CODE

    from shared.auth import issue_token
    from shared.settings import DEV_JWT_SECRET

    conn = await asyncpg_connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT p.id, p.region_id, p.role, p.unit_id, p.username FROM people p "
            "JOIN regions r ON r.id = p.region_id WHERE r.code = $1 AND p.username = $2",
            REGION_CODE,
            LEADER[0],
        )
        # The rollups start empty each run and are computed again, timed ("cold"), as a
        # fresh deployment's first daily run would.
        for table in ROLLUP_TABLES:
            await conn.execute(f"DELETE FROM {table} WHERE region_id = $1", row["region_id"])
        # Fresh statistics and visibility maps (index-only scans), as autovacuum keeps them.
        await conn.execute("VACUUM (ANALYZE) cases, case_events, inspections")
    finally:
        await conn.close()
    return issue_token(
        secret=DEV_JWT_SECRET,
        ttl_seconds=3600,
        person_id=row["id"],
        region_id=row["region_id"],
        role=row["role"],
        unit_id=row["unit_id"],
        username=row["username"],
    )


async def warm_rollups(url: str) -> dict[str, float]:
    """Compute the emptied rollups of the whole range as the daily run does (timed)."""
    from history import END, REGION_CODE
    from sqlalchemy import text

    from reporting.report_settings.service import load_settings
    from reporting.reports.chiefs import ensure_chief_months, settled_months
    from reporting.reports.days import ensure_days, quota_of, whole_days
    from reporting.reports.period import resolve_period
    from reporting.reports.units import ensure_rollup
    from shared.db import create_engine, create_sessionmaker

    engine = create_engine(url, application_name="chuangwei.bench", statement_timeout=900)
    timings = {}
    try:
        async with create_sessionmaker(engine)() as session:
            region_id, tz_name = (
                await session.execute(
                    text("SELECT id, timezone FROM regions WHERE code = :code"),
                    {"code": REGION_CODE},
                )
            ).one()
            tz = ZoneInfo(tz_name)
            period = resolve_period(
                from_=WHOLE_FROM, to=WHOLE_TO, month=None, tz=tz, now=END + timedelta(days=7)
            )
            now = datetime.now(UTC)
            started = time.perf_counter()
            await ensure_rollup(session, region_id, tz, now)
            await session.commit()
            timings["unit_days"] = round((time.perf_counter() - started) * 1000, 1)
            started = time.perf_counter()
            settings = await load_settings(session, region_id)
            days = whole_days(period.start, period.end + timedelta(days=7), tz) or []
            await ensure_days(session, region_id, tz, days, now, quota_of(settings))
            await session.commit()
            timings["report_days"] = round((time.perf_counter() - started) * 1000, 1)
            started = time.perf_counter()
            await ensure_chief_months(session, region_id, tz.key, settled_months(period, now))
            await session.commit()
            timings["chief_case_months"] = round((time.perf_counter() - started) * 1000, 1)
    finally:
        await engine.dispose()
    return timings


def summary(result: LoadResult, report: str, period: str) -> dict[str, Any]:
    ordered = result.latencies
    return {
        "report": report,
        "period": period,
        "clients": result.concurrency,
        "requests": result.requests,
        "errors": result.errors,
        "rps": result.rps,
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "max_ms": result.max_ms,
        "server_cpu_ms_per_request": result.server_cpu_ms_per_request,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| report | period | clients | requests | errors | req/s | p50 ms | p95 ms | p99 ms"
        " | server CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cpu = r["server_cpu_ms_per_request"]
        lines.append(
            f"| {r['report']} | {r['period']} | {r['clients']} | {r['requests']} | "
            f"{r['errors']} | {r['rps']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['p99_ms']:.0f} | {f'{cpu:.0f}' if cpu else '–'} |"
        )
    return "\n".join(lines)


def main() -> int:
    from history import ensure_history

    url = ensure_history()
    upgrade(url)
    token = asyncio.run(leader_token(url))
    env = {
        "DATABASE_URL": url,
        "CW_ENV": "development",
        "CW_DEMO": "0",
        "CW_LOG_LEVEL": "WARNING",
        "REPORTING_DAILY_RUN_ENABLED": "0",
    }
    auth = {"Authorization": f"Bearer {token}"}
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with ServerProcess(app="reporting.main:app", env=env) as server:
        cold_ms = asyncio.run(warm_rollups(url))
        for name, ms in cold_ms.items():
            print(f"  {name}, cold (as the daily run computes it): {ms:.0f} ms", flush=True)
        for clients in CLIENT_COUNTS:
            for report in REPORTS:
                for label, query in (("2026-10", MONTH), ("whole range", WHOLE)):
                    if report in MONTHLY_ONLY and query == WHOLE:
                        continue
                    if query == WHOLE and clients > 1 and report not in WHOLE_CONCURRENT:
                        continue
                    result = run_load(
                        f"{report} {label}",
                        server.url,
                        [f"/v1/reports/{report}?{query}"],
                        headers=auth,
                        server=server,
                        concurrency=clients,
                        requests=SEQUENTIAL if clients == 1 else CONCURRENT,
                        warmup=2 if clients == 1 else clients,
                        max_seconds=SECONDS_PER_RUN,
                    )
                    rows.append(summary(result, report, label))
                    print(
                        f"  {report:<15} {label:<12} {clients} client(s): "
                        f"p50 {rows[-1]['p50_ms']:.0f} ms, p95 {rows[-1]['p95_ms']:.0f} ms "
                        f"({result.requests} requests, {result.errors} errors)",
                        flush=True,
                    )
    single = [r for r in rows if r["clients"] == 1]
    month_misses = [
        r["report"]
        for r in single
        if r["period"] == "2026-10" and r["p95_ms"] >= TARGET_MONTH_P95_MS
    ]
    whole_misses = [
        r["report"]
        for r in single
        if r["period"] == "whole range" and r["p95_ms"] >= TARGET_WHOLE_P95_MS
    ]
    met = {
        "single_month_p95_below_150_ms": not month_misses,
        "whole_range_p95_below_1_s": not whole_misses,
    }
    print()
    print("### reports over 3 years (2 M cases, 8.4 M events, 1 M inspections)")
    print()
    print(table(rows))
    print()
    print(
        f"- single-month p95 < {TARGET_MONTH_P95_MS:.0f} ms: "
        + ("met" if not month_misses else f"missed by {', '.join(month_misses)}")
    )
    print(
        f"- whole-range p95 < {TARGET_WHOLE_P95_MS:.0f} ms: "
        + ("met" if not whole_misses else f"missed by {', '.join(whole_misses)}")
    )
    path = write_results(
        "reporting_reports",
        {
            "database": url.rsplit("/", 1)[-1].split("?")[0],
            "seconds": round(time.perf_counter() - started, 1),
            "rows": rows,
            "whole_range_cold_ms": cold_ms,
            "load_average": os.getloadavg(),
            "targets_met": met,
        },
    )
    print(
        "- whole range, first request after the rollups were emptied (computes them; once"
        " per deployment, then the daily run keeps them warm): "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in cold_ms.items())
    )
    print(f"- load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(f"- written to {path}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
