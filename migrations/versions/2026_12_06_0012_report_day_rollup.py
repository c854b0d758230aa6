"""Reports' daily rollup (issue 13): no slow report over three years.

* ``report_days (region_id, day)``: a settled local day's overview facts — cases
  reported, closures, dispatches, valid inspections with their scores and epidemic
  checks;
* ``report_day_groups (region_id, day, dim, key)``: cases reported per category,
  point type, source and severity;
* ``report_person_days (region_id, day, person_id)``: an inspector's inspections,
  cases reported and the facility/hygiene split of the weekly quota;
* ``report_redispatch_days (region_id, day, previous_day)``: dispatches of cases
  dispatched before, by the day of the previous dispatch (distinct dispatched cases);
* ``report_day_runs (region_id, day)``: the days computed, the ``cutoff`` before which
  created rows are in them and the quota settings' ``fingerprint``.

All five are owned and written by the reporting service only. Indexes on the
inspections service's tables for the live parts: rows created after a run
(``created_at``), and the cases whose status can still change (not closed).

Revision ID: 0012
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_COUNTERS = (
    "cases_reported",
    "cases_closed",
    "cases_closed_on_time",
    "dispatches",
    "inspections",
    "inspections_passed",
)
EPIDEMIC = (
    "health_code_checked_yes",
    "health_code_checked_n",
    "temperature_checked_yes",
    "temperature_checked_n",
    "masks_worn_yes",
    "masks_worn_n",
)


def _region_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["region_id"], ["regions.id"], name=op.f(f"fk_{table}_region_id_regions")
    )


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTERS],
        sa.Column("score_sum", sa.Numeric(), nullable=False),
        sa.Column("score_n", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in EPIDEMIC],
        _region_fk("report_days"),
        sa.PrimaryKeyConstraint("region_id", "day", name=op.f("pk_report_days")),
    )
    op.create_table(
        "report_day_groups",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        _region_fk("report_day_groups"),
        sa.PrimaryKeyConstraint(
            "region_id", "day", "dim", "key", name=op.f("pk_report_day_groups")
        ),
    )
    op.create_table(
        "report_person_days",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("inspections", sa.Integer(), nullable=False),
        sa.Column("cases_reported", sa.Integer(), nullable=False),
        sa.Column("facility", sa.Integer(), nullable=False),
        sa.Column("hygiene", sa.Integer(), nullable=False),
        _region_fk("report_person_days"),
        sa.PrimaryKeyConstraint(
            "region_id", "day", "person_id", name=op.f("pk_report_person_days")
        ),
    )
    op.create_table(
        "report_redispatch_days",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=False),
        sa.Column("redispatches", sa.Integer(), nullable=False),
        _region_fk("report_redispatch_days"),
        sa.PrimaryKeyConstraint(
            "region_id", "day", "previous_day", name=op.f("pk_report_redispatch_days")
        ),
    )
    op.create_table(
        "report_day_runs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _region_fk("report_day_runs"),
        sa.PrimaryKeyConstraint("region_id", "day", name=op.f("pk_report_day_runs")),
    )
    op.create_index("ix_cases_region_created", "cases", ["region_id", "created_at"])
    op.create_index("ix_inspections_region_created", "inspections", ["region_id", "created_at"])
    op.create_index(
        "ix_cases_region_reported_unclosed",
        "cases",
        ["region_id", "reported_at"],
        postgresql_include=[
            "status",
            "due_at",
            "category_id",
            "point_type_id",
            "source",
            "severity",
            "reporter_id",
            "item_code",
            "inspection_id",
        ],
        postgresql_where=sa.text("status <> 'closed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_region_reported_unclosed", table_name="cases")
    op.drop_index("ix_inspections_region_created", table_name="inspections")
    op.drop_index("ix_cases_region_created", table_name="cases")
    op.drop_table("report_day_runs")
    op.drop_table("report_redispatch_days")
    op.drop_table("report_person_days")
    op.drop_table("report_day_groups")
    op.drop_table("report_days")
