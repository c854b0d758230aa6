"""Sign-in: the OAuth2 password flow that issues the JWTs every service accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select

from registry.auth.schemas import TokenRead
from registry.auth.throttle import SignInThrottle
from shared.auth import issue_token, password_hash, verify_password
from shared.db import SessionDep
from shared.errors import Unauthorized
from shared.inputs import refuse_bad_text
from shared.models import Person

router = APIRouter(prefix="/v1/auth", tags=["auth"])

# Verifying against a fixed hash when the user is unknown keeps the response
# time the same, so timing does not reveal which usernames exist.
_DUMMY_HASH = password_hash.hash("not-a-real-password")


def throttle_of(request: Request) -> SignInThrottle:
    app = request.app
    if getattr(app.state, "sign_in_throttle", None) is None:
        app.state.sign_in_throttle = SignInThrottle()
    return app.state.sign_in_throttle


@router.post(
    "/token",
    response_model=TokenRead,
    responses={
        401: {"description": "Wrong username or password (or the account is inactive)."},
        429: {"description": "Too many failed sign-ins for this username or address."},
    },
)
async def issue_access_token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenRead:
    """Exchange a username and password (OAuth2 password form) for a bearer JWT; after 5 failures for one username (30 from one address) within 15 minutes, 429 with Retry-After."""
    username = refuse_bad_text(username, ["body", "username"])
    throttle = throttle_of(request)
    address = request.client.host if request.client else "unknown"
    await throttle.check(username, address)
    person = await session.scalar(select(Person).where(Person.username == username))
    # argon2 is slow on purpose: off the event loop (shared.auth.verify_password), so
    # /healthz and every other request keep being answered while people sign in.
    stored_hash = person.password_hash if person is not None else _DUMMY_HASH
    matches = await verify_password(password, stored_hash)
    if person is None or not matches or not person.active:
        await throttle.failed(username, address)
        raise Unauthorized("Wrong username or password.")
    await throttle.succeeded(username)
    settings = request.app.state.settings
    token = issue_token(
        secret=settings.jwt_secret,
        ttl_seconds=settings.jwt_ttl_seconds,
        person_id=person.id,
        region_id=person.region_id,
        role=person.role,
        unit_id=person.unit_id,
        username=person.username,
        token_version=person.token_version,
    )
    return TokenRead(access_token=token, expires_in=settings.jwt_ttl_seconds)
