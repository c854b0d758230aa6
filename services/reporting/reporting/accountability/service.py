"""Accountability rules: red/black lists, notices (通报), interviews (约谈) and accountability (问责).

The rules are data (``report_settings.accountability_rules``). For a month:

- **black list**: a unit with ``due ≥ min_due`` (a field of the rules, default 1,
  separate from the ranking's ``min_cases``) whose ``on_time_rate`` is below
  ``black_on_time_rate_below`` (default 0.8) → a ``notice`` (rule ``black_list``);
- **red list**: a unit with ``due ≥ min_cases``, ``on_time_rate ≥
  red_on_time_rate_at_least`` (default 0.95) and a grade in ``red_grades``
  (default A);
- **escalation**: counting the black-list entries recorded for the unit in the
  ``window_months`` months ending with this one (default 3), the highest
  escalation whose ``times`` is reached adds an ``interview`` (2 times) or an
  ``accountability`` (3 times) notice.

Notices are unique per (period, rule, unit), so running a month again creates
no duplicates; its black/red entries are replaced by the new figures. Runs of
one region are serialised by a PostgreSQL advisory lock.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings, load_settings
from reporting.reports.period import parse_month, shift_month
from reporting.reports.units import late_case_ids, units_report
from shared.models import AccountabilityRun, Notice

# pg_advisory_xact_lock(LOCK_CLASS, hashtext(region_id)) guards every run of a region.
LOCK_CLASS = 0x43575250  # "CWRP"
LIST_FIELDS = (
    "unit_id",
    "unit_code",
    "unit_name",
    "due",
    "closed",
    "closed_on_time",
    "on_time_rate",
    "score",
    "grade",
    "rank",
)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def classify(
    items: list[dict[str, Any]], settings: EffectiveSettings
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The black and red rows among the units report's rows."""
    rules = settings.accountability_rules
    black, red = [], []
    min_due = rules["min_due"]  # merged with the defaults by load_settings
    for row in items:
        value = row["on_time_rate"]["value"]
        if value is None:
            continue
        if value < rules["black_on_time_rate_below"]:
            if row["due"] >= min_due:
                black.append(row)
        elif (
            row["due"] >= settings.min_cases
            and value >= rules["red_on_time_rate_at_least"]
            and row["grade"] in rules["red_grades"]
        ):
            red.append(row)
    return black, red


def list_row(row: dict[str, Any], which: str) -> dict[str, Any]:
    return {"list": which, **{k: row[k] for k in LIST_FIELDS}}


async def red_black(
    session: AsyncSession, region_id: uuid.UUID, month: str, tz: ZoneInfo, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], EffectiveSettings]:
    settings = await load_settings(session, region_id)
    items = await units_report(session, region_id, parse_month(month, tz), now, settings)
    black, red = classify(items, settings)
    return black, red, settings


async def lock_region(session: AsyncSession, region_id: uuid.UUID, *, wait: bool) -> bool:
    """Take the region's run lock until the transaction ends (``wait=False``: try only)."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    result = await session.execute(
        text(f"SELECT {function}(:cls, hashtext(CAST(:rid AS text)))"),
        {"cls": LOCK_CLASS, "rid": str(region_id)},
    )
    return wait or bool(result.scalar())


async def _insert_notice(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert unless the (period, rule, target) notice exists; True when a row was added."""
    result = await session.execute(
        text(
            """
            INSERT INTO notices (region_id, id, unit_id, person_id, level, rule, reason,
                                 period, case_ids, created_at)
            VALUES (:region_id, :id, :unit_id, NULL, :level, :rule, :reason,
                    :period, CAST(:case_ids AS uuid[]), :created_at)
            ON CONFLICT ON CONSTRAINT uq_notices_region_period_rule_target DO NOTHING
            RETURNING id
            """
        ),
        {**values, "id": uuid.uuid4()},
    )
    return result.first() is not None


async def apply_rules(
    session: AsyncSession,
    region_id: uuid.UUID,
    month: str,
    tz: ZoneInfo,
    *,
    trigger: str,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> tuple[AccountabilityRun, list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply the rules to ``month``; the caller holds the region's lock. Only flushes."""
    black, red, settings = await red_black(session, region_id, month, tz, now)
    rules = settings.accountability_rules
    params = {"rid": region_id, "period": month}
    await session.execute(
        text("DELETE FROM blacklist_entries WHERE region_id = :rid AND period = :period"), params
    )
    for which, rows in (("black", black), ("red", red)):
        for row in rows:
            await session.execute(
                text(
                    """
                    INSERT INTO blacklist_entries (region_id, period, unit_id, list, on_time_rate,
                                                   closed_on_time, due, created_at)
                    VALUES (:rid, :period, :unit, :list, :rate, :on_time, :due, :now)
                    """
                ),
                {
                    **params,
                    "unit": row["unit_id"],
                    "list": which,
                    "rate": row["on_time_rate"]["value"],
                    "on_time": row["closed_on_time"],
                    "due": row["due"],
                    "now": now,
                },
            )
    window = [shift_month(month, -k) for k in range(rules["window_months"])]
    late = await late_case_ids(
        session, region_id, parse_month(month, tz), now, [row["unit_id"] for row in black]
    )
    created = 0
    for row in black:
        threshold = rules["black_on_time_rate_below"]
        rate = row["on_time_rate"]
        base = {
            "region_id": region_id,
            "unit_id": row["unit_id"],
            "period": month,
            "case_ids": [str(c) for c in late.get(row["unit_id"], [])],
            "created_at": now,
        }
        created += await _insert_notice(
            session,
            {
                **base,
                "level": "notice",
                "rule": "black_list",
                "reason": (
                    f"{month} 按期结案率 {_pct(rate['value'])}（{rate['numerator']}/"
                    f"{rate['denominator']}）低于 {_pct(threshold)}，列入黑榜并通报。"
                    f" On-time rate {_pct(rate['value'])} ({rate['numerator']}/"
                    f"{rate['denominator']}) below {_pct(threshold)}: black list and notice."
                ),
            },
        )
        months = list(
            await session.scalars(
                text(
                    """
                    SELECT period FROM blacklist_entries
                    WHERE region_id = :rid AND unit_id = :unit AND list = 'black'
                      AND period = ANY(CAST(:window AS text[]))
                    ORDER BY period
                    """
                ),
                {"rid": region_id, "unit": row["unit_id"], "window": window},
            )
        )
        reached = [e for e in rules["escalations"] if len(months) >= e["times"]]
        if not reached:
            continue
        escalation = max(reached, key=lambda e: e["times"])
        level = escalation["level"]
        word = {"interview": "约谈", "accountability": "问责"}[level]
        created += await _insert_notice(
            session,
            {
                **base,
                "level": level,
                "rule": f"escalation_{level}",
                "reason": (
                    f"{rules['window_months']} 个月内 {len(months)} 次列入黑榜"
                    f"（{'、'.join(months)}），{word}。"
                    f" Black-listed {len(months)} times in {rules['window_months']} months"
                    f" ({', '.join(months)}): {level}."
                ),
            },
        )
    run = AccountabilityRun(
        region_id=region_id,
        id=uuid.uuid4(),
        period=month,
        trigger=trigger,
        started_at=now,
        notices_created=created,
        actor_id=actor_id,
    )
    session.add(run)
    await session.flush()
    return run, black, red


async def notices_of_period(
    session: AsyncSession, region_id: uuid.UUID, month: str
) -> list[Notice]:
    rows = await session.scalars(
        select(Notice)
        .where(Notice.region_id == region_id, Notice.period == month)
        .order_by(Notice.created_at, Notice.id)
    )
    return list(rows)
