"""The 创卫 archive: required documents per category, their files and completeness."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from shared.models import ArchiveFile, ArchiveItem
from tests.factories import auth, categories_of, make_world


@pytest.fixture
def archive_store(registry_app, tmp_path, monkeypatch):
    """A private file store and a small upload limit for these tests."""
    monkeypatch.setattr(registry_app.state.settings, "archive_dir", str(tmp_path))
    monkeypatch.setattr(registry_app.state.settings, "max_upload_bytes", 1024)
    return tmp_path


async def _items(db, region_id) -> int:
    return await db.scalar(
        select(func.count()).select_from(ArchiveItem).where(ArchiveItem.region_id == region_id)
    )


async def _files(db, region_id) -> int:
    return await db.scalar(
        select(func.count()).select_from(ArchiveFile).where(ArchiveFile.region_id == region_id)
    )


async def _create(registry, world, category, code, *, required=True):
    response = await registry.post(
        "/v1/archive-items",
        json={
            "category_id": str(category.id),
            "code": code,
            "title": f"文件 {code}",
            "required": required,
        },
        headers=auth(world.admin),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_admin_defines_items_uploads_and_downloads_files(registry, db, archive_store):
    world = await make_world(db)
    c1 = (await categories_of(db, world.region))["C1"]
    item = await _create(registry, world, c1, "A-1-01")
    assert item["files"] == [] and item["version"] == 1
    content = "爱卫会会议纪要".encode()
    uploaded = await registry.post(
        f"/v1/archive-items/{item['id']}/files",
        files={"file": ("../纪要.pdf", content, "application/pdf")},
        headers={**auth(world.admin), "If-Match": '"1"'},
    )
    assert uploaded.status_code == 201, uploaded.text
    stored = uploaded.json()
    assert stored["filename"] == "纪要.pdf" and stored["size"] == len(content)
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored["uploaded_by"] == str(world.admin.id)
    assert uploaded.headers["etag"] == '"2"'
    sha = stored["sha256"]
    assert (archive_store / sha[:2] / sha).read_bytes() == content

    for reader in (world.inspector, world.leader, world.unit_user):
        got = await registry.get(f"/v1/archive-items/{item['id']}", headers=auth(reader))
        assert [f["id"] for f in got.json()["files"]] == [stored["id"]]
        download = await registry.get(
            f"/v1/archive-items/{item['id']}/files/{stored['id']}", headers=auth(reader)
        )
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"] == "application/pdf"
        assert "attachment" in download.headers["content-disposition"]

    listed = await registry.get(
        "/v1/archive-items", params={"category": str(c1.id)}, headers=auth(world.leader)
    )
    assert [i["code"] for i in listed.json()["items"]] == ["A-1-01"]
    removed = await registry.delete(
        f"/v1/archive-items/{item['id']}/files/{stored['id']}", headers=auth(world.admin)
    )
    assert removed.status_code == 204
    assert await _files(db, world.region.id) == 0
    after = await registry.get(f"/v1/archive-items/{item['id']}", headers=auth(world.admin))
    assert after.json()["files"] == [] and after.json()["version"] == 3


async def test_completeness_counts_required_items_with_files_per_category(
    registry, db, archive_store
):
    world = await make_world(db)
    cats = await categories_of(db, world.region)
    a = await _create(registry, world, cats["C1"], "A-1")
    await _create(registry, world, cats["C1"], "A-2")
    b = await _create(registry, world, cats["C1"], "A-3", required=False)
    c = await _create(registry, world, cats["C8"], "H-1")
    for item in (a, b, c):
        response = await registry.post(
            f"/v1/archive-items/{item['id']}/files",
            files={"file": ("x.txt", b"evidence", "text/plain")},
            headers=auth(world.admin),
        )
        assert response.status_code == 201
    # A second file on the same item counts it once.
    await registry.post(
        f"/v1/archive-items/{a['id']}/files",
        files={"file": ("y.txt", b"more", "text/plain")},
        headers=auth(world.admin),
    )
    report = await registry.get("/v1/archive-items/completeness", headers=auth(world.leader))
    assert report.status_code == 200
    rows = report.json()["items"]
    assert [r["code"] for r in rows] == [f"C{i}" for i in range(1, 9)]
    by_code = {r["code"]: r for r in rows}
    assert (by_code["C1"]["required_items"], by_code["C1"]["items_with_files"]) == (2, 1)
    assert by_code["C1"]["completeness"] == 0.5
    assert by_code["C8"]["completeness"] == 1.0 and by_code["C8"]["required_items"] == 1
    assert by_code["C3"] == {**by_code["C3"], "required_items": 0, "completeness": 1.0}


async def test_oversized_and_empty_uploads_are_refused_and_nothing_is_stored(
    registry, db, archive_store
):
    world = await make_world(db)
    c1 = (await categories_of(db, world.region))["C1"]
    item = await _create(registry, world, c1, "A-1")
    too_big = await registry.post(
        f"/v1/archive-items/{item['id']}/files",
        files={"file": ("big.bin", b"x" * 1025, "application/octet-stream")},
        headers=auth(world.admin),
    )
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("application/problem+json")
    empty = await registry.post(
        f"/v1/archive-items/{item['id']}/files",
        files={"file": ("empty.txt", b"", "text/plain")},
        headers=auth(world.admin),
    )
    assert empty.status_code == 422
    no_file = await registry.post(
        f"/v1/archive-items/{item['id']}/files",
        files={"document": ("a.txt", b"abc", "text/plain")},
        headers=auth(world.admin),
    )
    assert no_file.status_code == 422
    stale = await registry.post(
        f"/v1/archive-items/{item['id']}/files",
        files={"file": ("a.txt", b"abc", "text/plain")},
        headers={**auth(world.admin), "If-Match": '"9"'},
    )
    assert stale.status_code == 412
    for person in (world.inspector, world.leader, world.unit_user):
        forbidden = await registry.post(
            f"/v1/archive-items/{item['id']}/files",
            files={"file": ("a.txt", b"abc", "text/plain")},
            headers=auth(person),
        )
        assert forbidden.status_code == 403
    assert await _files(db, world.region.id) == 0
    assert [p for p in archive_store.rglob("*") if p.is_file()] == []


async def test_bad_archive_items_are_refused_and_nothing_changes(registry, db, archive_store):
    world = await make_world(db)
    other = await make_world(db)
    c1 = (await categories_of(db, world.region))["C1"]
    foreign = (await categories_of(db, other.region))["C1"]
    item = await _create(registry, world, c1, "A-1")
    for body in (
        {"category_id": str(foreign.id), "code": "A-2", "title": "x"},
        {"category_id": str(c1.id), "code": "A-2"},
        {"category_id": str(c1.id), "code": "A-2", "title": "x", "required": "sometimes"},
        {"category_id": str(c1.id), "code": "A-2", "title": "x", "owner": "me"},
        {"category_id": "C1", "code": "A-2", "title": "x"},
    ):
        response = await registry.post("/v1/archive-items", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
    duplicate = await registry.post(
        "/v1/archive-items",
        json={"category_id": str(c1.id), "code": "A-1", "title": "x"},
        headers=auth(world.admin),
    )
    assert duplicate.status_code == 409
    for body in ({"title": None}, {"category_id": str(foreign.id)}, {"colour": 1}):
        response = await registry.patch(
            f"/v1/archive-items/{item['id']}", json=body, headers=auth(world.admin)
        )
        assert response.status_code == 422, (body, response.text)
    stale = await registry.patch(
        f"/v1/archive-items/{item['id']}",
        json={"title": "late"},
        headers={**auth(world.admin), "If-Match": '"4"'},
    )
    assert stale.status_code == 412
    for person in (world.inspector, world.leader, world.unit_user):
        headers = auth(person)
        body = {"category_id": str(c1.id), "code": "A-9", "title": "x"}
        assert (
            await registry.post("/v1/archive-items", json=body, headers=headers)
        ).status_code == 403
        assert (
            await registry.patch(
                f"/v1/archive-items/{item['id']}", json={"title": "x"}, headers=headers
            )
        ).status_code == 403
        assert (
            await registry.delete(f"/v1/archive-items/{item['id']}", headers=headers)
        ).status_code == 403
    assert await _items(db, world.region.id) == 1
    current = await registry.get(f"/v1/archive-items/{item['id']}", headers=auth(world.admin))
    assert current.json()["title"] == item["title"] and current.json()["version"] == 1

    renamed = await registry.patch(
        f"/v1/archive-items/{item['id']}",
        json={"title": "新标题", "required": False},
        headers={**auth(world.admin), "If-Match": '"1"'},
    )
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    gone = await registry.delete(f"/v1/archive-items/{item['id']}", headers=auth(world.admin))
    assert gone.status_code == 204
    assert await _items(db, world.region.id) == 0


async def test_another_regions_archive_answers_404(registry, db, archive_store):
    world = await make_world(db)
    other = await make_world(db)
    theirs = await _create(registry, other, (await categories_of(db, other.region))["C2"], "B-1")
    upload = await registry.post(
        f"/v1/archive-items/{theirs['id']}/files",
        files={"file": ("secret.txt", b"secret", "text/plain")},
        headers=auth(other.admin),
    )
    file_id = upload.json()["id"]
    mine = (await categories_of(db, world.region))["C2"]
    my_item = await _create(registry, world, mine, "B-1")  # same code, other region: fine
    base = f"/v1/archive-items/{theirs['id']}"
    admin = auth(world.admin)
    assert (await registry.get(base, headers=admin)).status_code == 404
    assert (await registry.patch(base, json={"title": "x"}, headers=admin)).status_code == 404
    assert (await registry.delete(base, headers=admin)).status_code == 404
    assert (await registry.get(f"{base}/files/{file_id}", headers=admin)).status_code == 404
    assert (await registry.delete(f"{base}/files/{file_id}", headers=admin)).status_code == 404
    cross = await registry.get(f"/v1/archive-items/{my_item['id']}/files/{file_id}", headers=admin)
    assert cross.status_code == 404
    upload_there = await registry.post(
        f"{base}/files", files={"file": ("a.txt", b"abc", "text/plain")}, headers=admin
    )
    assert upload_there.status_code == 404
    listed = await registry.get("/v1/archive-items", headers=admin)
    assert [i["id"] for i in listed.json()["items"]] == [my_item["id"]]
    assert await _files(db, other.region.id) == 1
    assert (await registry.get("/v1/archive-items/completeness")).status_code == 401
