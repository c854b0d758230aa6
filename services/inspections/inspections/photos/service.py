"""Photo rules: upload by client id (idempotent by bytes), links to the records that use them,
and who may read them.

A photo is uploaded once under its client id and then *linked* to the records
that use it (an inspection, a case, a case event). The links decide who may
read the bytes and reveal bytes reused by another inspection (anti-fraud).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import filetype
import pillow_heif
from PIL import Image, ImageOps
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.photos.storage import BlobStore
from shared.auth import Principal
from shared.errors import Conflict, NotFound, PayloadTooLarge, UnsupportedMediaType
from shared.models import Case, CaseEvent, PhotoLink, Region
from shared.models.inspections import Photo

OwnerKind = Literal["inspection", "case", "case_event"]

pillow_heif.register_heif_opener()  # HEIC/HEIF (iPhones) decode through Pillow


async def link_photos(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    photo_ids: Iterable[uuid.UUID],
    owner_kind: OwnerKind,
    owner_id: uuid.UUID,
) -> None:
    """Record that ``owner`` uses each photo; linking twice is harmless (flush only)."""
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return
    stmt = (
        insert(PhotoLink)
        .values(
            [
                {
                    "region_id": region_id,
                    "photo_id": photo_id,
                    "owner_kind": owner_kind,
                    "owner_id": owner_id,
                }
                for photo_id in ids
            ]
        )
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)


async def missing_photos(
    session: AsyncSession, *, region_id: uuid.UUID, photo_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """The ids among ``photo_ids`` that were never uploaded in this region, in the given order."""
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return []
    found = set(
        await session.scalars(
            select(Photo.id).where(Photo.region_id == region_id, Photo.id.in_(ids))
        )
    )
    return [photo_id for photo_id in ids if photo_id not in found]


async def unseen_photos(
    session: AsyncSession, *, principal: Principal, photo_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """The ids among ``photo_ids`` the caller may not cite: never uploaded in the region, or
    not readable by the caller (see :func:`readable_photo`) — both answered alike, so citing
    reveals no more than reading would."""
    ids = list(dict.fromkeys(photo_ids))
    missing = await missing_photos(session, region_id=principal.region_id, photo_ids=ids)
    if principal.role in READ_ALL_ROLES:
        return missing
    unseen = list(missing)
    for photo_id in ids:
        if photo_id in missing:
            continue
        photo = await _get_photo(session, principal.region_id, photo_id)
        if photo is None or not await _may_read(session, principal, photo):
            unseen.append(photo_id)
    return [photo_id for photo_id in ids if photo_id in unseen]


# --- upload ------------------------------------------------------------------

ALLOWED_TYPES = ("image/jpeg", "image/png", "image/heic", "image/heif", "image/webp")
# ISO-BMFF brands of the HEIF family that `filetype` does not name on its own.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
SNIFF_BYTES = 512


@dataclass
class SpooledUpload:
    """The request body, hashed and measured while it streamed in (spilled to disk past 1 MB)."""

    file: IO[bytes]
    sha256: str
    size: int
    head: bytes

    def close(self) -> None:
        self.file.close()


async def receive_upload(
    chunks: AsyncIterator[bytes], *, max_bytes: int, declared_length: str | None
) -> SpooledUpload:
    """Stream the body into a spooled temp file; 413 as soon as it passes ``max_bytes``."""
    too_large = PayloadTooLarge(
        f"A photo may be at most {max_bytes // (1024 * 1024)} MB.",
        extra={"max_bytes": max_bytes},
    )
    if declared_length is not None and declared_length.isdigit():
        if int(declared_length) > max_bytes:
            raise too_large
    digest = hashlib.sha256()
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    size = 0
    head = b""
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return SpooledUpload(file=spool, sha256=digest.hexdigest(), size=size, head=head)


def sniff_content_type(head: bytes) -> str | None:
    """The image type named by the bytes themselves, or ``None`` when not an accepted image."""
    kind = filetype.guess(head)
    if kind is not None and kind.mime in ALLOWED_TYPES:
        return kind.mime
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brands & _HEIF_BRANDS and b"avif" not in brands:
            return "image/heic" if brands & {b"heic", b"heix"} else "image/heif"
    return None


_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_OFFSET_TIME_ORIGINAL = 36881
_DATETIME = 306


_PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_HEIF_FORMATS = ("HEIF", "HEIC")
THUMB_PIXELS = 320
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


class NotAnImage(Exception):
    """The bytes do not decode as an image of their sniffed type."""


def decode_photo(source: IO[bytes], content_type: str, timezone: str) -> datetime | None:
    """Decode every pixel (a JPEG header before garbage is not a photo) and return the EXIF
    time; :class:`NotAnImage` when the bytes do not decode as ``content_type``.

    Pillow decodes JPEG, PNG and WebP, pillow-heif HEIC/HEIF; Pillow's pixel limit
    refuses decompression bombs.
    """
    source.seek(0)
    try:
        with Image.open(source) as image:
            decoded_as = image.format or ""
            image.load()
            exif = image.getexif()
    except _DECODE_ERRORS as exc:
        raise NotAnImage(str(exc)) from exc
    finally:
        source.seek(0)
    heif = decoded_as in _HEIF_FORMATS and content_type in ("image/heic", "image/heif")
    if not heif and _PILLOW_FORMATS.get(decoded_as) != content_type:
        raise NotAnImage(f"decoded as {decoded_as or 'nothing'}, not {content_type}")
    return _taken_at(exif, timezone)


def thumbnail(data: bytes) -> bytes:
    """A JPEG at most THUMB_PIXELS on its long side, turned upright by its EXIF orientation."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _taken_at(exif: Image.Exif, timezone: str) -> datetime | None:
    """EXIF DateTimeOriginal as an aware time; a time without offset is read in ``timezone``."""
    sub = exif.get_ifd(_EXIF_IFD)
    raw = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    offset = sub.get(_OFFSET_TIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str):
        try:
            return datetime.fromisoformat(naive.isoformat() + offset.strip()).astimezone(UTC)
        except ValueError:
            pass
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    return naive.replace(tzinfo=zone).astimezone(UTC)


async def region_timezone(session: AsyncSession, region_id: uuid.UUID) -> str:
    """The tenant's time zone (the region row is the tenancy root every table refers to)."""
    tz = await session.scalar(select(Region.timezone).where(Region.id == region_id))
    return tz or "Asia/Shanghai"


async def store_photo(
    session: AsyncSession,
    store: BlobStore,
    *,
    principal: Principal,
    photo_id: uuid.UUID,
    upload: SpooledUpload,
) -> tuple[Photo, bool]:
    """Save the photo under the client's id: ``(photo, True)`` when new, ``(photo, False)``
    for a repeat of the same bytes; other bytes under a used id are a 409."""
    existing = await _get_photo(session, principal.region_id, photo_id)
    if existing is not None:
        return _same_or_conflict(existing, upload), False
    content_type = sniff_content_type(upload.head)
    if content_type is None:
        raise UnsupportedMediaType(
            "The bytes are not an accepted image; send JPEG, PNG, HEIC/HEIF or WebP.",
            extra={"accepted": list(ALLOWED_TYPES)},
        )
    timezone = await region_timezone(session, principal.region_id)
    try:
        taken_at = await asyncio.to_thread(decode_photo, upload.file, content_type, timezone)
    except NotAnImage as exc:
        raise UnsupportedMediaType(
            f"The bytes look like {content_type} but do not decode as an image.",
            extra={"accepted": list(ALLOWED_TYPES)},
        ) from exc
    # Bytes first, row second: a row never points at bytes that are not stored.
    await store.put(upload.sha256, upload.file, upload.size)
    inserted = await session.scalar(
        insert(Photo)
        .values(
            region_id=principal.region_id,
            id=photo_id,
            sha256=upload.sha256,
            content_type=content_type,
            size=upload.size,
            taken_at=taken_at,
            uploaded_by=principal.subject_id,
        )
        .on_conflict_do_nothing()
        .returning(Photo.id)
    )
    photo = await _get_photo(session, principal.region_id, photo_id, fresh=True)
    assert photo is not None
    if inserted is None:  # a concurrent upload of the same id won the race
        return _same_or_conflict(photo, upload), False
    return photo, True


def _same_or_conflict(photo: Photo, upload: SpooledUpload) -> Photo:
    if photo.sha256 != upload.sha256:
        raise Conflict(
            "A different photo was already uploaded under this id; use a new id.",
            extra={"sha256": photo.sha256},
        )
    return photo


async def _get_photo(
    session: AsyncSession, region_id: uuid.UUID, photo_id: uuid.UUID, *, fresh: bool = False
) -> Photo | None:
    stmt = select(Photo).where(Photo.region_id == region_id, Photo.id == photo_id)
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return await session.scalar(stmt)


# --- reading -----------------------------------------------------------------

READ_ALL_ROLES = ("admin", "leader", "inspector", "service")


async def readable_photo(
    session: AsyncSession, *, principal: Principal, photo_id: uuid.UUID
) -> Photo:
    """The photo if the caller may see a record that uses it; 404 otherwise (never 403,
    which would confirm the id exists)."""
    photo = await _get_photo(session, principal.region_id, photo_id)
    if photo is None or not await _may_read(session, principal, photo):
        raise NotFound("No such photo.")
    return photo


async def _may_read(session: AsyncSession, principal: Principal, photo: Photo) -> bool:
    if principal.role in READ_ALL_ROLES or photo.uploaded_by == principal.subject_id:
        return True
    if principal.role == "unit" and principal.unit_id is not None:
        return await _linked_to_unit_case(session, principal.region_id, photo.id, principal.unit_id)
    return False


async def _linked_to_unit_case(
    session: AsyncSession, region_id: uuid.UUID, photo_id: uuid.UUID, unit_id: uuid.UUID
) -> bool:
    """Is the photo used by a case of the unit, or by an event of such a case?"""
    via_case = (
        select(PhotoLink.photo_id)
        .join(Case, (Case.region_id == PhotoLink.region_id) & (Case.id == PhotoLink.owner_id))
        .where(
            PhotoLink.region_id == region_id,
            PhotoLink.photo_id == photo_id,
            PhotoLink.owner_kind == "case",
            Case.unit_id == unit_id,
        )
    )
    via_event = (
        select(PhotoLink.photo_id)
        .join(
            CaseEvent,
            (CaseEvent.region_id == PhotoLink.region_id) & (CaseEvent.id == PhotoLink.owner_id),
        )
        .join(Case, (Case.region_id == CaseEvent.region_id) & (Case.id == CaseEvent.case_id))
        .where(
            PhotoLink.region_id == region_id,
            PhotoLink.photo_id == photo_id,
            PhotoLink.owner_kind == "case_event",
            Case.unit_id == unit_id,
        )
    )
    found = await session.scalar(select(exists(via_case.union_all(via_event).subquery())))
    return bool(found)
