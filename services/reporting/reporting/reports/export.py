"""CSV and XLSX renderings of a report's rows, with headings in the caller's language.

Every report hands over its columns (key, English, Chinese) and the same flat
rows it shows as JSON ``items``; CSV and XLSX therefore carry exactly the JSON
rows. Headings are Chinese when the best ``Accept-Language`` entry is ``zh*``,
English otherwise. CSV is UTF-8 with a byte-order mark so spreadsheet programs
read the Chinese correctly; datetimes are RFC 3339 text in both formats. User
text is written so that no spreadsheet evaluates it (shared.spreadsheets).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from fastapi import Response
from openpyxl import Workbook

from shared.spreadsheets import csv_text, xlsx_row

Format = Literal["json", "csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a report's 200 may be besides JSON (`?format=csv|xlsx`), for its OpenAPI entry.
EXPORT_RESPONSES: dict[int | str, dict] = {
    200: {
        "description": "The report as JSON, or with `?format=csv|xlsx` as a file.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str


def wants_chinese(accept_language: str | None) -> bool:
    """True when the highest-weighted language range of ``Accept-Language`` is Chinese."""
    if not accept_language:
        return False
    best, best_q = "", -1.0
    for part in accept_language.split(","):
        pieces = [p.strip() for p in part.split(";")]
        tag, q = pieces[0].lower(), 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        # Strictly greater: earlier entries win ties, as clients list them by preference.
        if q > best_q:
            best, best_q = tag, q
    return best.startswith("zh")


def cell(value: Any) -> Any:
    """A JSON value as a spreadsheet cell: ids and times as text, numbers as numbers."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def _csv_text(value: Any) -> str:
    value = cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_text(value) if isinstance(value, str) else str(value)


def render(
    fmt: Format,
    *,
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    accept_language: str | None,
    filename: str,
    sheet: str = "report",
) -> Response:
    chinese = wants_chinese(accept_language)
    headings = [c.zh if chinese else c.en for c in columns]
    disposition = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    disposition["Content-Language"] = "zh" if chinese else "en"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headings)
        for row in rows:
            writer.writerow([_csv_text(row.get(c.key)) for c in columns])
        return Response(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers=disposition,
        )
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet[:31]
    worksheet.append(headings)
    for row in rows:
        worksheet.append(xlsx_row(worksheet, (cell(row.get(c.key)) for c in columns)))
    worksheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return Response(out.getvalue(), media_type=XLSX_TYPE, headers=disposition)
