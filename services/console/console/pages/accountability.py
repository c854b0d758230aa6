"""Accountability: the rules' runs, the notices, a unit's acknowledgement, the bulletin."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from console.api import ApiError
from console.i18n import translate
from console.web import CheckedForm, CurrentViewer, flash, language, render

router = APIRouter()

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@router.get("/accountability")
async def accountability_page(request: Request, viewer: CurrentViewer):
    """Runs (admin, leader), the notices the viewer may see, and the bulletin's state."""
    runs = []
    if viewer.role in ("admin", "leader"):
        runs = await viewer.api.all_items("reporting", "/v1/accountability/runs")
    notices = await viewer.api.all_items("reporting", "/v1/accountability/notices")
    units = {u["id"]: u["name"] for u in await viewer.api.all_items("registry", "/v1/units")}
    return render(
        request,
        "accountability.html",
        runs=list(reversed(runs)),
        notices=list(reversed(notices)),
        units=units,
    )


@router.post("/accountability/runs")
async def run_rules(request: Request, viewer: CurrentViewer, form: CheckedForm):
    """Apply the rules to a month (admin; the API refuses everyone else)."""
    period = str(form.get("period") or "")
    if not MONTH.match(period):
        flash(request, f"{translate(language(request))('month')}: YYYY-MM", "error")
        return RedirectResponse("/accountability", status_code=303)
    try:
        run = (
            await viewer.api.request(
                "reporting", "POST", "/v1/accountability/runs", json={"period": period}
            )
        ).json()
        t = translate(language(request))
        flash(request, f"{period}: {t('notices_created')} {run['notices_created']}")
    except ApiError as exc:
        if exc.status == 401:
            raise
        flash(request, exc.message, "error")
    return RedirectResponse("/accountability", status_code=303)


@router.post("/accountability/notices/{notice_id}/acknowledge")
async def acknowledge(
    request: Request, viewer: CurrentViewer, notice_id: uuid.UUID, form: CheckedForm
):
    """The addressed unit signs for a notice."""
    try:
        await viewer.api.request(
            "reporting", "POST", f"/v1/accountability/notices/{notice_id}/acknowledge"
        )
        flash(request, translate(language(request))("acknowledged"))
    except ApiError as exc:
        if exc.status in (401, 404):
            raise
        flash(request, exc.message, "error")
    return RedirectResponse("/accountability", status_code=303)


@router.get("/bulletin")
async def bulletin(
    viewer: CurrentViewer,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    fmt: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
):
    """The month's bulletin (通报) from the reporting service, as PDF or HTML (admin, leader)."""
    answer = await viewer.api.request(
        "reporting", "GET", "/v1/reports/bulletin", params={"month": month, "format": fmt}
    )
    headers = {}
    if disposition := answer.headers.get("content-disposition"):
        headers["Content-Disposition"] = disposition
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers=headers,
    )
