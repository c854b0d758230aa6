"""The daily rollup behind the overview and inspectors reports over long periods.

A report over a period counts *additive facts* (cases reported, closures, dispatches,
valid inspections, an inspector's cases and their facility/hygiene split) and reads
*statuses that can still change* (cancelled, open, overdue). The facts of a settled
local day are stored once (``report_days``, ``report_day_groups``,
``report_person_days``); a report adds up the stored days, counts the rest of its
period live, and reads the changing statuses live from the few cases not closed.

Which rows a stored day holds, and so what is counted live instead:

- **Settled**: a local day (the region's time zone) is stored only once it has ended
  plus ``SETTLE_MARGIN``; the running days of a period are always live.
- **Late rows**: a stored day holds the cases and inspections *created* before its
  run's ``cutoff`` (the run's time minus ``CREATED_MARGIN``, longer than any writing
  transaction). A backdated case (the import, an offline phone's ``reported_at``) or an
  inspection submitted days later is created after the cutoff: it is counted live,
  under the day it is dated, never stored twice.
- **Pending inspections**: a day with an inspection still waiting for validation is not
  stored until it is validated or rejected (the validation would change the day).
- **Closures and dispatches** are stamped with the server's time when they happen, so
  a settled day never gets new ones; closed and cancelled are final statuses.
- **Quota settings**: the facility/hygiene split depends on the region's facility tags
  and categories; a day computed under other settings is computed again.

The result is exactly the live computation's, which ``tests/reporting/test_day_rollup.py``
checks report by report.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings
from reporting.reports.sql import STATEMENT_SETTINGS, fetch

# For the OpenAPI descriptions of the reports that read the rollup.
ROLLUP_RULES = (
    "\n\n**Daily rollup.** For a period of whole local days the region's figures add up "
    "stored days and count the rest live, with exactly the live computation's result: a "
    "local day (the region's time zone) is stored once it has ended plus one day; it "
    "holds the cases and inspections created until ten minutes before it was computed, "
    "so a case or inspection dated in it but submitted later (an import, an offline "
    "phone) counts live under the day it is dated; a day with an inspection still "
    "waiting for validation is stored only once it is validated or rejected; closures and "
    "dispatches are stamped by the server when they happen; statuses that can still "
    "change (cancelled, open, overdue) are always read live; a change of the facility "
    "tags or categories recomputes the stored facility/hygiene split. A unit's view "
    "and periods with a time of day are computed live."
)
SETTLE_MARGIN = timedelta(days=1)
CREATED_MARGIN = timedelta(minutes=10)
STORE_CHUNK_DAYS = 31

# A case's facility/hygiene split (the inspectors report's weekly quota): a facility
# case when its checklist item carries one of the facility tags or its category is one
# of the facility categories; otherwise hygiene. Used live and by the rollup.
FACILITY_CTES = """
fac_items AS MATERIALIZED (
    SELECT ch.point_type_id, ch.version, it ->> 'code' AS code
    FROM checklists ch,
         jsonb_array_elements(
             CASE WHEN jsonb_typeof(ch.items) = 'array' THEN ch.items ELSE '[]'::jsonb END
         ) AS it
    WHERE ch.region_id = :rid
      AND jsonb_typeof(it -> 'tags') = 'array'
      AND jsonb_exists_any(it -> 'tags', CAST(:fac_tags AS text[]))
), fac_cats AS MATERIALIZED (
    SELECT cat.id FROM categories cat
    WHERE cat.region_id = :rid AND cat.code = ANY(CAST(:fac_cats AS text[]))
)"""
IS_FACILITY = """(coalesce(c.category_id IN (SELECT id FROM fac_cats), false)
    OR (coalesce(c.item_code IN (SELECT code FROM fac_items), false) AND EXISTS (
        SELECT 1
        FROM inspections i
        JOIN fac_items f ON f.point_type_id = coalesce(i.point_type_id, c.point_type_id)
             AND f.version = i.checklist_version
        WHERE i.region_id = c.region_id AND i.id = c.inspection_id
          AND f.code = c.item_code
    )))"""

# The epidemic checks of a set of inspections ``i`` (checked / recorded, per check).
EPIDEMIC_COUNTS = """count(*) FILTER (WHERE i.health_code_checked) AS health_code_checked_yes,
       count(i.health_code_checked) AS health_code_checked_n,
       count(*) FILTER (WHERE i.temperature_checked) AS temperature_checked_yes,
       count(i.temperature_checked) AS temperature_checked_n,
       count(*) FILTER (WHERE i.masks_worn) AS masks_worn_yes,
       count(i.masks_worn) AS masks_worn_n"""
LOCAL_DAY = "(({col} AT TIME ZONE :tz)::date)"
# Rows created after the run of the day they are dated (counted live, never stored).
LATE = (
    "{alias}.created_at >= :cutoff AND {alias}.created_at >= (SELECT r.cutoff FROM report_day_runs r"
    " WHERE r.region_id = :rid AND r.day = " + LOCAL_DAY + ")"
)


def _conditions(kind: str) -> dict[str, str]:
    """Extra conditions per source table: ``store`` (rows a run stores), ``live`` (every
    row of a live span), ``late`` (rows of stored days created after their run)."""
    if kind == "store":
        return {
            "case": "AND c.created_at < :cutoff",
            "insp": "AND i.created_at < :cutoff",
            "fixed": "",
        }
    if kind == "late":
        return {
            "case": "AND " + LATE.format(alias="c", col="c.reported_at"),
            "insp": "AND " + LATE.format(alias="i", col="i.finished_at"),
            "fixed": "AND false",
        }
    return {"case": "", "insp": "", "fixed": ""}


DAY_FACTS_SQL = f"""
WITH rep AS (
    SELECT {LOCAL_DAY.format(col="c.reported_at")} AS day, count(*) AS cases_reported
    FROM cases c
    WHERE c.region_id = :rid AND c.reported_at >= :s AND c.reported_at < :e {{case}}
    GROUP BY 1
), clo AS (
    SELECT {LOCAL_DAY.format(col="c.closed_at")} AS day, count(*) AS cases_closed,
           count(*) FILTER (WHERE c.closed_on_time IS TRUE) AS cases_closed_on_time
    FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed'
      AND c.closed_at >= :s AND c.closed_at < :e {{fixed}}
    GROUP BY 1
), dis AS (
    SELECT {LOCAL_DAY.format(col="e.at")} AS day, count(*) AS dispatches
    FROM case_events e
    WHERE e.region_id = :rid AND e.action = 'dispatch' AND e.at >= :s AND e.at < :e {{fixed}}
    GROUP BY 1
), ins AS (
    SELECT {LOCAL_DAY.format(col="i.finished_at")} AS day,
           count(*) AS inspections,
           count(*) FILTER (WHERE i.passed IS TRUE) AS inspections_passed,
           coalesce(sum(i.score), 0) AS score_sum, count(i.score) AS score_n,
           {EPIDEMIC_COUNTS}
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e {{insp}}
    GROUP BY 1
), days AS (
    SELECT day FROM rep UNION SELECT day FROM clo UNION SELECT day FROM dis
    UNION SELECT day FROM ins
)
SELECT d.day,
       coalesce(rep.cases_reported, 0) AS cases_reported,
       coalesce(clo.cases_closed, 0) AS cases_closed,
       coalesce(clo.cases_closed_on_time, 0) AS cases_closed_on_time,
       coalesce(dis.dispatches, 0) AS dispatches,
       coalesce(ins.inspections, 0) AS inspections,
       coalesce(ins.inspections_passed, 0) AS inspections_passed,
       coalesce(ins.score_sum, 0) AS score_sum,
       coalesce(ins.score_n, 0) AS score_n,
       coalesce(ins.health_code_checked_yes, 0) AS health_code_checked_yes,
       coalesce(ins.health_code_checked_n, 0) AS health_code_checked_n,
       coalesce(ins.temperature_checked_yes, 0) AS temperature_checked_yes,
       coalesce(ins.temperature_checked_n, 0) AS temperature_checked_n,
       coalesce(ins.masks_worn_yes, 0) AS masks_worn_yes,
       coalesce(ins.masks_worn_n, 0) AS masks_worn_n
FROM days d
LEFT JOIN rep ON rep.day = d.day
LEFT JOIN clo ON clo.day = d.day
LEFT JOIN dis ON dis.day = d.day
LEFT JOIN ins ON ins.day = d.day
"""
DAY_COLUMNS = (
    "cases_reported",
    "cases_closed",
    "cases_closed_on_time",
    "dispatches",
    "inspections",
    "inspections_passed",
    "score_sum",
    "score_n",
    "health_code_checked_yes",
    "health_code_checked_n",
    "temperature_checked_yes",
    "temperature_checked_n",
    "masks_worn_yes",
    "masks_worn_n",
)

# A row ``b`` of (category, point type, source, severity) counts once per dimension.
DIMENSION_KEYS = """CROSS JOIN LATERAL (VALUES
    ('category', coalesce(b.category_id::text, '')),
    ('point_type', coalesce(b.point_type_id::text, '')),
    ('source', b.source),
    ('severity', b.severity)
) AS g(dim, key)"""
# Cases reported per overview dimension; ``key`` as the overview gives it ('' for none).
GROUP_FACTS_SQL = f"""
SELECT b.day, g.dim, g.key, sum(b.n)::bigint AS reported
FROM (
    SELECT {LOCAL_DAY.format(col="c.reported_at")} AS day,
           c.category_id, c.point_type_id, c.source, c.severity, count(*) AS n
    FROM cases c
    WHERE c.region_id = :rid AND c.reported_at >= :s AND c.reported_at < :e {{case}}
    GROUP BY 1, 2, 3, 4, 5
) AS b
{DIMENSION_KEYS}
GROUP BY 1, 2, 3
"""

PERSON_FACTS_SQL = f"""
WITH {FACILITY_CTES}, insp AS (
    SELECT {LOCAL_DAY.format(col="i.finished_at")} AS day, i.inspector_id AS person_id,
           count(*) AS inspections
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e {{insp}}
    GROUP BY 1, 2
), rep AS (
    SELECT k.day, k.reporter_id AS person_id, count(*) AS cases_reported,
           count(*) FILTER (WHERE k.facility) AS facility,
           count(*) FILTER (WHERE NOT k.facility) AS hygiene
    FROM (
        SELECT {LOCAL_DAY.format(col="c.reported_at")} AS day, c.reporter_id,
               {IS_FACILITY} AS facility
        FROM cases c
        WHERE c.region_id = :rid AND c.reporter_id IS NOT NULL
          AND c.reported_at >= :s AND c.reported_at < :e {{case}}
    ) AS k
    GROUP BY 1, 2
)
SELECT coalesce(insp.day, rep.day) AS day, coalesce(insp.person_id, rep.person_id) AS person_id,
       coalesce(insp.inspections, 0) AS inspections,
       coalesce(rep.cases_reported, 0) AS cases_reported,
       coalesce(rep.facility, 0) AS facility,
       coalesce(rep.hygiene, 0) AS hygiene
FROM insp FULL JOIN rep ON rep.day = insp.day AND rep.person_id = insp.person_id
"""
PERSON_COLUMNS = ("inspections", "cases_reported", "facility", "hygiene")


# A case dispatched again (after a return) counts once among a period's dispatched
# cases: each dispatch with an earlier one of the same case, by its day and the day of
# the dispatch before it. Distinct dispatched cases of a period starting on day s =
# its dispatches − its redispatches whose previous dispatch is on or after s.
REDISPATCH_FACTS_SQL = f"""
SELECT {LOCAL_DAY.format(col="d.at")} AS day, {LOCAL_DAY.format(col="prev.at")} AS previous_day,
       count(*) AS redispatches
FROM case_events d
CROSS JOIN LATERAL (
    SELECT p.at FROM case_events p
    WHERE p.region_id = d.region_id AND p.case_id = d.case_id AND p.action = 'dispatch'
      AND (p.at < d.at OR (p.at = d.at AND p.id < d.id))
    ORDER BY p.at DESC, p.id DESC
    LIMIT 1
) AS prev
WHERE d.region_id = :rid AND d.action = 'dispatch' AND d.at >= :s AND d.at < :e {{fixed}}
GROUP BY 1, 2
"""


def _store(table: str, columns: tuple[str, ...], facts_sql: str, keys: str) -> str:
    return f"""
INSERT INTO {table} (region_id, {keys}, {", ".join(columns)})
SELECT :rid, {keys}, {", ".join(columns)}
FROM ({facts_sql.format(**_conditions("store"))}) AS f
WHERE f.day = ANY(CAST(:days AS date[]))
"""


STORE_DAYS_SQL = _store("report_days", DAY_COLUMNS, DAY_FACTS_SQL, "day")
STORE_GROUPS_SQL = _store("report_day_groups", ("reported",), GROUP_FACTS_SQL, "day, dim, key")
STORE_PEOPLE_SQL = _store("report_person_days", PERSON_COLUMNS, PERSON_FACTS_SQL, "day, person_id")
STORE_REDISPATCHES_SQL = _store(
    "report_redispatch_days", ("redispatches",), REDISPATCH_FACTS_SQL, "day, previous_day"
)
STORE_RUNS_SQL = """
INSERT INTO report_day_runs (region_id, day, cutoff, fingerprint, computed_at)
SELECT :rid, d, :cutoff, :fingerprint, now() FROM unnest(CAST(:days AS date[])) AS d
"""
# Days computed under other quota settings are dropped, then computed again.
DROP_DAYS_SQL = [
    f"DELETE FROM {table} WHERE region_id = :rid AND day = ANY(CAST(:days AS date[]))"
    for table in (
        "report_days",
        "report_day_groups",
        "report_person_days",
        "report_redispatch_days",
        "report_day_runs",
    )
]
RUNS_SQL = """
SELECT r.day, r.fingerprint FROM report_day_runs r
WHERE r.region_id = :rid AND r.day >= :d0 AND r.day < :d1
"""
PENDING_DAYS_SQL = f"""
SELECT DISTINCT {LOCAL_DAY.format(col="i.finished_at")} AS day FROM inspections i
WHERE i.region_id = :rid AND i.validation = 'pending'
"""
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('report_days:' || :rid, 0))"

# Stored rows are read by a day range less the days in it that are not stored (one index
# range, not a probe per day): ``:d0``, ``:d1`` and ``:gaps`` from ``DayPlan.stored_range``.
STORED = "{a}.region_id = :rid AND {a}.day >= :d0 AND {a}.day < :d1 AND {a}.day <> ALL(CAST(:gaps AS date[]))"
STORED_DAYS_SQL = f"""
SELECT d.* FROM report_days d WHERE {STORED.format(a="d")}
"""
STORED_GROUPS_SQL = f"""
SELECT g.dim, g.key, sum(g.reported)::bigint AS reported FROM report_day_groups g
WHERE {STORED.format(a="g")}
GROUP BY 1, 2
"""
STORED_REPEATS_SQL = f"""
SELECT coalesce(sum(r.redispatches), 0)::bigint AS repeats FROM report_redispatch_days r
WHERE {STORED.format(a="r")} AND r.previous_day >= :p0
"""
# The stored person days added up in SQL: per person over the period's days, and per
# person and week (Monday) over the quota weeks' days.
STORED_PERSON_TOTALS_SQL = f"""
SELECT p.person_id, sum(p.inspections)::bigint AS inspections,
       sum(p.cases_reported)::bigint AS cases_reported
FROM report_person_days p
WHERE {STORED.format(a="p")} {{person_filter}}
GROUP BY 1
"""
STORED_PERSON_WEEKS_SQL = f"""
SELECT p.person_id, p.day - (extract(isodow FROM p.day)::int - 1) AS week_start,
       sum(p.facility)::bigint AS facility, sum(p.hygiene)::bigint AS hygiene
FROM report_person_days p
WHERE {STORED.format(a="p")} {{person_filter}}
GROUP BY 1, 2
"""


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def whole_days(start: datetime, end: datetime, tz: ZoneInfo) -> list[date] | None:
    """The local days making up ``[start, end)``, or None when a bound is not a local midnight."""
    first, last = start.astimezone(tz), end.astimezone(tz)
    if first.timetz().replace(tzinfo=None) != time(0) or last.timetz().replace(tzinfo=None) != time(
        0
    ):
        return None
    days, day = [], first.date()
    while day < last.date():
        days.append(day)
        day += timedelta(days=1)
    return days


def settled(day: date, tz: ZoneInfo, now: datetime) -> bool:
    return midnight(day + timedelta(days=1), tz) + SETTLE_MARGIN <= now


@dataclass
class DayPlan:
    """A period cut into stored days and live spans (``[start, end)`` each)."""

    stored: list[date]
    live: list[tuple[datetime, datetime]]
    cutoff: datetime  # the earliest cutoff of the stored days' runs

    def stored_range(self, first: date | None = None, end: date | None = None) -> dict[str, Any]:
        """Bind parameters selecting the stored days within ``[first, end)``."""
        days = [
            d for d in self.stored if (first is None or d >= first) and (end is None or d < end)
        ]
        if not days:
            return {"d0": date(1, 1, 1), "d1": date(1, 1, 1), "gaps": []}
        kept = set(days)
        span = (days[-1] - days[0]).days + 1
        gaps = [days[0] + timedelta(days=n) for n in range(span)]
        return {
            "d0": days[0],
            "d1": days[-1] + timedelta(days=1),
            "gaps": [d for d in gaps if d not in kept],
        }


def day_spans(
    days: list[date], tz: ZoneInfo, skip: set[date] | frozenset[date] = frozenset()
) -> list[tuple[datetime, datetime]]:
    """Contiguous ``[start, end)`` spans covering the given local days (sorted), less ``skip``."""
    spans: list[tuple[datetime, datetime]] = []
    for day in days:
        if day in skip:
            continue
        start, end = midnight(day, tz), midnight(day + timedelta(days=1), tz)
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Quota:
    """The quota settings the facility/hygiene split reads."""

    facility_tags: list[str]
    facility_category_codes: list[str]

    @property
    def fingerprint(self) -> str:
        payload = json.dumps([sorted(self.facility_tags), sorted(self.facility_category_codes)])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def params(self) -> dict[str, Any]:
        return {
            "fac_tags": list(self.facility_tags),
            "fac_cats": list(self.facility_category_codes),
        }


def quota_of(settings: EffectiveSettings) -> Quota:
    quota = settings.inspector_quota
    return Quota(list(quota["facility_tags"]), list(quota["facility_category_codes"]))


async def ensure_days(
    session: AsyncSession,
    region_id: uuid.UUID,
    tz: ZoneInfo,
    days: list[date],
    now: datetime,
    quota: Quota,
) -> DayPlan:
    """Store the settled days among ``days`` not stored yet (or stored under other quota
    settings); the plan of the period those days make up."""
    candidates = [d for d in days if settled(d, tz, now)]
    stored: dict[date, str] = {}
    if candidates:
        bounds = {"rid": region_id, "d0": candidates[0], "d1": candidates[-1] + timedelta(days=1)}
        stored = dict((await session.execute(text(RUNS_SQL), bounds)).all())
        if any(stored.get(d) != quota.fingerprint for d in candidates):
            await session.execute(text(LOCK_SQL), {"rid": str(region_id)})
            stored = dict((await session.execute(text(RUNS_SQL), bounds)).all())
            stale = [d for d in candidates if d in stored and stored[d] != quota.fingerprint]
            for sql in DROP_DAYS_SQL if stale else []:
                await session.execute(text(sql), {"rid": region_id, "days": stale})
            stored = {d: f for d, f in stored.items() if d not in stale}
            pending = set(
                (await session.execute(text(PENDING_DAYS_SQL), {"rid": region_id, "tz": tz.key}))
                .scalars()
                .all()
            )
            missing = [d for d in candidates if d not in stored and d not in pending]
            if missing:
                await store_days(session, region_id, tz, missing, quota)
                stored.update(dict.fromkeys(missing, quota.fingerprint))
    stored_days = [d for d in candidates if stored.get(d) == quota.fingerprint]
    cutoff = None
    if stored_days:
        cutoff = await session.scalar(
            text(
                "SELECT min(r.cutoff) FROM report_day_runs r WHERE r.region_id = :rid"
                " AND r.day = ANY(CAST(:days AS date[]))"
            ),
            {"rid": region_id, "days": stored_days},
        )
    return DayPlan(
        stored=stored_days, live=day_spans(days, tz, set(stored_days)), cutoff=cutoff or now
    )


async def store_days(
    session: AsyncSession, region_id: uuid.UUID, tz: ZoneInfo, days: list[date], quota: Quota
) -> None:
    """Compute and store the given days (contiguous or not) in one pass per table."""
    cutoff = await session.scalar(
        text("SELECT now() - CAST(:margin AS interval)"), {"margin": CREATED_MARGIN}
    )
    await session.execute(STATEMENT_SETTINGS)
    # A month or so per statement: each stays short (statement timeout) however far back.
    for first in range(0, len(days), STORE_CHUNK_DAYS):
        chunk = days[first : first + STORE_CHUNK_DAYS]
        params = {
            "rid": region_id,
            "tz": tz.key,
            "s": midnight(chunk[0], tz),
            "e": midnight(chunk[-1] + timedelta(days=1), tz),
            "days": chunk,
            "cutoff": cutoff,
            **quota.params(),
        }
        for sql in (STORE_DAYS_SQL, STORE_GROUPS_SQL, STORE_PEOPLE_SQL, STORE_REDISPATCHES_SQL):
            await session.execute(text(sql), params)
    await session.execute(
        text(STORE_RUNS_SQL),
        {"rid": region_id, "days": days, "cutoff": cutoff, "fingerprint": quota.fingerprint},
    )


async def facts(
    session: AsyncSession,
    facts_sql: str,
    region_id: uuid.UUID,
    tz: ZoneInfo,
    plan: DayPlan,
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The live facts of a plan: its live spans whole, and the stored days' late rows."""
    base = {"rid": region_id, "tz": tz.key, **(extra or {})}
    out: list[dict[str, Any]] = []
    for start, end in plan.live:
        live_sql = facts_sql.format(**_conditions("live"))
        out += await fetch(session, live_sql, {**base, "s": start, "e": end})
    if plan.stored:
        late_sql = facts_sql.format(**_conditions("late"))
        out += await fetch(
            session,
            late_sql,
            {
                **base,
                "s": midnight(plan.stored[0], tz),
                "e": midnight(plan.stored[-1] + timedelta(days=1), tz),
                "cutoff": plan.cutoff,
            },
        )
    return out
