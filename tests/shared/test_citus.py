"""Citus readiness: deploy/citus.sql against the models, and the routing checker itself.

The session-wide check of every statement sent is ``tests/routing_check.py`` (the
``citus-routing`` test that runs last); here the checker is shown failing on
statements Citus could not route and passing the forms it can, the recorder is shown
to see what a connection sends, and deploy/citus.sql is held to the models.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from pglast import ast, parse_sql
from sqlalchemy import UniqueConstraint

from shared.db import asyncpg_connect_kwargs
from shared.embedded_db import REPO_ROOT
from shared.models import Base
from tests.citus_routing import (
    CROSS_REGION,
    DISTRIBUTION_COLUMN,
    REFERENCE_TABLES,
    problems,
    tenant_tables,
)
from tests.routing_check import describe, offences
from tests.statement_log import RECORDER, Recorded, parse_log

CITUS_SQL = REPO_ROOT / "deploy" / "citus.sql"

# --- the checker ----------------------------------------------------------------------

NOT_ROUTABLE = {
    "no region at all": "SELECT * FROM cases WHERE id = $1",
    "a join on id only": (
        "SELECT c.id FROM cases c JOIN inspections i ON i.id = c.inspection_id "
        "WHERE c.region_id = $1"
    ),
    "two regions": "SELECT * FROM cases WHERE region_id IN ($1, $2)",
    "any of an array": "SELECT * FROM cases WHERE region_id = ANY($1)",
    "either region": "SELECT * FROM cases WHERE region_id = $1 OR region_id = $2",
    "a region from a subquery": (
        "SELECT * FROM cases WHERE region_id = (SELECT id FROM regions WHERE code = $1)"
    ),
    "joined to an unpinned table": (
        "SELECT * FROM cases c JOIN inspections i ON i.region_id = c.region_id "
        "AND i.id = c.inspection_id WHERE i.finished_at > $1"
    ),
    "a subquery on another region's column": (
        "SELECT * FROM inspections i WHERE i.region_id = $1 AND EXISTS "
        "(SELECT FROM cases c WHERE c.inspection_id = i.id)"
    ),
    "an insert without its region": "INSERT INTO cases (id, status) VALUES ($1, $2)",
    "an insert reading every region": (
        "INSERT INTO notification_events (region_id, id) SELECT region_id, id FROM notice_outbox"
    ),
    "an update without its region": "UPDATE cases SET status = 'closed' WHERE id = $1",
    "an update moving a row to another region": (
        "UPDATE cases SET region_id = $2 WHERE region_id = $1 AND id = $3"
    ),
    "a delete without its region": "DELETE FROM case_events WHERE case_id = $1",
    "a conflict key without the region": (
        "INSERT INTO cases (region_id, id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
    ),
    "a CTE over every region": (
        "WITH due AS (SELECT region_id, id FROM cases WHERE status = 'assigned') "
        "SELECT * FROM due JOIN case_events e ON e.region_id = due.region_id"
    ),
}

ROUTABLE = {
    "a filter on the region": "SELECT * FROM cases WHERE region_id = $1::UUID AND id = $2",
    "a literal region": "SELECT count(*) FROM cases WHERE region_id = '7d1c…' AND status = 'x'",
    "a join on region_id": (
        "SELECT c.id FROM cases c JOIN inspections i ON i.region_id = c.region_id "
        "AND i.id = c.inspection_id WHERE c.region_id = $1"
    ),
    "pinned through the regions table": (
        "SELECT * FROM sample_points sp JOIN regions r ON r.id = sp.region_id "
        "JOIN calendar_days cd ON cd.region_id = r.id WHERE sp.region_id = $1"
    ),
    "a correlated subquery": (
        "SELECT * FROM inspections i WHERE i.region_id = $1 AND EXISTS "
        "(SELECT FROM cases c WHERE c.region_id = i.region_id AND c.inspection_id = i.id)"
    ),
    "a lateral subquery": (
        "SELECT * FROM sample_points sp CROSS JOIN LATERAL (SELECT max(version) AS v "
        "FROM checklists WHERE region_id = sp.region_id) cur WHERE sp.region_id = $1"
    ),
    "a CTE of one region": (
        "WITH win AS (SELECT c.region_id, c.id FROM cases c WHERE c.region_id = $1) "
        "SELECT * FROM win JOIN case_events e ON e.region_id = win.region_id "
        "AND e.case_id = win.id"
    ),
    "a row comparison": "SELECT * FROM cases WHERE (region_id, id) = ($1, $2)",
    "an insert of rows of one region": (
        "INSERT INTO cases (region_id, id) VALUES ($1, $2), ($3, $4) "
        "ON CONFLICT (region_id, id) DO NOTHING"
    ),
    "an insert from a select of one region": (
        "INSERT INTO notification_events (region_id, id) SELECT region_id, id "
        "FROM notice_outbox WHERE region_id = $1"
    ),
    "an update with FROM": (
        "UPDATE cases c SET status = 'x' FROM inspections i WHERE c.region_id = $1 "
        "AND i.region_id = c.region_id AND i.id = c.inspection_id"
    ),
    "reference tables only": (
        "SELECT p.id FROM people p JOIN units u ON u.region_id = p.region_id "
        "AND u.id = p.unit_id WHERE p.username = $1"
    ),
    "not a data statement": "BEGIN; SELECT pg_advisory_xact_lock($1); COMMIT",
}


@pytest.mark.parametrize("sql", NOT_ROUTABLE.values(), ids=NOT_ROUTABLE.keys())
def test_the_checker_refuses_statements_citus_cannot_send_to_one_shard(sql):
    assert problems(sql), sql


@pytest.mark.parametrize("sql", ROUTABLE.values(), ids=ROUTABLE.keys())
def test_the_checker_passes_statements_pinned_to_one_region(sql):
    assert problems(sql) == []


def test_the_checker_names_the_table_and_why():
    assert [str(p) for p in problems(NOT_ROUTABLE["a join on id only"])] == [
        "inspections (as i): not filtered on one region_id value"
    ]
    assert [str(p) for p in problems(NOT_ROUTABLE["an update moving a row to another region"])] == [
        "cases: UPDATE sets region_id (it cannot change on Citus)"
    ]


def test_the_failure_lists_each_offending_statement_with_its_sender_and_what_to_do():
    sent = [
        Recorded(NOT_ROUTABLE["no region at all"], "chuangwei.inspections", "db"),
        Recorded(NOT_ROUTABLE["no region at all"], "chuangwei.reporting", "db"),
        Recorded(ROUTABLE["a filter on the region"], "chuangwei.inspections", "db"),
        # The harness and Alembic are not judged.
        Recorded(NOT_ROUTABLE["two regions"], "chuangwei.tests", "db"),
        Recorded("UPDATE cases SET status = 'x'", "chuangwei.migrations", "db"),
    ]
    found = offences(sent)
    assert [(o.sql, o.times, o.applications) for o in found] == [
        (NOT_ROUTABLE["no region at all"], 2, {"chuangwei.inspections", "chuangwei.reporting"})
    ]
    message = describe(found, len(sent))
    assert "sent 2x by chuangwei.inspections, chuangwei.reporting" in message
    assert "cases: not filtered on one region_id value" in message
    assert "WHERE c.region_id = :region_id" in message
    assert "CROSS_REGION in" in message


def test_every_allowed_cross_region_statement_parses_and_says_why():
    for entry in CROSS_REGION:
        assert problems(entry.sql), f"allowed but routable anyway, drop it: {entry.sql}"
        assert len(entry.reason) > 20


# --- the recorder -----------------------------------------------------------------------


def test_log_entries_spanning_lines_read_back_whole():
    log = (
        "2026-12-06 03:27:29.019 UTC [7681] db=cw_a app=chuangwei.registry: LOG:  "
        "execute __asyncpg_stmt_84__: SELECT count(*)\n"
        "\tFROM cases\n"
        "\t\tWHERE id = $1\n"
        "2026-12-06 03:27:29.020 UTC [7681] db=cw_a app=chuangwei.registry: LOG:  "
        "statement: COMMIT;\n"
        "2026-12-06 03:27:29.021 UTC [7682] db=cw_a app=chuangwei.registry: ERROR:  boom\n"
        "2026-12-06 03:27:29.021 UTC [7682] db=cw_a app=chuangwei.registry: STATEMENT:  "
        "SELECT boom\n"
        "2026-12-06 03:27:29.022 UTC [7683] db=other app=x: LOG:  statement: SELECT 1\n"
    )
    assert parse_log(log, {"cw_a"}) == [
        Recorded("SELECT count(*)\nFROM cases\n\tWHERE id = $1", "chuangwei.registry", "cw_a"),
        Recorded("COMMIT;", "chuangwei.registry", "cw_a"),
    ]


async def test_the_recorder_sees_what_any_connection_sends(database_url):
    """A raw asyncpg connection of its own (as a service process would open) is recorded."""
    if not RECORDER.active:
        pytest.skip("statements are recorded on the embedded server only (DATABASE_URL is set)")
    marker = f"probe_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(
        **asyncpg_connect_kwargs(database_url),
        server_settings={"application_name": "chuangwei.tests.recorder"},
    )
    try:
        await conn.fetch(f"SELECT count(*) AS {marker}\nFROM cases\nWHERE status = $1", "x")
    finally:
        await conn.close()
    sent = [s for s in RECORDER.statements() if marker in s.sql]
    assert [(s.sql, s.application_name) for s in sent] == [
        (f"SELECT count(*) AS {marker}\nFROM cases\nWHERE status = $1", "chuangwei.tests.recorder")
    ]
    # Had a service sent it, the session's check would name it.
    as_a_service = [Recorded(sent[0].sql, "chuangwei.reporting", sent[0].database)]
    assert [o.reasons for o in offences(as_a_service)] == [
        ["cases: not filtered on one region_id value"]
    ]


# --- deploy/citus.sql -------------------------------------------------------------------


def _calls() -> list[tuple[str, list[str], dict[str, str]]]:
    """``SELECT f('a', 'b', k => 'c')`` statements of citus.sql: (f, positional, named)."""
    calls = []
    for raw in parse_sql(CITUS_SQL.read_text()):
        stmt = raw.stmt
        if not isinstance(stmt, ast.SelectStmt) or not stmt.targetList:
            continue
        call = stmt.targetList[0].val
        if not isinstance(call, ast.FuncCall):
            continue
        args: list[str] = []
        named: dict[str, str] = {}
        for arg in call.args or ():
            if isinstance(arg, ast.NamedArgExpr):
                named[arg.name] = arg.arg.val.sval
            else:
                args.append(arg.val.sval)
        calls.append((call.funcname[-1].sval, args, named))
    return calls


def _dropped_indexes() -> set[str]:
    return {
        name.sval
        for raw in parse_sql(CITUS_SQL.read_text())
        if isinstance(raw.stmt, ast.DropStmt)
        for obj in raw.stmt.objects
        for name in obj[-1:]
    }


def test_citus_sql_names_every_table_of_the_models_once_and_nothing_else():
    named = [args[0] for _, args, _ in _calls() if args]
    tables = {table.name for table in Base.metadata.sorted_tables}
    assert sorted(named) == sorted(tables), "each model table exactly once, nothing else"
    kinds = {args[0]: function for function, args, _ in _calls() if args}
    assert {t for t, f in kinds.items() if f == "create_reference_table"} == set(REFERENCE_TABLES)
    assert {t for t, f in kinds.items() if f == "create_distributed_table"} == tenant_tables()


def test_citus_sql_distributes_by_region_in_one_colocation_group_in_an_order_citus_accepts():
    calls = [(f, args, named) for f, args, named in _calls() if args]
    distributed = [(args, named) for f, args, named in calls if f == "create_distributed_table"]
    (first, first_named), *rest = distributed
    assert first[1:] == [DISTRIBUTION_COLUMN] and first_named == {"colocate_with": "none"}
    for args, named in rest:
        assert args[1:] == [DISTRIBUTION_COLUMN], args
        assert named == {"colocate_with": first[0]}, args
    # Reference tables first; every table after the tables its foreign keys name.
    order = [args[0] for _, args, _ in calls]
    kinds = [f for f, _, _ in calls]
    assert kinds == sorted(kinds, key=lambda f: f != "create_reference_table")
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table.name
            if referred != table.name:
                assert order.index(referred) < order.index(table.name), (table.name, referred)


def test_the_models_keep_citus_rules_for_keys():
    """Unique keys of distributed tables hold region_id (bar the ones citus.sql replaces);
    foreign keys between distributed tables match on region_id; reference tables refer
    only to reference tables."""
    tenants = tenant_tables()
    dropped = _dropped_indexes()
    for table in Base.metadata.sorted_tables:
        if table.name in tenants:
            keys = [("primary key", table.primary_key.columns)]
            keys += [
                (c.name, c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)
            ]
            keys += [(i.name, i.columns) for i in table.indexes if i.unique]
            for name, columns in keys:
                if name in dropped:
                    continue
                assert DISTRIBUTION_COLUMN in columns, (
                    f"{table.name}: unique {name} lacks region_id"
                )
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table.name
            if table.name in REFERENCE_TABLES:
                assert referred in REFERENCE_TABLES, f"{table.name} → {referred}"
            elif referred in tenants:
                pairs = [(e.parent.name, e.column.name) for e in fk.elements]
                assert (DISTRIBUTION_COLUMN, DISTRIBUTION_COLUMN) in pairs, (table.name, pairs)


def test_citus_sql_replaces_only_indexes_that_exist():
    indexes = {i.name for t in Base.metadata.sorted_tables for i in t.indexes}
    assert _dropped_indexes() <= indexes
