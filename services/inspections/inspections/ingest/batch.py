"""Submitting a batch (an offline phone catching up): each item stored or refused on its
own, by the same rules as one submission (:func:`.service.submit`), runs of new valid
items written together by :mod:`.writer`."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.ingest import writer
from inspections.ingest.plan import InspectionPlan, plan_inspection, prepare, utcnow
from inspections.ingest.registry import fetch_context
from inspections.ingest.schemas import InspectionCreate
from inspections.ingest.service import check_may_submit, submit
from inspections.ingest.validation import context_errors, static_errors
from shared.auth import Principal
from shared.errors import AppError, Forbidden, problem
from shared.http_client import UpstreamUnavailable

log = logging.getLogger("chuangwei.inspections.ingest")


async def submit_batch(
    session: AsyncSession, app: FastAPI, *, principal: Principal, items: list[Any]
) -> list[dict[str, Any]]:
    """Store each inspection on its own and report per item, in order.

    Items are checked and scored in Python first; a run of new, valid items without
    photos is then written together (one multi-row statement per table). Anything else
    — an invalid or forbidden item, an id or case id used earlier in the batch, photos
    (their reuse check sees the items before), the registry down — goes through
    :func:`submit` on its own, in a savepoint, after the items before it are written,
    so every item sees the batch's earlier items exactly as one-by-one submission would.

    Once the registry proves unreachable, the rest of the batch goes straight
    to pending instead of waiting on it again for every item.
    """
    results: list[dict[str, Any] | None] = [None] * len(items)
    run: list[_Queued] = []
    seen_ids: set[uuid.UUID] = set()
    seen_cases: set[uuid.UUID] = set()
    registry_down = False
    for index, raw in enumerate(items):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        item_id = raw_id if isinstance(raw_id, str) else None
        instance = f"/v1/inspections/batch#/inspections/{index}"
        try:
            body = InspectionCreate.model_validate(raw)
        except ValidationError as exc:
            results[index] = {
                "id": item_id,
                "status": 422,
                "error": problem(
                    422,
                    "The inspection is not valid; see errors.",
                    slug="validation-error",
                    instance=instance,
                    errors=_pydantic_errors(exc),
                ),
            }
            continue
        case_ids = [c.id for c in body.cases]
        bulk = (
            not registry_down
            and body.id not in seen_ids
            and seen_cases.isdisjoint(case_ids)
            and not body.photo_ids()
            and _may_submit(principal, body)
            and not static_errors(body, utcnow())
        )
        seen_ids.add(body.id)
        seen_cases.update(case_ids)
        queued = _Queued(index, instance, body)
        if bulk:
            try:
                ctx = await fetch_context(
                    app,
                    region_id=principal.region_id,
                    sample_point_id=body.sample_point_id,
                    checklist_version=body.checklist_version,
                )
            except UpstreamUnavailable as exc:
                log.warning("registry unavailable; inspection %s kept pending: %s", body.id, exc)
                registry_down = True
            else:
                if not context_errors(body, ctx):
                    assert ctx is not None
                    queued.ctx = ctx
                    run.append(queued)
                    continue
        registry_down = await _write_run(session, app, principal, run, results, registry_down)
        run = []
        results[index], down = await _submit_one(session, app, principal, queued, registry_down)
        registry_down = registry_down or down
    await _write_run(session, app, principal, run, results, registry_down)
    return [r for r in results if r is not None]


@dataclass
class _Queued:
    index: int
    instance: str
    body: InspectionCreate
    ctx: dict[str, Any] | None = None


def _may_submit(principal: Principal, body: InspectionCreate) -> bool:
    try:
        check_may_submit(principal, body)
    except Forbidden:
        return False
    return True


async def _submit_one(
    session: AsyncSession, app: FastAPI, principal: Principal, item: _Queued, registry_down: bool
) -> tuple[dict[str, Any], bool]:
    """One item through :func:`submit` in a savepoint: its result, and whether it proved
    the registry down."""
    try:
        async with session.begin_nested():
            outcome = await submit(
                session, app, principal=principal, body=item.body, registry_down=registry_down
            )
    except AppError as exc:
        return _refused(item, exc), False
    except IntegrityError:
        error = problem(
            409,
            "The inspection conflicts with existing data.",
            slug="conflict",
            instance=item.instance,
        )
        return {"id": str(item.body.id), "status": 409, "error": error}, False
    down = outcome.status == 202 and (
        outcome.inspection is not None and outcome.inspection.validation == "pending"
    )
    return {"id": str(item.body.id), "status": outcome.status}, down


def _refused(item: _Queued, exc: AppError) -> dict[str, Any]:
    return {
        "id": str(item.body.id),
        "status": exc.status,
        "error": problem(
            exc.status,
            exc.detail,
            slug=exc.slug,
            instance=item.instance,
            errors=exc.errors,
            extra=exc.extra,
        ),
    }


_STORED = "SELECT id, validation FROM inspections WHERE region_id = $1 AND id = ANY($2::uuid[])"


async def _write_run(
    session: AsyncSession,
    app: FastAPI,
    principal: Principal,
    run: list[_Queued],
    results: list[dict[str, Any] | None],
    registry_down: bool,
) -> bool:
    """Write a run of new-looking valid items together; returns ``registry_down``.

    Items whose id is already stored or whose case ids are taken write nothing (a replay
    or a 422), so they are answered one by one after the others. A stored *pending* id
    answers 202, which — as one by one — sends the items after it to pending: the run
    is cut there. A unique violation (a concurrent writer) rolls the run back and
    submits its items one by one.
    """
    if not run:
        return registry_down
    region_id = principal.region_id
    conn = await writer.driver(session)
    with writer.translated():
        stored = {
            r[0]: r[1] for r in await conn.fetch(_STORED, region_id, [q.body.id for q in run])
        }
        taken = await writer.taken_cases(
            conn, region_id, {c.id: q.body.id for q in run for c in q.body.cases}
        )
    cut = next((i for i, q in enumerate(run) if stored.get(q.body.id) == "pending"), len(run))
    head, tail = run[:cut], run[cut:]
    alone = [q for q in head if q.body.id in stored or any(c.id in taken for c in q.body.cases)]
    together = [q for q in head if q not in alone]
    plans = [
        plan_inspection(
            prepare(principal, q.body),
            q.ctx or {},
            region_id=region_id,
            inspector_id=principal.subject_id,
            suspect=False,
        )
        for q in together
    ]
    try:
        async with session.begin_nested():
            with writer.translated():
                created = await writer.insert_inspections(conn, [p.row for p in plans])
                await _write_children(conn, region_id, [p for p in plans if p.id in created])
    except IntegrityError:
        alone, created = head, {}
    for q in together:
        if q.body.id in created:
            results[q.index] = {"id": str(q.body.id), "status": 201}
        elif q not in alone:  # stored meanwhile by a concurrent submission: a replay
            alone.append(q)
    for q in sorted(alone, key=lambda q: q.index):
        results[q.index], down = await _submit_one(session, app, principal, q, registry_down)
        registry_down = registry_down or down
    for q in tail:
        results[q.index], down = await _submit_one(session, app, principal, q, registry_down)
        registry_down = registry_down or down
    return registry_down


def _pydantic_errors(exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        msg = "unknown field" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
        out.append(
            {
                "loc": ["body", *[str(p) for p in err.get("loc", ())]],
                "msg": msg,
                "type": err.get("type"),
            }
        )
    return out


async def _write_children(conn: Any, region_id: uuid.UUID, plans: list[InspectionPlan]) -> None:
    """The item results, cases, case events and photo links of inserted inspections."""
    await writer.insert_children(
        conn,
        region_id,
        [r for p in plans for r in p.results],
        [c.case for p in plans for c in p.cases],
        [e for p in plans for c in p.cases for e in c.events],
        [link for p in plans for link in p.links],
    )
