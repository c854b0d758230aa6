"""Tables owned (written) by the reporting service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared import vocabulary
from shared.models.base import Base, RegionScoped, Timestamps, Versioned

NOTICE_LEVELS = get_args(vocabulary.NoticeLevel)


class ReportSettings(RegionScoped, Versioned, Timestamps, Base):
    """Per-region report parameters, stored as data: score weights, ``min_cases``,
    the inspectors' weekly quota and the accountability rules."""

    __tablename__ = "report_settings"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    score_weights: Mapped[dict[str, Any]] = mapped_column(JSONB)
    min_cases: Mapped[int] = mapped_column(Integer, default=5)
    inspector_quota: Mapped[dict[str, Any]] = mapped_column(JSONB)
    accountability_rules: Mapped[dict[str, Any]] = mapped_column(JSONB)


class BlacklistEntry(RegionScoped, Base):
    """A unit on a month's black list (or red list, for the best), with the figures behind it."""

    __tablename__ = "blacklist_entries"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint("list in ('red', 'black')", name="list"),
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    unit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    list: Mapped[str] = mapped_column(String(8))
    on_time_rate: Mapped[float | None] = mapped_column(Numeric(6, 4))
    closed_on_time: Mapped[int] = mapped_column(Integer)
    due: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Notice(RegionScoped, Base):
    """An accountability record (通报 / 约谈 / 问责) against a unit or a person."""

    __tablename__ = "notices"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint(f"level in {NOTICE_LEVELS}", name="level"),
        CheckConstraint("unit_id is not null or person_id is not null", name="target"),
        # One notice per target, period and rule: re-running a period raises no duplicates.
        UniqueConstraint(
            "region_id",
            "period",
            "rule",
            "unit_id",
            "person_id",
            name="uq_notices_region_period_rule_target",
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_notices_region_created", "region_id", "created_at", "id"),
        # Added by migration 0004.
        Index("ix_notices_region_unit_created", "region_id", "unit_id", "created_at", "id"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    level: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(7))
    case_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column()


class AccountabilityRun(RegionScoped, Base):
    """One application of the accountability rules to a period (manual or daily)."""

    __tablename__ = "accountability_runs"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    period: Mapped[str] = mapped_column(String(7))
    trigger: Mapped[str] = mapped_column(String(16))  # manual | daily
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    notices_created: Mapped[int] = mapped_column(Integer, default=0)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()


# The event counters of ``unit_days`` (the units report's names for them).
UNIT_EVENT_COUNTERS = (
    "assigned",
    "rectified",
    "rectified_on_time",
    "rectified_late",
    "rework",
    "returned",
    "extended",
    "parked",
)


class UnitDay(RegionScoped, Base):
    """A settled local day's counters of one unit (units report rollup, migration 0016).

    The event counters (``assigned`` … ``parked``) are a pure function of the immutable
    ``case_events`` rows of that day (the events of later-cancelled cases included; the
    report subtracts those live); ``closed``/``closed_on_time`` count the unit's cases
    closed that day (a final status).
    """

    __tablename__ = "unit_days"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)  # the region's time zone
    unit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    assigned: Mapped[int] = mapped_column(Integer)
    rectified: Mapped[int] = mapped_column(Integer)
    rectified_on_time: Mapped[int] = mapped_column(Integer)
    rectified_late: Mapped[int] = mapped_column(Integer)
    rework: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer)
    extended: Mapped[int] = mapped_column(Integer)
    parked: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    closed_on_time: Mapped[int] = mapped_column(Integer)


class UnitDayRun(RegionScoped, Base):
    """Marks a day of ``unit_days`` as computed (even when it had nothing), with the
    bounds of the day's closed cases: the earliest of their dispatches and deadlines, and
    the latest deadline (which stored days can hold a case straddling a period's edge)."""

    __tablename__ = "unit_day_runs"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    earliest_start: Mapped[datetime | None] = mapped_column()
    latest_due: Mapped[datetime | None] = mapped_column()


class NoticeOutbox(RegionScoped, Base):
    """``notice.raised`` events (SPEC §9), written by a trigger of migration 0011 in the
    transaction that records the notice. The inspections service reads this table
    (never writes it) and copies each row, with the same ``id``, into its own outbox."""

    __tablename__ = "notice_outbox"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        Index("ix_notice_outbox_created", "created_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    notice_id: Mapped[uuid.UUID] = mapped_column()
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    occurred_at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReportDay(RegionScoped, Base):
    """A settled local day's additive facts for the overview (daily rollup, migration 0012).

    Cases by ``reported_at`` and inspections by ``finished_at`` count the rows created
    before the run's ``cutoff`` (later rows are counted live); closures and dispatches
    are stamped with the server's time, so a settled day never gets new ones. Statuses
    that can still change (cancelled, open, overdue) are never stored.
    """

    __tablename__ = "report_days"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)  # the region's time zone
    cases_reported: Mapped[int] = mapped_column(Integer)
    cases_closed: Mapped[int] = mapped_column(Integer)
    cases_closed_on_time: Mapped[int] = mapped_column(Integer)
    dispatches: Mapped[int] = mapped_column(Integer)
    inspections: Mapped[int] = mapped_column(Integer)
    inspections_passed: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[Any] = mapped_column(Numeric)
    score_n: Mapped[int] = mapped_column(Integer)
    health_code_checked_yes: Mapped[int] = mapped_column(Integer)
    health_code_checked_n: Mapped[int] = mapped_column(Integer)
    temperature_checked_yes: Mapped[int] = mapped_column(Integer)
    temperature_checked_n: Mapped[int] = mapped_column(Integer)
    masks_worn_yes: Mapped[int] = mapped_column(Integer)
    masks_worn_n: Mapped[int] = mapped_column(Integer)


class ReportDayGroup(RegionScoped, Base):
    """A settled day's cases reported per overview dimension (category, point type,
    source, severity); ``key`` is the id or value as text, ``''`` for none."""

    __tablename__ = "report_day_groups"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    reported: Mapped[int] = mapped_column(Integer)


class ReportPersonDay(RegionScoped, Base):
    """A settled day's figures of one inspector: valid inspections, cases reported (all
    statuses) and of those the facility and hygiene cases (the run's quota settings)."""

    __tablename__ = "report_person_days"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    inspections: Mapped[int] = mapped_column(Integer)
    cases_reported: Mapped[int] = mapped_column(Integer)
    facility: Mapped[int] = mapped_column(Integer)
    hygiene: Mapped[int] = mapped_column(Integer)


class ReportRedispatchDay(RegionScoped, Base):
    """A settled day's dispatches of cases dispatched before, by the day of the dispatch
    before (the overview's distinct dispatched cases of a period)."""

    __tablename__ = "report_redispatch_days"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)
    previous_day: Mapped[date] = mapped_column(primary_key=True)
    redispatches: Mapped[int] = mapped_column(Integer)


class ReportDayRun(RegionScoped, Base):
    """Marks a day of the daily rollup as computed: rows created before ``cutoff`` are in
    it, and ``fingerprint`` names the facility settings its quota split used."""

    __tablename__ = "report_day_runs"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    day: Mapped[date] = mapped_column(primary_key=True)
    cutoff: Mapped[datetime] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ChiefCaseMonth(RegionScoped, Base):
    """A settled month's closed cases per chief-patch key (the chiefs report's rollup,
    ``reporting/reports/chiefs.py``): ``reported`` closed cases reported in the month
    (closed and created before the run's cutoff), ``closed`` cases closed in the month
    (created before the cutoff). The key is the case's own division, point and address;
    the nil UUID stands for no division or no point, ``''`` for no address (primary-key
    columns cannot be NULL)."""

    __tablename__ = "chief_case_months"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    month: Mapped[date] = mapped_column(primary_key=True)  # first day, region's time zone
    division_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sample_point_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(400), primary_key=True)
    reported: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)


class ChiefCaseMonthRun(RegionScoped, Base):
    """Marks a month of ``chief_case_months`` as computed: rows created (or closed) before
    ``cutoff`` are in it."""

    __tablename__ = "chief_case_month_runs"
    __table_args__ = (ForeignKeyConstraint(["region_id"], ["regions.id"]),)
    month: Mapped[date] = mapped_column(primary_key=True)
    cutoff: Mapped[datetime] = mapped_column()
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())
