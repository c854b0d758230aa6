"""Deadline arithmetic over the working calendar (shared.workdays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.workdays import DeadlineRules

SHANGHAI = ZoneInfo("Asia/Shanghai")

# National Day 2026 as the State Council arranges such weeks: Oct 1 (Thu) – Oct 7 (Wed) off,
# with the Sunday before (Sep 20) and the Saturday after (Oct 10) worked instead (调休).
NATIONAL_DAY_CONTEXT = {
    "region": {"id": "x", "code": "r", "name": "R", "timezone": "Asia/Shanghai"},
    "deadline_policy": {
        "urgent": {"amount": 24, "unit": "hours"},
        "normal": {"amount": 3, "unit": "workdays"},
        "complex": {"amount": 7, "unit": "workdays"},
    },
    "calendar": {
        "holidays": [f"2026-10-0{d}" for d in range(1, 8)],
        "workdays": ["2026-09-20", "2026-10-10"],
    },
}


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def end_of_local_day(y: int, m: int, d: int) -> datetime:
    return local(y, m, d, 23, 59, 59).astimezone(UTC)


@pytest.fixture
def rules() -> DeadlineRules:
    return DeadlineRules.from_context(NATIONAL_DAY_CONTEXT)


def test_plain_weekdays_are_working_days_and_weekends_are_not() -> None:
    rules = DeadlineRules()
    assert rules.is_workday(date(2026, 11, 30))  # Monday
    assert rules.is_workday(date(2026, 12, 4))  # Friday
    assert not rules.is_workday(date(2026, 12, 5))  # Saturday
    assert not rules.is_workday(date(2026, 12, 6))  # Sunday


def test_holidays_and_make_up_working_days_override_the_week(rules: DeadlineRules) -> None:
    assert not rules.is_workday(date(2026, 10, 1))  # Thursday, holiday
    assert not rules.is_workday(date(2026, 10, 7))  # Wednesday, holiday
    assert rules.is_workday(date(2026, 9, 20))  # Sunday, make-up working day
    assert rules.is_workday(date(2026, 10, 10))  # Saturday, make-up working day
    assert not rules.is_workday(date(2026, 10, 11))  # ordinary Sunday


def test_three_workdays_from_the_eve_of_national_day_skip_the_golden_week(
    rules: DeadlineRules,
) -> None:
    # Reported Wed Sep 30: the 1st–3rd working days after it are Oct 8 (Thu), Oct 9 (Fri)
    # and the make-up Saturday Oct 10.
    due = rules.due_at("normal", local(2026, 9, 30, 16, 30))
    assert due == end_of_local_day(2026, 10, 10)
    assert due.tzinfo == UTC
    assert due.isoformat() == "2026-10-10T15:59:59+00:00"


def test_seven_workdays_across_national_day(rules: DeadlineRules) -> None:
    # Thu Sep 24 → Sep 25 (1), Sep 28 (2), Sep 29 (3), Sep 30 (4), Oct 8 (5), Oct 9 (6), Oct 10 (7)
    assert rules.due_at("complex", local(2026, 9, 24, 9)) == end_of_local_day(2026, 10, 10)


def test_a_case_reported_during_the_holiday_starts_counting_after_it(
    rules: DeadlineRules,
) -> None:
    assert rules.due_at("normal", local(2026, 10, 3, 11)) == end_of_local_day(2026, 10, 10)
    # From the make-up Saturday, the next working days are Mon 12, Tue 13, Wed 14.
    assert rules.due_at("normal", local(2026, 10, 10, 9)) == end_of_local_day(2026, 10, 14)


def test_make_up_sunday_counts_as_a_working_day(rules: DeadlineRules) -> None:
    # Fri Sep 18 → Sun Sep 20 (make-up), Mon 21, Tue 22.
    assert rules.due_at("normal", local(2026, 9, 18, 10)) == end_of_local_day(2026, 9, 22)


def test_the_start_day_never_counts_whatever_the_hour(rules: DeadlineRules) -> None:
    early = rules.due_at("normal", local(2026, 11, 30, 0, 0, 1))
    late = rules.due_at("normal", local(2026, 11, 30, 23, 59, 58))
    assert early == late == end_of_local_day(2026, 12, 3)


def test_a_weekend_start_counts_from_monday() -> None:
    rules = DeadlineRules()
    assert rules.due_at("normal", local(2026, 12, 5, 15)) == end_of_local_day(2026, 12, 9)


def test_workdays_use_the_local_date_not_the_utc_date() -> None:
    rules = DeadlineRules()
    # 2026-12-01 17:00 UTC is already Wednesday Dec 2 in Shanghai.
    start = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert rules.due_at("normal", start) == end_of_local_day(2026, 12, 7)


def test_other_time_zones_end_the_day_in_their_own_zone() -> None:
    rules = DeadlineRules(timezone="Asia/Urumqi")
    due = rules.due_at("normal", datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert due == datetime(2026, 12, 3, 23, 59, 59, tzinfo=ZoneInfo("Asia/Urumqi"))


def test_hours_are_wall_clock_hours_even_over_holidays(rules: DeadlineRules) -> None:
    start = local(2026, 9, 30, 20)
    assert rules.due_at("urgent", start) == (start + timedelta(hours=24)).astimezone(UTC)
    assert rules.due_at("urgent", start) == local(2026, 10, 1, 20).astimezone(UTC)


def test_a_point_type_policy_overrides_the_region_policy(rules: DeadlineRules) -> None:
    ctx = {
        **NATIONAL_DAY_CONTEXT,
        "point_type": {"deadline_policy": {"normal": {"amount": 1, "unit": "workdays"}}},
    }
    typed = DeadlineRules.from_context(ctx)
    assert typed.due_at("normal", local(2026, 9, 30, 9)) == end_of_local_day(2026, 10, 8)
    assert typed.policies["urgent"] == (24, "hours")
    assert rules.with_overrides({"urgent": {"amount": 2, "unit": "hours"}}).due_at(
        "urgent", local(2026, 12, 1, 9)
    ) == local(2026, 12, 1, 11).astimezone(UTC)


def test_missing_context_parts_fall_back_to_national_defaults() -> None:
    rules = DeadlineRules.from_context({})
    assert rules.timezone == "Asia/Shanghai"
    assert rules.policies == {
        "urgent": (24, "hours"),
        "normal": (3, "workdays"),
        "complex": (7, "workdays"),
    }
    assert rules.holidays == frozenset() and rules.workdays == frozenset()


def test_policies_may_also_come_as_a_list_of_rows() -> None:
    rules = DeadlineRules.from_context(
        {"deadline_policy": [{"severity": "normal", "amount": 5, "unit": "hours"}]}
    )
    assert rules.policies["normal"] == (5, "hours")


def test_a_bad_policy_or_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        DeadlineRules.from_context({"deadline_policy": {"normal": {"amount": 3, "unit": "weeks"}}})
    with pytest.raises(ValueError):
        DeadlineRules().due_at("normal", datetime(2026, 12, 1, 9))


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    start = date(2026, 1, 1)
    everything_off = frozenset(start + timedelta(days=i) for i in range(1200))
    with pytest.raises(ValueError):
        DeadlineRules(holidays=everything_off).add_workdays(start, 1)
