"""User text written into CSV and XLSX so that no spreadsheet program evaluates it.

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

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
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
    cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
    cell.data_type = "s"  # openpyxl would type a leading "=" as a formula
    return cell
