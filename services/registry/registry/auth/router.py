"""Sign-in: the OAuth2 password flow that issues the JWTs every service accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select

from registry.auth.schemas import TokenRead
from shared.auth import issue_token, password_hash
from shared.db import SessionDep
from shared.errors import Unauthorized
from shared.inputs import refuse_bad_text
from shared.models import Person

router = APIRouter(prefix="/v1/auth", tags=["auth"])

# Verifying against a fixed hash when the user is unknown keeps the response
# time the same, so timing does not reveal which usernames exist.
_DUMMY_HASH = password_hash.hash("not-a-real-password")


@router.post("/token", response_model=TokenRead)
async def issue_access_token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenRead:
    """Exchange a username and password (OAuth2 password form) for a bearer JWT."""
    username = refuse_bad_text(username, ["body", "username"])
    person = await session.scalar(select(Person).where(Person.username == username))
    if person is None:
        password_hash.verify(password, _DUMMY_HASH)
        raise Unauthorized("Wrong username or password.")
    if not password_hash.verify(password, person.password_hash) or not person.active:
        raise Unauthorized("Wrong username or password.")
    settings = request.app.state.settings
    token = issue_token(
        secret=settings.jwt_secret,
        ttl_seconds=settings.jwt_ttl_seconds,
        person_id=person.id,
        region_id=person.region_id,
        role=person.role,
        unit_id=person.unit_id,
        username=person.username,
    )
    return TokenRead(access_token=token, expires_in=settings.jwt_ttl_seconds)
