"""CSV and XLSX renderings of a report's rows, with headings in the caller's language.

Every report hands over its columns (key, English, Chinese) and the same flat
rows it shows as JSON ``items``; CSV and XLSX therefore carry exactly the JSON
rows. Headings are Chinese when the best ``Accept-Language`` entry is ``zh*``,
English otherwise. CSV is UTF-8 with a byte-order mark so spreadsheet programs
read the Chinese correctly. Row 1 is a title (report, region, period), row 2 the
headings; times are local to the region (real date-times in XLSX); user text is
written so that no spreadsheet evaluates it — all of it in shared.spreadsheets.

Large JSON answers (coverage, inspectors) are written by :func:`json_response` rather
than FastAPI's default path, with the same bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson
from fastapi import Response

from shared.spreadsheets import Table, table_csv, table_xlsx, wants_chinese

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


# Each export's name in its title row: (English, Chinese).
REPORT_NAMES = {
    "units": ("Responsible units", "责任单位考核"),
    "coverage": ("Sample-point coverage", "样本点覆盖"),
    "inspectors": ("Patrol members", "巡查员考核"),
    "chiefs": ("Chiefs", "片长、网格长、路长"),
    "overview": ("Overview", "总体情况"),
    "overdue": ("Overdue cases", "超期未处置问题"),
    "red-black-list": ("Red and black lists", "红黑榜"),
}


def report_title(
    name: str, region: str, start: datetime, end: datetime, tz: ZoneInfo
) -> tuple[str, str]:
    """The title row: the report, the region and the period (local dates, end inclusive)."""
    en_name, zh_name = REPORT_NAMES.get(name, (name, name))
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return (
        f"{en_name} — {region} — {first.isoformat()} to {last.isoformat()} ({tz.key})",
        f"{zh_name} — {region} — {first:%Y年%m月%d日}至{last:%Y年%m月%d日}（{tz.key}）",
    )


def render(
    fmt: Format,
    *,
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    accept_language: str | None,
    filename: str,
    title: tuple[str, str],
    tz: ZoneInfo,
    sheet: str = "report",
) -> Response:
    """The rows as CSV or XLSX for people: ``title`` (English, Chinese) in row 1, the
    headings in the caller's language in row 2, local times in ``tz``."""
    chinese = wants_chinese(accept_language)
    table = Table(
        title=title[1] if chinese else title[0],
        headings=[c.zh if chinese else c.en for c in columns],
        rows=[[row.get(c.key) for c in columns] for row in rows],
        tz=tz,
        sheet=sheet,
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
        "Content-Language": "zh" if chinese else "en",
    }
    if fmt == "csv":
        return Response(table_csv(table), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(table_xlsx(table), media_type=XLSX_TYPE, headers=headers)


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON row as an export row: each rate object becomes its value."""
    return {
        k: (v["value"] if isinstance(v, dict) and "numerator" in v else v) for k, v in row.items()
    }


def _as_fastapi_writes(value: object) -> str:
    """What orjson does not write itself, as FastAPI's default path (Pydantic) does:
    asyncpg's own UUID type (a subclass orjson does not take for one) and a Decimal, as
    their text."""
    if isinstance(value, uuid.UUID) or isinstance(value, Decimal):  # noqa: SIM101 (faster)
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(body: dict[str, Any]) -> Response:
    """A report's JSON answer, byte for byte what FastAPI's default path writes for the
    same dict (a route returning ``Any``: Pydantic's serializer), with orjson.

    On the coverage report's 5,000 point rows Pydantic's serializer costs about 45 ms
    of server CPU (inferring each value's type), orjson about 7 ms. orjson writes UUIDs,
    dates, aware date-times (a UTC offset as ``Z``, with ``OPT_UTC_Z``), floats and text
    as Pydantic does; ``tests/reporting/test_other_reports.py`` compares the bytes."""
    content = orjson.dumps(body, default=_as_fastapi_writes, option=orjson.OPT_UTC_Z)
    return Response(content, media_type="application/json")
