"""Photos: idempotent upload by client id, type sniffing, size limit, EXIF time, who may read."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from inspections.photos.service import link_photos, missing_photos
from inspections.photos.storage import LocalBlobStore
from shared.models import Case, Photo, PhotoLink
from tests.factories import (
    auth,
    count_rows,
    jpeg_bytes,
    make_world,
    png_bytes,
    report_case,
    upload_photo,
)

HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
WEBP_HEAD = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def encoded(image_format: str, size: tuple[int, int] = (40, 30)) -> bytes:
    """A real image in ``image_format`` (HEIF through pillow-heif)."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", size, color=(200, 30, 30)).save(out, image_format)
    return out.getvalue()


async def test_first_upload_is_201_same_bytes_200_other_bytes_409(inspections, db):
    world = await make_world(db)
    photo_id = uuid.uuid4()
    data = jpeg_bytes(seed=1)

    first = await inspections.put(
        f"/v1/photos/{photo_id}", content=data, headers=auth(world.inspector)
    )
    assert first.status_code == 201, first.text
    assert first.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert first.json()["content_type"] == "image/jpeg"
    assert first.json()["size"] == len(data)

    again = await inspections.put(
        f"/v1/photos/{photo_id}", content=data, headers=auth(world.inspector)
    )
    assert again.status_code == 200
    assert again.json()["id"] == str(photo_id)

    other = await inspections.put(
        f"/v1/photos/{photo_id}", content=jpeg_bytes(seed=2), headers=auth(world.inspector)
    )
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")

    got = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.inspector))
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"] == "image/jpeg"
    assert await count_rows(db, Photo, region_id=world.region.id) == 1


async def test_the_type_comes_from_the_bytes_not_the_header(inspections, db):
    world = await make_world(db)
    png = png_bytes(seed=3)
    photo_id = uuid.uuid4()
    response = await inspections.put(
        f"/v1/photos/{photo_id}",
        content=png,
        headers={**auth(world.inspector), "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"
    got = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.admin))
    assert got.headers["content-type"] == "image/png"


async def test_heic_and_webp_are_decoded_and_accepted(inspections, db):
    world = await make_world(db)
    for data, mime in ((encoded("HEIF"), "image/heic"), (encoded("WEBP"), "image/webp")):
        response = await inspections.put(
            f"/v1/photos/{uuid.uuid4()}", content=data, headers=auth(world.inspector)
        )
        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == mime
        assert response.json()["taken_at"] is None


async def test_an_image_header_before_garbage_is_415_and_nothing_is_stored(inspections, db):
    world = await make_world(db)
    jpeg = jpeg_bytes(seed=11)
    for data in (
        jpeg[:200] + b"\x00garbage" * 500,  # a JPEG header, then no picture
        png_bytes(seed=12)[:50],  # a PNG cut off inside its pixel data
        HEIC_HEAD,  # the brand of a HEIC file and nothing else
        WEBP_HEAD,
    ):
        response = await inspections.put(
            f"/v1/photos/{uuid.uuid4()}", content=data, headers=auth(world.inspector)
        )
        assert response.status_code == 415, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await count_rows(db, Photo, region_id=world.region.id) == 0


async def test_size_thumb_is_a_jpeg_at_most_320_px(inspections, db):
    from PIL import Image

    world = await make_world(db)
    for data, thumb_size in (
        (encoded("PNG", (1200, 800)), (320, 213)),
        (encoded("HEIF", (500, 900)), (178, 320)),
    ):
        photo_id = await upload_photo(inspections, world.inspector, data)
        full = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.admin))
        assert full.content == data
        thumb = await inspections.get(
            f"/v1/photos/{photo_id}?size=thumb", headers=auth(world.admin)
        )
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert (image.format, image.size) == ("JPEG", thumb_size)
        assert thumb.headers["etag"] != full.headers["etag"]


async def test_a_non_image_is_415_and_nothing_is_stored(inspections, db):
    world = await make_world(db)
    for data in (b"%PDF-1.7 not a photo at all", b"", b"GIF89a" + b"\x00" * 40):
        response = await inspections.put(
            f"/v1/photos/{uuid.uuid4()}",
            content=data,
            headers={**auth(world.inspector), "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 415, response.text
        assert "accepted" in response.json()
    assert await count_rows(db, Photo, region_id=world.region.id) == 0


async def test_more_than_15_mb_is_413_and_nothing_is_stored(inspections, db):
    world = await make_world(db)
    big = jpeg_bytes(seed=4) + b"\x00" * (15 * 1024 * 1024)
    response = await inspections.put(
        f"/v1/photos/{uuid.uuid4()}", content=big, headers=auth(world.inspector)
    )
    assert response.status_code == 413

    async def chunks():  # no Content-Length: the limit holds while streaming
        yield jpeg_bytes(seed=5)
        for _ in range(16):
            yield b"\x00" * (1024 * 1024)

    streamed = await inspections.put(
        f"/v1/photos/{uuid.uuid4()}", content=chunks(), headers=auth(world.inspector)
    )
    assert streamed.status_code == 413
    assert await count_rows(db, Photo, region_id=world.region.id) == 0


async def test_exif_time_is_read_in_the_regions_time_zone(inspections, db):
    world = await make_world(db)
    data = jpeg_bytes(taken_at="2026:11:20 10:30:00", seed=6)
    response = await inspections.put(
        f"/v1/photos/{uuid.uuid4()}", content=data, headers=auth(world.inspector)
    )
    assert response.status_code == 201
    taken_at = datetime.fromisoformat(response.json()["taken_at"])
    assert taken_at == datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # 10:30 in Asia/Shanghai


async def test_upload_and_read_need_a_token(inspections, db):
    world = await make_world(db)
    photo_id = await upload_photo(inspections, world.inspector)
    assert (
        await inspections.put(f"/v1/photos/{uuid.uuid4()}", content=png_bytes())
    ).status_code == 401
    assert (await inspections.get(f"/v1/photos/{photo_id}")).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await inspections.get(f"/v1/photos/{photo_id}", headers=bad)).status_code == 401


async def test_region_staff_read_any_photo_units_only_their_cases(inspections, db):
    world = await make_world(db)
    photo_id = await upload_photo(inspections, world.inspector)

    for person in (world.inspector, world.admin, world.leader):
        response = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(person))
        assert response.status_code == 200, person.role
    # Not linked to any case of the units yet: they may not see it.
    for person in (world.unit_user, world.other_unit_user):
        response = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(person))
        assert response.status_code == 404

    case = Case(
        region_id=world.region.id,
        id=uuid.uuid4(),
        source="woodpecker",
        description="垃圾桶无盖",
        severity="normal",
        unit_id=world.unit.id,
        status="assigned",
        reported_at=datetime.now(UTC),
        rework_count=0,
        extension_count=0,
        return_count=0,
        photo_ids=[photo_id],
    )
    db.add(case)
    await db.flush()
    await link_photos(
        db, region_id=world.region.id, photo_ids=[photo_id], owner_kind="case", owner_id=case.id
    )
    await db.commit()

    mine = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.unit_user))
    assert mine.status_code == 200
    theirs = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.other_unit_user))
    assert theirs.status_code == 404
    meta = await inspections.get(f"/v1/photos/{photo_id}/meta", headers=auth(world.unit_user))
    assert meta.json()["id"] == str(photo_id)


async def test_a_unit_user_reads_its_own_upload(inspections, db):
    world = await make_world(db)
    photo_id = await upload_photo(inspections, world.unit_user)
    assert (
        await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.unit_user))
    ).status_code == 200
    assert (
        await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.other_unit_user))
    ).status_code == 404


async def test_another_regions_photo_is_404(inspections, db):
    world = await make_world(db)
    elsewhere = await make_world(db)
    photo_id = await upload_photo(inspections, world.inspector)
    response = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(elsewhere.admin))
    assert response.status_code == 404
    assert str(photo_id) not in response.text or "No such photo" in response.text


async def test_same_id_in_another_region_is_another_photo(inspections, db):
    world = await make_world(db)
    elsewhere = await make_world(db)
    photo_id = uuid.uuid4()
    one = await inspections.put(
        f"/v1/photos/{photo_id}", content=jpeg_bytes(seed=7), headers=auth(world.inspector)
    )
    two = await inspections.put(
        f"/v1/photos/{photo_id}", content=jpeg_bytes(seed=8), headers=auth(elsewhere.inspector)
    )
    assert (one.status_code, two.status_code) == (201, 201)


async def test_link_photos_is_idempotent_and_missing_photos_lists_unknown_ids(inspections, db):
    world = await make_world(db)
    photo_id = await upload_photo(inspections, world.inspector)
    owner = uuid.uuid4()
    for _ in range(2):
        await link_photos(
            db,
            region_id=world.region.id,
            photo_ids=[photo_id, photo_id],
            owner_kind="inspection",
            owner_id=owner,
        )
    await db.commit()
    links = await db.scalar(
        select(func.count()).select_from(PhotoLink).where(PhotoLink.owner_id == owner)
    )
    assert links == 1
    unknown = uuid.uuid4()
    assert await missing_photos(db, region_id=world.region.id, photo_ids=[photo_id, unknown]) == [
        unknown
    ]


async def test_local_blob_store_is_content_addressed(tmp_path):
    import io

    store = LocalBlobStore(tmp_path)
    data = b"bytes of a photo"
    digest = hashlib.sha256(data).hexdigest()
    await store.put(digest, io.BytesIO(data), len(data))
    await store.put(digest, io.BytesIO(data), len(data))
    assert await store.exists(digest)
    assert await store.get(digest) == data
    assert store.path_for(digest).parent.parent.parent == tmp_path
    assert not await store.exists("0" * 64)


async def test_a_unit_may_not_cite_another_units_photo(inspections, db):
    """Citing a photo id in `rectify` would link it to the unit's case and open it to the
    unit: only photos the caller uploaded or may already see can be cited."""
    world = await make_world(db)
    case = await report_case(
        inspections, world.inspector, sample_point_id=str(world.point.id), source="woodpecker"
    )
    assert case["unit_id"] == str(world.unit.id) and case["status"] == "assigned"
    foreign = await upload_photo(inspections, world.other_unit_user)

    rectify = {"action": "rectify", "note": "已整改", "photo_ids": [str(foreign)]}
    response = await inspections.post(
        f"/v1/cases/{case['id']}/actions", json=rectify, headers=auth(world.unit_user)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "photo_ids", "0"]
    still_hidden = await inspections.get(f"/v1/photos/{foreign}", headers=auth(world.unit_user))
    assert still_hidden.status_code == 404

    own = await upload_photo(inspections, world.unit_user)
    rectify["photo_ids"] = [str(own)]
    response = await inspections.post(
        f"/v1/cases/{case['id']}/actions", json=rectify, headers=auth(world.unit_user)
    )
    assert response.status_code == 200, response.text
