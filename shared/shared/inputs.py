"""What a client may send: one rule for text and one for dates, used by every schema and import.

- **Text** may not contain control characters other than tab and newline (nor
  lone UTF-16 surrogates). PostgreSQL refuses NUL, XLSX cannot store most C0
  characters, and a bare CR breaks CSV: such a character would otherwise turn
  into a 500 at write time or, worse, in every later export. ``\\r\\n`` is
  read as ``\\n`` so text pasted from Windows is not refused.
- **Dates and times** lie in the years 1900–2199. Python's datetime ends at
  year 9999 and years 1/9999 overflow as soon as an offset or a month is added,
  so a date this far out is a typing error, not a campaign fact.

Request bodies get both rules from :class:`shared.schemas.RequestModel`; query
strings and paths from :class:`shared.guard.RequestGuardMiddleware`; query
parameters typed :data:`Instant` / :data:`Day`; the CSV/XLSX importers call
:func:`text_problem` and :func:`date_problem` per cell.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime

from shared.errors import Unprocessable

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
DateOrTime = TypeVar("DateOrTime", date, datetime)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n") if "\r" in text else text


def text_problem(text: str) -> str | None:
    """Why this text is refused (a control character, named by its code point), or None."""
    if text.isprintable():  # the common case, decided in C
        return None
    found = CONTROL_CHARACTERS.search(normalise_newlines(text))
    if found is None:
        return None
    return f"contains the control character U+{ord(found.group()):04X}; only tab and newline are allowed"


def date_problem(value: date | datetime) -> str | None:
    """Why this date or time is refused (outside 1900–2199), or None."""
    if EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return None
    return f"must lie in the years {EARLIEST_YEAR}–{LATEST_YEAR}"


def clean_value(value: Any) -> Any:
    """A validated field value checked by both rules (pydantic after-validator; ValueError when refused)."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return normalise_newlines(value)
    if isinstance(value, date):  # datetime is a date too
        problem = date_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    return value


def refuse_bad_text(value: str, loc: list[str]) -> str:
    """For form fields outside a model: 422 problem details when the text breaks the rule."""
    problem = text_problem(value)
    if problem is not None:
        raise Unprocessable(
            "The request is not valid; see errors for each field.",
            errors=[{"loc": loc, "msg": problem, "type": "value_error"}],
        )
    return normalise_newlines(value)


def _checked_date(value: DateOrTime) -> DateOrTime:
    problem = date_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Instant = Annotated[datetime, AfterValidator(_checked_date)]
"""A datetime query parameter within the years 1900–2199."""
AwareInstant = Annotated[AwareDatetime, AfterValidator(_checked_date)]
"""A datetime query parameter with an offset, within the years 1900–2199."""
Day = Annotated[date, AfterValidator(_checked_date)]
"""A date query parameter within the years 1900–2199."""
