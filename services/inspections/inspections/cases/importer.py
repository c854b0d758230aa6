"""Importing a list of cases (an expert group's findings) from CSV or XLSX, all or nothing.

Every row is validated first — codes resolved against the registry's tables
(read-only SQL, one query per kind of code for the whole file) — and any bad
row rejects the whole file with a 422 that lists each problem with its row
number (the header is row 1). A good file opens every case in one transaction.
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from inspections.cases import repository
from inspections.cases.context import RegistryLookup
from inspections.cases.service import CLOCK_SKEW, CaseDraft, open_case, utcnow
from shared.auth import Principal
from shared.coordinates import CRS_VALUES, to_wgs84
from shared.errors import PayloadTooLarge, Unprocessable
from shared.inputs import date_problem, text_problem
from shared.workdays import DeadlineRules

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
SEVERITIES = ("urgent", "normal", "complex")
SOURCES = ("woodpecker", "expert", "supervision", "leader", "self", "citizen")
DEFAULT_SOURCE = "expert"
REQUIRED_COLUMNS = ("description", "severity")
KNOWN_COLUMNS = frozenset(
    {
        "sample_point_code",
        "address",
        "lat",
        "lon",
        "crs",
        "category_code",
        "description",
        "severity",
        "unit_code",
        "source",
        "reported_at",
    }
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(data: bytes) -> list[dict[str, Any]]:
    """The data rows as dicts keyed by lower-cased header; ``_row`` is the sheet row number."""
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> list[dict[str, Any]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unprocessable(
            "The file is neither UTF-8 nor GB18030 CSV nor XLSX.",
            errors=[{"loc": ["file"], "msg": "unreadable file"}],
        )
    # newline="": the csv module handles line ends itself, so a CR inside a quoted
    # field is data and a bare one ends a line instead of raising.
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Unprocessable(
            "The CSV file cannot be read.", errors=[{"loc": ["file"], "msg": str(exc)[:200]}]
        ) from exc
    header = table[0] if table else []
    return _rows(header, ((n, row) for n, row in enumerate(table[1:], start=2)))


def _read_xlsx(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Unprocessable(
            "The XLSX file cannot be read.", errors=[{"loc": ["file"], "msg": str(exc)[:200]}]
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_text(v) for v in next(rows, ())]
        return _rows(header, ((n, list(row)) for n, row in enumerate(rows, start=2)))
    finally:
        workbook.close()


def _rows(header: list[str], numbered) -> list[dict[str, Any]]:
    names = [_text(h).lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise Unprocessable(
            "The file lacks required columns.",
            errors=[
                {"row": 1, "loc": ["file", "row 1", c], "msg": "missing column"} for c in missing
            ],
        )
    out: list[dict[str, Any]] = []
    for number, values in numbered:
        if not any(_text(v) for v in values):
            continue  # blank lines are not rows
        if len(out) >= MAX_ROWS:
            raise PayloadTooLarge(f"At most {MAX_ROWS} rows per file.")
        row = {name: values[i] if i < len(values) else None for i, name in enumerate(names)}
        row["_row"] = number
        out.append(row)
    return out


def _reported_at(value: Any, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        parsed = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # a spreadsheet's local time is the region's
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


async def import_cases(
    session: AsyncSession,
    *,
    principal: Principal,
    data: bytes,
    filename: str,
    registry: RegistryLookup,
) -> list[uuid.UUID]:
    """Validate every row, then open one case per row; returns the new case ids in file order."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise Unprocessable("The file is empty.", errors=[{"loc": ["file"], "msg": "empty"}])
    rows = read_rows(data)
    if not rows:
        raise Unprocessable("The file has no rows.", errors=[{"loc": ["file"], "msg": "no rows"}])

    region_id = principal.region_id
    rules = await registry.deadline_rules(region_id)
    tz = rules.tz
    points = await repository.points_by_code(
        session, region_id, (_text(r.get("sample_point_code")) for r in rows)
    )
    units = await repository.units_by_code(
        session, region_id, (_text(r.get("unit_code")) for r in rows)
    )
    categories = await repository.categories_by_code(
        session, region_id, (_text(r.get("category_code")) for r in rows)
    )

    now = utcnow()
    errors: list[dict[str, Any]] = []
    drafts: list[tuple[CaseDraft, DeadlineRules]] = []
    for row in rows:
        number = row["_row"]

        def bad(column: str, msg: str, number: int = number) -> None:
            errors.append({"row": number, "loc": ["file", f"row {number}", column], "msg": msg})

        description = _text(row.get("description"))
        severity = _text(row.get("severity")).lower()
        source = _text(row.get("source")).lower() or DEFAULT_SOURCE
        point_code = _text(row.get("sample_point_code"))
        unit_code = _text(row.get("unit_code"))
        category_code = _text(row.get("category_code"))
        address = _text(row.get("address"))
        if not description:
            bad("description", "required")
        elif len(description) > 4000:
            bad("description", "longer than 4000 characters")
        if severity not in SEVERITIES:
            bad("severity", f"must be one of {', '.join(SEVERITIES)}")
        if source not in SOURCES:
            bad("source", f"must be one of {', '.join(SOURCES)}")
        if len(address) > 400:
            bad("address", "longer than 400 characters")
        point = points.get(point_code) if point_code else None
        if point_code and point is None:
            bad("sample_point_code", f"no sample point {point_code!r} in this region")
        elif point is not None and point.status != "active":
            bad("sample_point_code", f"sample point {point_code!r} is retired")
        if not point_code and not address:
            bad("address", "give a sample_point_code or an address")
        unit_id = units.get(unit_code) if unit_code else None
        if unit_code and unit_id is None:
            bad("unit_code", f"no unit {unit_code!r} in this region")
        category_id = categories.get(category_code) if category_code else None
        if category_code and category_id is None:
            bad("category_code", f"no category {category_code!r} in this region")
        lat = lon = None
        raw_lat, raw_lon = _text(row.get("lat")), _text(row.get("lon"))
        if raw_lat or raw_lon:
            try:
                lat, lon = float(raw_lat), float(raw_lon)
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError
            except ValueError:
                bad("lat", "lat and lon must both be given as decimal degrees")
        crs = _text(row.get("crs")) or "wgs84"
        if crs not in CRS_VALUES:
            bad("crs", f"one of {', '.join(CRS_VALUES)}")
        elif lat is not None and lon is not None:
            lat, lon = to_wgs84(lat, lon, crs)  # type: ignore[arg-type]
        reported_at = now
        if _text(row.get("reported_at")):
            try:
                reported_at = _reported_at(row.get("reported_at"), tz)
                if date_problem(reported_at) is not None:
                    bad("reported_at", date_problem(reported_at))
                elif reported_at > now + CLOCK_SKEW:
                    bad("reported_at", "is in the future")
            except (ValueError, OverflowError):
                bad("reported_at", "not a date-time (use RFC 3339 or YYYY-MM-DD HH:MM)")
        for column, value in row.items():
            problem = text_problem(value) if isinstance(value, str) else None
            if problem is not None:
                bad(column, problem)
        if errors and errors[-1]["row"] == number:
            continue
        if point is not None:
            unit_id = unit_id or point.unit_id
            category_id = category_id or point.category_id
        drafts.append(
            (
                CaseDraft(
                    id=uuid.uuid4(),
                    source=source,
                    description=description,
                    severity=severity,
                    reported_at=reported_at,
                    reporter_id=principal.person_id,
                    sample_point_id=point.id if point else None,
                    category_id=category_id,
                    point_type_id=point.point_type_id if point else None,
                    division_id=point.division_id if point else None,
                    unit_id=unit_id,
                    lat=lat if lat is not None else (point.lat if point else None),
                    lon=lon if lon is not None else (point.lon if point else None),
                    address=address or (point.address if point else None) or None,
                ),
                rules.with_overrides(point.deadline_policy) if point else rules,
            )
        )
    if errors:
        raise Unprocessable(
            f"{len({e['row'] for e in errors})} row(s) of {filename or 'the file'} are not valid; "
            "nothing was imported.",
            errors=errors,
        )
    ids = []
    for draft, draft_rules in drafts:
        case = await open_case(
            session,
            region_id=region_id,
            draft=draft,
            deadlines=draft_rules,
            dispatcher_id=principal.person_id,
            now=now,
        )
        ids.append(case.id)
    return ids
