"""Database faults at the dangerous moment: the commit.

``fault_at_commit`` installs a deferred constraint trigger on one table for one
region's rows. PostgreSQL runs deferred triggers inside ``COMMIT``, after the
last statement of the transaction, so the fault lands exactly in the window
that loses acknowledged data when a service answers before it commits:

- ``"die"``: the backend terminates itself (``pg_terminate_backend`` of its own
  pid), as in a failover or a killed backend; the transaction is not committed
  and the client's connection is gone.
- ``"conflict"``: the commit fails with a unique violation (SQLSTATE 23505), a
  conflict that only the commit finds.

Nothing in the services is changed or told: they meet a real failing COMMIT.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_FUNCTIONS = {
    "die": """
        CREATE OR REPLACE FUNCTION cw_test_die_at_commit() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_terminate_backend(pg_backend_pid());
            PERFORM pg_sleep(10);  -- the termination lands at the sleep's first interrupt check
            RETURN NULL;
        END $$
    """,
    "conflict": """
        CREATE OR REPLACE FUNCTION cw_test_conflict_at_commit() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE unique_violation USING MESSAGE = 'conflict found at commit (test fault)';
        END $$
    """,
}


@asynccontextmanager
async def fault_at_commit(
    engine: AsyncEngine,
    *,
    table: str,
    region_id: uuid.UUID,
    kind: Literal["die", "conflict"] = "die",
) -> AsyncIterator[None]:
    """While the block runs, every commit that inserted a row of ``region_id`` into
    ``table`` fails as ``kind`` says; other regions are untouched."""
    trigger = f"cw_test_{kind}_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(_FUNCTIONS[kind]))
        await conn.execute(
            text(
                f"CREATE CONSTRAINT TRIGGER {trigger} AFTER INSERT ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"WHEN (NEW.region_id = '{region_id}'::uuid) "
                f"EXECUTE FUNCTION cw_test_{kind}_at_commit()"
            )
        )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {table}"))
