"""People: the region's accounts (admins, inspectors, unit staff, leaders)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from registry.people import service
from registry.people.dependencies import Me, PeopleReader, VisiblePerson, load_person
from registry.people.schemas import (
    PasswordSet,
    PersonCreate,
    PersonRead,
    PersonRole,
    PersonUpdate,
)
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.errors import Forbidden
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/people", tags=["people"])


@router.get("", response_model=Page[PersonRead], dependencies=[PeopleReader])
async def list_people(
    session: SessionDep,
    principal: CurrentUser,
    role: PersonRole | None = None,
    unit: uuid.UUID | None = None,
    active: bool | None = None,
    q: str | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[PersonRead]:
    """List the region's accounts by username (admins and leaders only; others use `GET /v1/people/me`); `q` matches username or display name."""
    rows, next_cursor = await service.list_people(
        session,
        region_id=principal.region_id,
        role=role,
        unit=unit,
        active=active,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[PersonRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=PersonRead, status_code=status.HTTP_201_CREATED)
async def create_person(
    principal: AdminUser, body: PersonCreate, session: SessionDep, response: Response
) -> PersonRead:
    """Create an account with its password (admin); role `unit` needs a `unit_id` of the region, other roles may name one as affiliation; usernames are unique across all regions (409)."""
    person = await service.create_person(session, region_id=principal.region_id, body=body)
    set_etag(response, person.version)
    return PersonRead.model_validate(person)


@router.get("/me", response_model=PersonRead)
async def get_me(person: Me, response: Response) -> PersonRead:
    """The caller's own account."""
    set_etag(response, person.version)
    return PersonRead.model_validate(person)


@router.get("/{person_id}", response_model=PersonRead)
async def get_person(person: VisiblePerson, response: Response) -> PersonRead:
    """One account: admins and leaders read anyone in the region, everyone else only themselves (403)."""
    set_etag(response, person.version)
    return PersonRead.model_validate(person)


@router.patch("/{person_id}", response_model=PersonRead)
async def update_person(
    principal: AdminUser,
    body: PersonUpdate,
    person: VisiblePerson,
    session: SessionDep,
    request: Request,
    response: Response,
) -> PersonRead:
    """Change an account (admin, `If-Match` honoured); `active: false` refuses further sign-ins (issued tokens run out at their expiry). Accounts are never deleted, and admins cannot deactivate or re-role themselves (409)."""
    check_if_match(request, person.version)
    person = await service.update_person(
        session, person, body.model_dump(exclude_unset=True), principal=principal
    )
    set_etag(response, person.version)
    return PersonRead.model_validate(person)


@router.post("/{person_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def set_password(
    person_id: uuid.UUID,
    principal: CurrentUser,
    body: PasswordSet,
    session: SessionDep,
    request: Request,
) -> None:
    """Set a password (min 8 characters): admins for anyone in the region, anyone else for themselves; changing one's own password needs `current_password`."""
    if principal.role != "admin" and principal.person_id != person_id:
        raise Forbidden("Only admins set other people's passwords.")
    person = await load_person(session, principal.region_id, person_id)
    check_if_match(request, person.version)
    await service.set_password(
        session,
        person,
        password=body.password,
        current_password=body.current_password,
        principal=principal,
    )
