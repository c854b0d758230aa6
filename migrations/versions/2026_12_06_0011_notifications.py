"""Notifications (SPEC §9, issue 9): the outbox, webhooks and their deliveries, the inbox.

Owned by the inspections service: ``notification_events`` (the outbox),
``webhooks``, ``webhook_deliveries``, ``delivery_attempts``, ``notifications`` and
``notification_reads``. Owned by reporting: ``notice_outbox``.

The outbox rows of case events, flagged inspections and notices are written by
triggers here, so they are part of the very statement that writes the change:
every writer (the workflow through the ORM, the ingest hot path's one raw-SQL
statement, imports, the pending retry, the accountability run) gets them without
a hook of its own, and an event exists if and only if its change committed.

- ``case_events`` → ``notification_events`` (statement-level, in event order):
  the event id *is* the case event's id; ``report`` → ``case.reported``,
  ``dispatch``/``resume`` → ``case.assigned``, ``verify`` → ``case.closed``,
  ``cancel``/``mark_duplicate`` → ``case.cancelled``, the others ``case.<past tense>``.
- ``inspections`` inserted valid, or turned valid by the pending retry, with
  ``off_site`` or ``suspect_photos`` → ``inspection.flagged`` (once per inspection).
- ``notices`` → reporting's ``notice_outbox`` (``notice.raised``).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_EVENT_TYPE = """
    CASE e.action
        WHEN 'report' THEN 'case.reported'
        WHEN 'dispatch' THEN 'case.assigned'
        WHEN 'resume' THEN 'case.assigned'
        WHEN 'return' THEN 'case.returned'
        WHEN 'request_extension' THEN 'case.extension_requested'
        WHEN 'extend' THEN 'case.extended'
        WHEN 'rectify' THEN 'case.rectified'
        WHEN 'verify' THEN 'case.closed'
        WHEN 'reject' THEN 'case.rejected'
        WHEN 'park' THEN 'case.parked'
        ELSE 'case.cancelled'
    END
"""

TRIGGERS = [
    f"""
    CREATE FUNCTION cw_outbox_case_events() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO notification_events
            (region_id, id, type, subject_kind, subject_id, unit_id, person_id, occurred_at, data)
        SELECT e.region_id, e.id, {CASE_EVENT_TYPE}, 'case', e.case_id, e.unit_id,
               c.reporter_id, e.at,
               jsonb_build_object(
                   'case_id', e.case_id, 'action', e.action, 'from_status', e.from_status,
                   'to_status', e.to_status, 'at', e.at, 'actor_id', e.actor_id,
                   'note', e.note, 'unit_id', e.unit_id, 'due_at', e.due_at,
                   'sample_point_id', c.sample_point_id, 'inspection_id', c.inspection_id,
                   'source', c.source, 'severity', c.severity,
                   'description', c.description, 'address', c.address,
                   'reporter_id', c.reporter_id)
        FROM new_events e
        JOIN cases c ON c.region_id = e.region_id AND c.id = e.case_id
        ORDER BY e.at, e.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER cw_outbox_case_events AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION cw_outbox_case_events()
    """,
    """
    CREATE FUNCTION cw_outbox_flagged_inspections() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO notification_events
            (region_id, id, type, subject_kind, subject_id, unit_id, person_id, occurred_at,
             data, dedupe_key)
        SELECT i.region_id, gen_random_uuid(), 'inspection.flagged', 'inspection', i.id,
               i.unit_id, i.inspector_id, i.finished_at,
               jsonb_build_object(
                   'inspection_id', i.id, 'sample_point_id', i.sample_point_id,
                   'inspector_id', i.inspector_id, 'unit_id', i.unit_id,
                   'finished_at', i.finished_at, 'off_site', i.off_site,
                   'distance_m', i.distance_m, 'suspect_photos', i.suspect_photos,
                   'score', i.score, 'passed', i.passed),
               'inspection.flagged:' || i.id
        FROM new_inspections i
        WHERE i.validation = 'valid' AND (i.off_site OR i.suspect_photos)
        ON CONFLICT (region_id, dedupe_key) DO NOTHING;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER cw_outbox_flagged_inspections AFTER INSERT ON inspections
    REFERENCING NEW TABLE AS new_inspections
    FOR EACH STATEMENT EXECUTE FUNCTION cw_outbox_flagged_inspections()
    """,
    # The pending retry validates a stored inspection with an UPDATE.
    """
    CREATE TRIGGER cw_outbox_flagged_inspections_validated AFTER UPDATE ON inspections
    REFERENCING NEW TABLE AS new_inspections
    FOR EACH STATEMENT EXECUTE FUNCTION cw_outbox_flagged_inspections()
    """,
    """
    CREATE FUNCTION cw_outbox_notices() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO notice_outbox
            (region_id, id, type, notice_id, unit_id, person_id, occurred_at, data)
        SELECT n.region_id, gen_random_uuid(), 'notice.raised', n.id, n.unit_id, n.person_id,
               n.created_at,
               jsonb_build_object(
                   'notice_id', n.id, 'unit_id', n.unit_id, 'person_id', n.person_id,
                   'level', n.level, 'rule', n.rule, 'reason', n.reason,
                   'period', n.period, 'case_ids', to_jsonb(n.case_ids),
                   'created_at', n.created_at)
        FROM new_notices n;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER cw_outbox_notices AFTER INSERT ON notices
    REFERENCING NEW TABLE AS new_notices
    FOR EACH STATEMENT EXECUTE FUNCTION cw_outbox_notices()
    """,
]

DROP_TRIGGERS = [
    "DROP TRIGGER cw_outbox_notices ON notices",
    "DROP FUNCTION cw_outbox_notices()",
    "DROP TRIGGER cw_outbox_flagged_inspections_validated ON inspections",
    "DROP TRIGGER cw_outbox_flagged_inspections ON inspections",
    "DROP FUNCTION cw_outbox_flagged_inspections()",
    "DROP TRIGGER cw_outbox_case_events ON case_events",
    "DROP FUNCTION cw_outbox_case_events()",
]


def upgrade() -> None:
    op.create_table(
        "notice_outbox",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("notice_id", sa.UUID(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("person_id", sa.UUID(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_notice_outbox_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_notice_outbox")),
    )
    op.create_index("ix_notice_outbox_created", "notice_outbox", ["created_at"], unique=False)
    op.create_table(
        "notification_events",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("person_id", sa.UUID(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("fanned_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_notification_events_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_notification_events")),
        sa.UniqueConstraint("region_id", "dedupe_key", name="uq_notification_events_dedupe_key"),
    )
    op.create_index("ix_notification_events_seq", "notification_events", ["seq"], unique=True)
    op.create_index(
        "ix_notification_events_unfanned",
        "notification_events",
        ["seq"],
        unique=False,
        postgresql_where="fanned_out_at IS NULL",
    )
    op.create_table(
        "notifications",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=8), nullable=False),
        sa.Column("audience_id", sa.UUID(), nullable=True),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience in ('unit', 'person', 'office')", name=op.f("ck_notifications_audience")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_notifications_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "region_id",
            "event_id",
            "audience",
            "audience_id",
            name="uq_notifications_event_audience",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "ix_notifications_audience",
        "notifications",
        ["region_id", "audience", "audience_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "webhooks",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        # Who last changed it (migration 0008's rule for every table with updated_at).
        sa.Column("updated_by", postgresql.UUID(as_uuid=True)),
        sa.CheckConstraint("kind in ('json', 'wecom', 'dingtalk')", name=op.f("ck_webhooks_kind")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_webhooks_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "notification_reads",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("notification_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id", "notification_id"],
            ["notifications.region_id", "notifications.id"],
            name=op.f("fk_notification_reads_region_id_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "notification_id", "person_id", name=op.f("pk_notification_reads")
        ),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("webhook_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("order_key", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status in ('pending', 'succeeded', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "event_id"],
            ["notification_events.region_id", "notification_events.id"],
            name=op.f("fk_webhook_deliveries_region_id_event_id_notification_events"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "webhook_id"],
            ["webhooks.region_id", "webhooks.id"],
            name=op.f("fk_webhook_deliveries_region_id_webhook_id_webhooks"),
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "region_id", "webhook_id", "event_id", name="uq_webhook_deliveries_event"
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        "ix_webhook_deliveries_order",
        "webhook_deliveries",
        ["region_id", "webhook_id", "order_key", "event_seq"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        "ix_webhook_deliveries_webhook",
        "webhook_deliveries",
        ["region_id", "webhook_id", "event_seq"],
        unique=False,
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id", "delivery_id"],
            ["webhook_deliveries.region_id", "webhook_deliveries.id"],
            name=op.f("fk_delivery_attempts_region_id_delivery_id_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "delivery_id", "number", name=op.f("pk_delivery_attempts")
        ),
    )
    op.create_index(
        "ix_cases_assigned_due",
        "cases",
        ["due_at"],
        unique=False,
        postgresql_where="status = 'assigned'",
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    op.drop_index(
        "ix_cases_assigned_due", table_name="cases", postgresql_where="status = 'assigned'"
    )
    op.drop_table("delivery_attempts")
    op.drop_index("ix_webhook_deliveries_webhook", table_name="webhook_deliveries")
    op.drop_index(
        "ix_webhook_deliveries_order",
        table_name="webhook_deliveries",
        postgresql_where="status = 'pending'",
    )
    op.drop_index(
        "ix_webhook_deliveries_due",
        table_name="webhook_deliveries",
        postgresql_where="status = 'pending'",
    )
    op.drop_table("webhook_deliveries")
    op.drop_table("notification_reads")
    op.drop_table("webhooks")
    op.drop_index("ix_notifications_audience", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(
        "ix_notification_events_unfanned",
        table_name="notification_events",
        postgresql_where="fanned_out_at IS NULL",
    )
    op.drop_index("ix_notification_events_seq", table_name="notification_events")
    op.drop_table("notification_events")
    op.drop_index("ix_notice_outbox_created", table_name="notice_outbox")
    op.drop_table("notice_outbox")
