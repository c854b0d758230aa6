"""Units report rollup (issue 4): a settled month's event-derived counters per unit.

* ``unit_event_months (region_id, month, unit_id)``: ``assigned``, ``rectified``,
  ``rectified_on_time``, ``rectified_late``, ``rework``, ``returned``, ``extended``,
  ``parked`` of one unit in one month (first day, in the region's time zone), computed
  from the immutable ``case_events`` once the month has ended (plus a day);
* ``unit_event_month_runs (region_id, month)``: the months computed, even empty ones.

Both are owned and written by the reporting service only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
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
)


def upgrade() -> None:
    op.create_table(
        "unit_event_months",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS],
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_unit_event_months_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "month", "unit_id", name=op.f("pk_unit_event_months")),
    )
    op.create_table(
        "unit_event_month_runs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_unit_event_month_runs_region_id_regions"),
        ),
        sa.PrimaryKeyConstraint("region_id", "month", name=op.f("pk_unit_event_month_runs")),
    )


def downgrade() -> None:
    op.drop_table("unit_event_month_runs")
    op.drop_table("unit_event_months")
