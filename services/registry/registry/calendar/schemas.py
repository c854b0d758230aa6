"""Wire models of the working calendar: the dates that differ from the Mon–Fri week."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.schemas import RequestModel, ResponseModel
from shared.vocabulary import CalendarDayKind as DayKind

DayName = Annotated[str, StringConstraints(max_length=100)]


class CalendarDayWrite(RequestModel):
    kind: DayKind = Field(
        description="`holiday`: not worked; `workday`: a worked weekend day (调休)."
    )
    name: DayName = ""


class CalendarDayItem(CalendarDayWrite):
    date: dt.date


class CalendarBulk(RequestModel):
    days: list[CalendarDayItem] = Field(min_length=1, max_length=1000)


class CalendarDayRead(ResponseModel):
    date: dt.date = Field(validation_alias="day")
    kind: DayKind
    name: str
    updated_at: dt.datetime
