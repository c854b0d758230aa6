"""Report speed over years of history (issue 4): time-local, covering indexes for the reports.

* ``case_events (region_id, action, at) INCLUDE (case_id, unit_id, from_status, id)``
  replaces 0005's cover: the units report reads a period's events from the index alone,
  ``from_status`` tells a case's first dispatch from a re-dispatch (``assigned`` without
  a DISTINCT sort).
* ``cases (region_id, reported_at) INCLUDE (id, unit_id, due_at, status)``: the cases a
  period's events belong to, swept in one time-local range instead of one probe per event.
* ``cases (region_id, closed_at) INCLUDE (…state columns…) WHERE closed_at IS NOT NULL``
  replaces 0004's ``ix_cases_region_closed``; with ``ix_cases_region_unclosed_held``
  (held cases not closed) the units/chiefs state figures and the overview's closures
  come from indexes.
* ``cases (region_id, sample_point_id) WHERE status is open``: coverage's open cases.
* ``inspections (region_id, sample_point_id, finished_at, id) INCLUDE (score, passed)
  WHERE validation = 'valid'``: coverage's latest inspection per point (one backward
  probe) and its inspections in the period (an index-only count).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE = ["status", "due_at", "dispatched_at", "reported_at", "last_rectified_at", "closed_on_time"]
OPEN = "status IN ('reported', 'assigned', 'returned', 'rectified')"
UNCLOSED_HELD = "closed_at IS NULL AND status IN ('assigned', 'rectified', 'closed')"


def upgrade() -> None:
    op.drop_index("ix_case_events_region_action_at_cover", table_name="case_events")
    op.create_index(
        "ix_case_events_region_action_at_report",
        "case_events",
        ["region_id", "action", "at"],
        postgresql_include=["case_id", "unit_id", "from_status", "id"],
    )
    op.create_index(
        "ix_cases_region_reported_cover",
        "cases",
        ["region_id", "reported_at"],
        postgresql_include=["id", "unit_id", "due_at", "status"],
    )
    op.drop_index("ix_cases_region_closed", table_name="cases")
    op.create_index(
        "ix_cases_region_closed_cover",
        "cases",
        ["region_id", "closed_at"],
        postgresql_include=["unit_id", *STATE],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_cases_region_unclosed_held",
        "cases",
        ["region_id", "unit_id"],
        postgresql_include=STATE,
        postgresql_where=sa.text(UNCLOSED_HELD),
    )
    op.create_index(
        "ix_cases_region_point_open",
        "cases",
        ["region_id", "sample_point_id"],
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_inspections_region_point_valid",
        "inspections",
        ["region_id", "sample_point_id", "finished_at", "id"],
        postgresql_include=["score", "passed"],
        postgresql_where=sa.text("validation = 'valid'"),
    )


def downgrade() -> None:
    op.drop_index("ix_inspections_region_point_valid", table_name="inspections")
    op.drop_index("ix_cases_region_point_open", table_name="cases")
    op.drop_index("ix_cases_region_unclosed_held", table_name="cases")
    op.drop_index("ix_cases_region_closed_cover", table_name="cases")
    op.create_index(
        "ix_cases_region_closed",
        "cases",
        ["region_id", "closed_at"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )
    op.drop_index("ix_cases_region_reported_cover", table_name="cases")
    op.drop_index("ix_case_events_region_action_at_report", table_name="case_events")
    op.create_index(
        "ix_case_events_region_action_at_cover",
        "case_events",
        ["region_id", "action", "at"],
        postgresql_include=["case_id", "unit_id"],
    )
