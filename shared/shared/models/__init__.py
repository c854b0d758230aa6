"""All ORM models, under one metadata that ``migrations/env.py`` imports."""

from shared.models.audit import AuditEvent
from shared.models.base import Base
from shared.models.inspections import (
    Case,
    CaseEvent,
    Inspection,
    InspectionResult,
    Photo,
    PhotoLink,
)
from shared.models.open311 import Open311ApiKey, Open311Request
from shared.models.registry import (
    ArchiveFile,
    ArchiveItem,
    CalendarDay,
    Category,
    Checklist,
    Chief,
    DeadlinePolicy,
    Division,
    Person,
    PointType,
    Region,
    SamplePoint,
    Standard,
    Unit,
)
from shared.models.reporting import (
    AccountabilityRun,
    BlacklistEntry,
    Notice,
    ReportSettings,
    UnitEventMonth,
    UnitEventMonthRun,
)

__all__ = [
    "AccountabilityRun",
    "ArchiveFile",
    "ArchiveItem",
    "AuditEvent",
    "Base",
    "BlacklistEntry",
    "CalendarDay",
    "Case",
    "CaseEvent",
    "Category",
    "Checklist",
    "Chief",
    "DeadlinePolicy",
    "Division",
    "Inspection",
    "InspectionResult",
    "Notice",
    "Open311ApiKey",
    "Open311Request",
    "Person",
    "Photo",
    "PhotoLink",
    "PointType",
    "Region",
    "ReportSettings",
    "SamplePoint",
    "Standard",
    "Unit",
    "UnitEventMonth",
    "UnitEventMonthRun",
]
