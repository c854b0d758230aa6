"""Deadline policies: the time a unit has to rectify a case, by severity."""

from __future__ import annotations

from fastapi import APIRouter

from registry.deadline_policies import service
from registry.deadline_policies.schemas import DeadlinePolicyRead, DeadlinePolicyWrite, Severity
from shared.auth import AdminUser, CurrentUser
from shared.db import SessionDep
from shared.pagination import Page

router = APIRouter(prefix="/v1/deadline-policies", tags=["deadline-policies"])


@router.get("", response_model=Page[DeadlinePolicyRead])
async def list_deadline_policies(
    session: SessionDep, principal: CurrentUser
) -> Page[DeadlinePolicyRead]:
    """The region's time limits, urgent → normal → complex (three rows, never paged). `hours` run on the clock; `workdays` count working days of the calendar."""
    rows = await service.list_policies(session, region_id=principal.region_id)
    return Page(items=[DeadlinePolicyRead.model_validate(r) for r in rows])


@router.get("/{severity}", response_model=DeadlinePolicyRead)
async def get_deadline_policy(
    severity: Severity, session: SessionDep, principal: CurrentUser
) -> DeadlinePolicyRead:
    """The time limit of one severity."""
    policy = await service.get_policy(session, region_id=principal.region_id, severity=severity)
    return DeadlinePolicyRead.model_validate(policy)


@router.put("/{severity}", response_model=DeadlinePolicyRead)
async def put_deadline_policy(
    principal: AdminUser, severity: Severity, body: DeadlinePolicyWrite, session: SessionDep
) -> DeadlinePolicyRead:
    """Set the time limit of a severity (admin); at most a year. Applies to cases opened afterwards; a point type may override it."""
    policy = await service.put_policy(
        session,
        region_id=principal.region_id,
        severity=severity,
        amount=body.amount,
        unit=body.unit,
    )
    return DeadlinePolicyRead.model_validate(policy)
