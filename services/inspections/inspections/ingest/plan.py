"""What a validated inspection writes, laid out in Python before any database work:
its stored body and hash (idempotency), its anti-fraud flags, its score, and every
row — the inspection, item results, cases with their events and due dates, photo
links — with the fields of its response. :mod:`.writer` writes the rows."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from inspections.cases.service import CaseDraft, CasePlan, plan_case
from inspections.ingest import writer
from inspections.ingest.schemas import InspectionCreate, InspectionRead
from inspections.ingest.scoring import CENT, score_inspection
from inspections.ingest.validation import context_items, deadline_rules, item_points
from shared import clock
from shared.auth import Principal

OFF_SITE_METRES = 300.0
EXIF_TOLERANCE = timedelta(days=1)


@dataclass
class Prepared:
    """A parsed body with its stored (canonical) form and hash, computed once."""

    body: InspectionCreate
    stored: dict[str, Any]
    body_json: str
    digest: str


def prepare(principal: Principal, body: InspectionCreate) -> Prepared:
    """The body of ``principal``'s submission in its stored form, with its hash."""
    stored = canonical_body(body)
    body_json = canonical_json(stored)
    return Prepared(body, stored, body_json, json_hash(body_json, principal.subject_id))


def prepare_stored(stored: dict[str, Any], digest: str) -> Prepared:
    """A stored (pending) body, parsed again; its hash stays the one it was stored with."""
    return Prepared(InspectionCreate.model_validate(stored), stored, canonical_json(stored), digest)


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
        """The arrays :mod:`.writer` writes the children from."""
        return writer.children_args(
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


async def plan_flagged(
    session: AsyncSession,
    prepared: Prepared,
    ctx: dict[str, Any],
    *,
    region_id: uuid.UUID,
    inspector_id: uuid.UUID | None,
) -> InspectionPlan:
    """:func:`plan_inspection` with its photo flag, which needs the photos stored."""
    body = prepared.body
    suspect = await photos_suspect(session, region_id=region_id, inspection_id=body.id, body=body)
    return plan_inspection(
        prepared, ctx, region_id=region_id, inspector_id=inspector_id, suspect=suspect
    )


def _submitted_fields(
    prepared: Prepared, *, region_id: uuid.UUID, inspector_id: uuid.UUID | None
) -> dict[str, Any]:
    """The inspection row's columns taken from the submission as it came; the rest unset."""
    body = prepared.body
    location, epidemic = body.location, body.epidemic
    fields: dict[str, Any] = dict.fromkeys(writer.INSPECTION_COLUMNS)
    fields.update(
        region_id=region_id,
        id=body.id,
        sample_point_id=body.sample_point_id,
        checklist_version=body.checklist_version,
        inspector_id=inspector_id,
        source=body.source,
        started_at=body.started_at,
        finished_at=body.finished_at,
        lat=location.lat if location else None,
        lon=location.lon if location else None,
        accuracy_m=location.accuracy_m if location else None,
        health_code_checked=epidemic.health_code_checked if epidemic else None,
        temperature_checked=epidemic.temperature_checked if epidemic else None,
        masks_worn=epidemic.masks_worn if epidemic else None,
        body=prepared.body_json,
        body_hash=prepared.digest,
    )
    return fields


def pending_row(
    prepared: Prepared, *, region_id: uuid.UUID, inspector_id: uuid.UUID | None
) -> tuple[Any, ...]:
    """The row of an inspection kept ``pending`` while the registry cannot be asked
    (laid out as ``writer.INSPECTION_COLUMNS``): the submission, not scored yet."""
    fields = _submitted_fields(prepared, region_id=region_id, inspector_id=inspector_id)
    fields.update(vetoed_items=[], off_site=False, suspect_photos=False, validation="pending")
    return tuple(fields[c] for c in writer.INSPECTION_COLUMNS)


def plan_inspection(
    prepared: Prepared,
    ctx: dict[str, Any],
    *,
    region_id: uuid.UUID,
    inspector_id: uuid.UUID | None,
    suspect: bool,
) -> InspectionPlan:
    """Score, flag and lay out every row of a validated inspection — a new one, or a
    pending one the registry has now answered for — without touching the database."""
    body = prepared.body
    point = ctx.get("sample_point") or {}
    point_type = ctx.get("point_type") or {}
    category = ctx.get("category") or {}
    score = score_inspection(body, ctx)
    items = context_items(ctx)
    point_type_id = _uuid(point.get("point_type_id") or point_type.get("id"))
    category_id = _uuid(point_type.get("category_id") or category.get("id"))
    division_id = _uuid(point.get("division_id"))
    unit_id = _uuid(point.get("unit_id"))
    location = body.location
    distance: float | None = None
    if location is not None and point.get("lat") is not None and point.get("lon") is not None:
        distance = round(distance_m(location.lat, location.lon, point["lat"], point["lon"]), 1)
        off_site = distance > OFF_SITE_METRES
    else:
        off_site = location is None
    validated_at = utcnow()
    fields = _submitted_fields(prepared, region_id=region_id, inspector_id=inspector_id)
    fields.update(
        point_type_id=point_type_id,
        category_id=category_id,
        division_id=division_id,
        unit_id=unit_id,
        distance_m=distance,
        max_points=score.max_points,
        earned_points=score.earned_points,
        score=score.score,
        passed=score.passed,
        vetoed_items=score.vetoed_items,
        off_site=off_site,
        suspect_photos=suspect,
        validation="valid",
        validated_at=validated_at,
    )
    row = tuple(fields[c] for c in writer.INSPECTION_COLUMNS)
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
    window = (body.started_at - EXIF_TOLERANCE, body.finished_at + EXIF_TOLERANCE)
    conn = await writer.driver(session)
    with writer.translated():
        return await writer.photos_suspect(conn, region_id, inspection_id, ids, window)


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


# --- helpers -----------------------------------------------------------------


def _money(value: Decimal | None) -> Decimal | None:
    """As a ``numeric(10, 2)`` column stores it (half away from zero)."""
    return None if value is None else value.quantize(CENT, ROUND_HALF_UP)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def utcnow() -> datetime:
    return clock.now()
