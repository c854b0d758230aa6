"""Standards and categories: the seeded 2014 edition and new editions added by admins."""

from __future__ import annotations

from sqlalchemy import func, select

from shared.models import Category, Standard
from tests.factories import auth, make_person, make_region, make_world

EIGHT = [
    "爱国卫生组织管理",
    "健康教育和健康促进",
    "市容环境卫生",
    "环境保护",
    "重点场所卫生",
    "食品和生活饮用水安全",
    "公共卫生和医疗服务",
    "病媒生物预防控制",
]
SEVEN_2021 = [
    ("S1", "爱国卫生组织管理"),
    ("S2", "健康教育和健康促进"),
    ("S3", "市容环境卫生"),
    ("S4", "生态环境"),
    ("S5", "重点场所卫生"),
    ("S6", "食品和生活饮用水安全"),
    ("S7", "疾病防控与医疗卫生服务"),
]


async def _standards(db, region_id) -> int:
    return await db.scalar(
        select(func.count()).select_from(Standard).where(Standard.region_id == region_id)
    )


async def test_a_new_region_lists_the_2014_standard_with_its_eight_categories(registry, db):
    region = await make_region(db)
    inspector = await make_person(db, region=region, role="inspector")
    response = await registry.get("/v1/standards", headers=auth(inspector))
    assert response.status_code == 200
    (standard,) = response.json()["items"]
    assert standard["version"] == "2014"
    assert [c["name"] for c in standard["categories"]] == EIGHT
    assert [c["ordinal"] for c in standard["categories"]] == list(range(1, 9))
    one = await registry.get(f"/v1/standards/{standard['id']}", headers=auth(inspector))
    assert one.json() == standard
    categories = await registry.get(
        "/v1/categories", params={"standard": standard["id"]}, headers=auth(inspector)
    )
    assert [c["code"] for c in categories.json()["items"]] == [f"C{i}" for i in range(1, 9)]
    first = categories.json()["items"][0]
    got = await registry.get(f"/v1/categories/{first['id']}", headers=auth(inspector))
    assert got.json() == first


async def test_admin_adds_the_2021_standard_with_seven_sections(registry, db):
    world = await make_world(db)
    created = await registry.post(
        "/v1/standards",
        json={
            "code": "NHC",
            "name": "国家卫生城市标准",
            "version": "2021",
            "categories": [{"code": c, "name": n} for c, n in SEVEN_2021],
        },
        headers=auth(world.admin),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert [(c["code"], c["name"], c["ordinal"]) for c in body["categories"]] == [
        (c, n, i) for i, (c, n) in enumerate(SEVEN_2021, start=1)
    ]
    listed = await registry.get("/v1/standards", headers=auth(world.unit_user))
    assert [s["version"] for s in listed.json()["items"]] == ["2014", "2021"]
    all_categories = await registry.get(
        "/v1/categories", params={"limit": 500}, headers=auth(world.leader)
    )
    assert len(all_categories.json()["items"]) == 15
    paged = await registry.get("/v1/categories", params={"limit": 10}, headers=auth(world.leader))
    rest = await registry.get(
        "/v1/categories",
        params={"limit": 10, "cursor": paged.json()["next_cursor"]},
        headers=auth(world.leader),
    )
    ids = [c["id"] for c in paged.json()["items"] + rest.json()["items"]]
    assert ids == [c["id"] for c in all_categories.json()["items"]]


async def test_bad_standards_are_refused_and_nothing_is_stored(registry, db):
    world = await make_world(db)
    base = {"code": "NHC", "name": "x", "version": "2021"}
    for body in (
        {**base, "categories": []},
        {**base, "categories": [{"code": "A", "name": "a"}, {"code": "A", "name": "b"}]},
        {**base, "categories": [{"code": "A"}]},
        {**base, "version": "20 21", "categories": [{"code": "A", "name": "a"}]},
        {**base, "categories": [{"code": "A", "name": "a", "weight": 3}]},
        {**base, "categories": "A,B"},
        {"code": "NHC", "name": "x", "categories": [{"code": "A", "name": "a"}]},
    ):
        response = await registry.post("/v1/standards", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
    duplicate = await registry.post(
        "/v1/standards",
        json={**base, "version": "2014", "categories": [{"code": "A", "name": "a"}]},
        headers=auth(world.admin),
    )
    assert duplicate.status_code == 409
    for person in (world.inspector, world.leader, world.unit_user):
        forbidden = await registry.post(
            "/v1/standards",
            json={**base, "categories": [{"code": "A", "name": "a"}]},
            headers=auth(person),
        )
        assert forbidden.status_code == 403
    assert await _standards(db, world.region.id) == 1
    assert (
        await db.scalar(
            select(func.count()).select_from(Category).where(Category.region_id == world.region.id)
        )
        == 8
    )


async def test_another_regions_standards_and_categories_answer_404(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    theirs = (await registry.get("/v1/standards", headers=auth(other.admin))).json()["items"][0]
    assert (
        await registry.get(f"/v1/standards/{theirs['id']}", headers=auth(world.admin))
    ).status_code == 404
    category = theirs["categories"][0]["id"]
    assert (
        await registry.get(f"/v1/categories/{category}", headers=auth(world.admin))
    ).status_code == 404
    filtered = await registry.get(
        "/v1/categories", params={"standard": theirs["id"]}, headers=auth(world.admin)
    )
    assert filtered.json()["items"] == []
    assert (await registry.get("/v1/standards")).status_code == 401
