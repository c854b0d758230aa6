"""``GET /v1/reports/bulletin``: the month's bulletin as PDF or HTML (SPEC §10)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from reporting.bulletin.figures import gather
from reporting.reports.access import BulletinReader
from reporting.reports.period import parse_month
from shared import clock
from shared.db import SessionDep
from shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    from types import ModuleType

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _one_at_a_time(app: FastAPI) -> CapacityLimiter:
    """The process's bulletin renderer slot (made on first use, in the running loop).

    Rendering holds the GIL and fpdf2 parses the 4 MB CJK font afresh for each document
    (about 30–60 MB while it works): bulletins rendered side by side would be no faster
    and would multiply that memory, so a process renders one at a time.
    """
    limiter = getattr(app.state, "bulletin_limiter", None)
    if limiter is None:
        limiter = app.state.bulletin_limiter = CapacityLimiter(1)
    return limiter


async def _renderer() -> ModuleType:
    """``reporting.bulletin.render``, imported on the first bulletin, in a worker thread.

    It brings matplotlib and fpdf2 (about 60 MB of resident memory and seconds of
    import): a reporting process that never draws a bulletin should not carry them.
    """
    return await to_thread.run_sync(importlib.import_module, "reporting.bulletin.render")


@router.get(
    "/bulletin",
    responses={
        200: {
            "content": {"application/pdf": {}, "text/html": {}},
            "description": "The bulletin: `application/pdf` (default) or `text/html`.",
        }
    },
    response_class=Response,
    description=(
        "The monthly bulletin (通报) the campaign office issues (admin, leader): a title block "
        "(region, month, issuer, date), the month's figures in a sentence each, the unit league "
        "table with grades and ranks, the black and red lists, the notices raised for the "
        "month, the overdue cases by unit with days overdue, the blind spots, and charts "
        "(on-time rate by unit, the weekly trend of cases reported and closed, a map of blind "
        "spots and open cases). Every figure is the one the reports give for the month "
        "(`/v1/reports/units`, `/red-black-list`, `/overview`, `/coverage`, `/overdue`, and "
        "the stored notices). A month that has ended is dated the first day after it, so the "
        "same data gives the same document (byte for byte for the PDF); the running month is "
        "marked as figures so far. `month` defaults to the last ended month."
    ),
)
async def bulletin(
    reader: BulletinReader,
    session: SessionDep,
    request: Request,
    month: Annotated[str | None, Query(description="YYYY-MM; default last month.")] = None,
    fmt: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
) -> Response:
    """The month's bulletin (通报) as a printable PDF or an HTML page."""
    now = clock.now()
    if month is None:
        local = now.astimezone(reader.tz)
        year, mon = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        month = f"{year:04d}-{mon:02d}"
    period = parse_month(month, reader.tz)
    # First, so the seconds of the first import do not fall between the figures'
    # statements and the commit.
    render = await _renderer()
    data = await gather(session, reader.region_id, period, now)
    fonts = request.app.state.settings.bulletin_fonts
    for font in fonts:
        if not await to_thread.run_sync(Path(font).is_file):
            raise ServiceUnavailable(
                f"The bulletin font {font} is not installed (REPORTING_BULLETIN_FONT, "
                "REPORTING_BULLETIN_CJK_FONT); run `make install` as root."
            )
    # Drawing charts and laying out pages is CPU work: off the event loop.
    limiter = _one_at_a_time(request.app)
    if fmt == "html":
        page = await to_thread.run_sync(render.html, data, fonts, limiter=limiter)
        return HTMLResponse(page)
    document = await to_thread.run_sync(render.pdf, data, fonts, limiter=limiter)
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="bulletin-{month}.pdf"'},
    )
