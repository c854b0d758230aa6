"""The reporting period: ``from``/``to``/``month`` query parameters in the region's time zone.

Rules (also in every report's OpenAPI description):

- The period is half-open, ``[from, to)``, in UTC internally.
- A date (``2026-11-01``) means local midnight in the region's time zone; a date
  given as ``to`` is inclusive, so ``to=2026-11-30`` ends at local midnight of
  1 December. An RFC 3339 datetime is taken as it is (``to`` is then exclusive);
  a datetime without an offset is read as local time.
- ``month=YYYY-MM`` is that calendar month in the region's time zone and cannot
  be combined with ``from``/``to``.
- Nothing given: the current month in the region's time zone. Only ``from``:
  until the end of the month ``from`` falls in. Only ``to``: from the start of
  the month ``to`` falls in.
- ``from`` must be before ``to`` and a period spans at most ten years (the
  campaign and its three-yearly reviews fit; a runaway query does not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.errors import Unprocessable
from shared.inputs import date_problem

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_SPAN = timedelta(days=3660)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    tz: ZoneInfo
    month: str | None = None

    def as_of(self, now: datetime) -> datetime:
        """The moment state-like figures are taken at: the period's end, or now if sooner."""
        return min(self.end, now)

    def describe(self) -> dict:
        return {
            "from": self.start.astimezone(self.tz).isoformat(),
            "to": self.end.astimezone(self.tz).isoformat(),
            "timezone": self.tz.key,
            "month": self.month,
        }

    @property
    def slug(self) -> str:
        if self.month:
            return self.month
        local_start = self.start.astimezone(self.tz).date()
        local_end = (self.end - timedelta(microseconds=1)).astimezone(self.tz).date()
        return f"{local_start.isoformat()}_{local_end.isoformat()}"


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return _local_midnight(first, tz), _local_midnight(following, tz)


def parse_month(value: str, tz: ZoneInfo, *, loc: str = "month") -> Period:
    match = MONTH_RE.match(value.strip())
    if not match:
        raise Unprocessable(
            "The month must look like YYYY-MM.",
            errors=[{"loc": ["query", loc], "msg": "expected YYYY-MM with a month 01–12"}],
        )
    year, month = int(match.group(1)), int(match.group(2))
    problem = date_problem(date(max(year, 1), month, 1))
    if problem is not None:
        raise Unprocessable(
            "The month is out of range.", errors=[{"loc": ["query", loc], "msg": problem}]
        )
    start, end = month_bounds(year, month, tz)
    return Period(start, end, tz, month=f"{year:04d}-{month:02d}")


def _parse_instant(value: str, tz: ZoneInfo, *, field: str) -> tuple[datetime, bool]:
    """The instant and whether it was a bare date."""
    text = value.strip()
    is_date = len(text) == 10
    try:
        parsed = (
            date.fromisoformat(text) if is_date else datetime.fromisoformat(text.replace("z", "Z"))
        )
    except ValueError as exc:
        raise Unprocessable(
            f"`{field}` is neither a date (YYYY-MM-DD) nor an RFC 3339 datetime.",
            errors=[{"loc": ["query", field], "msg": "expected YYYY-MM-DD or RFC 3339"}],
        ) from exc
    problem = date_problem(parsed)
    if problem is not None:
        raise Unprocessable(
            f"`{field}` is out of range.", errors=[{"loc": ["query", field], "msg": problem}]
        )
    if is_date:
        return _local_midnight(parsed, tz), True
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC), False


def resolve_period(
    *,
    from_: str | None,
    to: str | None,
    month: str | None,
    tz: ZoneInfo,
    now: datetime,
) -> Period:
    if month is not None:
        if from_ is not None or to is not None:
            raise Unprocessable(
                "Give either `month` or `from`/`to`, not both.",
                errors=[{"loc": ["query", "month"], "msg": "cannot be combined with from/to"}],
            )
        return parse_month(month, tz)
    if from_ is None and to is None:
        local = now.astimezone(tz)
        start, end = month_bounds(local.year, local.month, tz)
        return Period(start, end, tz, month=f"{local.year:04d}-{local.month:02d}")
    start = end = None
    if from_ is not None:
        start, _ = _parse_instant(from_, tz, field="from")
    if to is not None:
        end, was_date = _parse_instant(to, tz, field="to")
        if was_date:
            end = _local_midnight(end.astimezone(tz).date() + timedelta(days=1), tz)
    if start is None:
        local = (end - timedelta(microseconds=1)).astimezone(tz)
        start = month_bounds(local.year, local.month, tz)[0]
    if end is None:
        local = start.astimezone(tz)
        end = month_bounds(local.year, local.month, tz)[1]
    if start >= end:
        raise Unprocessable(
            "`from` must be before `to`.",
            errors=[{"loc": ["query", "from"], "msg": "must be before `to`"}],
        )
    if end - start > MAX_SPAN:
        raise Unprocessable(
            "A report period spans at most ten years (3660 days).",
            errors=[{"loc": ["query", "to"], "msg": "period longer than 3660 days"}],
        )
    return Period(start, end, tz)


def shift_month(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


PERIOD_RULES = __doc__.split("Rules (also in every report's OpenAPI description):", 1)[1].strip()
