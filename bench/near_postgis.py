"""`near` beside PostGIS: the same points on one PostgreSQL 15 server, four query forms.

Part of ``bench/registry_near.py`` (``make bench``; ``make bench-postgis`` runs only
this). When ``CW_BENCH_POSTGIS_URL`` names a reachable PostgreSQL with PostGIS (any
database there; ``scripts/postgis-bench-server.sh`` starts a throw-away one and prints
its URL), a fresh database on that server is migrated by the real Alembic history, given
a ``geography`` column beside the product's ``geo`` point (with a GiST index of its
own), and seeded by registry_near's own generator (same seed, same 200,000 points).
Then, over the same random query points (radius 2 km, limit 20, the caller's region,
live points only), interleaved in rounds:

(i)   **ours** — ``registry.sample_points.repository.near_points``, the very function the
      service calls, sending its statement exactly as the service does;
(ii)  **PostGIS KNN** — ``ORDER BY geog <-> q LIMIT n`` on the geography GiST index,
      then the radius; PostgreSQL plans it anew for every query (a custom plan: it
      judges the generic one worse), so also
(ii′) the same with ``plan_cache_mode = force_generic_plan``: planned once, as ours is;
(iii) **PostGIS ST_DWithin** — the common form: ``ST_DWithin(geog, q, r)`` and
      ``ORDER BY ST_Distance(geog, q)`` (spheroid, PostGIS's defaults).

Every form renders the same JSON items. How PostgreSQL CPU is measured: one
connection (one backend process) per form, and the user + system CPU time of that
backend from ``/proc/<pid>/stat`` before and after each batch — parsing, planning,
execution and rendering included, the client's own work excluded (so the server must
run on this machine). Latency is the client's round trip. The bench fails if (i) and
(ii) differ, in ids or order, for any query point.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from registry.sample_points.repository import ROW_JSON

RUN_ALL = False  # a part of registry_near, not a benchmark on its own

URL_ENV = "CW_BENCH_POSTGIS_URL"
RADIUS_M = 2000.0
LIMIT = 20
ROUNDS = 5
QUERIES = int(os.environ.get("BENCH_POSTGIS_QUERIES", "2000"))  # for (i) and (ii) each
DWITHIN_QUERIES = max(50, QUERIES // 10)  # (iii) costs ten times as much per query

HOW_TO = f"""\
- PostGIS comparison skipped: {URL_ENV} is not set. To include it:
    export {URL_ENV}=$(bash scripts/postgis-bench-server.sh)
  (installs Debian's postgresql-15-postgis-3 as root and starts a throw-away
  PostgreSQL 15 with PostGIS under .data/postgis-bench/), or `make bench-postgis`."""

# The geography column and its index, beside the product's own columns and indexes.
GEOGRAPHY_DDL = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "ALTER TABLE sample_points ADD COLUMN geog geography(Point, 4326)"
    " GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED",
    "CREATE INDEX ix_sample_points_geog ON sample_points USING gist (geog)",
)

# Each item rendered exactly as the product renders it.
_ITEM = f"{ROW_JSON}, 'distance_m', sp.distance_m)::text"
_QUERY_POINT = "ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography"

# (ii) KNN on the geography index (PostGIS orders by the sphere distance); the radius is
# applied to the n nearest, which are then put in ours' order (distance, then id). (With
# ", id" in the inner ORDER BY the planner no longer uses the index for KNN.)
POSTGIS_KNN = f"""
SELECT {_ITEM} AS item, sp.id
  FROM (SELECT s.*, s.geog <-> {_QUERY_POINT} AS distance_m
          FROM sample_points s
         WHERE s.region_id = $1 AND s.deleted_at IS NULL
         ORDER BY s.geog <-> {_QUERY_POINT}
         LIMIT $5) sp
 WHERE sp.distance_m <= $4
 ORDER BY sp.distance_m, sp.id
"""

# (iii) What most PostGIS code does: every row within the radius, sorted by distance.
POSTGIS_DWITHIN = f"""
SELECT {_ITEM} AS item, sp.id
  FROM (SELECT s.*, ST_Distance(s.geog, {_QUERY_POINT}) AS distance_m
          FROM sample_points s
         WHERE s.region_id = $1 AND s.deleted_at IS NULL
           AND ST_DWithin(s.geog, {_QUERY_POINT}, $4)
         ORDER BY distance_m, s.id
         LIMIT $5) sp
 ORDER BY sp.distance_m, sp.id
"""

LABELS = {
    "ours": "(i) ours: the product's near SQL (point + GiST, exact great-circle order)",
    "knn": "(ii) PostGIS KNN: ORDER BY geog <-> q LIMIT n, then the radius",
    "knn_generic": "(ii′) PostGIS KNN, one generic plan (plan_cache_mode)",
    "dwithin": "(iii) PostGIS ST_DWithin + ORDER BY ST_Distance",
}


def backend_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one PostgreSQL backend so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def reachable(url: str) -> str | None:
    """``None`` when the server answers and has PostGIS, else why not."""
    from common import asyncpg_connect

    try:
        conn = await asyncio.wait_for(asyncpg_connect(url), timeout=10)
    except Exception as exc:  # noqa: BLE001 — whatever the failure, it is reported
        return f"cannot connect: {exc}"
    try:
        available = await conn.fetchval(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'"
        )
        return None if available else "the server has no PostGIS extension"
    finally:
        await conn.close()


async def add_geography(url: str) -> None:
    from common import asyncpg_connect

    conn = await asyncpg_connect(url)
    try:
        for statement in GEOGRAPHY_DDL:
            await conn.execute(statement)
    finally:
        await conn.close()


async def vacuum(url: str) -> str:
    """Visibility map set and statistics fresh, as on a settled production table.

    Returns the server's PostgreSQL and PostGIS versions.
    """
    from common import asyncpg_connect

    conn = await asyncpg_connect(url)
    try:
        await conn.execute("VACUUM ANALYZE sample_points")
        return await conn.fetchval(
            "SELECT 'PostgreSQL ' || current_setting('server_version')"
            " || ', PostGIS ' || postgis_lib_version()"
        )
    finally:
        await conn.close()


def query_points(count: int, rng: random.Random, box) -> list[tuple[float, float]]:
    (lat0, half_lat), (lon0, half_lon) = box
    return [
        (
            round(lat0 + rng.uniform(-half_lat, half_lat), 6),
            round(lon0 + rng.uniform(-half_lon, half_lon), 6),
        )
        for _ in range(count)
    ]


class Form:
    """One query form on its own connection (its own backend), timed per batch."""

    def __init__(self, name: str, conn, run) -> None:
        self.name, self.conn, self.run = name, conn, run
        self.pid: int | None = None
        self.cpu_seconds = 0.0
        self.queries = 0
        self.latencies: list[float] = []
        self.plans: dict[str, int] = {}

    async def start(self) -> None:
        self.pid = await self.conn.fetchval("SELECT pg_backend_pid()")

    async def batch(self, points: list[tuple[float, float]]) -> list[list[str]]:
        answers = []
        before = backend_cpu_seconds(self.pid)
        for lat, lon in points:
            started = time.perf_counter()
            answers.append(await self.run(self.conn, lat, lon))
            self.latencies.append(time.perf_counter() - started)
        self.cpu_seconds += backend_cpu_seconds(self.pid) - before
        self.queries += len(points)
        return answers

    async def count_plans(self) -> None:
        """How often PostgreSQL planned anew (custom plans) or reused a generic plan."""
        row = await self.conn.fetchrow(
            "SELECT sum(generic_plans) AS generic, sum(custom_plans) AS custom"
            " FROM pg_prepared_statements"
        )
        self.plans = {"generic": int(row["generic"] or 0), "custom": int(row["custom"] or 0)}

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "name": LABELS[self.name],
            "queries": self.queries,
            "prepared_plans": self.plans,
            "postgres_cpu_ms_per_query": round(self.cpu_seconds * 1000 / self.queries, 3),
            "p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        }


async def compare(url: str, region_id: str, box, rng: random.Random) -> dict[str, Any]:
    """Runs the three forms over the same query points; raises if (i) and (ii) disagree."""
    import asyncpg
    from common import asyncpg_connect_kwargs

    from registry.sample_points.repository import near_points, scope_filters
    from shared.auth import Principal

    region = uuid.UUID(region_id)
    filters = scope_filters(Principal(subject_id=uuid.uuid4(), region_id=region, role="inspector"))

    async def ours(conn, lat: float, lon: float) -> list[str]:
        body, _ = await near_points(
            conn, filters, lat=lat, lon=lon, radius_m=RADIUS_M, cursor=None, limit=LIMIT
        )
        return [item["id"] for item in json.loads(body)]

    def postgis(sql: str):
        async def run(conn, lat: float, lon: float) -> list[str]:
            rows = await conn.fetch(sql, region, lon, lat, RADIUS_M, LIMIT + 1)
            # As the product pages: the first LIMIT items (the extra row marks a next page).
            return [json.loads(row["item"])["id"] for row in rows[:LIMIT]]

        return run

    forms = {}
    for name, run in (
        ("ours", ours),
        ("knn", postgis(POSTGIS_KNN)),
        ("knn_generic", postgis(POSTGIS_KNN)),
        ("dwithin", postgis(POSTGIS_DWITHIN)),
    ):
        # The session settings of the registry's read pool (shared.db.create_read_pool).
        settings = {"application_name": "chuangwei.bench", "timezone": "UTC"}
        if name == "knn_generic":
            settings["plan_cache_mode"] = "force_generic_plan"
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(url), server_settings=settings)
        forms[name] = Form(name, conn, run)
        await forms[name].start()
    points = query_points(QUERIES, rng, box)
    try:
        # Warm up every backend (statement preparation, caches) on other points.
        for form in forms.values():
            await form.run(form.conn, *points[-1])
        mismatches, items = [], 0
        per_round = QUERIES // ROUNDS
        dwithin_per_round = DWITHIN_QUERIES // ROUNDS
        dwithin_mismatches = 0
        for round_no in range(ROUNDS):
            chunk = points[round_no * per_round : (round_no + 1) * per_round]
            order = ["ours", "knn", "knn_generic"]
            order = [*(order if round_no % 2 == 0 else order[::-1]), "dwithin"]
            answers = {}
            for name in order:
                batch = chunk if name != "dwithin" else chunk[:dwithin_per_round]
                answers[name] = await forms[name].batch(batch)
            for point, a, b, c in zip(
                chunk, answers["ours"], answers["knn"], answers["knn_generic"], strict=True
            ):
                items += len(a)
                if a != b or a != c:
                    mismatches.append({"point": point, "ours": a, "postgis_knn": b})
            dwithin_mismatches += sum(
                a != c for a, c in zip(answers["ours"], answers["dwithin"], strict=False)
            )
        for form in forms.values():
            await form.count_plans()
        plans = {
            name: await explain(forms[name].conn, sql, region, filters, points[0])
            for name, sql in (("knn", POSTGIS_KNN), ("dwithin", POSTGIS_DWITHIN), ("ours", None))
        }
    finally:
        for form in forms.values():
            await form.conn.close()
    results = {name: form.summary() for name, form in forms.items()}
    ours_cpu = results["ours"]["postgres_cpu_ms_per_query"]
    return {
        "radius_m": RADIUS_M,
        "limit": LIMIT,
        "queries": QUERIES,
        "dwithin_queries": DWITHIN_QUERIES,
        "items_per_answer": round(items / QUERIES, 1),
        "results": results,
        "ratios": {
            "ours_cpu_over_postgis_knn": round(
                ours_cpu / results["knn"]["postgres_cpu_ms_per_query"], 3
            ),
            "ours_cpu_over_postgis_knn_generic_plan": round(
                ours_cpu / results["knn_generic"]["postgres_cpu_ms_per_query"], 3
            ),
            "ours_cpu_over_postgis_dwithin": round(
                ours_cpu / results["dwithin"]["postgres_cpu_ms_per_query"], 3
            ),
        },
        "identical_answers": not mismatches,
        "mismatch_count": len(mismatches),
        "mismatches": mismatches[:5],
        "dwithin_answers_differing_from_ours": dwithin_mismatches,
        "plans": plans,
    }


async def explain(conn, sql: str | None, region, filters, point) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one query point, for the README's plan notes."""
    lat, lon = point
    if sql is None:
        from registry.sample_points import repository

        statement, params = repository.near_query(
            filters, lat=lat, lon=lon, radius_m=RADIUS_M, cursor=None, limit=LIMIT
        )
        sql, args = statement.sql, [params[name] for name in statement.names]
    else:
        args = (region, lon, lat, RADIUS_M, LIMIT + 1)
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", *args)
    return "\n".join(row[0] for row in rows)


def print_report(report: dict[str, Any]) -> None:
    print()
    print(
        f"### near beside PostGIS — {report.get('server', 'one server')}, "
        f"{report.get('points', 0):,} points, {report['queries']:,} query points "
        f"(ST_DWithin: {report['dwithin_queries']:,}), radius {report['radius_m']:.0f} m, "
        f"limit {report['limit']}; load average at start "
        f"{', '.join(f'{x:.1f}' for x in report.get('loadavg_at_start', ()))}"
    )
    print()
    print("| query form | PostgreSQL CPU ms/query | p50 ms | p99 ms | plans (generic/custom) |")
    print("|---|---:|---:|---:|---:|")
    for row in report["results"].values():
        plans = row["prepared_plans"]
        print(
            f"| {row['name']} | {row['postgres_cpu_ms_per_query']:.3f} | "
            f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {plans['generic']}/{plans['custom']} |"
        )
    print()
    ratios = report["ratios"]
    print(
        f"- ours / PostGIS KNN (PostgreSQL CPU per query) = "
        f"{ratios['ours_cpu_over_postgis_knn']:.2f} (target ≤ 1.00); ours / PostGIS KNN "
        f"with one generic plan = {ratios['ours_cpu_over_postgis_knn_generic_plan']:.2f}; "
        f"ours / ST_DWithin = {ratios['ours_cpu_over_postgis_dwithin']:.2f}"
    )
    if report["identical_answers"]:
        verdict = "identical ids in identical order for every query point"
    else:
        verdict = (
            f"DIFFERENT for {report['mismatch_count']} query points, e.g. {report['mismatches'][0]}"
        )
    print(f"- answers of (i) and (ii): {verdict} ({report['items_per_answer']} items per answer)")


def run(seed, points: int, box, rng: random.Random) -> dict[str, Any] | None:
    """The whole comparison on the server of ``CW_BENCH_POSTGIS_URL``; ``None`` when unset
    or unreachable (said on stdout). ``seed(url, points)`` is registry_near's generator."""
    from common import fresh_database

    url = os.environ.get(URL_ENV)
    if not url:
        print(HOW_TO)
        return None
    problem = asyncio.run(reachable(url))
    if problem:
        print(f"- PostGIS comparison skipped: {URL_ENV} is set but {problem}.")
        return None
    print(f"loading {points:,} sample points into PostgreSQL + PostGIS …", flush=True)
    with fresh_database("cw_bench_postgis", admin_url=url) as db_url:
        asyncio.run(add_geography(db_url))
        seeded = seed(db_url, points)
        server = asyncio.run(vacuum(db_url))
        load = os.getloadavg()
        report = asyncio.run(compare(db_url, seeded["region_id"], box, rng))
        report.update(points=points, server=server, loadavg_at_start=load)
    print_report(report)
    if os.environ.get("BENCH_NEAR_EXPLAIN"):
        for name, plan in report["plans"].items():
            print(f"\n{LABELS[name]}\n{plan}")
    return report
