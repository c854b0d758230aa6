"""What every report shares: the bind parameters, the statement runner, and the SQL
fragments that define which cases count (units, chiefs and accountability figures).

Parameters: ``:s`` and ``:e`` are the period's bounds (half-open), ``:asof`` is
``min(:e, now)`` — the moment state-like figures (open, overdue) are taken at,
and the latest moment a deadline can already have passed.
A case's unit is ``cases.unit_id`` (the unit it is, or was last, dispatched to).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Result, text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.period import Period


def period_params(
    region_id: uuid.UUID, period: Period, now: datetime, **extra: Any
) -> dict[str, Any]:
    """The bind parameters every report statement takes (see the module's docstring)."""
    return {
        "rid": region_id,
        "s": period.start,
        "e": period.end,
        "asof": period.as_of(now),
        "now": now,
        "tz": period.tz.key,
        **extra,
    }


# Every report statement runs with these, local to the transaction: JIT compilation
# costs more than it saves on these one-off aggregations; the hash tables of a period's
# events and cases fit in memory instead of spilling to disk; each execution is
# planned for its own period (a cached generic plan cannot tell a month from years);
# and no parallel workers: a report takes at most one core of the database, so one
# region's long reports leave the other cores to the other regions (a province shares
# one database; the rollups keep a report short without them).
STATEMENT_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('max_parallel_workers_per_gather', '0', true)"
)


async def run_report(session: AsyncSession, sql: str, params: dict[str, Any]) -> Result[Any]:
    """One report statement, under :data:`STATEMENT_SETTINGS`."""
    await session.execute(STATEMENT_SETTINGS)
    return await session.execute(text(sql), params)


async def fetch(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = await run_report(session, sql, params)
    # Each row zipped with the column names once: dict(RowMapping) looks every column
    # up by name through Python, 3x the CPU (the coverage report's 5,000 × 19 values).
    columns = list(result.keys())
    return [dict(zip(columns, row, strict=True)) for row in result]


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    """A rate as the reports give it: ``{value, numerator, denominator}`` (see DEFINITIONS)."""
    value = round(numerator / denominator, 4) if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator}


# A unit holds the case: dispatched and not returned, cancelled or parked.
HELD = "c.status IN ('assigned', 'rectified', 'closed')"

# 应结案: deadline inside the period (and already passed), or an earlier deadline
# while the case was still unclosed when the period began (carried-over overdue), or
# closed in the period ahead of a deadline still to come in it (SPEC §8: an early
# closure counts at once, not only once its deadline has passed).
DUE = (
    f"({HELD} AND ((c.due_at < :asof"
    " AND (c.due_at >= :s OR c.closed_at IS NULL OR c.closed_at >= :s))"
    " OR (c.closed_at >= :s AND c.closed_at < :asof AND c.due_at >= :asof AND c.due_at < :e)))"
)
# 结案 / 按期结案: due cases closed before the period's end (early closures count
# in the month of their deadline, so numerator ⊆ denominator).
CLOSED = f"({DUE} AND c.closed_at < :e)"
CLOSED_ON_TIME = f"({CLOSED} AND c.closed_on_time IS TRUE)"

# 待处置: held by the unit at ``:asof`` — dispatched before it, not closed before it.
OPEN = (
    f"({HELD} AND coalesce(c.dispatched_at, c.reported_at) < :asof"
    " AND (c.closed_at IS NULL OR c.closed_at >= :asof))"
)
# 超期未处置: open and past the deadline, unless an on-time rectification is
# only waiting for verification.
OVERDUE = (
    f"({OPEN} AND c.due_at < :asof AND (c.status = 'assigned'"
    " OR c.last_rectified_at IS NULL OR c.last_rectified_at > c.due_at"
    " OR c.last_rectified_at >= :asof))"
)

# The lower bound of the cases a period's state figures can count: its start, or as-of
# if sooner (the units and chiefs reports).
PERIOD_FLOOR = "least(CAST(:s AS timestamptz), CAST(:asof AS timestamptz))"
STATE_COLUMNS = (
    "c.unit_id, c.status, c.due_at, c.closed_at, c.dispatched_at, c.reported_at,"
    " c.last_rectified_at, c.closed_on_time"
)

DEFINITIONS = """\
**Which cases count** (period = `[from, to)`; *as-of* = the end of the period, or now if that is sooner; for the state figures (`open` … `closed_on_time`) a case belongs to `cases.unit_id`, the unit it is or was last dispatched to; an event (`assigned` … `parked`) counts for the unit it records — the case's unit after that action; cancelled cases never count, also when cancelled after the period):

| figure | 中文 | definition |
|---|---|---|
| `assigned` | 派遣数 | `dispatch` events to the unit in the period (each dispatch counts: a case returned and dispatched to the same unit again counts twice) |
| `rectified` | 处置数 | `rectify` events by the unit in the period (each handling counts, so a rework handled again counts twice) |
| `rectified_on_time` | 按期处置数 | of those, events at or before the deadline in force at the event (the `due_at` the event records; an extension granted later does not excuse a late rectification; exactly at the deadline is on time) |
| `rectified_late` | 超期处置数 | of those, events after the deadline in force at the event |
| `rework` | 返工数 | `reject` events (failed verification) on the unit's cases in the period |
| `returned` | 回退数 | `return` events by the unit in the period |
| `extended` | 延期数 | `extend` events on the unit's cases in the period |
| `parked` | 挂账数 | `park` events on the unit's cases in the period |
| `open` | 待处置数 | cases held by the unit (assigned/rectified/closed, i.e. not returned, parked or cancelled) dispatched before *as-of* and not closed before it |
| `overdue_open` | 超期未处置数 | open cases whose `due_at` is before *as-of*, except those whose last rectification came on time and only awaits verification |
| `due` | 应结案数 | held cases whose `due_at` falls in the period and before *as-of*, plus held cases with an earlier `due_at` that were still unclosed when the period began, plus held cases closed in the period (before *as-of*) ahead of a `due_at` still to come in the period — an early closure counts at once (SPEC §8) |
| `closed` | 结案数 | due cases closed before the end of the period (an early closure counts in the month of its deadline) |
| `closed_on_time` | 按期结案数 | closed cases with `closed_on_time` (last rectification at or before `due_at`; SPEC §6.3) |

Rates carry `{value, numerator, denominator}`, `value` rounded to 4 places and `null` when the denominator is 0: `closure_rate = closed / due`, `on_time_rate = closed_on_time / due`, `rework_rate = rework / rectified`.

**Score** (0–100) = 100 × Σ weightₖ·componentₖ / Σ weights, with components `closure_rate`, `on_time_rate`, `1 − min(1, rework_rate)` (1 when nothing was rectified) and `volume_points / 10`. `volume_points` is the 案件量分值 (CJ/T 292 style, banded, max 10): the points of the first band (highest `min_due` first) whose `min_due` ≤ `due`; default bands due ≥ 20 → 10, ≥ 10 → 8, ≥ 5 → 6, ≥ 1 → 4, 0 → 0. Weights and bands: `/v1/reports/score-weights`. A unit with `due = 0` has no score. Grade: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E < 40. `rank` orders units with `due ≥ min_cases` by score (ties share a rank, 1, 1, 3); others are listed with `rank: null`, `ranked: false`. Rows: ranked units by rank, then the rest by unit code.

**Daily rollup.** Case events are immutable and stamped with the server's time, and a closed case never changes again, so a local day (the region's time zone) is settled once it has ended plus one day: its event counters (`assigned` … `parked`) and its closures per unit are stored once, for every day from the region's first case on (computed on first use and by the daily run). A period of whole local days adds up its stored days and counts the rest live: the days not settled yet, the unclosed cases, the events of cases cancelled since, and the stored closures that can straddle the period's start or end (read one by one where the day's stored bounds — the earliest dispatch or deadline and the latest deadline of its closed cases — say one can). The figures are always exactly those of the live computation. Periods with a time of day are computed live.
"""
