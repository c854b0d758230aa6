"""A province in one database (issue 13): one region's heavy load against another's requests.

`uv run python bench/province.py [--fresh]`:

1. **50 regions in one database** (``cw_bench_province_v1``, kept between runs like the
   history database; ``--fresh`` rebuilds it): a copy of ``bench/history.py``'s database —
   region ``bench-history``, 5,000 points and three years (1 M inspections, 2 M cases,
   ~8.4 M events) — plus 49 districts ``bench-district-NN`` made by the same generator,
   each with BENCH_DISTRICT_POINTS (300) points and BENCH_DISTRICT_INSPECTIONS (3,000)
   inspections (twice as many cases) over the last 90 days, loaded with COPY;
2. the real registry, inspections and reporting services (uvicorn, one worker each,
   ``CW_DEMO=0``) on that database, JWTs signed with the development secret;
3. **a quiet district's ordinary requests** (``bench-district-00``, BENCH_QUIET_CLIENTS (2)
   clients, in turn: ``near`` from a phone, an inspection POSTed by a phone, a month report
   (units / overview for 2026-10), the case list) for BENCH_PHASE_SECONDS (12 s) per phase, in
   rounds of four phases: (a) alone, (b-reports) while the big region's leaders ask for
   whole-range reports in a loop (BENCH_REPORT_CLIENTS (4) clients: inspectors, overview,
   units, coverage, chiefs over 2023-11-29 … 2026-11-29), (a) alone again, (b-ingest) while
   the big region's phones POST inspections in a burst (BENCH_INGEST_CLIENTS (16) clients).
   The heavy load starts 2 s before the quiet phase and its requests in flight finish
   before the next phase starts; BENCH_ROUNDS (3) rounds, so machine noise hits both sides.
4. **memory**: each service's RSS after start-up and a first request, and its peak
   (sampled every 0.2 s) over all phases.

The services run with their fair shares between regions, as deployed: the reporting
service's heavy-report slot and time share (``REPORTING_HEAVY_REPORTS_PER_REGION``,
``REPORTING_HEAVY_REPORT_SHARE``) and the inspections service's ingest turns per region
(``INSPECTIONS_INGEST_TURNS_PER_REGION``); each is read from the environment, so setting
it to 0 (1 for the share) measures without. Target: the quiet
district's p95 under each heavy load ≤ 1.2 × its p95 alone (all its
requests pooled; per kind and per round in the JSON). Prints markdown tables and writes
``bench/results/province.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import (  # noqa: E402
    Call,
    LoadResult,
    MixedLoad,
    RssPeak,
    ServerProcess,
    asyncpg_connect,
    percentile,
    summarize,
    write_results,
)

DB_NAME = os.environ.get("CW_BENCH_PROVINCE_DB", "cw_bench_province_v1")
DISTRICTS = 49
DISTRICT_POINTS = int(os.environ.get("BENCH_DISTRICT_POINTS", "300"))
DISTRICT_INSPECTIONS = int(os.environ.get("BENCH_DISTRICT_INSPECTIONS", "3000"))
DISTRICT_DAYS = 90
QUIET = "bench-district-00"
QUIET_CLIENTS = int(os.environ.get("BENCH_QUIET_CLIENTS", "2"))
REPORT_CLIENTS = int(os.environ.get("BENCH_REPORT_CLIENTS", "4"))
INGEST_CLIENTS = int(os.environ.get("BENCH_INGEST_CLIENTS", "16"))
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "12"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
HEAVY_LEAD_SECONDS = 2.0
WHOLE = "from=2023-11-29&to=2026-11-29"
HEAVY_REPORTS = ["inspectors", "overview", "units", "coverage", "chiefs"]
# The reporting service's fair share (REPORTING_HEAVY_REPORTS_PER_REGION, passed through
# from the environment: 0 runs the bench without it).
HEAVY_PER_REGION = os.environ.get("REPORTING_HEAVY_REPORTS_PER_REGION", "1 (default)")
# The fair-share settings in force (passed through from the environment; the defaults
# otherwise): see shared/region_share.py and reporting/reports/fairness.py.
FAIRNESS = {
    name: os.environ.get(name, "default")
    for name in (
        "INSPECTIONS_INGEST_TURNS_PER_REGION",
        "REPORTING_HEAVY_REPORT_SHARE",
        "CW_REGION_ACTIVE_WINDOW_SECONDS",
    )
}
TARGET_RATIO = 1.2
TARGET_REST_MB, TARGET_LOAD_MB = 120.0, 250.0


# --------------------------------------------------------------------------- the database


def admin_url() -> str:
    from history import server_admin_url

    return server_admin_url()


def database_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url()).set(database=DB_NAME).render_as_string(hide_password=False)


async def _copy_history(history_db: str) -> None:
    """The province starts as a file-level copy of the history database (a template)."""
    conn = await asyncpg_connect(admin_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{history_db}"')
    finally:
        await conn.close()


async def _load_districts(url: str) -> None:
    import history

    end = history.END
    started = time.perf_counter()
    for k in range(DISTRICTS):
        await history.generate(
            url,
            seed=1000 + k,
            region=(f"bench-district-{k:02d}", f"基准区{k:02d}"),
            usernames=f"district{k:02d}",
            points=DISTRICT_POINTS,
            inspections=DISTRICT_INSPECTIONS,
            start=end - timedelta(days=DISTRICT_DAYS),
            bulk=False,
            quiet=True,
        )
        print(f"  district {k + 1}/{DISTRICTS} ({time.perf_counter() - started:.0f} s)", flush=True)
    conn = await asyncpg_connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CREATE TABLE bench_province (finished_at timestamptz default now())")
    finally:
        await conn.close()


def ensure_province(*, fresh: bool = False) -> str:
    """The URL of the 50-region database at the current migration head, built when needed."""
    from history import DB_NAME as HISTORY_DB
    from history import ensure_history, is_complete
    from reporting_reports import upgrade

    url = database_url()
    if fresh or not asyncio.run(is_complete(url, "bench_province")):
        ensure_history()
        print(f"copying {HISTORY_DB} into {DB_NAME} …", flush=True)
        started = time.perf_counter()
        asyncio.run(_copy_history(HISTORY_DB))
        upgrade(url)
        print(f"  copied in {time.perf_counter() - started:.0f} s; loading districts", flush=True)
        asyncio.run(_load_districts(url))
    else:
        print(f"province database {DB_NAME} is ready (reused)", flush=True)
    upgrade(url)
    return url


# --------------------------------------------------------------------------- the regions


async def region_world(url: str, code: str, usernames: str, phones: int) -> dict[str, Any]:
    """Tokens (a leader, ``phones`` inspectors) and the points with their checklists."""
    from shared.auth import issue_token
    from shared.settings import DEV_JWT_SECRET

    conn = await asyncpg_connect(url)
    try:
        region_id = await conn.fetchval("SELECT id FROM regions WHERE code = $1", code)
        people = await conn.fetch(
            "SELECT id, role, unit_id, username FROM people WHERE region_id = $1 "
            "AND (username = $2 OR username LIKE $3) ORDER BY username",
            region_id,
            f"{usernames}-leader",
            f"{usernames}-inspector%",
        )
        points = await conn.fetch(
            "SELECT sp.id, sp.lat, sp.lon, c.items FROM sample_points sp "
            "JOIN checklists c ON c.region_id = sp.region_id "
            "AND c.point_type_id = sp.point_type_id AND c.version = 1 "
            "WHERE sp.region_id = $1 ORDER BY sp.code",
            region_id,
        )
    finally:
        await conn.close()

    def token(row) -> str:
        return issue_token(
            secret=DEV_JWT_SECRET,
            ttl_seconds=6 * 3600,
            person_id=row["id"],
            region_id=region_id,
            role=row["role"],
            unit_id=row["unit_id"],
            username=row["username"],
        )

    leader = next(p for p in people if p["role"] == "leader")
    inspectors = [p for p in people if p["role"] == "inspector"][:phones]
    return {
        "code": code,
        "leader": token(leader),
        "phones": [token(p) for p in inspectors],
        "points": [
            {
                "id": str(p["id"]),
                "lat": float(p["lat"]),
                "lon": float(p["lon"]),
                "items": [item["code"] for item in json.loads(p["items"])],
            }
            for p in points
        ],
    }


def inspection_body(rng: random.Random, point: dict[str, Any]) -> str:
    """A phone's submission at ``point``: every item answered, one failed with a case."""
    finished = datetime.now(UTC) - timedelta(minutes=rng.uniform(2, 60))
    failed = rng.randrange(len(point["items"]))
    results = [
        {"item_code": code, "outcome": "fail", "note": "垃圾未清运"}
        if k == failed
        else {"item_code": code, "outcome": "pass"}
        for k, code in enumerate(point["items"])
    ]
    body = {
        "id": str(uuid.uuid4()),
        "sample_point_id": point["id"],
        "checklist_version": 1,
        "source": "woodpecker",
        "started_at": (finished - timedelta(minutes=15)).isoformat(),
        "finished_at": finished.isoformat(),
        "location": {"lat": point["lat"], "lon": point["lon"], "accuracy_m": 8.0},
        "results": results,
        "cases": [
            {
                "id": str(uuid.uuid4()),
                "item_code": point["items"][failed],
                "description": "垃圾桶满溢未及时清运",
                "severity": "normal",
            }
        ],
        "epidemic": {"health_code_checked": True, "temperature_checked": True, "masks_worn": True},
    }
    return json.dumps(body, ensure_ascii=False)


def ingest_call(rng: random.Random, world: dict[str, Any], port: int, i: int) -> Call:
    point = world["points"][rng.randrange(len(world["points"]))]
    return Call(
        kind="inspection POST",
        port=port,
        method="POST",
        path="/v1/inspections",
        headers={"Authorization": f"Bearer {world['phones'][i % len(world['phones'])]}"},
        body=inspection_body(rng, point),
        ok=(201,),
    )


def quiet_calls(world: dict[str, Any], ports: dict[str, int], count: int, seed: int) -> list[Call]:
    """The quiet district's day: near, an inspection, a month report, the case list, in turn."""
    rng = random.Random(seed)
    leader = {"Authorization": f"Bearer {world['leader']}"}
    calls = []
    for i in range(count):
        point = world["points"][rng.randrange(len(world["points"]))]
        phone = {"Authorization": f"Bearer {world['phones'][i % len(world['phones'])]}"}
        kind = i % 4
        if kind == 0:
            near = f"{point['lat'] + rng.uniform(-0.002, 0.002):.6f},{point['lon']:.6f}"
            calls.append(
                Call(
                    "near",
                    ports["registry"],
                    "GET",
                    f"/v1/sample-points?near={near}&radius_m=1000&limit=20",
                    phone,
                )
            )
        elif kind == 1:
            calls.append(ingest_call(rng, world, ports["inspections"], i))
        elif kind == 2:
            report = ("units", "overview")[(i // 4) % 2]
            calls.append(
                Call(
                    "month report",
                    ports["reporting"],
                    "GET",
                    f"/v1/reports/{report}?month=2026-10",
                    leader,
                )
            )
        else:
            calls.append(
                Call("case list", ports["inspections"], "GET", "/v1/cases?limit=50", leader)
            )
    return calls


def report_calls(world: dict[str, Any], port: int) -> list[Call]:
    leader = {"Authorization": f"Bearer {world['leader']}"}
    return [
        Call("whole-range report", port, "GET", f"/v1/reports/{name}?{WHOLE}", leader)
        for name in HEAVY_REPORTS
    ]


# --------------------------------------------------------------------------- phases


def run_phase(
    label: str,
    quiet: list[Call],
    heavy: tuple[list[Call], int, bool] | None,
) -> tuple[dict[str, LoadResult], dict[str, LoadResult]]:
    """The quiet district's calls for PHASE_SECONDS, with ``heavy`` (calls, clients, cycle)
    running from HEAVY_LEAD_SECONDS before until its requests in flight have answered."""
    load = None
    if heavy is not None:
        calls, clients, cycle = heavy
        load = MixedLoad(
            f"{label} heavy",
            calls,
            concurrency=clients,
            seconds=HEAVY_LEAD_SECONDS + PHASE_SECONDS,
            cycle=cycle,
        )
        time.sleep(HEAVY_LEAD_SECONDS)
    quiet_load = MixedLoad(label, quiet, concurrency=QUIET_CLIENTS, seconds=PHASE_SECONDS)
    quiet_result = quiet_load.result()
    heavy_result = load.result() if load is not None else {}
    return quiet_result, heavy_result


def merge(results: list[LoadResult]) -> LoadResult:
    """Several results as one: latencies of the successes pooled, every answer counted
    (``common.combine`` counts only 200 as success; an ingest succeeds with 201)."""
    statuses: dict[str, int] = {}
    for r in results:
        for status, count in r.status_counts.items():
            statuses[status] = statuses.get(status, 0) + count
    ok = [x for r in results for x in r.latencies]
    merged = summarize(
        results[0].name,
        results[0].concurrency,
        ok,
        {"200": len(ok)},
        sum(r.seconds for r in results),
    )
    merged.requests = sum(r.requests for r in results)
    merged.errors = sum(r.errors for r in results)
    merged.status_counts = statuses
    return merged


def pooled(results: list[dict[str, LoadResult]]) -> LoadResult:
    """Every quiet request of the given phases, all kinds together."""
    return merge([r for phase in results for r in phase.values()])


def p95(result: LoadResult) -> float:
    return round(percentile(result.latencies, 0.95) * 1000, 1)


def describe(result: LoadResult) -> dict[str, Any]:
    return {
        **result.summary(),
        "p95_ms": p95(result),
    }


def table(rows: list[tuple[str, LoadResult]]) -> str:
    lines = [
        "| phase | quiet requests | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r.requests} | {r.errors} | {r.p50_ms:.1f} | {p95(r):.1f} | "
            f"{r.p99_ms:.1f} |"
        )
    return "\n".join(lines)


def kind_table(per_kind: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The quiet district's p95 by kind of request, alone and under each heavy load."""
    lines = [
        "| quiet request | alone p95 ms | under reports p95 ms | ratio | under ingest p95 ms "
        "| ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, by_phase in per_kind.items():
        alone, reports, ingest = (by_phase[p]["p95_ms"] for p in ("alone", "reports", "ingest"))
        lines.append(
            f"| {kind} | {alone:.1f} | {reports:.1f} | {reports / alone:.2f} | {ingest:.1f} | "
            f"{ingest / alone:.2f} |"
        )
    return "\n".join(lines)


def memory_table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| service | at rest MB | peak under load MB |", "|---|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['rest_mb']:.0f} | {r['peak_mb']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="rebuild the province database")
    args, _ = parser.parse_known_args()
    url = ensure_province(fresh=args.fresh)
    env = {
        "DATABASE_URL": url,
        "CW_ENV": "development",
        "CW_DEMO": "0",
        "CW_LOG_LEVEL": "WARNING",
        "REPORTING_DAILY_RUN_ENABLED": "0",
        "INSPECTIONS_PENDING_RETRY_SECONDS": "0",
        # No notification loops: their scheduler scans every region's cases (not measured here).
        "INSPECTIONS_NOTIFICATIONS_ENABLED": "0",
        # The heavy load is whole-range reports; on a shared 2-core machine one can pass 30 s.
        "CW_DB_STATEMENT_TIMEOUT_SECONDS": "180",
    }
    quiet_world = asyncio.run(region_world(url, QUIET, "district00", 8))
    big_world = asyncio.run(region_world(url, "bench-history", "bench", 64))
    started = time.perf_counter()
    phases: dict[str, list[dict[str, LoadResult]]] = {"alone": [], "reports": [], "ingest": []}
    heavy: dict[str, list[dict[str, LoadResult]]] = {"reports": [], "ingest": []}
    per_round: list[dict[str, float]] = []
    memory: dict[str, dict[str, float]] = {}
    with ServerProcess(app="registry.main:app", env=env) as registry:
        service_env = {**env, "CW_REGISTRY_URL": registry.url}
        with (
            ServerProcess(app="inspections.main:app", env=service_env) as inspections,
            ServerProcess(app="reporting.main:app", env=service_env) as reporting,
        ):
            servers = {"registry": registry, "inspections": inspections, "reporting": reporting}
            ports = {name: server.port for name, server in servers.items()}
            # A first request of every kind (start-up done, caches filled), then "at rest".
            run_phase("first", quiet_calls(quiet_world, ports, 8, seed=0), None)
            time.sleep(1)
            rest = {name: server.rss_mb() for name, server in servers.items()}
            peaks: dict[str, RssPeak] = {}
            from contextlib import ExitStack

            with ExitStack() as tracking:
                for name, server in servers.items():
                    peaks[name] = tracking.enter_context(server.track_rss())
                rng = random.Random(7)
                for round_no in range(ROUNDS):
                    seed = 100 * (round_no + 1)
                    quiet_count = int(PHASE_SECONDS * 200)
                    plan = [
                        ("alone", None),
                        (
                            "reports",
                            (report_calls(big_world, ports["reporting"]), REPORT_CLIENTS, True),
                        ),
                        ("alone", None),
                        (
                            "ingest",
                            (
                                [
                                    ingest_call(rng, big_world, ports["inspections"], i)
                                    for i in range(int(PHASE_SECONDS * 400))
                                ],
                                INGEST_CLIENTS,
                                False,
                            ),
                        ),
                    ]
                    this_round: dict[str, list[dict[str, LoadResult]]] = {}
                    for step, (name, load) in enumerate(plan):
                        quiet = quiet_calls(quiet_world, ports, quiet_count, seed + step)
                        result, heavy_result = run_phase(f"{name} r{round_no + 1}", quiet, load)
                        phases[name].append(result)
                        this_round.setdefault(name, []).append(result)
                        if heavy_result:
                            heavy[name].append(heavy_result)
                        q = pooled([result])
                        failed = {k: r.status_counts for k, r in result.items() if r.errors}
                        heavy_note = ", ".join(
                            f"{r.requests} heavy {k} (p50 {r.p50_ms:.0f} ms, {r.status_counts})"
                            for k, r in heavy_result.items()
                        )
                        print(
                            f"  round {round_no + 1} {name:<8} quiet: {q.requests} requests, "
                            f"p50 {q.p50_ms:.1f} ms, p95 {p95(q):.1f} ms, errors {q.errors}"
                            + (f" {failed}" if failed else "")
                            + (f"; {heavy_note}" if heavy_note else ""),
                            flush=True,
                        )
                    alone_p95 = p95(pooled(this_round["alone"]))
                    per_round.append(
                        {
                            "alone_p95_ms": alone_p95,
                            "reports_p95_ms": p95(pooled(this_round["reports"])),
                            "ingest_p95_ms": p95(pooled(this_round["ingest"])),
                            "reports_ratio": round(
                                p95(pooled(this_round["reports"])) / alone_p95, 3
                            ),
                            "ingest_ratio": round(p95(pooled(this_round["ingest"])) / alone_p95, 3),
                        }
                    )
            for name in servers:
                memory[name] = {
                    "rest_mb": round(rest[name], 1),
                    "peak_mb": round(peaks[name].peak_mb, 1),
                }

    alone = pooled(phases["alone"])
    under_reports = pooled(phases["reports"])
    under_ingest = pooled(phases["ingest"])
    ratios = {
        "reports": round(p95(under_reports) / p95(alone), 3),
        "ingest": round(p95(under_ingest) / p95(alone), 3),
    }
    kinds = sorted({k for phase in phases["alone"] for k in phase})
    per_kind = {
        kind: {
            name: describe(merge([phase[kind] for phase in results if kind in phase]))
            for name, results in phases.items()
        }
        for kind in kinds
    }
    heavy_summary = {
        name: {
            kind: describe(merge([r[kind] for r in results if kind in r]))
            for kind in sorted({k for r in results for k in r})
        }
        for name, results in heavy.items()
    }
    met = {
        "reports_p95_within_1.2": ratios["reports"] <= TARGET_RATIO,
        "ingest_p95_within_1.2": ratios["ingest"] <= TARGET_RATIO,
        "rest_below_120_mb": all(m["rest_mb"] < TARGET_REST_MB for m in memory.values()),
        "peak_below_250_mb": all(m["peak_mb"] < TARGET_LOAD_MB for m in memory.values()),
    }
    print()
    print(
        f"### a province in one database — 1 region × 3 years + {DISTRICTS} districts × "
        f"{DISTRICT_POINTS} points / {DISTRICT_INSPECTIONS:,} inspections"
    )
    print()
    print(
        table(
            [
                ("(a) quiet district alone", alone),
                ("(b) … while the big region runs whole-range reports", under_reports),
                ("(b) … while the big region's phones POST inspections", under_ingest),
            ]
        )
    )
    print()
    print("| round | alone p95 ms | under reports p95 ms | ratio | under ingest p95 ms | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(per_round, 1):
        print(
            f"| {i} | {r['alone_p95_ms']:.1f} | {r['reports_p95_ms']:.1f} | "
            f"{r['reports_ratio']:.2f} | {r['ingest_p95_ms']:.1f} | {r['ingest_ratio']:.2f} |"
        )
    print()
    print(kind_table(per_kind))
    print()
    print(memory_table(memory))
    print()
    print(
        f"- heavy reports per region at once (REPORTING_HEAVY_REPORTS_PER_REGION): {HEAVY_PER_REGION}"
    )
    print(f"- fair-share settings: {FAIRNESS}")
    print(f"- p95 ratios (target ≤ {TARGET_RATIO}): {ratios}; targets: {met}")
    for name, kinds_ in heavy_summary.items():
        for kind, r in kinds_.items():
            print(
                f"- heavy {name}: {r['requests']} {kind} requests, {r['rps']:.1f}/s, "
                f"p50 {r['p50_ms']:.0f} ms, statuses {r['status_counts']}"
            )
    path = write_results(
        "province",
        {
            "database": DB_NAME,
            "sizes": {
                "big_region": "bench-history: 5,000 points, 1 M inspections, 3 years",
                "districts": DISTRICTS,
                "district_points": DISTRICT_POINTS,
                "district_inspections": DISTRICT_INSPECTIONS,
                "phase_seconds": PHASE_SECONDS,
                "rounds": ROUNDS,
                "quiet_clients": QUIET_CLIENTS,
                "report_clients": REPORT_CLIENTS,
                "ingest_clients": INGEST_CLIENTS,
            },
            "heavy_reports_per_region": HEAVY_PER_REGION,
            "fairness": FAIRNESS,
            "seconds": round(time.perf_counter() - started, 1),
            "quiet": {
                "alone": describe(alone),
                "under_reports": describe(under_reports),
                "under_ingest": describe(under_ingest),
            },
            "quiet_per_kind": per_kind,
            "heavy": heavy_summary,
            "per_round": per_round,
            "p95_ratios": ratios,
            "memory_mb": memory,
            "targets_met": met,
        },
    )
    print(f"- written to {path}")
    errors = alone.errors + under_reports.errors + under_ingest.errors
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
