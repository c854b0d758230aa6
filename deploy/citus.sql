-- Chuangwei on Citus: every tenant table distributed by region_id, co-located; the
-- global tables copied to every node. Run once with psql on the coordinator, after
-- `alembic upgrade head` (migrations run on the coordinator; Citus propagates DDL):
--
--     psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f deploy/citus.sql
--
-- The order matters: reference tables first (regions before the tables that refer
-- to it), then the co-location group, started by divisions, each table after the
-- tables its foreign keys name. tests/shared/test_citus.py checks that this file names
-- every table of the models exactly once, in an order Citus accepts, and that the
-- models keep Citus's rules (unique keys and foreign keys hold region_id). What this
-- changes and what it does not: README, "Tenancy and the scale-out plan".

CREATE EXTENSION IF NOT EXISTS citus;

-- The outbox triggers (migration 0011) insert into notification_events / notice_outbox
-- rows of the region whose row fired them: a co-located shard on the same node, in the
-- same transaction. Citus cannot prove that of a trigger, so it asks to be told.
SET citus.enable_unsafe_triggers = on;
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
END $$;

-- Reference tables: small, global, read everywhere; a copy on every node.
SELECT create_reference_table('regions');           -- the tenant list
SELECT create_reference_table('units');             -- people.unit_id refers to it
SELECT create_reference_table('people');            -- sign-in by username, before the region
SELECT create_reference_table('open311_api_keys');  -- an integrator's key, by its hash

-- Registry.
SELECT create_distributed_table('divisions', 'region_id', colocate_with => 'none');
SELECT create_distributed_table('standards', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('categories', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('point_types', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('checklists', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('sample_points', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('chiefs', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('calendar_days', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('deadline_policies', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('archive_items', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('archive_files', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('audit_events', 'region_id', colocate_with => 'divisions');

-- Inspections.
SELECT create_distributed_table('photos', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('photo_links', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('inspections', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('inspection_results', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('cases', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('case_events', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('open311_requests', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('notification_events', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('webhooks', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('webhook_deliveries', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('delivery_attempts', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('notifications', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('notification_reads', 'region_id', colocate_with => 'divisions');

-- Reporting.
SELECT create_distributed_table('accountability_runs', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('blacklist_entries', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('notices', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('notice_outbox', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('report_settings', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('unit_day_runs', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('unit_days', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('report_day_runs', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('report_days', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('report_day_groups', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('report_person_days', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('report_redispatch_days', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('chief_case_month_runs', 'region_id', colocate_with => 'divisions');
SELECT create_distributed_table('chief_case_months', 'region_id', colocate_with => 'divisions');
