"""Open311 GeoReport v2 at ``/open311/v2/`` (SPEC §12), and the admin's integrator keys.

Decisions where the standard is silent or where we go further:

- Every path ends in ``.json`` or ``.xml``; both carry the same data. Errors are
  the standard's list of ``{code, description}`` (400 for bad input, 401 for a
  missing, unknown or revoked key, 403 for another region's
  ``jurisdiction_id``, 404, 409, 429 with ``Retry-After``, 503) — never problem
  details on these paths; ``/v1`` keeps problem details.
- ``jurisdiction_id`` is the region code. Reads work without a key (as
  off-the-shelf clients call them) when ``jurisdiction_id`` is given; posting
  needs ``api_key``. Only reports posted through Open311 are listed, without
  the reporter's contact details.
- ``POST requests`` is form-encoded (``application/x-www-form-urlencoded``), or
  ``multipart/form-data`` to attach a photo as ``media`` (JPEG, PNG, HEIC/HEIF,
  WebP, ≤ 15 MB, stored like any photo). ``media_url`` is recorded and shown,
  never fetched. Extensions: ``crs`` (``wgs84`` default, ``gcj02``, ``bd09``),
  the ``Idempotency-Key`` header. Unknown fields are refused (400), as
  everywhere in this API. The answer is synchronous (a
  ``service_request_id``), so there is no ``tokens`` endpoint.
- ``GET requests``: the standard's filters, newest first, a 90-day window
  (``start_date``/``end_date`` span at most 90 days; by default the last 90),
  and the paging extension ``page`` (from 1) and ``page_size`` (≤ 1000,
  default 1000 — the standard's own cap); a ``Link: <…>; rel="next"`` header
  says when there is another page. Give ``end_date`` for pages that stay put
  while new reports arrive.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Request, Response, status
from sqlalchemy import select
from starlette.datastructures import FormData

from inspections.open311 import repository, service
from inspections.open311.dependencies import Open311Reader, is_plain, resolve_caller
from inspections.open311.formats import Format, render
from inspections.open311.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyRead,
    Open311Created,
    Open311Error,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from inspections.photos.dependencies import BlobStoreDep
from shared import clock
from shared.auth import AdminUser
from shared.db import SessionDep
from shared.errors import BadRequest, NotFound, PayloadTooLarge
from shared.listing import keyset_page
from shared.models import Open311ApiKey
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(prefix="/open311/v2", tags=["open311"])
keys_router = APIRouter(prefix="/v1/open311/api-keys", tags=["open311 keys"])

WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_PAGE = 100_000
MAX_IDS = 200
FORM_OVERHEAD_BYTES = 1024 * 1024

_ERRORS = {
    code: {"model": list[Open311Error], "description": what}
    for code, what in {
        400: "Bad input, one entry per problem.",
        401: "Missing, unknown or revoked api_key.",
        403: "The api_key belongs to another jurisdiction.",
        404: "No such jurisdiction, service or request.",
        429: "Rate limit exceeded (Retry-After).",
    }.items()
}


def _xml_too(model: object, description: str) -> dict:
    return {
        200: {
            "model": model,
            "description": description,
            "content": {"text/xml": {}},
        },
        **_ERRORS,
    }


@router.get("/services.{fmt}", responses=_xml_too(list[Open311Service], "The services."))
async def list_services(
    fmt: Format,
    caller: Open311Reader,
    session: SessionDep,
) -> Response:
    """The kinds of problem a citizen can report: one service per point type, grouped by its category."""
    rows = await repository.services(session, caller.region_id)
    return render(fmt, "services", [service.service_json(row) for row in rows])


@router.get(
    "/services/{service_code}.{fmt}",
    responses=_xml_too(Open311ServiceDefinition, "The service definition."),
)
async def get_service_definition(
    service_code: str,
    fmt: Format,
    caller: Open311Reader,
    session: SessionDep,
) -> Response:
    """A service's attributes: `item`, the checklist requirement the problem breaks (optional)."""
    row = None
    if is_plain(service_code):
        row = await repository.service(session, caller.region_id, service_code)
    if row is None:
        raise NotFound(f"No service {service_code!r} here.")
    return render(fmt, "service_definition", service.definition_json(row))


@router.post(
    "/requests.{fmt}",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {
            "model": list[Open311Created],
            "description": "The report became a case in `reported`.",
            "content": {"text/xml": {}},
        },
        200: {"description": "A replay of an earlier POST with the same Idempotency-Key."},
        409: {"model": list[Open311Error], "description": "Idempotency-Key reused."},
        **_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                mime: {
                    "schema": {
                        "type": "object",
                        "required": ["api_key", "service_code"],
                        "properties": {
                            **{name: {"type": "string"} for name in service.TEXT_FIELDS},
                            "media": {"type": "string", "format": "binary"},
                        },
                        "additionalProperties": {
                            "type": "string",
                            "description": "attribute[CODE]",
                        },
                    }
                }
                for mime in ("application/x-www-form-urlencoded", "multipart/form-data")
            },
        }
    },
)
async def post_request(
    fmt: Format,
    request: Request,
    session: SessionDep,
    store: BlobStoreDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retrying with the same key returns the first answer; nothing is created twice.",
        ),
    ] = None,
) -> Response:
    """Report a problem (form-encoded, or multipart with a `media` photo); it becomes a citizen case awaiting triage."""
    settings = request.app.state.settings
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_photo_bytes + FORM_OVERHEAD_BYTES:
        raise PayloadTooLarge("The request is larger than a photo of 15 MB and its fields.")
    form = await _read_form(request, settings.max_photo_bytes)
    try:
        caller = await resolve_caller(
            request,
            session,
            api_key=_form_text(form, "api_key"),
            jurisdiction_id=_form_text(form, "jurisdiction_id"),
            key_required=True,
        )
        answer, replayed = await service.post_request(
            session,
            caller=caller,
            form=service.read_form(form),
            idempotency_key=idempotency_key,
            store=store,
            max_photo_bytes=settings.max_photo_bytes,
        )
    finally:
        await form.close()
    if replayed:
        return render(fmt, "service_requests", [answer], headers={"Idempotent-Replayed": "true"})
    return render(fmt, "service_requests", [answer], status_code=201)


async def _read_form(request: Request, max_photo_bytes: int) -> FormData:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest(
            "Send the request form-encoded (application/x-www-form-urlencoded), "
            "or as multipart/form-data to attach a media file."
        )
    try:
        return await request.form(max_files=1, max_fields=100, max_part_size=64 * 1024)
    except Exception as exc:  # Starlette's MultiPartException and malformed bodies
        raise BadRequest(f"The form could not be read: {exc}") from exc


def _form_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else None


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    parts = [part.strip() for part in value.split(",") if part.strip()]
    return parts or None


def _date(name: str, value: str | None, errors: list[dict]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(
            {"loc": ["query", name], "msg": "use W3C/ISO 8601, e.g. 2026-12-01T00:00:00Z"}
        )
        return None
    if parsed.tzinfo is None:
        errors.append({"loc": ["query", name], "msg": "needs a time zone offset (or Z)"})
        return None
    return parsed


def _window(
    start: datetime | None, end: datetime | None, errors: list[dict]
) -> tuple[datetime | None, datetime | None]:
    """The standard's search window: at most 90 days, by default the last 90."""
    try:
        if start is None:
            end = end or clock.now()
            start = end - WINDOW
        elif end is None:
            end = start + WINDOW
    except OverflowError:
        errors.append({"loc": ["query", "start_date"], "msg": "out of range"})
        return start, end
    if end < start:
        errors.append({"loc": ["query", "end_date"], "msg": "is before start_date"})
    elif end - start > WINDOW:
        errors.append({"loc": ["query", "end_date"], "msg": "the range may span 90 days"})
    return start, end


def _filters(
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status_: str | None,
) -> repository.RequestFilters:
    errors: list[dict] = []
    ids = None
    if (raw_ids := _csv(service_request_id)) is not None:
        if len(raw_ids) > MAX_IDS:
            errors.append({"loc": ["query", "service_request_id"], "msg": f"at most {MAX_IDS}"})
        ids = []
        for raw in raw_ids[:MAX_IDS]:
            try:
                ids.append(uuid.UUID(raw))
            except ValueError:
                pass  # an id that cannot exist simply matches nothing
    statuses = _csv(status_)
    if statuses and not set(statuses) <= {"open", "closed"}:
        errors.append({"loc": ["query", "status"], "msg": "open and/or closed"})
    start = _date("start_date", start_date, errors)
    end = _date("end_date", end_date, errors)
    codes = _csv(service_code)
    if codes and not all(is_plain(code) for code in codes):
        errors.append({"loc": ["query", "service_code"], "msg": "control characters"})
    if ids is None and not errors:
        start, end = _window(start, end, errors)
    if errors:
        raise BadRequest("The query is not valid; see errors.", errors=errors)
    return repository.RequestFilters(
        ids=ids, service_codes=codes, start=start, end=end, statuses=statuses
    )


@router.get(
    "/requests.{fmt}",
    responses=_xml_too(list[Open311Request], "Reports, newest first, one page."),
)
async def list_requests(
    fmt: Format,
    request: Request,
    caller: Open311Reader,
    session: SessionDep,
    service_request_id: Annotated[
        str | None, Query(description="Comma-separated ids; overrides every other filter.")
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma-separated codes.")] = None,
    start_date: Annotated[str | None, Query(description="requested ≥ start_date")] = None,
    end_date: Annotated[str | None, Query(description="requested ≤ end_date")] = None,
    status_: Annotated[str | None, Query(alias="status", description="open, closed")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Extension: the page, from 1.")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Extension: rows per page.")
    ] = MAX_PAGE_SIZE,
) -> Response:
    """Search citizens' reports (the standard's filters, 90-day window) with `page`/`page_size` paging."""
    filters = _filters(service_request_id, service_code, start_date, end_date, status_)
    stmt = repository.requests_statement(caller.region_id, filters)
    rows = (await session.execute(stmt.offset((page - 1) * page_size).limit(page_size + 1))).all()
    headers = {}
    if len(rows) > page_size:
        rows = rows[:page_size]
        next_url = request.url.include_query_params(page=page + 1, page_size=page_size)
        headers["Link"] = f'<{next_url}>; rel="next"'
    items = await _request_items(session, caller.region_id, caller.timezone, rows)
    return render(fmt, "service_requests", items, headers=headers)


@router.get(
    "/requests/{service_request_id}.{fmt}",
    responses=_xml_too(list[Open311Request], "The report, as a list of one."),
)
async def get_request(
    service_request_id: str,
    fmt: Format,
    caller: Open311Reader,
    session: SessionDep,
) -> Response:
    """One citizen's report with its current status and notes."""
    try:
        case_id = uuid.UUID(service_request_id)
    except ValueError:
        case_id = None
    rows = []
    if case_id is not None:
        filters = repository.RequestFilters(
            ids=[case_id], service_codes=None, start=None, end=None, statuses=None
        )
        rows = (
            await session.execute(repository.requests_statement(caller.region_id, filters))
        ).all()
    if not rows:
        raise NotFound(f"No service request {service_request_id!r} here.")
    items = await _request_items(session, caller.region_id, caller.timezone, rows)
    return render(fmt, "service_requests", items)


async def _request_items(session, region_id: uuid.UUID, timezone: str, rows: list) -> list[dict]:
    notes = await repository.latest_notes(session, region_id, [row[0].id for row in rows])
    zone = ZoneInfo(timezone)
    return [
        service.request_json(case, request_row, service_name, unit_name, notes, zone)
        for case, request_row, service_name, unit_name in rows
    ]


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown_open311_path(rest: str) -> Response:
    """Anything else under /open311/v2/ is a 404 in Open311's format."""
    raise NotFound(f"No Open311 resource {rest!r}; see services.json and requests.json.")


# ---------------------------------------------------------------- the admin's keys


@keys_router.post("", response_model=ApiKeyIssued, status_code=status.HTTP_201_CREATED)
async def create_api_key(
    body: ApiKeyCreate, principal: AdminUser, session: SessionDep
) -> ApiKeyIssued:
    """Issue an integrator's Open311 key for this region; the secret is shown once, only its hash is kept."""
    key, secret = await service.issue_key(session, principal=principal, name=body.name)
    return ApiKeyIssued.model_validate(
        {**ApiKeyRead.model_validate(key).model_dump(), "api_key": secret}
    )


@keys_router.get("", response_model=Page[ApiKeyRead])
async def list_api_keys(
    principal: AdminUser,
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ApiKeyRead]:
    """The region's integrator keys, revoked ones included, oldest first (never the secrets)."""
    stmt = select(Open311ApiKey).where(Open311ApiKey.region_id == principal.region_id)
    rows, next_cursor = await keyset_page(
        session,
        stmt,
        order_by=[Open311ApiKey.created_at, Open311ApiKey.id],
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[ApiKeyRead.model_validate(k) for k in rows], next_cursor=next_cursor)


@keys_router.post("/{key_id}/revoke", response_model=ApiKeyRead)
async def revoke_api_key(
    key_id: uuid.UUID, principal: AdminUser, session: SessionDep
) -> ApiKeyRead:
    """Revoke a key at once (its calls answer 401 from now on); revoking again changes nothing."""
    key = await service.revoke_key(session, principal=principal, key_id=key_id)
    return ApiKeyRead.model_validate(key)
