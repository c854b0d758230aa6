"""The units report's rollup by local day (issue 13), replacing the monthly one of 0007.

* ``unit_days (region_id, day, unit_id)``: a settled local day's event counters of a
  unit (``assigned`` … ``parked``, from ``case_events``) and its closures
  (``closed``, ``closed_on_time``: the unit's cases closed that day — ``closed`` is a
  final status, so the row never changes once the day is settled).
* ``unit_day_runs (region_id, day)``: marks a day as computed (also when it had
  nothing) and bounds the day's closed cases: ``earliest_start`` (the earliest of
  their dispatch and deadline) and ``latest_due`` (the latest deadline). The report
  reads a stored day's cases one by one only when those bounds say one of them can
  straddle the period's start or end.
* ``ix_cases_region_cancelled_dispatched``: the cases cancelled after a dispatch, whose
  events the report subtracts from the stored days (a few; no scan of the events).
* ``ix_notification_events_seq`` becomes ``ix_notification_events_region_seq``
  ``(region_id, seq)``: Citus keeps no unique key without the distribution column
  (``deploy/citus.sql`` rebuilt it by hand until now).

The monthly tables are dropped: the daily rollup is computed again on first use (or by
the daily run), from the immutable rows it is a function of.

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "assigned",
    "rectified",
    "rectified_on_time",
    "rectified_late",
    "rework",
    "returned",
    "extended",
    "parked",
    "closed",
    "closed_on_time",
)
MONTH_COUNTERS = COUNTERS[:8]


def _computed_at() -> sa.Column:
    return sa.Column(
        "computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "unit_days",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS],
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_unit_days_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "day", "unit_id", name=op.f("pk_unit_days")),
    )
    op.create_table(
        "unit_day_runs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _computed_at(),
        sa.Column("earliest_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latest_due", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_unit_day_runs_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "day", name=op.f("pk_unit_day_runs")),
    )
    op.create_index(
        "ix_cases_region_cancelled_dispatched",
        "cases",
        ["region_id"],
        postgresql_where=sa.text("status = 'cancelled' AND dispatched_at IS NOT NULL"),
    )
    op.drop_table("unit_event_month_runs")
    op.drop_table("unit_event_months")
    op.drop_index("ix_notification_events_seq", table_name="notification_events")
    op.create_index(
        "ix_notification_events_region_seq",
        "notification_events",
        ["region_id", "seq"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_notification_events_region_seq", table_name="notification_events")
    op.create_index("ix_notification_events_seq", "notification_events", ["seq"], unique=True)
    op.create_table(
        "unit_event_months",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in MONTH_COUNTERS],
        _computed_at(),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_unit_event_months_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "month", "unit_id", name=op.f("pk_unit_event_months")),
    )
    op.create_table(
        "unit_event_month_runs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        _computed_at(),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_unit_event_month_runs_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "month", name=op.f("pk_unit_event_month_runs")),
    )
    op.drop_index("ix_cases_region_cancelled_dispatched", table_name="cases")
    op.drop_table("unit_day_runs")
    op.drop_table("unit_days")
