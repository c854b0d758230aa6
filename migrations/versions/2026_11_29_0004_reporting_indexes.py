"""Indexes the reports need: closed cases by time, cases by reporter, notices by unit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Overview: cases closed in a period.
    op.create_index(
        "ix_cases_region_closed",
        "cases",
        ["region_id", "closed_at"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )
    # Inspectors report: one patrol member's cases in a period.
    op.create_index(
        "ix_cases_region_reporter_reported", "cases", ["region_id", "reporter_id", "reported_at"]
    )
    # A unit account's notices, oldest first.
    op.create_index(
        "ix_notices_region_unit_created", "notices", ["region_id", "unit_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_notices_region_unit_created", table_name="notices")
    op.drop_index("ix_cases_region_reporter_reported", table_name="cases")
    op.drop_index("ix_cases_region_closed", table_name="cases")
