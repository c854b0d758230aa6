"""The console in a real browser (Debian's chromium driven by Playwright) against the
three services and the console running as processes on the test database.

Each page the tests open is also written to .data/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from shared.embedded_db import REPO_ROOT
from shared.processes import free_port
from tests.e2e.conftest import SERVICE_NAMES, Stack
from tests.e2e.console_world import PASSWORD, ConsoleWorld, build_world
from tests.factories import jpeg_bytes

SCREENSHOTS = REPO_ROOT / ".data" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def console(stack: Stack, world: ConsoleWorld) -> Iterator[str]:
    """The console on a free port, calling the stack's registry and inspections and a
    reporting process of its own whose clock stands in the month after the world's
    cases fell due: that month is over, reported and judged (shared.clock, e2e only)."""
    offset = (world.month_after - datetime.now(UTC)).total_seconds()
    ports = {"reporting": free_port(), "console": free_port()}
    env = {
        **stack.env,
        "CW_CLOCK_OFFSET_SECONDS": str(max(offset, 0)),
        "CW_REPORTING_URL": f"http://127.0.0.1:{ports['reporting']}",
    }
    own = Stack(env=env, ports=ports)
    try:
        own.start("reporting")
        own.start("console")
        yield own.url("console")
    finally:
        own.stop_all()


@pytest.fixture(scope="module")
async def world(stack: Stack, database_url: str) -> ConsoleWorld:
    return await build_world(database_url, stack.url("registry"), stack.url("inspections"))


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser profile (no cookies) per test, tablet-to-laptop wide."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    yield page
    await context.close()


async def sign_in(page: Page, console: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(f"{console}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_leader_sees_the_league_table_with_the_graded_unit_and_a_safe_session_cookie(
    page: Page, console: str, world: ConsoleWorld
):
    await sign_in(page, console, world.username("leader"))
    await expect(page).to_have_url(f"{console}/")
    # The dashboard opens on the running month; the cases' month is one choice away.
    await page.get_by_label("月份").fill(world.due_month)
    await page.get_by_role("button", name="查看").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"总览 · {world.due_month}")
    league = page.get_by_test_id("league")
    market = league.get_by_role("row").filter(has_text=world.units["market"]["name"])
    # Five cases closed ahead of their deadline: ranked first with grade A.
    await expect(market.locator("td").nth(0)).to_have_text("1")
    await expect(market.locator(".grade")).to_have_text("A")
    await expect(page.get_by_test_id("cases-reported")).to_have_text(
        str(world.reported_in(world.due_month))  # all 11, unless made on a month's last days
    )
    await expect(page.get_by_test_id("red-list")).to_contain_text(world.units["market"]["name"])
    # The city administration's open cases are past their deadline: black list.
    await expect(page.get_by_test_id("black-list")).to_contain_text(
        world.units["cityadmin"]["name"]
    )
    await shot(page, "dashboard")
    await page.emulate_media(media="print")  # the print stylesheet drops navigation and forms
    await expect(page.get_by_role("navigation")).to_be_hidden()
    await expect(page.get_by_role("button", name="打印")).to_be_hidden()
    await expect(league).to_be_visible()
    await page.emulate_media(media="screen")

    (cookie,) = [c for c in await page.context.cookies() if c["name"] == "cw_console"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name=re.compile("Unit league table"))).to_be_visible()
    await page.get_by_role("link", name="Accountability").click()
    await shot(page, "accountability")
    # The month's bulletin from the reporting service, through the leader's own session.
    bulletin = page.get_by_test_id("bulletin")
    month = world.due_month
    await bulletin.get_by_label("Month").fill(month)
    await bulletin.get_by_label("Format").select_option("html")
    await bulletin.get_by_role("button", name="Open the bulletin").click()
    await expect(page).to_have_url(re.compile(rf"/bulletin\?month={month}&format=html$"))
    await expect(page.locator("body")).to_contain_text(world.units["cityadmin"]["name"])
    await shot(page, "bulletin")


async def test_a_wrong_password_says_so_and_signs_nobody_in(
    page: Page, console: str, world: ConsoleWorld
):
    # By keyboard alone: the username field has the focus, Tab moves on, Enter submits.
    await page.goto(f"{console}/login")
    await expect(page.get_by_label("用户名")).to_be_focused()
    await page.keyboard.type(world.username("leader"))
    await page.keyboard.press("Tab")
    await page.keyboard.type("not-the-password")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误，请重新输入。")
    await expect(page.get_by_label("用户名")).to_have_value(world.username("leader"))
    await shot(page, "wrong-password")
    await page.goto(f"{console}/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))


async def test_the_map_marks_every_point_and_open_case_and_asks_no_other_host(
    page: Page, console: str, world: ConsoleWorld
):
    origin = urlsplit(console).netloc
    elsewhere: list[str] = []
    page.on("request", lambda r: urlsplit(r.url).netloc != origin and elsewhere.append(r.url))
    await sign_in(page, console, world.username("leader"))
    await page.goto(f"{console}/map")
    await expect(page.locator("#map[data-ready]")).to_be_attached()
    await expect(page.locator("path.cw-point")).to_have_count(world.point_count)
    # The five open cases at the city administration's points and the undispatched one.
    await expect(page.locator(".cw-case")).to_have_count(len(world.open_case_ids) + 1)
    # Nobody has inspected any point yet: every one is a blind spot, none has a score.
    await expect(page.locator("path.cw-point.blind-spot.band-none")).to_have_count(
        world.point_count
    )
    await shot(page, "map")
    assert elsewhere == []


async def test_admin_dispatches_a_case_and_a_stale_form_changes_nothing(
    page: Page, console: str, world: ConsoleWorld
):
    await sign_in(page, console, world.username("admin"))
    await page.goto(f"{console}/cases?status=reported")
    await shot(page, "case-board")
    await page.get_by_role("link", name=re.compile("待派遣")).click()
    dispatch = page.locator("form[data-action=dispatch]")
    await dispatch.get_by_label("责任单位").select_option(label=world.units["cityadmin"]["name"])
    await dispatch.get_by_label("说明").fill("请城管局处理")
    await dispatch.get_by_role("button", name="派遣").click()
    await expect(page.get_by_test_id("case-status")).to_have_text("整改中")
    await expect(page.get_by_test_id("timeline")).to_contain_text("请城管局处理")
    await shot(page, "case")
    case = await world.case(world.reported_case_id)
    assert (case["status"], case["unit_id"]) == ("assigned", world.units["cityadmin"]["id"])

    # Someone else extends the case while the page is open: the page's extend form
    # carries the old version, so the API refuses it (412) and the page says so.
    extend = page.locator("form[data-action=extend]")
    await extend.get_by_label("新期限").fill("2099-01-31T18:00")
    async with httpx.AsyncClient() as client:
        extended = await client.post(
            f"{world.inspections}/v1/cases/{case['id']}/actions",
            json={"action": "extend", "due_at": "2099-01-15T18:00:00+08:00", "note": "API"},
            headers={**world.headers("admin"), "If-Match": f'"{case["version"]}"'},
        )
    assert extended.status_code == 200, extended.text
    await extend.get_by_role("button", name="延期").click()
    await expect(page.locator(".flash.error")).to_contain_text("已被他人更新")
    after = await world.case(world.reported_case_id)
    assert after["extension_count"] == 1 and after["due_at"].startswith("2099-01-15")


async def test_a_unit_sees_only_its_own_cases_and_not_another_units_by_url(
    page: Page, console: str, world: ConsoleWorld
):
    await sign_in(page, console, world.username("unit-market"))
    await expect(page).to_have_url(f"{console}/cases")  # units start at their cases
    rows = page.get_by_test_id("cases").locator("tbody tr")
    await expect(rows).to_have_count(len(world.closed_case_ids))
    await expect(page.get_by_test_id("cases")).not_to_contain_text("背街小巷")
    answer = await page.goto(f"{console}/cases/{world.open_case_ids[0]}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("没有找到，或您无权查看。")
    answer = await page.goto(f"{console}/")
    assert page.url == f"{console}/cases"
    answer = await page.goto(f"{console}/cases?status=bogus")  # a hand-edited address
    assert answer is not None and answer.status == 422
    await expect(page.get_by_role("heading", level=1)).to_have_text("地址中的参数有误。")


async def test_forms_without_the_sessions_csrf_token_are_refused(
    page: Page, console: str, world: ConsoleWorld
):
    await sign_in(page, console, world.username("admin"))
    target = world.open_case_ids[1]
    before = await world.case(target)
    for token in (None, "forged-token"):
        form = {"action": "park", "version": str(before["version"]), "note": "CSRF?"}
        if token:
            form["csrf_token"] = token
        answer = await page.request.post(f"{console}/cases/{target}/actions", form=form)
        assert answer.status == 403
    assert (await world.case(target))["version"] == before["version"]


async def test_imports_show_each_row_error_beside_its_row(
    page: Page, console: str, world: ConsoleWorld
):
    await sign_in(page, console, world.username("admin"))
    await page.goto(f"{console}/imports")
    csv = "description,severity,address\n路面破损,normal,人民路1号\n井盖缺失,very-bad,府前路2号\n".encode()
    form = page.locator("form[action='/imports/cases']")
    await form.get_by_label("文件（CSV 或 XLSX）").set_input_files(
        {"name": "experts.csv", "mimeType": "text/csv", "buffer": csv}
    )
    await form.get_by_role("button", name="上传").click()
    bad_row = page.get_by_test_id("import-rows").locator("tr.row-error")
    await expect(bad_row).to_have_count(1)
    await expect(bad_row.locator("td").first).to_have_text("3")
    await expect(bad_row).to_contain_text("井盖缺失")
    await expect(bad_row).to_contain_text("severity")
    await shot(page, "import-errors")


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_docs_render_their_operations_with_the_network_cut_off(
    page: Page, stack: Stack, service: str
):
    async def local_only(route):
        host = urlsplit(route.request.url).hostname
        await (route.continue_() if host == "127.0.0.1" else route.abort())

    await page.route("**/*", local_only)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    await page.goto(f"{stack.url(service)}/docs")
    await expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    async with httpx.AsyncClient(base_url=stack.url(service)) as client:
        spec = (await client.get("/openapi.json")).json()
        redoc = (await client.get("/redoc")).text
    shown = await page.locator(".opblock-summary-path").evaluate_all(
        "elements => elements.map(e => e.dataset.path)"
    )
    assert set(shown) == set(spec["paths"])  # every operation listed (some under two tags)
    await shot(page, f"docs-{service}")
    assert re.findall(r'src="([^"]+)"', redoc) == ["/static-offline-docs/redoc.standalone.js"]
    assert failed == []


async def test_the_console_is_in_chinese_by_default_and_needs_a_sign_in(console: str):
    async with httpx.AsyncClient(base_url=console) as client:
        answer = await client.get("/cases")
        login = await client.get("/login")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/cases"
    assert (
        '<html lang="zh-CN">' in login.text
        and "default-src 'self'" in login.headers["content-security-policy"]
    )


async def test_a_unit_rectifies_on_a_tablet_with_an_after_photo_the_api_then_holds(
    browser: Browser, console: str, world: ConsoleWorld
):
    context = await browser.new_context(viewport={"width": 820, "height": 1180}, locale="zh-CN")
    page = await context.new_page()
    try:
        await sign_in(page, console, world.username("unit-cityadmin"))
        target = world.open_case_ids[2]
        await page.goto(f"{console}/cases/{target}")
        rectify = page.locator("form[data-action=rectify]")
        await rectify.get_by_label("整改后照片").set_input_files(
            {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(seed=4242)}
        )
        await rectify.get_by_label("说明").fill("已清理完毕")
        await rectify.get_by_role("button", name="整改完成").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("待核查")
        thumbnail = page.locator(".photos img").first
        await expect(thumbnail).to_be_visible()
        # A lazy thumbnail is visible before its bytes arrive: wait for its load
        # (or error) event, then judge what the browser decoded.
        decoded_width = await thumbnail.evaluate(
            """img => img.complete ? img.naturalWidth : new Promise(done => {
                img.addEventListener('load', () => done(img.naturalWidth));
                img.addEventListener('error', () => done(0));
            })"""
        )
        assert decoded_width > 0
        await shot(page, "case-rectified-tablet")
        case = await world.case(target)
        assert case["status"] == "rectified"
        async with httpx.AsyncClient(base_url=world.inspections) as client:
            events = (
                await client.get(f"/v1/cases/{target}/events", headers=world.headers("admin"))
            ).json()["items"]
        assert events[-1]["action"] == "rectify" and len(events[-1]["photo_ids"]) == 1
    finally:
        await context.close()


async def test_admin_runs_the_rules_and_the_black_listed_unit_acknowledges_its_notice(
    page: Page, console: str, world: ConsoleWorld
):
    await sign_in(page, console, world.username("admin"))
    await page.goto(f"{console}/accountability")
    await page.get_by_label("问责月份").fill(world.due_month)
    await page.get_by_role("button", name="执行问责规则").click()
    notices = page.get_by_test_id("notices")
    await expect(notices).to_contain_text(world.units["cityadmin"]["name"])
    await page.get_by_role("button", name="退出").click()

    await sign_in(page, console, world.username("unit-cityadmin"))
    await page.goto(f"{console}/accountability")
    await page.get_by_test_id("notices").get_by_role("button", name="签收").click()
    await expect(page.locator(".flash.ok")).to_have_text("已签收")
    await expect(page.get_by_test_id("notices").get_by_role("button", name="签收")).to_have_count(0)
    await shot(page, "notice-acknowledged")
