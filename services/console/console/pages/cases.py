"""The case board, a case with its photos and timeline, and the workflow actions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from console.api import ApiError
from console.i18n import translate
from console.web import CheckedForm, CurrentViewer, Viewer, flash, language, render
from shared.vocabulary import CaseSource, CaseStatus

router = APIRouter()

STATUSES = get_args(CaseStatus)
SOURCES = get_args(CaseSource)
# The fields each action's form shows; the API decides what is required and allowed.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "dispatch": ("unit_id", "due_at", "note"),
    "cancel": ("note",),
    "mark_duplicate": ("duplicate_of", "note"),
    "return": ("note",),
    "request_extension": ("due_at", "note"),
    "extend": ("due_at", "note"),
    "rectify": ("photo", "note"),
    "verify": ("note",),
    "reject": ("note",),
    "park": ("note",),
    "resume": ("due_at", "note"),
}


async def unit_names(viewer: Viewer) -> dict[str, str]:
    """Unit id → name, to show names where the API gives ids."""
    return {u["id"]: u["name"] for u in await viewer.api.all_items("registry", "/v1/units")}


@router.get("/cases")
async def case_board(
    request: Request,
    viewer: CurrentViewer,
    status: CaseStatus | None = None,
    unit: uuid.UUID | None = None,
    division: uuid.UUID | None = None,
    overdue: Literal["true", "false"] | None = None,
    source: CaseSource | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
):
    """Cases the viewer may see (a unit's staff: their unit's), with filters."""
    filters = {
        "status": status,
        "unit": unit,
        "division": division,
        "overdue": overdue,
        "source": source,
    }
    page = await viewer.api.get("inspections", "/v1/cases", limit=50, cursor=cursor, **filters)
    units = await unit_names(viewer)
    divisions = [
        d
        for d in await viewer.api.all_items("registry", "/v1/divisions")
        if d["level"] in ("street", "community")
    ]
    chosen = {k: str(v) for k, v in filters.items() if v is not None}
    return render(
        request,
        "cases.html",
        cases=page["items"],
        next_cursor=page.get("next_cursor"),
        units=units,
        divisions=divisions,
        statuses=STATUSES,
        sources=SOURCES,
        chosen=chosen,
    )


@router.get("/cases/{case_id}")
async def case_page(request: Request, viewer: CurrentViewer, case_id: uuid.UUID):
    """One case: details, photos, timeline and the forms of the actions allowed now."""
    case = await viewer.api.get("inspections", f"/v1/cases/{case_id}")
    events = await viewer.api.all_items("inspections", f"/v1/cases/{case_id}/events")
    allowed = await viewer.api.get("inspections", f"/v1/cases/{case_id}/actions")
    units = await unit_names(viewer)
    photo_ids = list(
        dict.fromkeys([*case["photo_ids"], *(p for e in events for p in e["photo_ids"])])
    )
    return render(
        request,
        "case.html",
        case=case,
        events=events,
        units=units,
        photo_ids=photo_ids,
        actions=[(a, ACTION_FIELDS[a]) for a in allowed["allowed_actions"] if a in ACTION_FIELDS],
    )


def _due_at(value: str, timezone: str) -> str | None:
    """A ``datetime-local`` value read in the region's zone, as RFC 3339."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(timezone)).isoformat()


@router.post("/cases/{case_id}/actions")
async def take_action(
    request: Request, viewer: CurrentViewer, case_id: uuid.UUID, form: CheckedForm
):
    """Send one action with ``If-Match`` set to the version the person was looking at."""
    t = translate(language(request))
    back = RedirectResponse(f"/cases/{case_id}", status_code=303)
    action = str(form.get("action") or "")
    body: dict = {"action": action}
    if note := str(form.get("note") or "").strip():
        body["note"] = note
    if unit_id := str(form.get("unit_id") or ""):
        body["unit_id"] = unit_id
    if duplicate_of := str(form.get("duplicate_of") or "").strip():
        body["duplicate_of"] = duplicate_of
    try:
        if due := _due_at(str(form.get("due_at") or ""), request.app.state.settings.timezone):
            body["due_at"] = due
    except ValueError:
        flash(request, f"{t('due_at')}: ?", "error")
        return back
    try:
        photo = form.get("photo")
        if isinstance(photo, UploadFile) and photo.filename:
            photo_id = str(uuid.uuid4())
            await viewer.api.request(
                "inspections", "PUT", f"/v1/photos/{photo_id}", content=await photo.read()
            )
            body["photo_ids"] = [photo_id]
        await viewer.api.request(
            "inspections",
            "POST",
            f"/v1/cases/{case_id}/actions",
            json=body,
            headers={"If-Match": f'"{form.get("version", "")}"'},
        )
    except ApiError as exc:
        if exc.status == 404:
            raise
        if exc.status == 412:
            flash(request, t("stale"), "error")
        else:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', [])[1:])} {e.get('msg', '')}".strip()
                for e in exc.errors
            )
            flash(request, exc.message + (f" ({details})" if details else ""), "error")
        return back
    flash(request, f"{t(action)}: {t('done')}")
    return back


@router.get("/photos/{photo_id}")
async def photo(viewer: CurrentViewer, photo_id: uuid.UUID, size: Literal["thumb"] | None = None):
    """A case photo (or its thumbnail) fetched with the viewer's token."""
    answer = await viewer.api.request(
        "inspections", "GET", f"/v1/photos/{photo_id}", params={"size": size}
    )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=3600"},
    )
