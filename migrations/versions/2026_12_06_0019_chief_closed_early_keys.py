"""The chiefs report's closures ahead of their deadline carry their patch key (issue 13).

``ix_cases_region_closed_early (region_id, due_at) WHERE status = 'closed' AND
closed_at < due_at`` now includes the case's ``division_id``, ``sample_point_id`` and
``address`` (the chiefs report's patch key) instead of its ``id``: the report adds up
the few thousand closures whose deadline lies across a period's start or end per key
from the index alone, where it fetched each case by primary key before. Only the chiefs
report reads this index.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_cases_region_closed_early"
CLOSED_EARLY = "status = 'closed' AND closed_at < due_at"


def _create(include: list[str]) -> None:
    op.create_index(
        INDEX,
        "cases",
        ["region_id", "due_at"],
        postgresql_include=include,
        postgresql_where=CLOSED_EARLY,
    )


def upgrade() -> None:
    op.drop_index(INDEX, table_name="cases")
    _create(["closed_at", "created_at", "division_id", "sample_point_id", "address"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="cases")
    _create(["closed_at", "created_at", "id"])
