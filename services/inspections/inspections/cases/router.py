"""Cases: the rectification workflow (SPEC §6.3).

States and actions follow SPEC §6.3 exactly. Decisions where the SPEC is silent:

- **Role before state.** An action the caller's role may never take (an
  inspector rectifying, a unit verifying, a leader doing anything) answers
  **403**; an action the role may take but not from the case's current status
  answers **409**. Both carry ``allowed_actions``: what this caller may do now.
- **Scope.** Unit staff see and act on their own unit's cases only; any other
  case answers 404 (list, read, events, actions). A case a unit returned stays
  visible to it until it is dispatched to another unit.
- **The clock** starts at dispatch: ``due_at`` is computed from the region's
  deadline policy (a point type's own policy overrides it) and working calendar,
  counted from the dispatch time. ``N workdays`` = 23:59:59 local time on the
  Nth working day after the dispatch day (the dispatch day never counts);
  ``hours`` = wall-clock hours.
- **Notes** are required for cancel, return, request_extension, rectify, reject
  and park. ``rectify`` also needs at least one uploaded after-photo.
  ``unit_id`` is accepted only by dispatch, ``due_at`` only by dispatch, resume,
  extend and request_extension, ``duplicate_of`` only by mark_duplicate.
- A returned case may be dispatched to any unit, the same one included (the
  admin may overrule a wrong return). A pending extension request is cleared
  by ``extend`` or when the case leaves ``assigned``; a new request replaces it.
- ``rectified_at`` is the first rectification, ``last_rectified_at`` the latest;
  ``closed_on_time`` = the latest rectification came at or before ``due_at``.
  ``cancel`` and ``mark_duplicate`` never set ``closed_at``.
- Lists are sorted by ``(reported_at, id)`` ascending; ``from`` is inclusive,
  ``to`` exclusive; ``division`` matches the whole subtree.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile, status

from inspections.cases import importer, repository, service
from inspections.cases.context import RegistryDep
from inspections.cases.dependencies import CaseReader, CaseReporter, CurrentCase
from inspections.cases.schemas import (
    AllowedActionsRead,
    CaseAction,
    CaseCreate,
    CaseEventRead,
    CaseImportResult,
    CaseRead,
    CaseStatus,
    Severity,
    Source,
)
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.errors import Unprocessable
from shared.inputs import Instant
from shared.listing import keyset_page
from shared.models import Case, CaseEvent
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.get("", response_model=Page[CaseRead])
async def list_cases(
    principal: CaseReader,
    session: SessionDep,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    unit: uuid.UUID | None = None,
    sample_point: uuid.UUID | None = None,
    division: Annotated[uuid.UUID | None, Query(description="Matches the whole subtree.")] = None,
    source: Source | None = None,
    severity: Severity | None = None,
    overdue: bool | None = None,
    from_: Annotated[Instant | None, Query(alias="from", description="reported_at ≥ from")] = None,
    to: Annotated[Instant | None, Query(description="reported_at < to")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[CaseRead]:
    """List the region's cases (unit staff: their own unit's only), oldest report first."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise Unprocessable(
                "Times need an offset.",
                errors=[{"loc": ["query", name], "msg": "use RFC 3339 with an offset"}],
            )
    filters = repository.CaseFilters(
        status=status_,
        unit_id=unit,
        sample_point_id=sample_point,
        division_id=division,
        source=source,
        severity=severity,
        overdue=overdue,
        reported_from=from_,
        reported_to=to,
    )
    now = service.utcnow()
    stmt = repository.list_statement(principal.region_id, filters, now=now)
    if principal.role == "unit":
        stmt = stmt.where(Case.unit_id == principal.unit_id)
    rows, next_cursor = await keyset_page(
        session, stmt, order_by=[Case.reported_at, Case.id], cursor=cursor, limit=limit
    )
    return Page(items=[service.case_read(c, now) for c in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=CaseRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The same id and body again: the stored case."}},
)
async def create_case(
    body: CaseCreate,
    principal: CaseReporter,
    session: SessionDep,
    registry: RegistryDep,
    response: Response,
) -> CaseRead:
    """Open a case not tied to an inspection; dispatched at once when its unit is known.

    The unit is ``unit_id`` or else the sample point's unit; without either the
    case stays ``reported`` for an admin to dispatch. Category, division,
    location and address default from the sample point. Idempotent by ``id``:
    the same body again answers 200 with the stored case, another body 409.
    Admins, inspectors and leaders may report.
    """
    case, created = await service.create_case(
        session, principal=principal, body=body, registry=registry
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/cases/{case.id}"
    set_etag(response, case.version)
    return service.case_read(case)


@router.post("/import", response_model=CaseImportResult, status_code=status.HTTP_201_CREATED)
async def import_cases(
    file: UploadFile,
    principal: AdminUser,
    session: SessionDep,
    registry: RegistryDep,
) -> CaseImportResult:
    """Import a list of cases from CSV or XLSX (multipart ``file``); all rows or none.

    Columns: ``description, severity`` (required), ``sample_point_code`` or else
    ``address`` (with optional ``lat, lon`` and their ``crs``: ``wgs84`` default,
    ``gcj02``, ``bd09``, stored as WGS-84), and optional ``category_code,
    unit_code, source`` (default ``expert``), ``reported_at`` (RFC 3339 or
    ``YYYY-MM-DD HH:MM`` in the region's time zone). A row's unit is
    ``unit_code`` or its sample point's unit; such rows are dispatched at once.
    Any bad row rejects the file with 422 listing ``row`` numbers (header =
    row 1). Codes are resolved against the registry's tables read-only.
    """
    data = await file.read(importer.MAX_BYTES + 1)
    ids = await importer.import_cases(
        session,
        principal=principal,
        data=data,
        filename=file.filename or "",
        registry=registry,
    )
    return CaseImportResult(created=len(ids), case_ids=ids)


@router.get("/{case_id}", response_model=CaseRead)
async def get_case(_: CaseReader, case: CurrentCase, response: Response) -> CaseRead:
    """One case with its computed ``overdue`` flag; ``ETag`` is its version."""
    set_etag(response, case.version)
    return service.case_read(case)


@router.get("/{case_id}/events", response_model=Page[CaseEventRead])
async def list_case_events(
    _: CaseReader,
    case: CurrentCase,
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[CaseEventRead]:
    """The case's immutable history, oldest first (``from``/``to`` are statuses)."""
    rows, next_cursor = await keyset_page(
        session,
        repository.events_statement(case.region_id, case.id),
        order_by=[CaseEvent.at, CaseEvent.id],
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[CaseEventRead.model_validate(e) for e in rows], next_cursor=next_cursor)


@router.get("/{case_id}/actions", response_model=AllowedActionsRead)
async def list_allowed_actions(
    principal: CaseReader, case: CurrentCase, response: Response
) -> AllowedActionsRead:
    """The actions the caller may take on the case in its current status (SPEC §6.3 table), so a client shows only those."""
    set_etag(response, case.version)
    return AllowedActionsRead(
        status=case.status,
        version=case.version,
        allowed_actions=service.allowed_actions(case.status, principal.role),
    )


@router.post("/{case_id}/actions", response_model=CaseRead)
async def act_on_case(
    body: CaseAction,
    request: Request,
    principal: CurrentUser,
    case: CurrentCase,
    session: SessionDep,
    registry: RegistryDep,
    response: Response,
) -> CaseRead:
    """Take one workflow action (SPEC §6.3 table); ``If-Match`` with a stale version → 412.

    - A role that may never take the action (an inspector rectifying, a unit
      verifying, a leader doing anything) → **403**; an action the role may take
      but not from the current status → **409**. Both list ``allowed_actions``:
      what this caller may do to the case now.
    - Unit staff act only on their own unit's cases; others answer 404.
    - Notes are required for cancel, return, request_extension, rectify, reject
      and park; rectify also needs at least one uploaded after-photo (422).
      ``unit_id`` is for dispatch only; ``due_at`` for dispatch/resume (optional:
      default from the deadline policy and working calendar counted from now),
      extend (required, later than the current one) and request_extension
      (optional proposal); ``duplicate_of`` for mark_duplicate only (another
      non-cancelled case of the region).
    - Deadlines: ``N workdays`` end at 23:59:59 local time on the Nth working day
      after the dispatch day; ``hours`` are wall-clock hours.
    - A returned case may be dispatched to any unit (the admin may overrule a
      wrong return). A pending extension request is cleared by extend or when
      the case leaves ``assigned``; a new request replaces it. reject keeps the
      deadline and adds one to ``rework_count``. verify sets ``closed_at`` and
      ``closed_on_time`` (latest rectify at or before ``due_at``).
    - Every action appends an event; action photos become readable to whoever
      may see the case.
    """
    check_if_match(request, case.version)
    case = await service.apply_action(
        session, principal=principal, case=case, body=body, registry=registry
    )
    set_etag(response, case.version)
    return service.case_read(case)
