"""Reports (SPEC §8): units, coverage, inspectors, chiefs, overview, overdue — JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from reporting.report_settings.service import load_settings
from reporting.reports import chiefs, coverage, inspectors, overdue, overview, units
from reporting.reports.access import (
    ChiefsReader,
    CoverageReader,
    InspectorsReader,
    OverdueReader,
    OverviewReader,
    Reader,
    UnitsReader,
)
from reporting.reports.days import ROLLUP_RULES
from reporting.reports.export import (
    EXPORT_RESPONSES,
    Column,
    Format,
    flat,
    json_response,
    render,
    report_title,
)
from reporting.reports.period import PERIOD_RULES, Period, resolve_period
from reporting.reports.schemas import UnitsReportRead
from reporting.reports.sql import DEFINITIONS
from shared import clock
from shared.db import SessionDep

router = APIRouter(prefix="/v1/reports", tags=["reports"])

FromParam = Annotated[
    str | None,
    Query(alias="from", description="Start: a local date (YYYY-MM-DD) or an RFC 3339 datetime."),
]
ToParam = Annotated[
    str | None,
    Query(description="End: a local date (inclusive) or an RFC 3339 datetime (exclusive)."),
]
MonthParam = Annotated[
    str | None, Query(description="A calendar month YYYY-MM in the region's time zone.")
]
FormatParam = Annotated[
    Format, Query(alias="format", description="json (default), csv or xlsx: the same rows.")
]
LanguageHeader = Annotated[
    str | None,
    Header(alias="Accept-Language", description="zh* → Chinese column headings in CSV/XLSX."),
]

COMMON = f"""

**Period.** {PERIOD_RULES}

**Formats.** `?format=csv` and `?format=xlsx` return the same rows as the JSON `items`,
in the same order (rates as their value), for people: row 1 is a title (report, region,
period), row 2 the headings — Chinese when `Accept-Language` prefers `zh*` — and times
are wall-clock times in the region's zone (real date-times in XLSX, `YYYY-MM-DD
HH:MM:SS` in CSV); XLSX headings are frozen and columns sized to their content. Text
that a spreadsheet would evaluate (`=`, `+`, `-`, `@` …) is written as text.
Reports are not paginated: a region's rows come in one answer.
"""


class ReportQuery:
    """The parameters every report takes: the period, the format and the heading language."""

    def __init__(
        self,
        from_: FromParam = None,
        to: ToParam = None,
        month: MonthParam = None,
        fmt: FormatParam = "json",
        language: LanguageHeader = None,
    ) -> None:
        self.from_, self.to, self.month = from_, to, month
        self.fmt, self.language = fmt, language
        self.now = clock.now()

    @property
    def explicit(self) -> bool:
        """Whether the caller named a period at all (or took the default month)."""
        return self.from_ is not None or self.to is not None or self.month is not None

    def period(self, reader: Reader) -> Period:
        return resolve_period(
            from_=self.from_, to=self.to, month=self.month, tz=reader.tz, now=self.now
        )

    def head(self, period: Period) -> dict[str, Any]:
        return {"period": period.describe(), "generated_at": self.now.isoformat()}

    def export(
        self,
        name: str,
        period: Period,
        columns: list[Column],
        rows: list[dict[str, Any]],
        reader: Reader,
    ) -> Response:
        """The same rows as CSV or XLSX for people: a title row, headings in the caller's
        language, local times."""
        return render(
            self.fmt,
            columns=columns,
            rows=rows,
            accept_language=self.language,
            filename=f"{name}-{period.slug}",
            title=report_title(name, reader.region_name, period.start, period.end, reader.tz),
            tz=reader.tz,
            sheet=name,
        )


ReportQueryDep = Annotated[ReportQuery, Depends()]


@router.get(
    "/units",
    responses=EXPORT_RESPONSES,
    response_model=UnitsReportRead,
    summary="Per-unit counters, rates, score, grade and rank",
    description=(
        "Per responsible unit, the digital-urban-management counters of the period, "
        "rates with numerator and denominator, composite score, grade and rank. "
        "admin and leader see every unit; a unit account sees only its own row "
        "(its rank is still among all units). Units without cases are listed with zeros.\n\n"
        + DEFINITIONS
        + COMMON
    ),
)
async def units_report(
    reader: UnitsReader,
    session: SessionDep,
    query: ReportQueryDep,
) -> Any:
    """Per-unit counters, rates, composite score, grade and rank for the period."""
    now, period = query.now, query.period(reader)
    settings = await load_settings(session, reader.region_id)
    items = await units.units_report(session, reader.region_id, period, now, settings)
    if reader.own_unit is not None:
        items = [r for r in items if r["unit_id"] == reader.own_unit]
    for row in items:
        row.pop("late_case_ids", None)
    if query.fmt != "json":
        rows = [flat(r) for r in items]
        return query.export("units", period, units.UNIT_COLUMNS, rows, reader)
    return {
        **query.head(period),
        "weights": settings.score_weights,
        "min_cases": settings.min_cases,
        "items": items,
    }


@router.get(
    "/coverage",
    responses=EXPORT_RESPONSES,
    description=(
        "Per active sample point: `inspections` (valid inspections finished in the period), "
        "`last_inspected_at` (latest valid inspection before *as-of* = end of period or now), "
        "`next_due_at` = last inspection + the point type's `visit_every_days` "
        "(`null` = never inspected, due now), the latest `latest_score`/`latest_passed`, "
        "`open_cases` (cases of the point reported/assigned/returned/rectified now) and "
        "`blind_spot` (never inspected, or `next_due_at` before *as-of*). `blind_spots` lists "
        "those points with `days_overdue`; `grids` gives per grid (the point's division) the "
        "share of its points visited on time (not blind spots). Unit accounts see only their "
        "unit's points; admin, leader and inspectors see all. Exports carry the point rows."
        + COMMON
    ),
)
async def coverage_report(
    reader: CoverageReader,
    session: SessionDep,
    query: ReportQueryDep,
) -> Any:
    """Inspection coverage per sample point, blind spots and per-grid on-time share."""
    now, period = query.now, query.period(reader)
    if query.fmt == "json":
        return await coverage.coverage_json(
            session, reader.region_id, period, now, unit_id=reader.own_unit, head=query.head(period)
        )
    report = await coverage.coverage_report(
        session, reader.region_id, period, now, unit_id=reader.own_unit
    )
    return query.export("coverage", period, coverage.COVERAGE_COLUMNS, report["items"], reader)


@router.get(
    "/inspectors",
    responses=EXPORT_RESPONSES,
    description=(
        "Per patrol member (role inspector; inactive ones only when they have figures): "
        "`inspections` (valid, finished in the period), `cases_reported` (cases they reported "
        "in the period), `valid_cases` (of those, not cancelled), and the weekly quota "
        "(`/v1/reports/inspector-quota`, default ≥ 1 facility and ≥ 3 hygiene valid cases a "
        "week). A case is a **facility** case when the checklist item it was raised on carries "
        "one of the quota's `facility_tags` (default `facility`) or its category code is in "
        "`facility_category_codes`; every other valid case is **hygiene**. Weeks are local "
        "Monday–Sunday weeks whose Monday falls in the period, counted in full; `weekly` lists "
        "them with `complete` (the week has ended). `quota_met` is true when every complete "
        "week met the quota, `null` when no week is complete yet. admin and leader see "
        "everyone; an inspector sees only their own row; unit accounts 403." + ROLLUP_RULES + COMMON
    ),
)
async def inspectors_report(
    reader: InspectorsReader,
    session: SessionDep,
    query: ReportQueryDep,
) -> Any:
    """Per patrol member: inspections, cases reported, valid cases and the weekly quota."""
    now, period = query.now, query.period(reader)
    settings = await load_settings(session, reader.region_id)
    person = reader.person_id if reader.role == "inspector" else None
    items = await inspectors.inspectors_report(
        session, reader.region_id, period, now, settings, person_id=person
    )
    if query.fmt != "json":
        return query.export("inspectors", period, inspectors.INSPECTOR_COLUMNS, items, reader)
    quota = {k: settings.inspector_quota[k] for k in ("facility", "hygiene")}
    return json_response({**query.head(period), "quota": quota, "items": items})


@router.get(
    "/chiefs",
    responses=EXPORT_RESPONSES,
    description=(
        "Per area (片长), grid (网格长) and road (路长) chief. Patch: for area and grid chiefs "
        "every case whose division (the case's own, else its sample point's) lies in the "
        "chief's division subtree (`divisions.path` prefix); for road chiefs every case whose "
        "address (the case's own, else its sample point's) contains the `road_name`. "
        "`cases` = not-cancelled cases of the patch reported in the period; `open`, "
        "`overdue`, `due`, `closed` and `closure_rate` = closed / due as in the units report. "
        "admin and leader see every chief; an inspector only the chief rows that are theirs; "
        "unit accounts 403."
        "\n\n**Monthly rollup of closed cases.** A closed case never changes again, so for "
        "the settled whole months of the period (local months ended more than a day ago) "
        "the closed cases reported in each month and closed in each month are stored once "
        "per patch key; the cases whose status can still change, the partial and unsettled "
        "months, the closed cases whose closure or deadline lies across the period's start, "
        "as-of or end, and the cases created or closed after a month was stored are counted "
        "live — the figures are always exactly those of the live computation." + COMMON
    ),
)
async def chiefs_report(
    reader: ChiefsReader,
    session: SessionDep,
    query: ReportQueryDep,
) -> Any:
    """Per area, grid and road chief: cases in their patch, open, overdue and closure rate."""
    now, period = query.now, query.period(reader)
    person = reader.person_id if reader.role == "inspector" else None
    items = await chiefs.chiefs_report(session, reader.region_id, period, now, person_id=person)
    if query.fmt != "json":
        rows = [flat(r) for r in items]
        return query.export("chiefs", period, chiefs.CHIEF_COLUMNS, rows, reader)
    return {**query.head(period), "items": items}


@router.get(
    "/overview",
    responses=EXPORT_RESPONSES,
    description=(
        "Region totals for the period: cases reported / valid / cancelled (reported in the "
        "period), dispatched (distinct cases with a dispatch event in it), closed and closed "
        "on time (closed in it), `open_now` and `overdue_now` (at the time of the request), "
        "inspections, passed, `average_score`, `pass_rate`. Groups by category, point type, "
        "source and severity count the cases reported in the period with their current "
        "status. `weekly` gives per local week (Monday) cases reported, cases closed and "
        "inspections. `epidemic` gives, over the period's inspections that recorded each "
        "check, the share with health codes checked, temperatures taken and masks worn. "
        "Unit accounts see only their unit's cases and inspections. Exports flatten the "
        "sections into one table (`section`, `key`, `name`, counts, value/numerator/"
        "denominator)." + ROLLUP_RULES + COMMON
    ),
)
async def overview_report(
    reader: OverviewReader,
    session: SessionDep,
    query: ReportQueryDep,
) -> Any:
    """Totals, groups by category/point type/source/severity, weekly trend, epidemic checks."""
    now, period = query.now, query.period(reader)
    report = await overview.overview_report(
        session, reader.region_id, period, now, unit_id=reader.own_unit
    )
    if query.fmt != "json":
        rows = overview.overview_rows(report)
        return query.export("overview", period, overview.OVERVIEW_COLUMNS, rows, reader)
    return {**query.head(period), **report}


@router.get(
    "/overdue",
    responses=EXPORT_RESPONSES,
    description=(
        "Cases overdue now (status `assigned`, `due_at` passed), oldest deadline first, with "
        "unit, sample point and `hours_overdue` (one decimal). Without `from`/`to`/`month` "
        "every overdue case is listed; with them, only cases whose `due_at` falls in that "
        "period. Unit accounts see only their own cases." + COMMON
    ),
)
async def overdue_report(
    reader: OverdueReader,
    session: SessionDep,
    query: ReportQueryDep,
) -> Any:
    """Open overdue cases with their unit and hours overdue."""
    now, period = query.now, query.period(reader)
    explicit = query.explicit
    items = await overdue.overdue_report(
        session,
        reader.region_id,
        period,
        now,
        unit_id=reader.own_unit,
        due_in_period=explicit,
    )
    if query.fmt != "json":
        return query.export("overdue", period, overdue.OVERDUE_COLUMNS, items, reader)
    head = query.head(period)
    head["period"]["applied"] = explicit
    return {**head, "items": items}
