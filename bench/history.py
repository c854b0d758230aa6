"""A district's three years of history for the reporting benchmarks (issue 4).

5,000 sample points, 1,000,000 inspections and 2,000,000 cases with their
event histories (about 8.5 million events), generated deterministically and
loaded with COPY into a database of its own on the embedded PostgreSQL (or on
the server DATABASE_URL names). The database is kept between runs and reused
when it is complete; pass ``--fresh`` to rebuild it.

    uv run python bench/history.py [--fresh] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import SAMPLE_POINT_COLUMNS  # noqa: E402

# A generator, not a benchmark: bench/run_all.py skips it (the report bench calls it).
RUN_ALL = False

DB_NAME = os.environ.get("CW_BENCH_HISTORY_DB", "cw_bench_history_v3")
REGION_CODE = "bench-history"
ADMIN = ("bench-admin", "bench-password")
LEADER = ("bench-leader", "bench-password")
UNIT_USER = ("bench-unit", "bench-password")

POINTS = 5_000
INSPECTIONS = 1_000_000
CASES = 2_000_000
END = datetime(2026, 11, 29, tzinfo=UTC)
START = END - timedelta(days=3 * 365)
CHUNK = 50_000


def server_admin_url() -> str:
    """The maintenance-database URL of the server the bench uses."""
    if configured := os.environ.get("DATABASE_URL"):
        return make_url(configured).set(database="postgres").render_as_string(hide_password=False)
    from shared.embedded_db import server_url, start_embedded_postgres

    return server_url(start_embedded_postgres(keep_running=True), "postgres")


def database_url() -> str:
    return make_url(server_admin_url()).set(database=DB_NAME).render_as_string(hide_password=False)


async def _connect(url: str) -> asyncpg.Connection:
    u = make_url(url)
    return await asyncpg.connect(
        user=u.username,
        password=u.password or None,
        database=u.database,
        host=u.query.get("host") or u.host,
        port=u.port,
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def is_complete(url: str, marker: str = "bench_history_done") -> bool:
    """Whether the database exists and its generator finished (it creates ``marker`` last)."""
    try:
        conn = await _connect(url)
    except (asyncpg.InvalidCatalogNameError, OSError):
        return False
    try:
        return bool(
            await conn.fetchval("select count(*) from pg_tables where tablename = $1", marker)
        )
    finally:
        await conn.close()


async def _recreate_database(admin_url: str) -> None:
    conn = await _connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await conn.close()


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(REPO / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


async def _provision(url: str, code: str, name: str, admin: tuple[str, str]) -> uuid.UUID:
    from registry.regions.service import provision_region
    from shared.db import create_engine, create_sessionmaker

    engine = create_engine(url, application_name="chuangwei.bench")
    async with create_sessionmaker(engine)() as session, session.begin():
        region = await provision_region(
            session,
            code=code,
            name=name,
            admin_username=admin[0],
            admin_password=admin[1],
        )
    await engine.dispose()
    return region.id


async def generate(
    url: str,
    *,
    scale: float = 1.0,
    seed: int = 20261129,
    region: tuple[str, str] = (REGION_CODE, "基准测试区"),
    usernames: str = "bench",
    points: int | None = None,
    inspections: int | None = None,
    start: datetime = START,
    bulk: bool = True,
    quiet: bool = False,
) -> dict[str, int]:
    """Provision a region (code, name) in the migrated database and fill it; returns row counts.

    The defaults make the three-year district. Other regions (``bench/province.py``) pass
    their own code, a username prefix (accounts are ``<usernames>-leader`` …), their
    sizes and a later ``start``, with ``bulk=False``: the indexes stay (other regions'
    rows are already there) and the database is not marked complete.
    """
    from shared.auth import password_hash

    rng = random.Random(seed)
    region_id = await _provision(url, *region, (f"{usernames}-admin", ADMIN[1]))
    conn = await _connect(url)
    counts: dict[str, int] = {}
    try:
        categories = {
            r["code"]: r["id"]
            for r in await conn.fetch(
                "select code, id from categories where region_id = $1", region_id
            )
        }
        pw = password_hash.hash(LEADER[1])

        # Organisation: 8 streets × 6 communities × 5 grids, 80 units.
        divisions, grids = [], []
        for s in range(8):
            sid = _uuid(rng)
            divisions.append((region_id, sid, None, "street", f"S{s:02d}", f"街道{s}", f"/{sid}/"))
            for c in range(6):
                cid = _uuid(rng)
                cpath = f"/{sid}/{cid}/"
                divisions.append(
                    (region_id, cid, sid, "community", f"S{s:02d}C{c}", f"社区{s}-{c}", cpath)
                )
                for g in range(5):
                    gid = _uuid(rng)
                    divisions.append(
                        (
                            region_id,
                            gid,
                            cid,
                            "grid",
                            f"S{s:02d}C{c}G{g}",
                            f"网格{s}-{c}-{g}",
                            f"{cpath}{gid}/",
                        )
                    )
                    grids.append((gid, s))
        await conn.copy_records_to_table(
            "divisions",
            records=[(*d, 1) for d in divisions],
            columns=["region_id", "id", "parent_id", "level", "code", "name", "path", "version"],
        )
        units = [
            (region_id, _uuid(rng), f"U{u:03d}", f"责任单位{u}", "department", 1) for u in range(80)
        ]
        await conn.copy_records_to_table(
            "units", records=units, columns=["region_id", "id", "code", "name", "kind", "version"]
        )
        unit_ids = [u[1] for u in units]

        people = []
        inspectors = []
        for i in range(120):
            pid = _uuid(rng)
            inspectors.append(pid)
            people.append(
                (region_id, pid, f"{usernames}-inspector-{i}", pw, f"巡查员{i}", "inspector", None)
            )
        leaders = []
        for i in range(40):
            pid = _uuid(rng)
            leaders.append(pid)
            people.append(
                (region_id, pid, f"{usernames}-chief-{i}", pw, f"片长{i}", "leader", None)
            )
        people.append((region_id, _uuid(rng), f"{usernames}-leader", pw, "区领导", "leader", None))
        people.append(
            (region_id, _uuid(rng), f"{usernames}-unit", pw, "单位账号", "unit", unit_ids[0])
        )
        await conn.copy_records_to_table(
            "people",
            records=[(*p, True, 1) for p in people],
            columns=[
                "region_id",
                "id",
                "username",
                "password_hash",
                "display_name",
                "role",
                "unit_id",
                "active",
                "version",
            ],
        )
        chiefs = [
            (region_id, _uuid(rng), leaders[i % 40], "grid", gid, None, 1)
            for i, (gid, _) in enumerate(grids)
        ]
        chiefs += [
            (region_id, _uuid(rng), leaders[s], "area", divisions[s * 37][1], None, 1)
            for s in range(8)
        ]
        chiefs += [
            (region_id, _uuid(rng), leaders[30 + r], "road", None, f"主干道{r}路", 1)
            for r in range(10)
        ]
        await conn.copy_records_to_table(
            "chiefs",
            records=chiefs,
            columns=["region_id", "id", "person_id", "kind", "division_id", "road_name", "version"],
        )

        # 20 point types with a 6-item checklist each.
        cat_cycle = ["C3", "C5", "C6", "C5", "C3", "C8", "C7", "C2"]
        types = []
        checklists = []
        for t in range(20):
            tid = _uuid(rng)
            types.append(
                (
                    region_id,
                    tid,
                    f"T{t:02d}",
                    f"类型{t}",
                    categories[cat_cycle[t % 8]],
                    80.0,
                    [7, 14, 30][t % 3],
                    1,
                )
            )
            items = ",".join(
                f'{{"code": "T{t:02d}-{k}", "text": "检查项{k}", "points": 10, "veto_below": null, "tags": []}}'
                for k in range(6)
            )
            checklists.append((region_id, _uuid(rng), tid, 1, f"[{items}]", 60))
        await conn.copy_records_to_table(
            "point_types",
            records=types,
            columns=[
                "region_id",
                "id",
                "code",
                "name",
                "category_id",
                "pass_mark",
                "visit_every_days",
                "version",
            ],
        )
        await conn.executemany(
            "insert into checklists (region_id, id, point_type_id, version, items, max_points) "
            "values ($1, $2, $3, $4, $5::jsonb, $6)",
            checklists,
        )

        n_points = points or int(POINTS * scale)
        points = []
        for p in range(n_points):
            t = types[p % 20]
            gid, street = grids[rng.randrange(len(grids))]
            lat = 28.35 + street * 0.02 + rng.random() * 0.02
            lon = 118.10 + rng.random() * 0.2
            points.append(
                (
                    region_id,
                    _uuid(rng),
                    f"P{p:05d}",
                    f"样本点{p}",
                    t[1],
                    gid,
                    f"地址{p}",
                    lat,
                    lon,
                    unit_ids[p % 80],
                    "active",
                    1,
                )
            )
        await conn.copy_records_to_table(
            "sample_points",
            records=points,
            columns=SAMPLE_POINT_COLUMNS,
        )
        type_category = {t[1]: t[4] for t in types}
        counts.update(divisions=len(divisions), units=len(units), sample_points=len(points))

        # Inspections, then cases drawn from them (two per inspection on average).
        # Secondary indexes are dropped during the bulk load and rebuilt after it:
        # building an index once is far cheaper than maintaining it per row.
        saved_indexes = []
        if bulk:
            saved_indexes = await conn.fetch(
                "select indexname, indexdef from pg_indexes where schemaname = 'public' "
                "and tablename in ('inspections', 'cases', 'case_events') "
                "and indexname not like 'pk_%'"
            )
        for row in saved_indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        span = (END - start).total_seconds()
        n_insp = inspections or int(INSPECTIONS * scale)
        n_cases = int(CASES / INSPECTIONS * n_insp)
        insp_cols = [
            "region_id",
            "id",
            "sample_point_id",
            "point_type_id",
            "category_id",
            "division_id",
            "unit_id",
            "checklist_version",
            "inspector_id",
            "source",
            "started_at",
            "finished_at",
            "lat",
            "lon",
            "max_points",
            "earned_points",
            "score",
            "passed",
            "vetoed_items",
            "off_site",
            "suspect_photos",
            "health_code_checked",
            "temperature_checked",
            "masks_worn",
            "validation",
            "body",
            "body_hash",
            "created_at",
        ]
        case_cols = [
            "region_id",
            "id",
            "sample_point_id",
            "inspection_id",
            "source",
            "category_id",
            "point_type_id",
            "division_id",
            "description",
            "severity",
            "unit_id",
            "reporter_id",
            "status",
            "due_at",
            "reported_at",
            "dispatched_at",
            "rectified_at",
            "last_rectified_at",
            "closed_at",
            "closed_on_time",
            "rework_count",
            "extension_count",
            "return_count",
            "photo_ids",
            "version",
            "created_at",
            "updated_at",
        ]
        event_cols = [
            "region_id",
            "id",
            "case_id",
            "at",
            "actor_id",
            "action",
            "from_status",
            "to_status",
            "unit_id",
            "due_at",
            "photo_ids",
        ]
        limits = {
            "urgent": timedelta(hours=24),
            "normal": timedelta(days=4),
            "complex": timedelta(days=10),
        }
        severities = ["urgent"] * 1 + ["normal"] * 7 + ["complex"] * 2
        cases_per_insp = n_cases / n_insp
        made_cases = made_events = 0
        started = time.perf_counter()
        for chunk_start in range(0, n_insp, CHUNK):
            insp_rows, case_rows, event_rows = [], [], []
            for i in range(chunk_start, min(n_insp, chunk_start + CHUNK)):
                pt = points[rng.randrange(n_points)]
                # Time-ordered like real data (inspections arrive day by day), so a
                # month's rows sit together on disk as they would in production.
                finished = start + timedelta(seconds=span * (i + rng.random()) / n_insp)
                score = max(0.0, min(100.0, rng.gauss(84, 9)))
                iid = _uuid(rng)
                inspector = inspectors[rng.randrange(120)]
                insp_rows.append(
                    (
                        region_id,
                        iid,
                        pt[1],
                        pt[4],
                        type_category[pt[4]],
                        pt[5],
                        pt[9],
                        1,
                        inspector,
                        "woodpecker",
                        finished - timedelta(minutes=20),
                        finished,
                        pt[7],
                        pt[8],
                        60,
                        round(score * 0.6, 2),
                        round(score, 2),
                        score >= 80,
                        [],
                        False,
                        False,
                        True,
                        rng.random() < 0.9,
                        rng.random() < 0.8,
                        "valid",
                        "{}",
                        "",
                        # Stored when submitted, as the ingest does (the daily rollup
                        # counts rows created after its run live, as late arrivals).
                        finished,
                    )
                )
                # Spread the cases evenly: inspection i carries the cases numbered
                # floor(i·r) … floor((i+1)·r) − 1.
                for _ in range(int((i + 1) * cases_per_insp) - int(i * cases_per_insp)):
                    made_cases += 1
                    cid = _uuid(rng)
                    severity = severities[rng.randrange(10)]
                    reported = finished
                    due = reported + limits[severity]
                    unit = pt[9]
                    events = [
                        ("report", None, "reported", reported, None, None),
                        ("dispatch", "reported", "assigned", reported, unit, due),
                    ]
                    returned = rng.random() < 0.02
                    if returned:
                        unit = unit_ids[rng.randrange(80)]
                        events.append(
                            (
                                "return",
                                "assigned",
                                "returned",
                                reported + timedelta(hours=2),
                                None,
                                None,
                            )
                        )
                        events.append(
                            (
                                "dispatch",
                                "returned",
                                "assigned",
                                reported + timedelta(hours=3),
                                unit,
                                due,
                            )
                        )
                    extended = rng.random() < 0.05
                    if extended:
                        due = due + timedelta(days=3)
                        events.append(
                            (
                                "extend",
                                "assigned",
                                "assigned",
                                reported + timedelta(hours=5),
                                None,
                                due,
                            )
                        )
                    age = END - reported
                    roll = rng.random()
                    status, rect1, rect2, closed = "assigned", None, None, None
                    rework = 0
                    if roll < 0.03:
                        status = "cancelled"
                        events = events[:1] + [
                            (
                                "cancel",
                                "reported",
                                "cancelled",
                                reported + timedelta(hours=1),
                                None,
                                None,
                            )
                        ]
                        unit = None
                    elif roll < 0.05:
                        status = "parked"
                        events.append(
                            ("park", "assigned", "parked", reported + timedelta(days=1), None, None)
                        )
                    else:
                        allowed = due - reported
                        rect1 = reported + allowed * rng.uniform(0.1, 1.35)
                        if rect1 < END:
                            events.append(("rectify", "assigned", "rectified", rect1, None, None))
                            status = "rectified"
                            if rng.random() < 0.1:
                                rework = 1
                                events.append(
                                    (
                                        "reject",
                                        "rectified",
                                        "assigned",
                                        rect1 + timedelta(hours=6),
                                        None,
                                        None,
                                    )
                                )
                                rect2 = rect1 + allowed * rng.uniform(0.1, 0.6)
                                status = "assigned"
                                if rect2 < END:
                                    events.append(
                                        ("rectify", "assigned", "rectified", rect2, None, None)
                                    )
                                    status = "rectified"
                                else:
                                    rect2 = None
                            last = rect2 or rect1
                            if status == "rectified":
                                closed = last + timedelta(hours=rng.uniform(2, 30))
                                if closed < END and age > timedelta(days=2):
                                    events.append(
                                        ("verify", "rectified", "closed", closed, None, None)
                                    )
                                    status = "closed"
                                else:
                                    closed = None
                        else:
                            rect1 = None
                    last_rect = rect2 or rect1
                    case_rows.append(
                        (
                            region_id,
                            cid,
                            pt[1],
                            iid,
                            "woodpecker",
                            type_category[pt[4]],
                            pt[4],
                            pt[5],
                            "巡查发现问题",
                            severity,
                            unit,
                            inspector,
                            status,
                            None if status == "cancelled" else due,
                            reported,
                            None if status == "cancelled" else reported,
                            rect1,
                            last_rect,
                            closed,
                            (last_rect <= due) if closed else None,
                            rework,
                            int(extended),
                            int(returned),
                            [],
                            1,
                            reported,
                            closed or reported,
                        )
                    )
                    # Like the cases service, every event records the unit and the
                    # deadline in force after the action (none before dispatch).
                    unit_now = due_now = None
                    for action, frm, to, at, ev_unit, ev_due in events:
                        if action == "dispatch":
                            unit_now, due_now = ev_unit, ev_due
                        elif action == "extend":
                            due_now = ev_due
                        ev_unit, ev_due = unit_now, due_now
                        made_events += 1
                        event_rows.append(
                            (
                                region_id,
                                _uuid(rng),
                                cid,
                                at,
                                inspector,
                                action,
                                frm,
                                to,
                                ev_unit,
                                ev_due,
                                [],
                            )
                        )
            await conn.copy_records_to_table("inspections", records=insp_rows, columns=insp_cols)
            await conn.copy_records_to_table("cases", records=case_rows, columns=case_cols)
            await conn.copy_records_to_table("case_events", records=event_rows, columns=event_cols)
            done = min(n_insp, chunk_start + CHUNK)
            if quiet:
                continue
            print(
                f"  {done:>9,} inspections, {made_cases:>9,} cases, {made_events:>10,} events "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        if bulk:
            print("  rebuilding indexes …", flush=True)
            for row in saved_indexes:
                await conn.execute(row["indexdef"])
            await conn.execute("ANALYZE")
            await conn.execute(
                "CREATE TABLE bench_history_done (finished_at timestamptz default now())"
            )
        counts.update(inspections=n_insp, cases=made_cases, case_events=made_events)
    finally:
        await conn.close()
    return counts


def ensure_history(*, fresh: bool = False, scale: float = 1.0) -> str:
    """The URL of a complete history database, generating it when needed."""
    url = database_url()
    if not fresh and asyncio.run(is_complete(url)):
        print(f"history database {DB_NAME} is ready (reused)", flush=True)
        return url
    print(f"generating history into {DB_NAME} (scale {scale}) …", flush=True)
    started = time.perf_counter()
    asyncio.run(_recreate_database(server_admin_url()))
    _migrate(url)
    counts = asyncio.run(generate(url, scale=scale))
    print(f"generated {counts} in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="rebuild even if complete")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    args = parser.parse_args()
    ensure_history(fresh=args.fresh, scale=args.scale)


if __name__ == "__main__":
    main()
