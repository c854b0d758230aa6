"""Accounts: no token outlives its person's change, and sign-in resists guessing without
blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import update

from shared import auth as shared_auth
from shared.models import Person
from shared.settings import CommonSettings
from tests.factories import PASSWORD, World, auth, make_person, make_world

PROBES = {  # one endpoint per service that every role may read
    "registry": "/v1/units",
    "inspections": "/v1/cases?limit=1",
    "reporting": "/v1/reports/score-weights",
}


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


@pytest.fixture
def clients(registry, inspections, reporting):
    return {"registry": registry, "inspections": inspections, "reporting": reporting}


@pytest.fixture(autouse=True)
def fresh_throttle(registry_app):
    """Each test starts with no failed sign-ins counted (the app lives for the session)."""
    registry_app.state.sign_in_throttle = None


async def sign_in(registry, username: str, password: str = PASSWORD):
    return await registry.post("/v1/auth/token", data={"username": username, "password": password})


async def bearer(registry, person: Person) -> dict[str, str]:
    response = await sign_in(registry, person.username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def refused_everywhere_within(clients, headers, seconds: float) -> float:
    """Poll every service until each refuses the token with 401; the time it took."""
    started = time.monotonic()
    pending = set(PROBES)
    while pending:
        for service in sorted(pending):
            response = await clients[service].get(PROBES[service], headers=headers)
            if response.status_code == 401:
                assert response.headers["content-type"].startswith("application/problem+json")
                pending.discard(service)
            else:
                assert response.status_code == 200, (service, response.text)
        elapsed = time.monotonic() - started
        assert elapsed < seconds, f"still accepted by {pending} after {elapsed:.1f} s"
        if pending:
            await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.parametrize(
    "change",
    ["deactivate", "role", "unit", "password"],
)
async def test_an_account_change_invalidates_older_tokens_in_every_service(
    registry, clients, w: World, db, change
):
    person = w.unit_user if change == "unit" else w.inspector
    headers = await bearer(registry, person)
    for service, path in PROBES.items():
        assert (await clients[service].get(path, headers=headers)).status_code == 200, service

    if change == "password":
        response = await registry.post(
            f"/v1/people/{person.id}/password",
            json={"password": "a-brand-new-password"},
            headers=auth(w.admin),
        )
        assert response.status_code == 204, response.text
    else:
        body = {
            "deactivate": {"active": False},
            "role": {"role": "leader"},
            "unit": {"unit_id": str(w.other_unit.id)},
        }[change]
        response = await registry.patch(f"/v1/people/{person.id}", json=body, headers=auth(w.admin))
        assert response.status_code == 200, response.text

    await refused_everywhere_within(clients, headers, seconds=5)
    if change in ("role", "unit"):  # a fresh sign-in carries the new role or unit
        fresh = await bearer(registry, person)
        assert (await registry.get("/v1/units", headers=fresh)).status_code == 200


async def test_a_version_bumped_by_another_process_reaches_every_service_within_5_s(
    registry, clients, w: World, db
):
    """Another registry replica's change never touches this process's cache: only its
    expiry (CW_TOKEN_VERSION_CACHE_SECONDS) brings the refusal."""
    headers = await bearer(registry, w.leader)
    for service, path in PROBES.items():  # every service now caches the current version
        assert (await clients[service].get(path, headers=headers)).status_code == 200
    await db.execute(
        update(Person)
        .where(Person.region_id == w.region.id, Person.id == w.leader.id)
        .values(token_version=Person.token_version + 1)
    )
    await db.commit()
    took = await refused_everywhere_within(clients, headers, seconds=5)
    assert took <= CommonSettings().token_version_cache_seconds + 1


async def test_the_sixth_failed_sign_in_is_429_with_retry_after(registry, w: World):
    for _ in range(5):
        assert (await sign_in(registry, w.admin.username, "wrong")).status_code == 401
    sixth = await sign_in(registry, w.admin.username, "wrong")
    assert sixth.status_code == 429, sixth.text
    assert sixth.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(sixth.headers["Retry-After"]) <= 15 * 60
    # Even the right password waits: guessing must not learn when it hit.
    assert (await sign_in(registry, w.admin.username)).status_code == 429
    # Another person behind the same address is not locked out by it.
    assert (await sign_in(registry, w.inspector.username)).status_code == 200


async def test_one_address_is_throttled_across_usernames(registry, w: World):
    for attempt in range(30):
        response = await sign_in(registry, f"nobody-{attempt}", "wrong")
        assert response.status_code == 401
    assert (await sign_in(registry, "nobody-else", "wrong")).status_code == 429


async def test_healthz_answers_while_16_sign_ins_hash_passwords(registry, db, monkeypatch):
    """Every password check holds its worker until /healthz has answered. Were a hash
    computed on the event loop, nothing could answer while it ran: the check would
    give up waiting and the test fails. No clock is read to judge the outcome."""
    w = await make_world(db)
    people = [await make_person(db, region=w.region, role="inspector") for _ in range(16)]
    await db.commit()

    loop, loop_thread = asyncio.get_running_loop(), threading.get_ident()
    hashing, healthz_answered = asyncio.Event(), threading.Event()
    lock = threading.Lock()
    seen = {"threads": set(), "running": 0, "most_at_once": 0, "gave_up": 0}
    check = shared_auth.password_hash.verify

    def watched_check(password: str, hashed: str) -> bool:
        with lock:
            seen["threads"].add(threading.get_ident())
            seen["running"] += 1
            seen["most_at_once"] = max(seen["most_at_once"], seen["running"])
        loop.call_soon_threadsafe(hashing.set)
        try:
            if not healthz_answered.wait(timeout=30):
                seen["gave_up"] += 1
            return check(password, hashed)
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(shared_auth.password_hash, "verify", watched_check)
    sign_ins = [asyncio.create_task(sign_in(registry, p.username)) for p in people]
    await asyncio.wait_for(hashing.wait(), timeout=30)  # a password check has begun
    health = await registry.get("/healthz")
    assert health.status_code == 200
    healthz_answered.set()

    answers = await asyncio.gather(*sign_ins)
    assert [a.status_code for a in answers] == [200] * 16
    assert seen["gave_up"] == 0, "a password check ran where /healthz could not answer"
    assert loop_thread not in seen["threads"]
    # Bounded to half the cores, the hashing leaves the loop's thread a core to answer on.
    assert 1 <= seen["most_at_once"] <= shared_auth.PASSWORD_HASHING_THREADS
