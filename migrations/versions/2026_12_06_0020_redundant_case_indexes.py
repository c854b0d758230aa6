"""Two indexes fewer to write with every new case and case event (issue 13, ingest).

Each new inspection writes its cases and their events, and every index of those tables
is written with them. Two of those indexes were redundant:

- ``ix_case_events_region_action_at (region_id, action, at)`` has the same key as
  ``ix_case_events_region_action_at_report``, which also carries the columns the reports
  read: every query the first serves, the second serves as well. It is dropped.
- ``ix_cases_region_reported (region_id, reported_at, id)`` (the case list's order)
  and ``ix_cases_region_reported_cover (region_id, reported_at) INCLUDE (id, unit_id,
  due_at, status)`` (the reports' index-only reads) are one index now:
  ``ix_cases_region_reported (region_id, reported_at, id) INCLUDE (unit_id, due_at,
  status)`` serves both.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_case_events_region_action_at", table_name="case_events")
    op.drop_index("ix_cases_region_reported", table_name="cases")
    op.create_index(
        "ix_cases_region_reported",
        "cases",
        ["region_id", "reported_at", "id"],
        postgresql_include=["unit_id", "due_at", "status"],
    )
    op.drop_index("ix_cases_region_reported_cover", table_name="cases")


def downgrade() -> None:
    op.create_index(
        "ix_cases_region_reported_cover",
        "cases",
        ["region_id", "reported_at"],
        postgresql_include=["id", "unit_id", "due_at", "status"],
    )
    op.drop_index("ix_cases_region_reported", table_name="cases")
    op.create_index("ix_cases_region_reported", "cases", ["region_id", "reported_at", "id"])
    op.create_index("ix_case_events_region_action_at", "case_events", ["region_id", "action", "at"])
