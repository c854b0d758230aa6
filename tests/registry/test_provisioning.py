"""Regions are provisioned by the operator's command and, on an empty database, by the bootstrap."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

from sqlalchemy import func, select

from registry.bootstrap import bootstrap
from shared.db import create_engine, create_sessionmaker
from shared.embedded_db import REPO_ROOT
from shared.models import Category, DeadlinePolicy, Person, Region
from shared.settings import CommonSettings


def _run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


async def test_region_create_command_provisions_region_admin_and_standard(
    database_url, db, registry
):
    code = f"cli-{uuid.uuid4().hex[:6]}"
    admin = f"{code}-admin"
    result = _run_cli(
        "region",
        "create",
        "--code",
        code,
        "--name",
        "信州区",
        "--admin",
        f"{admin}:s3cret:pass",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    region = await db.scalar(select(Region).where(Region.code == code))
    assert region is not None and region.name == "信州区" and region.timezone == "Asia/Shanghai"
    categories = (
        await db.scalars(
            select(Category.name).where(Category.region_id == region.id).order_by(Category.ordinal)
        )
    ).all()
    assert categories[0] == "爱国卫生组织管理" and len(categories) == 8
    policies = {
        p.severity: (p.amount, p.unit)
        for p in await db.scalars(
            select(DeadlinePolicy).where(DeadlinePolicy.region_id == region.id)
        )
    }
    assert policies == {
        "urgent": (24, "hours"),
        "normal": (3, "workdays"),
        "complex": (7, "workdays"),
    }
    # The password keeps everything after the first colon.
    signed_in = await registry.post(
        "/v1/auth/token", data={"username": admin, "password": "s3cret:pass"}
    )
    assert signed_in.status_code == 200


async def test_region_create_refuses_a_duplicate_code_and_changes_nothing(database_url, db):
    code = f"dup-{uuid.uuid4().hex[:6]}"
    assert (
        _run_cli(
            "region",
            "create",
            "--code",
            code,
            "--name",
            "A",
            "--admin",
            f"{code}-a:pw",
            database_url=database_url,
        ).returncode
        == 0
    )
    again = _run_cli(
        "region",
        "create",
        "--code",
        code,
        "--name",
        "B",
        "--admin",
        f"{code}-b:pw",
        database_url=database_url,
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    assert await db.scalar(select(Person.id).where(Person.username == f"{code}-b")) is None


def test_region_create_needs_username_and_password(database_url):
    result = _run_cli(
        "region",
        "create",
        "--code",
        "x",
        "--name",
        "X",
        "--admin",
        "nopassword",
        database_url=database_url,
    )
    assert result.returncode == 2 and "USERNAME:PASSWORD" in result.stderr


def test_region_create_refuses_an_unknown_time_zone(database_url):
    result = _run_cli(
        "region",
        "create",
        "--code",
        f"tz-{uuid.uuid4().hex[:6]}",
        "--name",
        "X",
        "--timezone",
        "Mars/Olympus",
        "--admin",
        f"tz-{uuid.uuid4().hex[:6]}:pw",
        database_url=database_url,
    )
    assert result.returncode == 1 and "time zone" in result.stderr


async def test_bootstrap_creates_the_first_region_once_even_when_replicas_race(empty_database_url):
    settings = CommonSettings(
        database_url=empty_database_url,
        bootstrap_region="yf:永丰区",
        bootstrap_admin="boss:first-password",
        demo=False,
    )
    engines = [create_engine(empty_database_url, application_name=f"boot{i}") for i in range(3)]
    try:
        await asyncio.gather(*(bootstrap(create_sessionmaker(e), settings) for e in engines))
        async with create_sessionmaker(engines[0])() as session:
            regions = (await session.scalars(select(Region))).all()
            assert [(r.code, r.name) for r in regions] == [("yf", "永丰区")]
            admin = await session.scalar(select(Person).where(Person.username == "boss"))
            assert admin.role == "admin" and admin.region_id == regions[0].id
            # A later start on a non-empty database changes nothing.
            await bootstrap(create_sessionmaker(engines[1]), settings)
            assert await session.scalar(select(func.count()).select_from(Region)) == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_bootstrap_serves_without_the_demo_when_its_usernames_are_taken(empty_database_url):
    settings = CommonSettings(
        database_url=empty_database_url, bootstrap_admin="demo-admin:first-password", demo=True
    )
    engine = create_engine(empty_database_url, application_name="boot")
    try:
        await bootstrap(create_sessionmaker(engine), settings)
        async with create_sessionmaker(engine)() as session:
            assert list(await session.scalars(select(Region.code))) == ["default"]
            assert list(await session.scalars(select(Person.username))) == ["demo-admin"]
    finally:
        await engine.dispose()
