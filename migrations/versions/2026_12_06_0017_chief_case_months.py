"""The chiefs report's rollup (issue 13): a settled month's closed cases per patch key.

* ``chief_case_months (region_id, month, division_id, sample_point_id, address)``:
  ``reported`` (closed cases reported in the month) and ``closed`` (cases closed in
  the month), keyed by the case's own division, point and address (nil UUID / ``''``
  for none); see ``reporting/reports/chiefs.py`` for what is stored and what is live;
* ``chief_case_month_runs (region_id, month)``: the months computed and their ``cutoff``.

Both are owned and written by the reporting service only. And on ``cases``:
``ix_cases_region_closed_early (region_id, due_at) INCLUDE (closed_at, created_at,
id) WHERE status = 'closed' AND closed_at < due_at`` — the closures ahead of their deadline,
by deadline: the report finds the few closed cases whose deadline lies across a
period's start or end from the index alone; ``ix_cases_region_reported_changing
(region_id, reported_at) INCLUDE (…the report's columns…) WHERE status NOT IN
('closed', 'cancelled')`` — the cases whose status can still change, which the report
reads live, from the index alone (the cancelled cases are left out of it).

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# What the chiefs report reads of a case (reporting/reports/chiefs.py CHIEF_CASE_COLUMNS).
CHIEF_CASE_COLUMNS = [
    "division_id",
    "sample_point_id",
    "address",
    "unit_id",
    "status",
    "due_at",
    "closed_at",
    "dispatched_at",
    "last_rectified_at",
    "closed_on_time",
]


def upgrade() -> None:
    op.create_table(
        "chief_case_months",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("division_id", sa.UUID(), nullable=False),
        sa.Column("sample_point_id", sa.UUID(), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_chief_case_months_region_id_regions")
        ),
        sa.PrimaryKeyConstraint(
            "region_id",
            "month",
            "division_id",
            "sample_point_id",
            "address",
            name=op.f("pk_chief_case_months"),
        ),
    )
    op.create_table(
        "chief_case_month_runs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_chief_case_month_runs_region_id_regions"),
        ),
        sa.PrimaryKeyConstraint("region_id", "month", name=op.f("pk_chief_case_month_runs")),
    )
    op.create_index(
        "ix_cases_region_closed_early",
        "cases",
        ["region_id", "due_at"],
        postgresql_include=["closed_at", "created_at", "id"],
        postgresql_where=sa.text("status = 'closed' AND closed_at < due_at"),
    )
    op.create_index(
        "ix_cases_region_reported_changing",
        "cases",
        ["region_id", "reported_at"],
        postgresql_include=CHIEF_CASE_COLUMNS,
        postgresql_where=sa.text("status NOT IN ('closed', 'cancelled')"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_region_reported_changing", table_name="cases")
    op.drop_index("ix_cases_region_closed_early", table_name="cases")
    op.drop_table("chief_case_month_runs")
    op.drop_table("chief_case_months")
