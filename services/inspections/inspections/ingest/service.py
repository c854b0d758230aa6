"""Submitting one inspection: idempotency, the checks, and the one write.

The flow of :func:`submit` (a batch runs each item through the same rules,
:mod:`.batch`):

1. **May this caller submit?** Admins and inspectors any source, leaders their own
   visits only (403).
2. **Checks that need no registry** (:func:`.validation.static_errors`): times,
   duplicates, grade/deduction shape. A refusal (422) first looks the id up —
   **idempotency wins**: an id already stored answers with the stored record when
   the body (and submitter) hash is the same (200, or 202 while pending) and 409
   otherwise, even if the visit is now too old to submit anew.
3. **The registry context** (point, checklist version, unit, deadline rules), asked
   before a database connection is taken. When the registry cannot be reached the
   inspection is stored ``pending`` (202) and finished later by
   :func:`.pending.retry_pending` (SPEC §7).
4. **Checks against what this service stores** (photos uploaded, case ids unused)
   and **against the context** (items of the checklist version …) — 422.
5. **Plan and write**: scored, flagged and laid out in Python
   (:func:`.plan.plan_inspection`), then written by one ``INSERT … ON CONFLICT DO
   NOTHING`` statement with its children (:func:`.writer.insert_new`), which also
   refuses case ids taken by other records. Inserting nothing means the id is
   stored: the answer is a replay. The 201 answer is built from memory.

Concurrent submissions of one id race on that insert: PostgreSQL makes the losers
wait for the winner's commit, and they then answer like a replay. Everything runs
in the caller's one transaction; this module flushes and never commits.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.ingest import writer
from inspections.ingest.plan import Prepared, pending_row, plan_flagged, prepare, utcnow
from inspections.ingest.registry import fetch_context
from inspections.ingest.schemas import InspectionCreate
from inspections.ingest.validation import context_errors, static_errors, stored_error_list
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, Unprocessable
from shared.http_client import UpstreamUnavailable
from shared.models import Inspection

log = logging.getLogger("chuangwei.inspections.ingest")

SUBMIT_ROLES = ("admin", "inspector", "leader")


@dataclass
class Outcome:
    """How a submission ended: ``inspection`` is the stored record (a replay, a pending
    one); a new valid inspection carries its response ``detail``, built from memory."""

    id: uuid.UUID
    status: int  # 201 new, 200 replay, 202 pending
    inspection: Inspection | None = None
    detail: dict[str, Any] | None = None


async def submit(
    session: AsyncSession,
    app: FastAPI,
    *,
    principal: Principal,
    body: InspectionCreate,
    registry_down: bool = False,
) -> Outcome:
    """Store one inspection (see the module docstring); flushes, never commits.

    A new valid inspection is written with raw statements (:mod:`.writer`) and answered
    from memory; the id already stored shows as an ``INSERT … ON CONFLICT`` that
    inserts nothing and answers like a replay. Refusals look the id up first, so a
    replay always wins over a refusal.
    """
    check_may_submit(principal, body)
    prepared = prepare(principal, body)
    region_id = principal.region_id
    errors = static_errors(body, utcnow())
    if errors:
        errors += await _stored_errors(session, region_id, body)
        return await _refuse(session, region_id, prepared, errors)

    # The registry first: a request waiting on it holds no database connection.
    ctx: dict[str, Any] | None = None
    pending = registry_down
    if not pending:
        try:
            ctx = await fetch_context(
                app,
                region_id=region_id,
                sample_point_id=body.sample_point_id,
                checklist_version=body.checklist_version,
            )
        except UpstreamUnavailable as exc:
            log.warning("registry unavailable; inspection %s kept pending: %s", body.id, exc)
            pending = True
    # What this service stores is checked before the context (photos, taken case ids);
    # without photos the case-id check rides on the insert itself.
    checked = pending or bool(body.photo_ids())
    if checked:
        errors = await _stored_errors(session, region_id, body)
        if errors:
            return await _refuse(session, region_id, prepared, errors)
    if pending:
        return await _store_pending(session, principal, prepared)
    errors = context_errors(body, ctx)
    if errors:
        stored = [] if checked else await _stored_errors(session, region_id, body)
        return await _refuse(session, region_id, prepared, stored or errors)
    assert ctx is not None
    plan = await plan_flagged(
        session, prepared, ctx, region_id=region_id, inspector_id=principal.subject_id
    )
    conn = await writer.driver(session)
    with writer.translated():
        created_at, taken = await writer.insert_new(
            conn, plan.row, [c.id for c in body.cases], plan.children()
        )
    if taken:
        errors = stored_error_list(body, missing=set(), taken=taken)
        return await _refuse(session, region_id, prepared, errors)
    if created_at is None:  # stored before, or by a concurrent submission that committed first
        existing = await _get(session, region_id, body.id)
        assert existing is not None
        return _replay(existing, prepared.digest)
    with writer.translated():
        codes = await writer.sorted_codes(conn, [r.item_code for r in body.results])
    return Outcome(body.id, 201, detail=plan.detail(created_at, codes))


def check_may_submit(principal: Principal, body: InspectionCreate) -> None:
    """Admins and inspectors submit any source; leaders record their own visits (source
    ``leader``) only; units and services do not submit inspections."""
    if principal.role not in SUBMIT_ROLES:
        raise Forbidden(f"The role '{principal.role}' may not submit inspections.")
    if principal.role == "leader" and body.source != "leader":
        raise Forbidden("Leaders submit their own visits only, with source 'leader'.")


# --- helpers -----------------------------------------------------------------


async def _stored_errors(
    session: AsyncSession, region_id: uuid.UUID, body: InspectionCreate
) -> list[dict[str, Any]]:
    """:func:`stored_errors` with raw queries."""
    conn = await writer.driver(session)
    with writer.translated():
        missing = await writer.missing_photos(conn, region_id, body.photo_ids())
        taken = await writer.taken_cases(conn, region_id, {c.id: body.id for c in body.cases})
    return stored_error_list(body, missing=missing, taken=taken)


async def _refuse(
    session: AsyncSession, region_id: uuid.UUID, prepared: Prepared, errors: list[dict[str, Any]]
) -> Outcome:
    """422 with ``errors`` — unless the id is already stored: then it is a replay."""
    existing = await _get(session, region_id, prepared.body.id)
    if existing is not None:
        return _replay(existing, prepared.digest)
    raise Unprocessable("The inspection is not valid; see errors.", errors=errors)


def _replay(existing: Inspection, digest: str) -> Outcome:
    if existing.body_hash != digest:
        raise Conflict(
            "Another inspection was already submitted under this id; "
            "a corrected visit needs a new id.",
            extra={"id": str(existing.id)},
        )
    return Outcome(existing.id, 202 if existing.validation == "pending" else 200, existing)


async def _get(session: AsyncSession, region_id: uuid.UUID, inspection_id: uuid.UUID):
    return await session.scalar(
        select(Inspection)
        .where(Inspection.region_id == region_id, Inspection.id == inspection_id)
        .execution_options(populate_existing=True)
    )


async def _store_pending(
    session: AsyncSession, principal: Principal, prepared: Prepared
) -> Outcome:
    """Keep the submission ``pending`` (202) while the registry cannot be asked: its row
    and its photo links, by the same writer that later finishes it."""
    body, region_id = prepared.body, principal.region_id
    row = pending_row(prepared, region_id=region_id, inspector_id=principal.subject_id)
    links = [(region_id, p, "inspection", body.id) for p in dict.fromkeys(body.photo_ids())]
    conn = await writer.driver(session)
    with writer.translated():
        inserted = await writer.insert_inspections(conn, [row])
        if inserted:
            await writer.insert_children(conn, region_id, [], [], [], links)
    stored = await _get(session, region_id, body.id)
    assert stored is not None
    if not inserted:  # a concurrent submission of the same id committed first
        return _replay(stored, prepared.digest)
    return Outcome(body.id, 202, stored)
