"""The one clock every service reads for "now".

Deadlines, overdue checks, on-time rules, the daily run and every scheduler ask
:func:`now` instead of ``datetime.now``, so that tests (and the demo's history
generator) can set the time:

- :func:`travel_to` fixes "now" for the code running inside it (a context
  variable, so concurrent requests of other tests are not affected);
- ``CW_CLOCK_OFFSET_SECONDS`` shifts the whole process (e2e processes in tests);
  production refuses it (``shared.settings``), and :func:`set_offset` applies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_fixed: ContextVar[datetime | None] = ContextVar("chuangwei_clock_fixed", default=None)
_offset = timedelta(0)


def now() -> datetime:
    """The current instant, timezone-aware (UTC), as the tests or the settings set it."""
    fixed = _fixed.get()
    if fixed is not None:
        return fixed
    return datetime.now(UTC) + _offset


def set_offset(seconds: float) -> None:
    """Shift this process's clock by ``seconds`` (``CW_CLOCK_OFFSET_SECONDS``)."""
    global _offset
    _offset = timedelta(seconds=seconds)


@contextmanager
def travel_to(moment: datetime) -> Iterator[None]:
    """Within the block, :func:`now` answers ``moment`` (aware datetimes only)."""
    if moment.tzinfo is None:
        raise ValueError("travel_to needs an aware datetime")
    token = _fixed.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _fixed.reset(token)
