"""The operator console in headless Chromium (the Debian package) against a running server with
simulated stations. Screenshots go to test-artifacts/ (or YZ_TEST_ARTIFACTS)."""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import REPO, STATION_BODY, Publisher, ServerProc, shared_server
from yizhan.localstack import Broker, Influx

ARTIFACTS = Path(os.environ.get("YZ_TEST_ARTIFACTS", REPO / "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError(
            "chromium not found: install the Debian package 'chromium' (scripts/setup --test does)"
        )
    return path


@pytest.fixture(scope="module")
def fleet(broker: Broker, influx: Influx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """A server with 8 simulated stations that lived the last two hours."""
    tmp = tmp_path_factory.mktemp("console")
    server = shared_server(broker, influx, tmp, "console")
    start = (datetime.now() - timedelta(hours=2)).astimezone().isoformat(timespec="seconds")
    server.run_sim("--stations", "8", "--seed", "5", "--start", start, "--duration", "2h")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def status_of(s: dict) -> str:
    if s["faults"] > 0:
        return "fault"
    if s["reported_open"] and not s["open"]:
        return "dark"
    return "open" if s["open"] else "closed"


def test_the_board_shows_the_fleet_with_the_right_counts(fleet: ServerProc, page: Page) -> None:
    page.goto(fleet.url + "/")
    expect(page.locator("#stations tbody tr")).to_have_count(8)
    stations = fleet.get("/api/v1/stations").json()
    for kind in ("open", "closed", "dark", "fault"):
        want = sum(1 for s in stations if status_of(s) == kind)
        expect(page.locator(f"#count-{kind} b")).to_have_text(str(want))
    expect(page.locator("h1")).to_have_text("驿站监测")
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("yizhan stations")
    page.click("#lang")
    page.click('tr[data-id="st-0001"]')
    expect(page.locator("#devices tbody tr")).to_have_count(4)
    expect(page.locator("svg.timeline")).to_be_visible()
    # device types and the day's flags in words, never raw values; the 24:00 label whole
    expect(page.locator("#devices")).to_contain_text("饮水机")
    expect(page.locator("#devices")).not_to_contain_text("water_dispenser")
    expect(page.locator("#view")).not_to_contain_text("{}")
    last, frame = page.locator("svg.timeline text").last, page.locator("svg.timeline")
    assert last.text_content() == "24:00"
    label, box = last.bounding_box(), frame.bounding_box()
    assert label is not None and box is not None and label["x"] + label["width"] <= box["x"] + box["width"]


def test_a_fault_appears_without_reload_and_acknowledging_it_changes_the_api(
    fleet: ServerProc, page: Page
) -> None:
    page.goto(fleet.url + "/")
    expect(page.locator("#live")).to_have_class("live on")
    before = int(page.locator("#count-fault b").inner_text())
    device = Publisher(fleet.broker)
    device.publish(
        fleet.topic("st-0002", "water", "event"),
        {"ts": int(time.time() * 1000), "seq": 10**6, "boot": 1, "event": "fault", "data": {"code": "leak"}},
    )
    device.close()
    expect(page.locator('tr[data-id="st-0002"] .badge')).to_have_class("badge s-fault", timeout=15_000)
    expect(page.locator("#count-fault b")).to_have_text(str(before + 1))
    page.click('a[href="#/alerts"]')
    row = page.locator("#alerts tbody tr", has_text="fault:leak")
    expect(row).to_have_count(1)
    alert_id = row.get_attribute("data-id")
    page.fill("#who", "王师傅")
    row.locator("button.ack").click()
    expect(page.locator(f'#alerts tr[data-id="{alert_id}"]')).to_have_attribute("data-state", "acknowledged")
    alert = fleet.get(f"/api/v1/alerts/{alert_id}").json()
    assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == "王师傅"


def test_the_audit_and_map_pages_draw(fleet: ServerProc, page: Page) -> None:
    page.goto(fleet.url + "/#/map")
    expect(page.locator("svg.map circle")).to_have_count(8)
    page.goto(fleet.url + "/#/audit")
    expect(page.locator("table#report")).to_be_visible()
    assert "format=csv" in page.locator("#csv").get_attribute("href")


def test_on_a_server_with_users_the_console_asks_for_a_token_and_then_works(make_server, page: Page) -> None:
    server = make_server()
    assert server.put_station("st-tok", STATION_BODY).status_code == 201
    added = subprocess.run(
        [sys.executable, "-m", "yizhan", "users", "add", "ops", "--role", "operator"],
        env=server.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    token = added.stdout.strip().splitlines()[-1]
    page.goto(server.url + "/")
    expect(page.locator("#signin")).to_contain_text("访问令牌")
    expect(page.locator("#live")).not_to_have_class("live on")  # the stream wants a token too
    page.fill("#token", "yz_wrong")
    # the refusal re-draws the form: wait for it, or the right token is typed into the old one
    with page.expect_response(lambda r: r.status == 401):
        page.click("#signin button")
    expect(page.locator("#signin")).to_be_visible()  # refused: asked again
    expect(page.locator("#token")).to_have_value("")  # a new form, not the one that was refused
    page.fill("#token", token)
    page.click("#signin button")
    expect(page.locator("#stations tbody tr")).to_have_count(1)
    expect(page.locator("#live")).to_have_class("live on")
