"""Memory of each service (issue 13): resident set size at rest and at its peak under load.

`uv run python bench/memory.py`:

1. a fresh database migrated by Alembic; the registry and the inspections service start
   once with ``CW_DEMO=1`` to load the demo district (上饶市广丰区, 172 points) and record
   its 90 days of history, then stop — the data the measured processes find;
2. registry, inspections, reporting and the console start again (uvicorn, one worker each,
   ``CW_DEMO=0``); each serves a first request of the kinds it will be loaded with (the
   bulletin excepted: a monthly document), then **at rest** is its RSS one second later;
3. each service in turn under a representative load for BENCH_MEMORY_SECONDS (15 s),
   its RSS sampled every 0.2 s (``ServerProcess.track_rss``), the **peak** kept (and the
   RSS a second after the load):
   registry — ``near`` and delta sync (``updated_since``) from 8 phones; inspections —
   16 phones POSTing inspections (every item answered, one case each); reporting — the
   month's units / overview / coverage reports and the bulletin PDF from 4 leaders;
   console — the dashboard, case list, map and accountability pages for 4 signed-in
   leaders (which call the other three services);
4. prints ``| service | at rest MB | peak under load MB | a second after MB | …`` and writes
   ``bench/results/memory.json``.

Targets: < 120 MB at rest, < 250 MB under load, for every service.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import (  # noqa: E402
    Call,
    LoadResult,
    MixedLoad,
    ServerProcess,
    asyncpg_connect,
    fresh_database,
    write_results,
)
from province import ingest_call, region_world  # noqa: E402

SECONDS = float(os.environ.get("BENCH_MEMORY_SECONDS", "15"))
TARGET_REST_MB, TARGET_LOAD_MB = 120.0, 250.0
DEMO = "guangfeng"


async def demo_inspections(url: str) -> int:
    conn = await asyncpg_connect(url)
    try:
        region_id = await conn.fetchval("SELECT id FROM regions WHERE code = $1", DEMO)
        if region_id is None:
            return 0
        return await conn.fetchval(
            "SELECT count(*) FROM inspections WHERE region_id = $1", region_id
        )
    finally:
        await conn.close()


def load_demo(env: dict[str, str], url: str) -> None:
    """The demo district and its history, recorded by the services' own start-up."""
    demo_env = {**env, "CW_DEMO": "1"}
    started = time.perf_counter()
    with ServerProcess(app="registry.main:app", env=demo_env) as registry:
        with ServerProcess(
            app="inspections.main:app", env={**demo_env, "CW_REGISTRY_URL": registry.url}
        ):
            deadline = time.monotonic() + 600
            while not asyncio.run(demo_inspections(url)):
                if time.monotonic() > deadline:
                    raise RuntimeError("the demo history was not recorded in 10 minutes")
                time.sleep(2)
    print(f"demo district loaded in {time.perf_counter() - started:.0f} s", flush=True)


def console_cookie(console: ServerProcess, username: str, password: str) -> str:
    """Sign in through the console's form; the session cookie as a ``Cookie`` header value."""
    import httpx

    with httpx.Client(base_url=console.url, timeout=30) as http:
        page = http.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = http.post(
            "/login",
            data={"csrf_token": csrf, "username": username, "password": password, "next": "/"},
        )
        if answer.status_code != 303:
            raise RuntimeError(f"console sign-in answered {answer.status_code}")
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def loads(
    world: dict[str, Any], servers: dict[str, ServerProcess], cookie: str
) -> dict[str, tuple[list[Call], int, bool]]:
    """Per service: (calls, clients, cycle) of its representative load."""
    rng = random.Random(13)
    leader = {"Authorization": f"Bearer {world['leader']}"}
    month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    registry, inspections = servers["registry"].port, servers["inspections"].port
    reporting, console = servers["reporting"].port, servers["console"].port
    near_calls = []
    for i, point in enumerate(world["points"]):
        phone = {"Authorization": f"Bearer {world['phones'][i % len(world['phones'])]}"}
        near = f"{point['lat']:.6f},{point['lon']:.6f}"
        near_calls.append(
            Call("near", registry, "GET", f"/v1/sample-points?near={near}&radius_m=2000", phone)
        )
        near_calls.append(
            Call("delta", registry, "GET", f"/v1/sample-points?updated_since={since}", phone)
        )
    report_calls = [
        Call("report", reporting, "GET", f"/v1/reports/{name}?month={month}", leader)
        for name in ("units", "overview", "coverage")
    ] + [Call("bulletin", reporting, "GET", f"/v1/reports/bulletin?month={month}", leader)]
    page = {"Cookie": cookie}
    console_calls = [
        Call("page", console, "GET", path, page)
        for path in ("/", "/cases", "/map", "/accountability")
    ]
    return {
        "registry": (near_calls, 8, True),
        "inspections": (
            [ingest_call(rng, world, inspections, i) for i in range(int(SECONDS * 300))],
            16,
            False,
        ),
        "reporting": (report_calls, 4, True),
        "console": (console_calls, 4, True),
    }


def main() -> int:
    rows: dict[str, dict[str, Any]] = {}
    with fresh_database("cw_bench_memory") as url:
        env = {
            "DATABASE_URL": url,
            "CW_ENV": "development",
            "CW_LOG_LEVEL": "WARNING",
            "REPORTING_DAILY_RUN_ENABLED": "0",
            "INSPECTIONS_PENDING_RETRY_SECONDS": "0",
        }
        load_demo(env, url)
        env["CW_DEMO"] = "0"
        world = asyncio.run(region_world(url, DEMO, "demo", 2))
        with ServerProcess(app="registry.main:app", env=env) as registry:
            env = {**env, "CW_REGISTRY_URL": registry.url}
            with ServerProcess(app="inspections.main:app", env=env) as inspections:
                env["CW_INSPECTIONS_URL"] = inspections.url
                with ServerProcess(app="reporting.main:app", env=env) as reporting:
                    env["CW_REPORTING_URL"] = reporting.url
                    # Plain HTTP on 127.0.0.1: the session cookie must not be Secure-only.
                    console_env = {**env, "CONSOLE_COOKIE_SECURE": "0"}
                    with ServerProcess(app="console.main:app", env=console_env) as console:
                        servers = {
                            "registry": registry,
                            "inspections": inspections,
                            "reporting": reporting,
                            "console": console,
                        }
                        cookie = console_cookie(console, "demo-leader", "demo-password")
                        plan = loads(world, servers, cookie)
                        # A first ordinary request of each kind, then "at rest". The bulletin
                        # (a monthly document, which loads matplotlib and fpdf2) is not one.
                        for name, (calls, _, _) in plan.items():
                            kinds = {c.kind: c for c in calls if c.kind != "bulletin"}
                            first = MixedLoad(
                                f"{name} first", list(kinds.values()), concurrency=1, seconds=60
                            ).result()
                            bad = {k: r.status_counts for k, r in first.items() if r.errors}
                            if bad:
                                raise RuntimeError(f"{name}: first requests failed: {bad}")
                        time.sleep(1)
                        rest = {name: server.rss_mb() for name, server in servers.items()}
                        for name, (calls, clients, cycle) in plan.items():
                            server = servers[name]
                            with server.track_rss() as peak:
                                result = MixedLoad(
                                    name, calls, concurrency=clients, seconds=SECONDS, cycle=cycle
                                ).result()
                            time.sleep(1)
                            rows[name] = summary(name, rest[name], peak.peak_mb, result)
                            rows[name]["after_mb"] = round(server.rss_mb(), 1)
                            print(
                                f"  {name:<12} at rest {rows[name]['rest_mb']:.0f} MB, "
                                f"peak {rows[name]['peak_mb']:.0f} MB under "
                                f"{rows[name]['requests']} requests "
                                f"({rows[name]['errors']} errors)",
                                flush=True,
                            )
    met = {
        "rest_below_120_mb": all(r["rest_mb"] < TARGET_REST_MB for r in rows.values()),
        "peak_below_250_mb": all(r["peak_mb"] < TARGET_LOAD_MB for r in rows.values()),
    }
    print()
    print("### memory per service (RSS, one uvicorn worker each)")
    print()
    print(
        "| service | at rest MB | peak under load MB | a second after MB | load | requests "
        "| errors |"
    )
    print("|---|---:|---:|---:|---|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['rest_mb']:.0f} | {r['peak_mb']:.0f} | {r['after_mb']:.0f} | "
            f"{r['load']} | {r['requests']} | {r['errors']} |"
        )
    print()
    print(f"- targets (< {TARGET_REST_MB:.0f} MB at rest, < {TARGET_LOAD_MB:.0f} MB): {met}")
    path = write_results(
        "memory", {"seconds_per_load": SECONDS, "services": rows, "targets_met": met}
    )
    print(f"- written to {path}")
    return 1 if any(r["errors"] for r in rows.values()) else 0


def summary(name: str, rest: float, peak: float, result: dict[str, LoadResult]) -> dict[str, Any]:
    return {
        "rest_mb": round(rest, 1),
        "peak_mb": round(peak, 1),
        "load": ", ".join(f"{kind} ×{r.concurrency} ({r.rps:.0f}/s)" for kind, r in result.items()),
        "requests": sum(r.requests for r in result.values()),
        "errors": sum(r.errors for r in result.values()),
        "status_counts": {kind: r.status_counts for kind, r in result.items()},
    }


if __name__ == "__main__":
    raise SystemExit(main())
