"""CSV and XLSX exports for people, written so that no spreadsheet program evaluates them.

Every export is a :class:`Table` written by :func:`table_csv` or :func:`table_xlsx`
(SPEC §8): a title row (report, region, period), the headings in the caller's
language, local times as real date-times in the region's zone, frozen headings and
columns as wide as their content.

User text is written so that no spreadsheet program evaluates it.

Every export goes through these functions (OWASP "CSV injection"): a description
such as ``=HYPERLINK("http://…")`` or ``=cmd|' /C calc'!A0`` typed by one user
must reach the leaders' spreadsheets as the text it is, not as a live formula.

- **XLSX** cells holding text are typed as strings, so ``=…`` is stored as text
  and shown exactly as typed; characters XLSX cannot store (C0 controls) become
  U+FFFD instead of failing the whole export.
- **CSV** has no types: text that begins with ``= + - @``, a tab or a CR gets a
  leading apostrophe, which spreadsheet programs read as "this is text".
  :func:`unescape_csv_text` removes that apostrophe again on import, so an
  exported file round-trips.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

# openpyxl (which imports numpy when it is installed) is imported by the functions that
# write XLSX: about 20 MB of resident memory a service only needs for an XLSX export.
if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """Text for a CSV field that no spreadsheet evaluates."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unescape_csv_text(text: str) -> str:
    """Undo :func:`csv_text` for a field read back from an exported CSV."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def xlsx_row(sheet: Worksheet | Any, values: Iterable[Any]) -> list[Any]:
    """A row for ``sheet.append`` (not write-only sheets): text as string-typed cells, the rest as is."""
    return [_text_cell(sheet, v) if isinstance(v, str) else v for v in values]


def _text_cell(sheet: Worksheet | Any, text: str) -> Cell:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

    cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
    cell.data_type = "s"  # openpyxl would type a leading "=" as a formula
    return cell


# --- tables for people (SPEC §8) -----------------------------------------------------


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


DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
_MIN_WIDTH, _MAX_WIDTH, _WIDTH_SAMPLE = 6, 60, 500


@dataclass(frozen=True)
class Table:
    """One export: a title row (what, whose, when), the headings, the rows in the JSON's
    order; aware datetimes are shown in ``tz``, the region's zone."""

    title: str
    headings: Sequence[str]
    rows: Sequence[Sequence[Any]]
    tz: ZoneInfo
    sheet: str = "report"


def local_value(value: Any, tz: ZoneInfo) -> Any:
    """A value as a person reads it: local wall-clock time, plain numbers, ids as text."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.replace(tzinfo=None)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # every digit: coordinates round-trip exactly
    return csv_text(value) if isinstance(value, str) else str(value)


def table_csv(table: Table) -> bytes:
    """Row 1 the title, row 2 the headings; UTF-8 with a BOM so spreadsheet programs read
    the Chinese; local times as ``YYYY-MM-DD HH:MM:SS``, which they take as date-times."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(table.title)])
    writer.writerow([csv_text(h) for h in table.headings])
    for row in table.rows:
        writer.writerow([_csv_field(local_value(v, table.tz)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _display_width(value: Any) -> int:
    text = value if isinstance(value, str) else str(value) if value is not None else ""
    if isinstance(value, datetime):
        return 19
    # East Asian characters take about two columns of a Latin font.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def table_xlsx(table: Table) -> bytes:
    """A workbook for people: a bold title row, the headings frozen below it, columns as
    wide as their content, local date-times as real spreadsheet date-times."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.sheet[:31]
    sheet.append(xlsx_row(sheet, [table.title]))
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(xlsx_row(sheet, list(table.headings)))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    widths = [_display_width(h) for h in table.headings]
    for index, row in enumerate(table.rows):
        values = [local_value(v, table.tz) for v in row]
        sheet.append(xlsx_row(sheet, values))
        if index < _WIDTH_SAMPLE:
            widths = [max(w, _display_width(v)) for w, v in zip(widths, values, strict=False)]
    for cell_row in sheet.iter_rows(min_row=3):
        for cell in cell_row:
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = min(
            _MAX_WIDTH, max(_MIN_WIDTH, width + 2)
        )
    sheet.freeze_panes = "A3"  # the title and the headings stay in view
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
