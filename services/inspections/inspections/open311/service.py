"""Open311 GeoReport v2 on top of the cases workflow (SPEC §12).

- **Services** are the region's point types (``service_code`` = the type's code,
  ``group`` = its category, the health-city standard's section). A type with a
  checklist has ``metadata: true`` and one optional attribute, ``item``: which
  checklist requirement the problem breaks; it becomes the case's ``item_code``.
- **A posted request becomes a case** with ``source: citizen`` in ``reported``,
  for the office to triage (dispatch, cancel or mark_duplicate); its category
  and point type come from the service, its severity is ``normal``. Coordinates
  may carry ``crs`` (``wgs84`` default, ``gcj02``, ``bd09``) and are stored as
  WGS-84. Open cases of the same service within 50 m are listed in the case's
  ``duplicate_candidates``.
- **Status** follows the case: ``closed`` once it is closed or cancelled,
  ``open`` before; ``status_notes`` says where it stands with the notes a
  citizen may read (the rectification's, the verification's, why it was set
  aside); ``agency_responsible`` is the unit, ``expected_datetime`` the case's
  ``due_at``.
- **Idempotency.** A POST with an ``Idempotency-Key`` header that this key has
  used before returns the first answer (200, ``Idempotent-Replayed: true``) and
  creates nothing; the same header with another report is a 409.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from inspections.cases.service import CaseDraft, open_case
from inspections.open311 import repository
from inspections.open311.dependencies import KEY_PREFIX, Open311Caller, key_hash
from inspections.photos.service import receive_upload, store_photo
from inspections.photos.storage import BlobStore
from shared import clock
from shared.auth import Principal
from shared.coordinates import CRS_VALUES, to_wgs84
from shared.errors import BadRequest, Conflict, NotFound
from shared.models import Case, Open311ApiKey
from shared.models import Open311Request as Open311RequestRow
from shared.models.inspections import OPEN_STATUSES

SERVICE_NOTICE = "已受理，创卫办将尽快分派。Received; the campaign office will triage it shortly."
ITEM_ATTRIBUTE = "item"
MAX_IDEMPOTENCY_KEY = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# name → longest accepted value; the standard's POST fields plus our `crs` extension.
TEXT_FIELDS = {
    "api_key": 200,
    "jurisdiction_id": 64,
    "service_code": 64,
    "lat": 32,
    "long": 32,
    "crs": 8,
    "address_string": 400,
    "address_id": 64,
    "email": 254,
    "device_id": 200,
    "account_id": 200,
    "first_name": 100,
    "last_name": 100,
    "phone": 32,
    "description": 4000,
    "media_url": 2048,
}
CONTACT_FIELDS = ("email", "device_id", "account_id", "first_name", "last_name", "phone")
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,64})\]$")


# ---------------------------------------------------------------- API keys


async def issue_key(
    session: AsyncSession, *, principal: Principal, name: str
) -> tuple[Open311ApiKey, str]:
    """A new key for the caller's region: ``(row, secret)``; the secret is never stored."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311ApiKey(
        region_id=principal.region_id,
        id=uuid.uuid4(),
        name=name,
        key_hash=key_hash(secret),
        key_prefix=secret[: len(KEY_PREFIX) + 6],
        created_by=principal.person_id,
    )
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return key, secret


async def revoke_key(
    session: AsyncSession, *, principal: Principal, key_id: uuid.UUID
) -> Open311ApiKey:
    """Revoke a key of the caller's region (again: no change); 404 for any other."""
    key = await session.scalar(
        select(Open311ApiKey).where(
            Open311ApiKey.region_id == principal.region_id, Open311ApiKey.id == key_id
        )
    )
    if key is None:
        raise NotFound(f"No API key {key_id} here.")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.revoked_by = principal.person_id
        await session.flush()
    return key


# ---------------------------------------------------------------- services


def service_json(row: repository.ServiceRow) -> dict[str, Any]:
    return {
        "service_code": row.code,
        "service_name": row.name,
        "description": f"{row.category_name} · {row.name}",
        "metadata": bool(row.items),
        "type": "realtime",
        "keywords": row.category_code,
        "group": row.category_name,
    }


def definition_json(row: repository.ServiceRow) -> dict[str, Any]:
    attributes = []
    if row.items:
        attributes.append(
            {
                "variable": True,
                "code": ITEM_ATTRIBUTE,
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "One checklist item code.",
                "order": 1,
                "description": "哪一项要求未达到 Which requirement is not met (optional)",
                "values": [{"key": item["code"], "name": item["text"]} for item in row.items],
            }
        )
    return {"service_code": row.code, "attributes": attributes}


# ---------------------------------------------------------------- posting


@dataclass
class ReportForm:
    """A ``POST requests`` body, checked; ``lat``/``lon`` already WGS-84."""

    service_code: str
    fields: dict[str, str]
    attributes: dict[str, str]
    lat: float | None
    lon: float | None
    media: UploadFile | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return self.fields.get(name) or None


def _error(name: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", name], "msg": msg}


def read_form(form: FormData) -> ReportForm:
    """Check the form-encoded (or multipart) body field by field; every problem is listed."""
    errors: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    attributes: dict[str, str] = {}
    media: UploadFile | None = None
    for name, value in form.multi_items():
        if name == "media":
            if isinstance(value, UploadFile):
                media = value
            else:
                errors.append(_error(name, "must be a file part (multipart/form-data)"))
            continue
        if not isinstance(value, str):
            errors.append(_error(name, "must be a text field"))
            continue
        attribute = _ATTRIBUTE.match(name)
        if attribute is None and name not in TEXT_FIELDS:
            errors.append(_error(name, "unknown field"))
            continue
        limit = 4000 if attribute else TEXT_FIELDS[name]
        value = value.strip()
        if len(value) > limit:
            errors.append(_error(name, f"at most {limit} characters"))
        elif _CONTROL.search(value):
            errors.append(_error(name, "control characters are not allowed"))
        elif attribute:
            attributes[attribute.group(1)] = value
        else:
            fields[name] = value

    if not fields.get("service_code"):
        errors.append(_error("service_code", "required"))
    lat, lon = _position(fields, errors)
    if lat is None and not fields.get("address_string"):
        msg = "send lat and long, or address_string"
        if fields.get("address_id"):
            msg = "address_id is not supported here; " + msg
        errors.append(_error("lat", msg))
    media_url = fields.get("media_url")
    if media_url:
        parts = urlsplit(media_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in media_url:
            errors.append(_error("media_url", "must be an absolute http(s) URL"))
    email = fields.get("email")
    if email and ("@" not in email or " " in email):
        errors.append(_error("email", "is not an email address"))
    return ReportForm(
        service_code=fields.get("service_code", ""),
        fields=fields,
        attributes=attributes,
        lat=lat,
        lon=lon,
        media=media,
        errors=errors,
    )


def _position(
    fields: dict[str, str], errors: list[dict[str, Any]]
) -> tuple[float | None, float | None]:
    raw_lat, raw_lon = fields.get("lat"), fields.get("long")
    crs = fields.get("crs") or "wgs84"
    if crs not in CRS_VALUES:
        errors.append(_error("crs", f"one of {', '.join(CRS_VALUES)}"))
        return None, None
    if not raw_lat and not raw_lon:
        return None, None
    if not raw_lat or not raw_lon:
        errors.append(_error("lat" if not raw_lat else "long", "lat and long go together"))
        return None, None
    values = []
    for name, raw, bound in (("lat", raw_lat, 90), ("long", raw_lon, 180)):
        try:
            value = float(raw)
        except ValueError:
            errors.append(_error(name, "must be a number"))
            continue
        if not math.isfinite(value) or not -bound <= value <= bound:
            errors.append(_error(name, f"must be between -{bound} and {bound}"))
            continue
        values.append(value)
    if len(values) != 2:
        return None, None
    return to_wgs84(values[0], values[1], crs)  # type: ignore[arg-type]


def _form_hash(form: ReportForm, media_sha256: str | None) -> str:
    """What identifies the report: every field but the key, every attribute, the photo's bytes."""
    content = {
        "fields": {k: v for k, v in sorted(form.fields.items()) if k != "api_key"},
        "attributes": dict(sorted(form.attributes.items())),
        "media": media_sha256,
    }
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _answer(case_id: uuid.UUID, contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "service_request_id": str(case_id),
        "service_notice": SERVICE_NOTICE,
        "account_id": contact.get("account_id"),
    }


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(64 * 1024):
        yield chunk


async def post_request(
    session: AsyncSession,
    *,
    caller: Open311Caller,
    form: ReportForm,
    idempotency_key: str | None,
    store: BlobStore,
    max_photo_bytes: int,
) -> tuple[dict[str, Any], bool]:
    """Turn a citizen's report into a ``reported`` case: ``(answer, replayed)``."""
    assert caller.api_key_id is not None
    errors = list(form.errors)
    if idempotency_key is not None and (
        not idempotency_key
        or len(idempotency_key) > MAX_IDEMPOTENCY_KEY
        or _CONTROL.search(idempotency_key)
    ):
        errors.append(
            {"loc": ["header", "Idempotency-Key"], "msg": "1 to 200 printable characters"}
        )
    service = None
    if form.service_code:
        service = await repository.service(session, caller.region_id, form.service_code)
        if service is None:
            errors.append(_error("service_code", "no such service here (see services.json)"))
    item_code = form.attributes.get(ITEM_ATTRIBUTE)
    for code in form.attributes:
        if code != ITEM_ATTRIBUTE or service is None or not service.items:
            errors.append(_error(f"attribute[{code}]", "this service has no such attribute"))
    if service is not None and item_code is not None:
        if item_code not in {item["code"] for item in service.items}:
            errors.append(_error("attribute[item]", "not one of the service's values"))
    if errors:
        raise BadRequest("The request is not valid; see errors.", errors=errors)
    assert service is not None

    upload = None
    if form.media is not None:
        upload = await receive_upload(
            _chunks(form.media), max_bytes=max_photo_bytes, declared_length=None
        )
    try:
        digest = _form_hash(form, upload.sha256 if upload else None)
        if idempotency_key is not None:
            replay = await _replay(session, caller, idempotency_key, digest)
            if replay is not None:
                return replay, True

        photo_ids: tuple[uuid.UUID, ...] = ()
        if upload is not None:
            uploader = Principal(
                subject_id=caller.api_key_id, region_id=caller.region_id, role="service"
            )
            photo, _ = await store_photo(
                session, store, principal=uploader, photo_id=uuid.uuid4(), upload=upload
            )
            photo_ids = (photo.id,)
    finally:
        if upload is not None:
            upload.close()

    candidates: list[uuid.UUID] = []
    if form.lat is not None and form.lon is not None:
        candidates = await repository.open_cases_nearby(
            session,
            region_id=caller.region_id,
            point_type_id=service.point_type_id,
            lat=form.lat,
            lon=form.lon,
        )
    draft = CaseDraft(
        id=uuid.uuid4(),
        source="citizen",
        description=form.get("description") or service.name,
        severity="normal",
        reported_at=clock.now(),
        reporter_id=None,
        item_code=item_code,
        category_id=service.category_id,
        point_type_id=service.point_type_id,
        lat=form.lat,
        lon=form.lon,
        address=form.get("address_string"),
        photo_ids=photo_ids,
    )
    case = await open_case(session, region_id=caller.region_id, draft=draft, deadlines=None)
    case.duplicate_candidates = candidates
    contact = {name: form.fields[name] for name in CONTACT_FIELDS if form.fields.get(name)}
    session.add(
        Open311RequestRow(
            region_id=caller.region_id,
            case_id=case.id,
            api_key_id=caller.api_key_id,
            idempotency_key=idempotency_key,
            body_hash=digest,
            service_code=service.code,
            media_url=form.get("media_url"),
            contact=contact,
        )
    )
    await session.flush()
    return _answer(case.id, contact), False


async def _replay(
    session: AsyncSession, caller: Open311Caller, idempotency_key: str, digest: str
) -> dict[str, Any] | None:
    """The first answer under this key, or ``None`` when it is new.

    A transaction-scoped advisory lock on (API key, idempotency key) makes two
    concurrent retries take turns: the second waits for the first to commit and
    then finds its row.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"),
        {"lock": f"open311:{caller.api_key_id}:{idempotency_key}"},
    )
    row = await session.scalar(
        select(Open311RequestRow).where(
            Open311RequestRow.region_id == caller.region_id,
            Open311RequestRow.api_key_id == caller.api_key_id,
            Open311RequestRow.idempotency_key == idempotency_key,
        )
    )
    if row is None:
        return None
    if row.body_hash != digest:
        raise Conflict("This Idempotency-Key was already used for another report; use a new key.")
    return _answer(row.case_id, row.contact or {})


# ---------------------------------------------------------------- reading

STATUS_PHRASES = {
    "reported": "已受理，等待分派 Received; awaiting triage by the campaign office.",
    "assigned": "已派遣责任单位整改 Assigned to the responsible unit for rectification.",
    "returned": "责任单位退回，重新分派中 Returned by the unit; being reassigned.",
    "rectified": "已整改，等待核查 Rectified; awaiting on-site verification.",
    "closed": "已整改并核查结案 Rectified and verified on site.",
    "cancelled": "不予受理 Not accepted.",
    "parked": "暂缓处理 Cannot be solved for now.",
}
# Which events' notes each status shows, in order.
STATUS_NOTE_ACTIONS = {
    "rectified": ("rectify",),
    "closed": ("rectify", "verify"),
    "cancelled": ("cancel",),
    "parked": ("park",),
}


def open311_status(case: Case) -> str:
    return "open" if case.status in OPEN_STATUSES else "closed"


def status_notes(case: Case, notes: dict[tuple[uuid.UUID, str], str | None]) -> str:
    phrase = STATUS_PHRASES[case.status]
    if case.status == "cancelled" and case.duplicate_of is not None:
        phrase = "与已有问题重复 Duplicate of an earlier report, which is being handled."
    said = [
        note
        for action in STATUS_NOTE_ACTIONS.get(case.status, ())
        if (note := notes.get((case.id, action)))
    ]
    return f"{phrase} {' '.join(said)}".strip()


def _time(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat(timespec="seconds") if value is not None else None


def request_json(
    case: Case,
    request_row: Open311RequestRow,
    service_name: str | None,
    unit_name: str | None,
    notes: dict[tuple[uuid.UUID, str], str | None],
    zone: ZoneInfo,
) -> dict[str, Any]:
    """One service request as GeoReport v2 lists it."""
    return {
        "service_request_id": str(case.id),
        "status": open311_status(case),
        "status_notes": status_notes(case, notes),
        "service_name": service_name,
        "service_code": request_row.service_code,
        "description": case.description,
        "agency_responsible": unit_name,
        "service_notice": SERVICE_NOTICE,
        "requested_datetime": _time(case.reported_at, zone),
        "updated_datetime": _time(case.updated_at, zone),
        "expected_datetime": _time(case.due_at, zone),
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": request_row.media_url,
    }
