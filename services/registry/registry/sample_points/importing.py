"""CSV/XLSX import and export of sample points; the two round-trip.

Import validates every row before it writes anything: one bad row rejects
the whole file with a 422 listing each problem by row and column (the headings
are row 1, or row 2 under the title row of an export; English or Chinese). A good file upserts by ``code``: new codes are inserted, changed
rows updated (their version bumps), identical rows left alone (coordinates
equal within 1e-9°, since spreadsheets keep 15 significant digits). Import sets
no status: new points are active, existing ones keep theirs; a deleted point
whose code comes back is restored.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, any_, cast, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import Unprocessable, UnsupportedMediaType
from shared.inputs import text_problem
from shared.models import Division, PointType, Region, SamplePoint, Unit
from shared.spreadsheets import Table, unescape_csv_text

REQUIRED = (
    "code",
    "name",
    "point_type_code",
    "division_code",
    "address",
    "lat",
    "lon",
    "unit_code",
)
EXPORT_COLUMNS = (
    *REQUIRED,
    "status",
    "id",
    "point_type_name",
    "division_name",
    "unit_name",
)
# Chinese headings of the export (Accept-Language: zh*); import reads either language.
CHINESE_HEADINGS = {
    "code": "编码",
    "name": "名称",
    "point_type_code": "类型编码",
    "division_code": "网格编码",
    "address": "地址",
    "lat": "纬度",
    "lon": "经度",
    "unit_code": "责任单位编码",
    "status": "状态",
    "id": "ID",
    "point_type_name": "类型",
    "division_name": "网格",
    "unit_name": "责任单位",
}
_KEY_OF_HEADING = {zh.lower(): key for key, zh in CHINESE_HEADINGS.items()}
LIMITS = {"code": 64, "name": 200, "address": 400}
MAX_ERRORS = 1000
CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Row:
    number: int
    code: str
    name: str
    point_type_code: str
    division_code: str
    address: str
    lat: float
    lon: float
    unit_code: str


def detect_format(filename: str | None, content_type: str | None, head: bytes) -> str:
    """``"xlsx"`` or ``"csv"``, else 415: by content first (a zip is XLSX), then by name/type."""
    name = (filename or "").lower()
    ctype = (content_type or "").split(";")[0].strip().lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedMediaType("Legacy .xls files are not supported; save as .xlsx or CSV.")
    if name.endswith(".csv") or (not name.rpartition(".")[1] and ctype in CSV_TYPES):
        return "csv"
    if ctype in CSV_TYPES and not name.endswith((".xlsx", ".xls", ".pdf", ".json", ".zip")):
        return "csv"
    raise UnsupportedMediaType("Upload a CSV (UTF-8) or XLSX file in the multipart field `file`.")


def _cell(value: Any) -> str:
    """A cell as text; whole numbers typed into a spreadsheet (codes like 1001) lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unescape_csv_text(str(value).strip())


def read_table(data: bytes, fmt: str) -> list[list[Any]]:
    """All rows of the file (header first) as lists of raw cell values."""
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnsupportedMediaType(
                "The CSV is not UTF-8; save it as 'CSV UTF-8' and upload again."
            ) from exc
        try:
            return [row for row in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise Unprocessable(
                "The CSV file cannot be read.",
                errors=[{"row": None, "column": None, "loc": ["file"], "msg": str(exc)[:200]}],
            ) from exc
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnsupportedMediaType("The file is not a readable XLSX workbook.") from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _heading(value: Any) -> str:
    name = _cell(value).lstrip("\ufeff").strip().lower()
    return _KEY_OF_HEADING.get(name, name)


def _known(row: list[Any]) -> bool:
    """Whether ``row`` holds the required headings (in either language)."""
    return set(REQUIRED) <= {_heading(v) for v in row}


def parse_rows(table: list[list[Any]]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Typed rows and the errors of the file's own content (references are checked later)."""
    if not table:
        raise Unprocessable(
            "The file is empty; it needs a header row.",
            errors=[{"row": 1, "column": None, "loc": ["file", 1], "msg": "missing header row"}],
        )
    # The export's first row is a title; its headings are row 2. A file typed by hand
    # has them in row 1. Headings are read in English or Chinese.
    header_row = 2 if len(table) > 1 and not _known(table[0]) and _known(table[1]) else 1
    header = [_heading(h) for h in table[header_row - 1]]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, index)
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise Unprocessable(
            "Required columns are missing: " + ", ".join(missing) + ".",
            errors=[
                {
                    "row": header_row,
                    "column": c,
                    "loc": ["file", header_row, c],
                    "msg": "missing required column",
                }
                for c in missing
            ],
        )
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    first_row_of_code: dict[str, int] = {}

    def error(number: int, column: str, msg: str) -> None:
        errors.append(
            {"row": number, "column": column, "loc": ["file", number, column], "msg": msg}
        )

    for number, raw in enumerate(table[header_row:], start=header_row + 1):
        values = {c: raw[positions[c]] if positions[c] < len(raw) else None for c in REQUIRED}
        if all(_cell(v) == "" for v in raw):
            continue  # blank lines (common at the end of spreadsheets)
        text = {c: _cell(values[c]) for c in REQUIRED}
        ok = True
        for column in ("code", "name", "point_type_code", "division_code", "unit_code"):
            if not text[column]:
                error(number, column, "required")
                ok = False
        for column in REQUIRED:
            problem = text_problem(text[column])
            if problem is not None:
                error(number, column, problem)
                ok = False
        for column, limit in LIMITS.items():
            if len(text[column]) > limit:
                error(number, column, f"longer than {limit} characters")
                ok = False
        coords: dict[str, float] = {}
        for column, bound in (("lat", 90.0), ("lon", 180.0)):
            raw_value = values[column]
            try:
                number_value = (
                    float(raw_value)
                    if isinstance(raw_value, int | float) and not isinstance(raw_value, bool)
                    else float(text[column])
                )
            except ValueError:
                error(number, column, "not a number" if text[column] else "required")
                ok = False
                continue
            if not math.isfinite(number_value) or not -bound <= number_value <= bound:
                error(number, column, f"must be between -{bound:g} and {bound:g}")
                ok = False
                continue
            coords[column] = number_value
        if text["code"]:
            earlier = first_row_of_code.setdefault(text["code"], number)
            if earlier != number:
                error(number, "code", f"duplicate code; also on row {earlier}")
                ok = False
        if ok:
            rows.append(
                Row(
                    number=number,
                    code=text["code"],
                    name=text["name"],
                    point_type_code=text["point_type_code"],
                    division_code=text["division_code"],
                    address=text["address"],
                    lat=coords["lat"],
                    lon=coords["lon"],
                    unit_code=text["unit_code"],
                )
            )
    return rows, errors


def _same(old: Any, new: Any) -> bool:
    """Equal, with coordinates equal within 1e-9° (0.1 mm): spreadsheets keep 15 digits."""
    if isinstance(old, float) and isinstance(new, float):
        return math.isclose(old, new, rel_tol=0, abs_tol=1e-9)
    return old == new


def _codes(values: set[str]):
    return any_(cast(literal(sorted(values)), ARRAY(String)))


async def import_points(
    session: AsyncSession, region_id: uuid.UUID, table: list[list[Any]]
) -> dict[str, int]:
    """Validate every row, then upsert by code; 422 with every error and no change otherwise."""
    rows, errors = parse_rows(table)
    type_codes = {r.point_type_code for r in rows}
    division_codes = {r.division_code for r in rows}
    unit_codes = {r.unit_code for r in rows}
    types = dict(
        (
            await session.execute(
                select(PointType.code, PointType.id).where(
                    PointType.region_id == region_id,
                    PointType.code == _codes(type_codes),
                    PointType.deleted_at.is_(None),
                )
            )
        ).all()
    )
    divisions = dict(
        (
            await session.execute(
                select(Division.code, Division.id).where(
                    Division.region_id == region_id,
                    Division.code == _codes(division_codes),
                    Division.deleted_at.is_(None),
                )
            )
        ).all()
    )
    units = dict(
        (
            await session.execute(
                select(Unit.code, Unit.id).where(
                    Unit.region_id == region_id,
                    Unit.code == _codes(unit_codes),
                    Unit.deleted_at.is_(None),
                )
            )
        ).all()
    )
    for row in rows:
        for column, known in (
            ("point_type_code", types),
            ("division_code", divisions),
            ("unit_code", units),
        ):
            value = getattr(row, column)
            if value not in known:
                label = column.removesuffix("_code").replace("_", " ")
                errors.append(
                    {
                        "row": row.number,
                        "column": column,
                        "loc": ["file", row.number, column],
                        "msg": f"no {label} with code {value!r} in this region",
                    }
                )
    if errors:
        errors.sort(key=lambda e: (e["row"], REQUIRED.index(e["column"]) if e["column"] else -1))
        raise Unprocessable(
            f"{len({e['row'] for e in errors})} row(s) have errors; nothing was imported.",
            errors=errors[:MAX_ERRORS],
            extra={"error_count": len(errors)},
        )

    existing = {
        point.code: point
        for point in await session.scalars(
            select(SamplePoint).where(
                SamplePoint.region_id == region_id,
                SamplePoint.code == _codes({r.code for r in rows}),
            )
        )
    }
    inserted = updated = unchanged = 0
    for row in rows:
        values = {
            "name": row.name,
            "point_type_id": types[row.point_type_code],
            "division_id": divisions[row.division_code],
            "address": row.address,
            "lat": row.lat,
            "lon": row.lon,
            "unit_id": units[row.unit_code],
        }
        point = existing.get(row.code)
        if point is None:
            session.add(
                SamplePoint(
                    region_id=region_id, id=uuid.uuid4(), code=row.code, status="active", **values
                )
            )
            inserted += 1
            continue
        changes = {k: v for k, v in values.items() if not _same(getattr(point, k), v)}
        if point.deleted_at is not None:
            changes["deleted_at"] = None  # re-importing a deleted code restores the point
        if not changes:
            unchanged += 1
            continue
        for name, value in changes.items():
            setattr(point, name, value)
        updated += 1
    await session.flush()
    return {"rows": len(rows), "inserted": inserted, "updated": updated, "unchanged": unchanged}


async def export_rows(session: AsyncSession, principal: Principal) -> list[list[Any]]:
    """One row per live point the caller may see, by code, in ``EXPORT_COLUMNS`` order."""
    stmt = (
        select(
            SamplePoint.code,
            SamplePoint.name,
            PointType.code,
            Division.code,
            SamplePoint.address,
            SamplePoint.lat,
            SamplePoint.lon,
            Unit.code,
            SamplePoint.status,
            SamplePoint.id,
            PointType.name,
            Division.name,
            Unit.name,
        )
        .join(
            PointType,
            (PointType.region_id == SamplePoint.region_id)
            & (PointType.id == SamplePoint.point_type_id),
        )
        .join(
            Division,
            (Division.region_id == SamplePoint.region_id)
            & (Division.id == SamplePoint.division_id),
        )
        .join(Unit, (Unit.region_id == SamplePoint.region_id) & (Unit.id == SamplePoint.unit_id))
        .where(SamplePoint.region_id == principal.region_id, SamplePoint.deleted_at.is_(None))
        .order_by(SamplePoint.code)
    )
    if principal.role == "unit":
        stmt = stmt.where(SamplePoint.unit_id == principal.unit_id)
    return [list(r) for r in (await session.execute(stmt)).all()]


async def export_table(
    session: AsyncSession, principal: Principal, *, chinese: bool, now: datetime
) -> Table:
    """The export for people: a title row (region, time of export), the headings in the
    caller's language (import reads both), then the points."""
    region = await session.get(Region, principal.region_id)
    tz = ZoneInfo(region.timezone) if region else ZoneInfo("Asia/Shanghai")
    name = region.name if region else ""
    at = now.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    title = (
        f"样本点 — {name} — 导出于 {at}（{tz.key}）"
        if chinese
        else f"Sample points — {name} — exported {at} ({tz.key})"
    )
    headings = [CHINESE_HEADINGS[c] if chinese else c for c in EXPORT_COLUMNS]
    rows = await export_rows(session, principal)
    return Table(title=title, headings=headings, rows=rows, tz=tz, sheet="sample-points")
