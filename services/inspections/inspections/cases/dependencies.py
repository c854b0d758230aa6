"""Typed dependencies: the case in the caller's scope, and the roles of the cases API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from inspections.cases.repository import get_case
from shared.auth import CurrentUser, Principal, require_roles
from shared.db import SessionDep
from shared.errors import NotFound
from shared.models import Case


def can_see(principal: Principal, case: Case) -> bool:
    """Everyone in the region sees its cases, except unit staff: only their own unit's."""
    if case.region_id != principal.region_id:
        return False
    return principal.role != "unit" or (
        principal.unit_id is not None and case.unit_id == principal.unit_id
    )


async def current_case(case_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> Case:
    """The case named in the path if the caller may see it; 404 otherwise (never a hint)."""
    case = await get_case(session, principal.region_id, case_id)
    if case is None or not can_see(principal, case):
        raise NotFound(f"No case {case_id} here.")
    return case


CurrentCase = Annotated[Case, Depends(current_case)]
CaseReader = Annotated[
    Principal, Depends(require_roles("admin", "inspector", "unit", "leader", "service"))
]
CaseReporter = Annotated[Principal, Depends(require_roles("admin", "inspector", "leader"))]
