"""Working-calendar deadline arithmetic: when a case of a severity falls due.

A deadline policy gives each severity an amount in ``hours`` or ``workdays``
(defaults: urgent 24 hours, normal 3 workdays, complex 7 workdays). The region's
calendar lists holidays and make-up working days (调休); every other Monday–Friday
is a working day and every other Saturday/Sunday is not.

Conventions (also stated in the cases OpenAPI description):

- ``hours`` are wall-clock hours: ``start + amount hours``, whatever the calendar
  says (an urgent case is urgent on a Sunday too).
- ``N workdays`` ends at **23:59:59 local time of the Nth working day after the
  start day**, in the region's time zone. The start day itself never counts,
  even when it is a working day: a case dispatched at 17:50 on a Monday with
  3 workdays is due on Thursday at 23:59:59, the same as one dispatched at 08:00.
  This is how 工作日 limits are read in practice — whole days of the unit's time.
- Results are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_POLICIES: dict[str, tuple[int, str]] = {
    "urgent": (24, "hours"),
    "normal": (3, "workdays"),
    "complex": (7, "workdays"),
}
END_OF_DAY = time(23, 59, 59)
# A calendar with no working day in this many days is a misconfiguration, not a loop forever.
_MAX_SCAN_DAYS = 3 * 366


def _dates(values: Iterable[Any] | None) -> frozenset[date]:
    out: set[date] = set()
    for value in values or ():
        if isinstance(value, Mapping):  # tolerate [{"day": "2026-10-01", ...}]
            value = value.get("day") or value.get("date")
        if isinstance(value, datetime):
            value = value.date()
        out.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
    return frozenset(out)


def _policies(raw: Any) -> dict[str, tuple[int, str]]:
    """``{"urgent": {"amount", "unit"}, …}`` or ``[{"severity", "amount", "unit"}, …]``."""
    if not raw:
        return {}
    items = raw.items() if isinstance(raw, Mapping) else ((p["severity"], p) for p in raw)
    out: dict[str, tuple[int, str]] = {}
    for severity, policy in items:
        if policy is None:
            continue
        amount, unit = int(policy["amount"]), str(policy["unit"])
        if unit not in ("hours", "workdays") or amount <= 0:
            raise ValueError(f"bad deadline policy for {severity!r}: {policy!r}")
        out[str(severity)] = (amount, unit)
    return out


@dataclass(frozen=True)
class DeadlineRules:
    """A region's deadline policy and working calendar, ready to compute ``due_at``."""

    timezone: str = DEFAULT_TIMEZONE
    policies: dict[str, tuple[int, str]] = field(default_factory=lambda: dict(DEFAULT_POLICIES))
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        zoneinfo.ZoneInfo(self.timezone)  # fail early on an unknown zone

    @classmethod
    def from_context(cls, ctx: Mapping[str, Any]) -> DeadlineRules:
        """Build from the registry's deadline context.

        ``{"region": {"timezone"}, "deadline_policy": {sev: {"amount","unit"}},
        "calendar": {"holidays": [...], "workdays": [...]}}``; a sample-point
        context may also carry ``point_type.deadline_policy``, which overrides
        the region's policy for the severities it names. Missing severities keep
        the national defaults.
        """
        region = ctx.get("region") or {}
        policies = dict(DEFAULT_POLICIES)
        policies.update(_policies(ctx.get("deadline_policy")))
        point_type = ctx.get("point_type") or {}
        policies.update(_policies(point_type.get("deadline_policy")))
        calendar = ctx.get("calendar") or {}
        return cls(
            timezone=region.get("timezone") or DEFAULT_TIMEZONE,
            policies=policies,
            holidays=_dates(calendar.get("holidays")),
            workdays=_dates(calendar.get("workdays")),
        )

    def with_overrides(self, policy: Mapping[str, Any] | None) -> DeadlineRules:
        """The same rules with a point type's own policy laid over the region's."""
        if not policy:
            return self
        merged = {**self.policies, **_policies(policy)}
        return DeadlineRules(self.timezone, merged, self.holidays, self.workdays)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def is_workday(self, day: date) -> bool:
        """Mon–Fri unless a holiday; Sat/Sun only when listed as a make-up working day."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_workdays(self, start_day: date, count: int) -> date:
        """The ``count``-th working day after ``start_day`` (``start_day`` never counts)."""
        if count <= 0:
            raise ValueError("count must be positive")
        day, found = start_day, 0
        for _ in range(_MAX_SCAN_DAYS):
            day += timedelta(days=1)
            if self.is_workday(day):
                found += 1
                if found == count:
                    return day
        raise ValueError("the working calendar has no working days ahead")

    def due_at(self, severity: str, start: datetime) -> datetime:
        """When a case of ``severity`` whose clock starts at ``start`` falls due (aware UTC)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        amount, unit = self.policies.get(severity) or DEFAULT_POLICIES[severity]
        if unit == "hours":
            return (start + timedelta(hours=amount)).astimezone(UTC)
        local_day = start.astimezone(self.tz).date()
        due_day = self.add_workdays(local_day, amount)
        return datetime.combine(due_day, END_OF_DAY, tzinfo=self.tz).astimezone(UTC)
