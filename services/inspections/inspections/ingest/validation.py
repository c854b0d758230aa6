"""The checks a submission must pass: on the body alone, against stored data, and
against the registry's context for the sample point. Each problem is one
``{loc, msg}`` entry of a 422 problem; none is ever silently dropped."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.ingest.schemas import InspectionCreate
from inspections.photos.service import missing_photos
from shared.models import Case
from shared.workdays import DeadlineRules

CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)


def _err(loc: list[Any], msg: str) -> dict[str, Any]:
    return {"loc": ["body", *[str(p) for p in loc]], "msg": msg}


def static_errors(body: InspectionCreate, now: datetime) -> list[dict[str, Any]]:
    """Problems visible in the body alone (times, duplicates, grade/deduction shape)."""
    errors: list[dict[str, Any]] = []
    if body.finished_at < body.started_at:
        errors.append(_err(["finished_at"], "finished_at is before started_at"))
    for name in ("started_at", "finished_at"):
        value: datetime = getattr(body, name)
        if value > now + CLOCK_SKEW:
            errors.append(_err([name], "is in the future (more than 5 minutes ahead)"))
        elif value < now - MAX_AGE:
            errors.append(_err([name], "is more than 30 days ago; too old to submit"))
    seen: set[str] = set()
    for i, result in enumerate(body.results):
        if result.item_code in seen:
            errors.append(_err(["results", i, "item_code"], "item answered twice"))
        seen.add(result.item_code)
        if result.outcome == "na" and (result.grade is not None or result.deduction is not None):
            errors.append(_err(["results", i], "an 'na' item takes neither grade nor deduction"))
        if result.grade is not None and result.deduction is not None:
            errors.append(_err(["results", i], "give a grade or a deduction, not both"))
    case_ids: set[uuid.UUID] = set()
    for i, case in enumerate(body.cases):
        if case.id in case_ids:
            errors.append(_err(["cases", i, "id"], "case id used twice"))
        case_ids.add(case.id)
        if case.id == body.id:
            errors.append(_err(["cases", i, "id"], "a case needs an id of its own"))
    return errors


async def stored_errors(
    session: AsyncSession, *, region_id: uuid.UUID, body: InspectionCreate
) -> list[dict[str, Any]]:
    """Problems against what this service stores: photos not uploaded, case ids taken."""
    missing = set(await missing_photos(session, region_id=region_id, photo_ids=body.photo_ids()))
    taken: set[uuid.UUID] = set()
    if body.cases:
        # Cases of this very inspection are a concurrent replay, not a clash.
        taken = set(
            await session.scalars(
                select(Case.id).where(
                    Case.region_id == region_id,
                    Case.id.in_([c.id for c in body.cases]),
                    or_(Case.inspection_id.is_(None), Case.inspection_id != body.id),
                )
            )
        )
    return stored_error_list(body, missing=missing, taken=taken)


def stored_error_list(
    body: InspectionCreate, *, missing: set[uuid.UUID], taken: set[uuid.UUID]
) -> list[dict[str, Any]]:
    """The entries of :func:`stored_errors` given the photos not uploaded and the case ids
    used by other records."""
    errors: list[dict[str, Any]] = []
    if missing:
        for i, result in enumerate(body.results):
            for j, photo_id in enumerate(result.photo_ids):
                if photo_id in missing:
                    errors.append(
                        _err(["results", i, "photo_ids", j], f"photo {photo_id} was not uploaded")
                    )
        for i, case in enumerate(body.cases):
            for j, photo_id in enumerate(case.photo_ids):
                if photo_id in missing:
                    errors.append(
                        _err(["cases", i, "photo_ids", j], f"photo {photo_id} was not uploaded")
                    )
    if taken:
        for i, case in enumerate(body.cases):
            if case.id in taken:
                errors.append(_err(["cases", i, "id"], "a case with this id already exists"))
    return errors


# --- checks against the registry context --------------------------------------


def item_points(item: dict[str, Any]) -> Decimal:
    """A checklist item's points, exactly."""
    return Decimal(str(item["points"]))


def context_items(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The checklist items by code, computed once per (cached) context."""
    items = ctx.get("_items_by_code")
    if items is None:
        checklist = ctx.get("checklist") or {}
        items = {item["code"]: item for item in checklist.get("items") or []}
        ctx["_items_by_code"] = items
    return items


def deadline_rules(ctx: dict[str, Any]) -> DeadlineRules:
    """The context's deadline policy and calendar, parsed once per (cached) context."""
    rules = ctx.get("_deadline_rules")
    if rules is None:
        rules = DeadlineRules.from_context(ctx)
        ctx["_deadline_rules"] = rules
    return rules


def context_errors(body: InspectionCreate, ctx: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Problems against the registry: the point, the checklist version and its items.

    Every item of the checklist version must be answered (``na`` when it does
    not apply): a silently skipped item would inflate the score.
    """
    if ctx is None:
        return [_err(["sample_point_id"], "no such sample point in this region")]
    errors: list[dict[str, Any]] = []
    point = ctx.get("sample_point") or {}
    if point.get("status", "active") != "active":
        errors.append(_err(["sample_point_id"], "the sample point is retired"))
    if not ctx.get("checklist"):
        current = ctx.get("current_checklist_version")
        errors.append(
            _err(
                ["checklist_version"],
                f"checklist version {body.checklist_version} does not exist for this point's "
                f"type (current version: {current})",
            )
        )
        return errors
    items = context_items(ctx)
    answered: set[str] = set()
    for i, result in enumerate(body.results):
        item = items.get(result.item_code)
        answered.add(result.item_code)
        if item is None:
            errors.append(
                _err(
                    ["results", i, "item_code"],
                    f"'{result.item_code}' is not an item of checklist version "
                    f"{body.checklist_version}",
                )
            )
            continue
        if result.deduction is not None and Decimal(str(result.deduction)) > item_points(item):
            errors.append(
                _err(
                    ["results", i, "deduction"],
                    f"a deduction may be at most the item's {item['points']} points",
                )
            )
    for code in items:
        if code not in answered:
            errors.append(
                _err(["results"], f"item '{code}' is not answered (send 'na' if it does not apply)")
            )
    for i, case in enumerate(body.cases):
        if case.item_code is not None and case.item_code not in items:
            errors.append(
                _err(
                    ["cases", i, "item_code"],
                    f"'{case.item_code}' is not an item of checklist version "
                    f"{body.checklist_version}",
                )
            )
    return errors
