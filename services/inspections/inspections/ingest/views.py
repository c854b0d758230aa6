"""Turning stored inspections into their wire shape."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from inspections.ingest import repository
from inspections.ingest.schemas import (
    EpidemicRead,
    InspectionDetail,
    InspectionRead,
    LocationRead,
    ResultRead,
)
from shared.models import Inspection


def _fields(inspection: Inspection) -> dict:
    location = None
    if inspection.lat is not None and inspection.lon is not None:
        location = LocationRead(
            lat=inspection.lat, lon=inspection.lon, accuracy_m=inspection.accuracy_m
        )
    values = {
        name: getattr(inspection, name)
        for name in InspectionRead.model_fields
        if name not in ("location", "epidemic")
    }
    values["location"] = location
    values["epidemic"] = EpidemicRead(
        health_code_checked=inspection.health_code_checked,
        temperature_checked=inspection.temperature_checked,
        masks_worn=inspection.masks_worn,
    )
    values["vetoed_items"] = list(inspection.vetoed_items or [])
    return values


def to_read(inspection: Inspection) -> InspectionRead:
    return InspectionRead.model_validate(_fields(inspection))


async def to_detail(session: AsyncSession, inspection: Inspection) -> InspectionDetail:
    results = await repository.results_of(session, inspection)
    case_ids = await repository.case_ids_of(session, inspection)
    return InspectionDetail.model_validate(
        {
            **_fields(inspection),
            "results": [ResultRead.model_validate(r) for r in results],
            "case_ids": case_ids,
        }
    )
