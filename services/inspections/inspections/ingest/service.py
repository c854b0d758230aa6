"""Inspection ingest: idempotency, anti-fraud flags, writing and the pending path
(the checks live in :mod:`.validation`, the scoring in :mod:`.scoring`).

The rules of a submission:

1. **Idempotency wins.** An inspection already stored under the id answers
   with the stored record when the canonical body (and submitter) hash is the
   same, and 409 otherwise — even if the visit is now too old to submit anew.
2. **Checks that need no registry**: times, duplicates, grade/deduction shape,
   photos uploaded, case ids unused. These fail with 422.
3. **Registry context** (point, checklist version, unit, deadline rules). When
   the registry cannot be reached, the inspection is stored ``pending`` (202)
   and finished later by :func:`retry_pending` (SPEC §7).
4. **Checks against the context**, then scoring, flags, item results, photo
   links and the cases — all in the caller's one transaction.

How (issue 3, the hot path): nothing is read before the write. A refusal looks
the id up first (rule 1); a valid new inspection is scored in Python and
written by one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` statement with its
children (:mod:`inspections.ingest.fast`), which also refuses case ids taken by
other records; inserting nothing means the id is stored and the answer is a
replay. The response is built from memory. The registry is asked before a
database connection is taken. Pending inspections and their later finishing
keep the ORM path (:func:`finalize`); both write the same rows.

Concurrent submissions of one id race on ``INSERT … ON CONFLICT DO NOTHING``:
PostgreSQL makes the losers wait for the winner's commit, and they then
answer like a replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.cases.service import CaseDraft, CasePlan, open_case, plan_case
from inspections.ingest import fast
from inspections.ingest.registry import fetch_context
from inspections.ingest.schemas import InspectionCreate, InspectionRead
from inspections.ingest.scoring import CENT, score_inspection
from inspections.ingest.validation import (
    context_errors,
    context_items,
    deadline_rules,
    item_points,
    static_errors,
    stored_error_list,
    stored_errors,
)
from inspections.photos.service import link_photos
from shared import clock
from shared.auth import Principal
from shared.db import unit_of_work
from shared.errors import AppError, Conflict, Forbidden, Unprocessable, problem
from shared.http_client import UpstreamUnavailable
from shared.models import Inspection, InspectionResult, Photo, PhotoLink

log = logging.getLogger("chuangwei.inspections.ingest")

OFF_SITE_METRES = 300.0
EXIF_TOLERANCE = timedelta(days=1)
SUBMIT_ROLES = ("admin", "inspector", "leader")


def utcnow() -> datetime:
    return clock.now()


# --- hashing -----------------------------------------------------------------


def canonical_body(body: InspectionCreate) -> dict[str, Any]:
    """The body as stored: parsed, defaults filled, times in UTC."""
    return body.model_dump(mode="json")


def canonical_json(body: dict[str, Any]) -> str:
    """The canonical body as JSON text: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash(body: dict[str, Any], inspector_id: uuid.UUID | None) -> str:
    """sha256 of the canonical JSON of the body and its submitter.

    The submitter is part of the hash so that another person replaying someone
    else's id gets 409, never the other person's record.
    """
    return json_hash(canonical_json(body), inspector_id)


def json_hash(body_json: str, inspector_id: uuid.UUID | None) -> str:
    """:func:`body_hash` from the body's canonical JSON: the same text ``json.dumps`` with
    sorted keys gives for ``{"inspector_id": …, "body": …}`` ("body" sorts first)."""
    raw = f'{{"body":{body_json},"inspector_id":{json.dumps(str(inspector_id))}}}'
    return hashlib.sha256(raw.encode()).hexdigest()


# --- anti-fraud flags ----------------------------------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine on a 6 371 km sphere)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))


async def photos_suspect(
    session: AsyncSession, *, region_id: uuid.UUID, inspection_id: uuid.UUID, body: InspectionCreate
) -> bool:
    """True when a photo's bytes were used by another inspection (whatever the photo id),
    or its EXIF time lies more than a day outside the visit."""
    ids = body.photo_ids()
    if not ids:
        return False
    photos = list(
        await session.scalars(select(Photo).where(Photo.region_id == region_id, Photo.id.in_(ids)))
    )
    low, high = body.started_at - EXIF_TOLERANCE, body.finished_at + EXIF_TOLERANCE
    if any(p.taken_at is not None and not (low <= p.taken_at <= high) for p in photos):
        return True
    other = Photo.__table__.alias("other")
    reused = await session.scalar(
        select(func.count())
        .select_from(PhotoLink)
        .join(
            other,
            and_(other.c.region_id == PhotoLink.region_id, other.c.id == PhotoLink.photo_id),
        )
        .where(
            PhotoLink.region_id == region_id,
            PhotoLink.owner_kind == "inspection",
            PhotoLink.owner_id != inspection_id,
            other.c.sha256.in_({p.sha256 for p in photos}),
        )
    )
    return bool(reused)


# --- writing -----------------------------------------------------------------


@dataclass
class Outcome:
    """How a submission ended: ``inspection`` is the stored record (a replay, a pending
    one); a new valid inspection carries its response ``detail``, built from memory."""

    id: uuid.UUID
    status: int  # 201 new, 200 replay, 202 pending
    inspection: Inspection | None = None
    detail: dict[str, Any] | None = None


async def _get(session: AsyncSession, region_id: uuid.UUID, inspection_id: uuid.UUID):
    return await session.scalar(
        select(Inspection)
        .where(Inspection.region_id == region_id, Inspection.id == inspection_id)
        .execution_options(populate_existing=True)
    )


def _replay(existing: Inspection, digest: str) -> Outcome:
    if existing.body_hash != digest:
        raise Conflict(
            "Another inspection was already submitted under this id; "
            "a corrected visit needs a new id.",
            extra={"id": str(existing.id)},
        )
    return Outcome(existing.id, 202 if existing.validation == "pending" else 200, existing)


def check_may_submit(principal: Principal, body: InspectionCreate) -> None:
    """Admins and inspectors submit any source; leaders record their own visits (source
    ``leader``) only; units and services do not submit inspections."""
    if principal.role not in SUBMIT_ROLES:
        raise Forbidden(f"The role '{principal.role}' may not submit inspections.")
    if principal.role == "leader" and body.source != "leader":
        raise Forbidden("Leaders submit their own visits only, with source 'leader'.")


@dataclass
class Prepared:
    """A parsed body with its stored (canonical) form and hash, computed once."""

    body: InspectionCreate
    stored: dict[str, Any]
    body_json: str
    digest: str


def prepare(principal: Principal, body: InspectionCreate) -> Prepared:
    stored = canonical_body(body)
    body_json = canonical_json(stored)
    return Prepared(body, stored, body_json, json_hash(body_json, principal.subject_id))


async def submit(
    session: AsyncSession,
    app: FastAPI,
    *,
    principal: Principal,
    body: InspectionCreate,
    registry_down: bool = False,
) -> Outcome:
    """Store one inspection (see the module docstring); flushes, never commits.

    A new valid inspection is written with raw statements (:mod:`.fast`) and answered
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
    suspect = await photos_suspect(session, region_id=region_id, inspection_id=body.id, body=body)
    plan = plan_inspection(prepared, principal, ctx, suspect=suspect)
    conn = await fast.driver(session)
    with fast.translated():
        created_at, taken = await fast.insert_new(
            conn, plan.row, [c.id for c in body.cases], plan.children()
        )
    if taken:
        errors = stored_error_list(body, missing=set(), taken=taken)
        return await _refuse(session, region_id, prepared, errors)
    if created_at is None:  # stored before, or by a concurrent submission that committed first
        existing = await _get(session, region_id, body.id)
        assert existing is not None
        return _replay(existing, prepared.digest)
    with fast.translated():
        codes = await fast.sorted_codes(conn, [r.item_code for r in body.results])
    return Outcome(body.id, 201, detail=plan.detail(created_at, codes))


async def _stored_errors(
    session: AsyncSession, region_id: uuid.UUID, body: InspectionCreate
) -> list[dict[str, Any]]:
    """:func:`stored_errors` with raw queries."""
    conn = await fast.driver(session)
    with fast.translated():
        missing = await fast.missing_photos(conn, region_id, body.photo_ids())
        taken = await fast.taken_cases(conn, region_id, {c.id: body.id for c in body.cases})
    return stored_error_list(body, missing=missing, taken=taken)


async def _refuse(
    session: AsyncSession, region_id: uuid.UUID, prepared: Prepared, errors: list[dict[str, Any]]
) -> Outcome:
    """422 with ``errors`` — unless the id is already stored: then it is a replay."""
    existing = await _get(session, region_id, prepared.body.id)
    if existing is not None:
        return _replay(existing, prepared.digest)
    raise Unprocessable("The inspection is not valid; see errors.", errors=errors)


async def _store_pending(
    session: AsyncSession, principal: Principal, prepared: Prepared
) -> Outcome:
    """Keep the submission ``pending`` (202) while the registry cannot be asked."""
    body, region_id = prepared.body, principal.region_id
    inserted = await session.scalar(
        insert(Inspection)
        .values(
            region_id=region_id,
            id=body.id,
            sample_point_id=body.sample_point_id,
            checklist_version=body.checklist_version,
            inspector_id=principal.subject_id,
            source=body.source,
            started_at=body.started_at,
            finished_at=body.finished_at,
            lat=body.location.lat if body.location else None,
            lon=body.location.lon if body.location else None,
            accuracy_m=body.location.accuracy_m if body.location else None,
            health_code_checked=body.epidemic.health_code_checked if body.epidemic else None,
            temperature_checked=body.epidemic.temperature_checked if body.epidemic else None,
            masks_worn=body.epidemic.masks_worn if body.epidemic else None,
            vetoed_items=[],
            off_site=False,
            suspect_photos=False,
            validation="pending",
            body=prepared.stored,
            body_hash=prepared.digest,
        )
        .on_conflict_do_nothing()
        .returning(Inspection)
    )
    if inserted is None:  # a concurrent submission of the same id committed first
        existing = await _get(session, region_id, body.id)
        assert existing is not None
        return _replay(existing, prepared.digest)
    await link_photos(
        session,
        region_id=region_id,
        photo_ids=body.photo_ids(),
        owner_kind="inspection",
        owner_id=inserted.id,
    )
    return Outcome(inserted.id, 202, inserted)


def _money(value: Decimal | None) -> Decimal | None:
    """As a ``numeric(10, 2)`` column stores it (half away from zero)."""
    return None if value is None else value.quantize(CENT, ROUND_HALF_UP)


@dataclass
class InspectionPlan:
    """Every row a new valid inspection writes, and what its response needs."""

    id: uuid.UUID
    row: tuple[Any, ...]
    results: list[tuple[Any, ...]]
    cases: list[CasePlan]
    links: list[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID]]
    fields: dict[str, Any]

    def children(self) -> list[list[Any]]:
        """The arrays :func:`fast.insert_new` writes the children from."""
        return fast.children_args(
            self.results,
            [c.case for c in self.cases],
            [e for c in self.cases for e in c.events],
            self.links,
        )

    def detail(self, created_at: datetime, codes: list[str]) -> dict[str, Any]:
        """The :class:`InspectionDetail` of the stored record (as GET reads it back):
        results in the database's item-code order, case ids in (reported_at, id) order."""
        by_code = {r[2]: r for r in self.results}
        results = []
        for code in codes:
            _, _, item_code, outcome, grade, deduction, points, earned, note, photos = by_code[code]
            results.append(
                {
                    "item_code": item_code,
                    "outcome": outcome,
                    "grade": grade,
                    "deduction": _money(deduction),
                    "points": _money(points),
                    "earned": _money(earned),
                    "note": note,
                    "photo_ids": photos,
                }
            )
        case_ids = sorted(c.case["id"] for c in self.cases)  # one reported_at: by id
        return {**self.fields, "created_at": created_at, "results": results, "case_ids": case_ids}


def plan_inspection(
    prepared: Prepared, principal: Principal, ctx: dict[str, Any], *, suspect: bool
) -> InspectionPlan:
    """Score, flag and lay out the rows of a validated new inspection (what
    :func:`finalize` does to a pending one), without touching the database."""
    body, region_id = prepared.body, principal.region_id
    point = ctx.get("sample_point") or {}
    point_type = ctx.get("point_type") or {}
    category = ctx.get("category") or {}
    score = score_inspection(body, ctx)
    items = context_items(ctx)
    point_type_id = _uuid(point.get("point_type_id") or point_type.get("id"))
    category_id = _uuid(point_type.get("category_id") or category.get("id"))
    division_id = _uuid(point.get("division_id"))
    unit_id = _uuid(point.get("unit_id"))
    location, epidemic = body.location, body.epidemic
    distance: float | None = None
    if location is not None and point.get("lat") is not None and point.get("lon") is not None:
        distance = round(distance_m(location.lat, location.lon, point["lat"], point["lon"]), 1)
        off_site = distance > OFF_SITE_METRES
    else:
        off_site = location is None
    validated_at = utcnow()
    inspector_id = principal.subject_id
    fields: dict[str, Any] = {
        "region_id": region_id,
        "id": body.id,
        "sample_point_id": body.sample_point_id,
        "point_type_id": point_type_id,
        "category_id": category_id,
        "division_id": division_id,
        "unit_id": unit_id,
        "checklist_version": body.checklist_version,
        "inspector_id": inspector_id,
        "source": body.source,
        "started_at": body.started_at,
        "finished_at": body.finished_at,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
        "accuracy_m": location.accuracy_m if location else None,
        "distance_m": distance,
        "max_points": score.max_points,
        "earned_points": score.earned_points,
        "score": score.score,
        "passed": score.passed,
        "vetoed_items": score.vetoed_items,
        "off_site": off_site,
        "suspect_photos": suspect,
        "health_code_checked": epidemic.health_code_checked if epidemic else None,
        "temperature_checked": epidemic.temperature_checked if epidemic else None,
        "masks_worn": epidemic.masks_worn if epidemic else None,
        "validation": "valid",
        "body": prepared.body_json,
        "body_hash": prepared.digest,
        "validated_at": validated_at,
    }
    row = tuple(fields[c] for c in fast.INSPECTION_COLUMNS)
    results = [
        (
            region_id,
            body.id,
            r.item_code,
            r.outcome,
            r.grade,
            Decimal(str(r.deduction)) if r.deduction is not None else None,
            item_points(items[r.item_code]),
            score.earned[r.item_code],
            r.note,
            list(r.photo_ids),
        )
        for r in body.results
    ]
    links = [(region_id, p, "inspection", body.id) for p in body.photo_ids()]
    cases: list[CasePlan] = []
    if body.cases:
        deadlines = deadline_rules(ctx)
        for case in body.cases:
            where = case.location or location
            plan = plan_case(
                region_id=region_id,
                draft=CaseDraft(
                    id=case.id,
                    source=body.source,
                    description=case.description,
                    severity=case.severity,
                    reported_at=body.finished_at,
                    reporter_id=inspector_id,
                    sample_point_id=body.sample_point_id,
                    inspection_id=body.id,
                    item_code=case.item_code,
                    category_id=category_id,
                    point_type_id=point_type_id,
                    division_id=division_id,
                    unit_id=unit_id,
                    lat=where.lat if where else point.get("lat"),
                    lon=where.lon if where else point.get("lon"),
                    address=point.get("address"),
                    photo_ids=tuple(case.photo_ids),
                ),
                deadlines=deadlines,
            )
            cases.append(plan)
            links += [(region_id, p, "case", case.id) for p in plan.case["photo_ids"]]
    response = {
        name: fields[name]
        for name in _READ_FIELDS
        if name not in ("location", "epidemic", "created_at", "validation_error")
    }
    response["location"] = (
        {"lat": location.lat, "lon": location.lon, "accuracy_m": location.accuracy_m}
        if location is not None
        else None
    )
    response["epidemic"] = {
        "health_code_checked": fields["health_code_checked"],
        "temperature_checked": fields["temperature_checked"],
        "masks_worn": fields["masks_worn"],
    }
    response["validation_error"] = None
    response["vetoed_items"] = list(score.vetoed_items)
    return InspectionPlan(body.id, row, results, cases, links, response)


_READ_FIELDS = tuple(InspectionRead.model_fields)


async def write_children(conn: Any, region_id: uuid.UUID, plans: list[InspectionPlan]) -> None:
    """The item results, cases, case events and photo links of inserted inspections."""
    await fast.insert_children(
        conn,
        region_id,
        [r for p in plans for r in p.results],
        [c.case for p in plans for c in p.cases],
        [e for p in plans for c in p.cases for e in c.events],
        [link for p in plans for link in p.links],
    )


async def finalize(
    session: AsyncSession, inspection: Inspection, body: InspectionCreate, ctx: dict[str, Any]
) -> None:
    """Score a validated inspection, flag it, write its item results and open its cases."""
    region_id = inspection.region_id
    point = ctx.get("sample_point") or {}
    point_type = ctx.get("point_type") or {}
    category = ctx.get("category") or {}
    result = score_inspection(body, ctx)
    items = context_items(ctx)

    inspection.point_type_id = _uuid(point.get("point_type_id") or point_type.get("id"))
    inspection.category_id = _uuid(point_type.get("category_id") or category.get("id"))
    inspection.division_id = _uuid(point.get("division_id"))
    inspection.unit_id = _uuid(point.get("unit_id"))
    inspection.max_points = result.max_points
    inspection.earned_points = result.earned_points
    inspection.score = result.score
    inspection.passed = result.passed
    inspection.vetoed_items = result.vetoed_items
    if body.location is not None and point.get("lat") is not None and point.get("lon") is not None:
        inspection.distance_m = round(
            distance_m(body.location.lat, body.location.lon, point["lat"], point["lon"]), 1
        )
        inspection.off_site = inspection.distance_m > OFF_SITE_METRES
    else:
        inspection.distance_m = None
        inspection.off_site = body.location is None
    inspection.suspect_photos = await photos_suspect(
        session, region_id=region_id, inspection_id=inspection.id, body=body
    )
    inspection.validation = "valid"
    inspection.validation_error = None
    inspection.validated_at = utcnow()

    # The inspection's UPDATE first (the results reference it), then every item result in
    # one multi-row INSERT: no per-row unit-of-work bookkeeping.
    await session.flush()
    await session.execute(
        insert(InspectionResult).values(
            [
                {
                    "region_id": region_id,
                    "inspection_id": inspection.id,
                    "item_code": r.item_code,
                    "outcome": r.outcome,
                    "grade": r.grade,
                    "deduction": Decimal(str(r.deduction)) if r.deduction is not None else None,
                    "points": item_points(items[r.item_code]),
                    "earned": result.earned[r.item_code],
                    "note": r.note,
                    "photo_ids": list(r.photo_ids),
                }
                for r in body.results
            ]
        )
    )
    await link_photos(
        session,
        region_id=region_id,
        photo_ids=body.photo_ids(),
        owner_kind="inspection",
        owner_id=inspection.id,
    )
    if body.cases:
        deadlines = deadline_rules(ctx)
        for case in body.cases:
            where = case.location or body.location
            await open_case(
                session,
                region_id=region_id,
                draft=CaseDraft(
                    id=case.id,
                    source=body.source,
                    description=case.description,
                    severity=case.severity,
                    reported_at=body.finished_at,
                    reporter_id=inspection.inspector_id,
                    sample_point_id=inspection.sample_point_id,
                    inspection_id=inspection.id,
                    item_code=case.item_code,
                    category_id=inspection.category_id,
                    point_type_id=inspection.point_type_id,
                    division_id=inspection.division_id,
                    unit_id=inspection.unit_id,
                    lat=where.lat if where else point.get("lat"),
                    lon=where.lon if where else point.get("lon"),
                    address=point.get("address"),
                    photo_ids=tuple(case.photo_ids),
                ),
                deadlines=deadlines,
                refresh=False,
            )
    await session.flush()  # the cases and their events, batched


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


# --- batch -------------------------------------------------------------------


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
    conn = await fast.driver(session)
    with fast.translated():
        stored = {
            r[0]: r[1] for r in await conn.fetch(_STORED, region_id, [q.body.id for q in run])
        }
        taken = await fast.taken_cases(
            conn, region_id, {c.id: q.body.id for q in run for c in q.body.cases}
        )
    cut = next((i for i, q in enumerate(run) if stored.get(q.body.id) == "pending"), len(run))
    head, tail = run[:cut], run[cut:]
    alone = [q for q in head if q.body.id in stored or any(c.id in taken for c in q.body.cases)]
    together = [q for q in head if q not in alone]
    plans = [
        plan_inspection(prepare(principal, q.body), principal, q.ctx or {}, suspect=False)
        for q in together
    ]
    try:
        async with session.begin_nested():
            with fast.translated():
                created = await fast.insert_inspections(conn, [p.row for p in plans])
                await write_children(conn, region_id, [p for p in plans if p.id in created])
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


# --- the pending queue ---------------------------------------------------------


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
    body = InspectionCreate.model_validate(inspection.body)
    ctx = await fetch_context(
        app,
        region_id=inspection.region_id,
        sample_point_id=inspection.sample_point_id,
        checklist_version=inspection.checklist_version,
    )
    errors = context_errors(body, ctx)
    errors += [
        e
        for e in await stored_errors(session, region_id=inspection.region_id, body=body)
        if e["loc"][1] == "cases"
    ]
    if errors:
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
        # A rejected visit uses no photo: its corrected resubmission must not look like reuse.
        await session.execute(
            delete(PhotoLink).where(
                PhotoLink.region_id == inspection.region_id,
                PhotoLink.owner_kind == "inspection",
                PhotoLink.owner_id == inspection.id,
            )
        )
        await session.flush()
        return True
    await finalize(session, inspection, body, ctx or {})
    return True
