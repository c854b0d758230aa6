"""Covering indexes for the reports over years of history (issue 4 bench).

* ``case_events (region_id, action, at) INCLUDE (case_id, unit_id)``: the units report
  and the overview count a period's dispatch/rectify/… events from the index alone
  (no visit to the 8-million-row heap).
* ``cases (region_id, id) INCLUDE (unit_id, due_at, status)``: each such event finds its
  case's unit, deadline and status from the index alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_events_region_action_at_cover",
        "case_events",
        ["region_id", "action", "at"],
        postgresql_include=["case_id", "unit_id"],
    )
    op.create_index(
        "ix_cases_region_id_cover",
        "cases",
        ["region_id", "id"],
        postgresql_include=["unit_id", "due_at", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_region_id_cover", table_name="cases")
    op.drop_index("ix_case_events_region_action_at_cover", table_name="case_events")
