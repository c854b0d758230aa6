"""The pending queue: inspections accepted (202) while the registry was unreachable,
finished once it answers (SPEC §7).

:func:`retry_pending` claims one pending inspection at a time and asks the registry
for its context. Valid, it is planned and written exactly as a new inspection would
have been (:func:`.plan.plan_inspection`, then :func:`.writer.finish_pending` — the
same writer and the same child rows as :func:`.service.submit`); not valid (an
unknown point, items of another checklist, a case id taken meanwhile), it becomes
``rejected`` with the problem in ``validation_error`` and gives up its photos.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.ingest import writer
from inspections.ingest.plan import plan_flagged, prepare_stored, utcnow
from inspections.ingest.registry import fetch_context
from inspections.ingest.schemas import InspectionCreate
from inspections.ingest.validation import context_errors, stored_error_list
from shared.db import unit_of_work
from shared.errors import problem
from shared.http_client import UpstreamUnavailable
from shared.models import Inspection, PhotoLink

log = logging.getLogger("chuangwei.inspections.ingest")


async def retry_pending(
    app: FastAPI, *, limit: int = 20, region_id: uuid.UUID | None = None
) -> int:
    """Finish up to ``limit`` pending inspections, each in its own transaction.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several replicas share
    the queue without doing anything twice. Stops early while the registry is
    still unreachable. Returns how many inspections left the pending state — each
    counted only once its transaction has committed. ``region_id`` confines the pass
    to one region (a test finishes only its own rows; the background loop passes none
    and serves every region).
    """
    done = 0
    skipped: list[uuid.UUID] = []
    commit_timeout = app.state.settings.db_commit_timeout_seconds
    # Region by region, so every claim names its region: on Citus it then reaches one
    # shard (row locks cannot span shards there).
    regions = [region_id] if region_id is not None else await _regions_with_pending(app)
    for _ in range(limit):
        finished = False
        async with unit_of_work(app.state.sessionmaker, commit_timeout=commit_timeout) as session:
            inspection = None
            while regions and inspection is None:
                stmt = (
                    select(Inspection)
                    .where(Inspection.region_id == regions[0], Inspection.validation == "pending")
                    .order_by(Inspection.created_at, Inspection.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if skipped:
                    stmt = stmt.where(Inspection.id.not_in(skipped))
                inspection = await session.scalar(stmt)
                if inspection is None:
                    regions.pop(0)  # nothing (left) to claim there
            if inspection is None:
                return done
            try:
                async with session.begin_nested():
                    finished = await _finish_pending(session, app, inspection)
            except UpstreamUnavailable:
                return done
            except Exception:
                log.exception("pending inspection %s could not be finished", inspection.id)
                skipped.append(inspection.id)
        # Here the step's transaction has committed (unit_of_work raises otherwise).
        done += finished
    return done


# Regions with pending inspections, the longest-waiting first (a read without locks).
REGIONS_WITH_PENDING = (
    select(Inspection.region_id)
    .where(Inspection.validation == "pending")
    .group_by(Inspection.region_id)
    .order_by(func.min(Inspection.created_at))
)


async def _regions_with_pending(app: FastAPI) -> list[uuid.UUID]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(REGIONS_WITH_PENDING)).all())


async def _finish_pending(session: AsyncSession, app: FastAPI, inspection: Inspection) -> bool:
    """Finish one claimed pending inspection: valid (written as a new one would have
    been) or rejected. False when it turned out not to be pending any more."""
    region_id = inspection.region_id
    prepared = prepare_stored(inspection.body, inspection.body_hash)
    body = prepared.body
    ctx = await fetch_context(
        app,
        region_id=region_id,
        sample_point_id=inspection.sample_point_id,
        checklist_version=inspection.checklist_version,
    )
    errors = context_errors(body, ctx) + await _case_errors(session, region_id, body)
    if errors:
        await _reject(session, inspection, errors)
        return True
    assert ctx is not None
    plan = await plan_flagged(
        session, prepared, ctx, region_id=region_id, inspector_id=inspection.inspector_id
    )
    conn = await writer.driver(session)
    with writer.translated():
        finished, taken = await writer.finish_pending(
            conn, plan.row, [c.id for c in body.cases], plan.children()
        )
    if taken:  # used by another record since the check above
        await _reject(session, inspection, stored_error_list(body, missing=set(), taken=taken))
        return True
    return finished


async def _case_errors(
    session: AsyncSession, region_id: uuid.UUID, body: InspectionCreate
) -> list[dict[str, Any]]:
    """What the cases of ``body`` meet in this service's rows now: case ids taken by
    another record, case photos no longer stored."""
    conn = await writer.driver(session)
    with writer.translated():
        taken = await writer.taken_cases(conn, region_id, {c.id: body.id for c in body.cases})
        missing = await writer.missing_photos(
            conn, region_id, [p for c in body.cases for p in c.photo_ids]
        )
    errors = stored_error_list(body, missing=missing, taken=taken)
    return [e for e in errors if e["loc"][1] == "cases"]


async def _reject(
    session: AsyncSession, inspection: Inspection, errors: list[dict[str, Any]]
) -> None:
    """Mark the pending inspection ``rejected`` with ``errors``; a rejected visit uses no
    photo, so its corrected resubmission does not look like photo reuse."""
    inspection.validation = "rejected"
    inspection.validation_error = problem(
        422,
        "The inspection was accepted while the registry was unreachable and turned out "
        "not to be valid; see errors.",
        slug="validation-error",
        instance=f"/v1/inspections/{inspection.id}",
        errors=errors,
    )
    inspection.validated_at = utcnow()
    await session.execute(
        delete(PhotoLink).where(
            PhotoLink.region_id == inspection.region_id,
            PhotoLink.owner_kind == "inspection",
            PhotoLink.owner_id == inspection.id,
        )
    )
    await session.flush()
