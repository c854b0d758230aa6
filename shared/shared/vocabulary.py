"""The domain's closed vocabularies, defined once.

Wire schemas use these ``Literal`` types; the ORM models derive their CHECK
constraints from the same values (``typing.get_args``), so the API and the
database can never disagree about what a severity or a case state is.
"""

from __future__ import annotations

from typing import Literal

PersonRole = Literal["admin", "inspector", "unit", "leader"]
DivisionLevel = Literal["street", "community", "grid"]
UnitKind = Literal["department", "street_office", "company", "other"]
ChiefKind = Literal["area", "grid", "road"]
PointStatus = Literal["active", "retired"]
Severity = Literal["urgent", "normal", "complex"]
DeadlineUnit = Literal["hours", "workdays"]
CalendarDayKind = Literal["holiday", "workday"]

CaseSource = Literal["woodpecker", "expert", "supervision", "leader", "self", "citizen"]
Outcome = Literal["pass", "fail", "na"]
ValidationState = Literal["valid", "pending", "rejected"]
CaseStatus = Literal[
    "reported", "assigned", "returned", "rectified", "closed", "cancelled", "parked"
]
CaseActionName = Literal[
    "dispatch",
    "cancel",
    "mark_duplicate",
    "return",
    "request_extension",
    "extend",
    "rectify",
    "verify",
    "reject",
    "park",
    "resume",
]
NoticeLevel = Literal["notice", "interview", "accountability"]
