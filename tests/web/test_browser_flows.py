"""The workspace in headless Chromium (Debian's, never a downloaded one): blind dual
screening to a resolved conflict, extraction forms, a viewer refused, a report that asks no
other host for anything."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from registry.store import Store
from registry.web.app import create_app
from registry.web.services import Workspace
from tests.conftest import CHROMIUM_FLAGS

from .conftest import BUNDLED, DEMO, PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"



@pytest.fixture
def server(db_copy: Path) -> Iterator[tuple[Store, str]]:
    """The workspace served by uvicorn on a free loopback port, in a thread."""
    store = Store(db_copy)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Workspace(store, [BUNDLED, DEMO]))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        yield store, f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        store.close()


@pytest.fixture
def browser(chromium: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def _login(browser, base: str, user: str):
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('button[type="submit"]')
    return ctx, page


def test_blind_dual_screening_conflict_resolved_by_a_third(server, browser) -> None:
    store, base = server
    _, ana = _login(browser, base, "ana")
    ana.goto(f"{base}/r/{DEMO}/screen/ta")
    rid = ana.locator("#record").get_attribute("data-record")
    ARTIFACTS.mkdir(exist_ok=True)
    ana.screenshot(path=str(ARTIFACTS / "web-screening.png"), full_page=True)
    with ana.expect_navigation():  # the POST has been answered, not just the old page loaded
        ana.keyboard.press("i")  # keyboard shortcut: include
    _, ben = _login(browser, base, "ben")
    ben.goto(f"{base}/r/{DEMO}/screen/ta")
    assert ben.locator("#record").get_attribute("data-record") == rid
    assert "ana" not in ben.content() and "include" not in ben.locator("#record").inner_text()
    ben.select_option("#reason", "not_rct")
    with ben.expect_navigation():
        ben.keyboard.press("e")
    assert ben.locator("#record").get_attribute("data-record") != rid
    _, cleo = _login(browser, base, "cleo")
    cleo.goto(f"{base}/r/{DEMO}/conflicts")
    conflict = cleo.locator(f'section.conflict[data-record="{rid}"]')
    text = conflict.inner_text()
    assert "ana: include" in text and "ben: exclude (Not a randomised controlled trial)" in text
    with cleo.expect_navigation():
        conflict.locator('button[value="include"]').click()
    assert cleo.locator("#no-conflicts").count() == 1
    assert "cleo resolve: title_abstract record" in cleo.locator("ol.audit").inner_text()
    final = [(d["reviewer"], d["role"], d["decision"]) for d in store.screening_decisions(DEMO)]
    assert final == [("ana", "screen", "include"), ("ben", "screen", "exclude"),
                     ("cleo", "resolution", "include")]  # fmt: skip


def test_extraction_viewer_and_offline_report(server, browser) -> None:
    store, base = server
    _, ana = _login(browser, base, "ana")
    ana.goto(f"{base}/r/{BUNDLED}/extract?sheet=outcomes")
    values = {"arm_id": "msc", "time_point": "12 weeks", "time_weeks": "12", "unit": "points",
              "n": "20", "mean": "1O.5", "sd": "3.1", "source": "https://doi.org/10.1186/scrt459",
              "location": "Table 2"}  # fmt: skip
    ana.select_option("#in-study_id", "Salama2014")
    ana.select_option("#in-outcome", "meld")
    ana.select_option("#in-value_type", "final")
    for k, v in values.items():
        ana.fill(f"#in-{k}", v)
    before = store.dump()
    with ana.expect_navigation():
        ana.click("#save")
    assert "must be a number" in ana.locator("#field-mean").inner_text()
    assert ana.locator("#field-time_weeks .field-error").count() == 0
    assert store.dump() == before
    ana.screenshot(path=str(ARTIFACTS / "web-extraction.png"), full_page=True)
    ana.fill("#in-mean", "10.5")
    with ana.expect_navigation():
        ana.click("#save")
    assert ana.locator("#saved").count() == 1
    rows = store.curation_rows(BUNDLED, "outcomes", ["Salama2014"])
    row = rows[rows["time_point"] == "12 weeks"].to_dict("records")
    assert [(r["mean"], r["source"], r["location"]) for r in row] == [
        (10.5, "https://doi.org/10.1186/scrt459", "Table 2")]

    _, vic = _login(browser, base, "vic")
    vic.goto(f"{base}/r/{DEMO}/screen/ta")
    assert vic.locator("#decide").count() == 0  # no decision form for a viewer
    token = re.search(r'name="csrf" value="([^"]+)"', vic.content()).group(1)
    before = store.dump()
    form = {"csrf": token, "record_id": "1", "decision": "include"}
    resp = vic.request.post(f"{base}/r/{DEMO}/screen/ta", form=form)
    assert resp.status == 403
    assert store.dump() == before

    elsewhere: list[str] = []
    vic.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
    vic.goto(f"{base}/r/{BUNDLED}/reports")
    vic.click("#latest")
    vic.wait_for_load_state("networkidle")
    assert "evidence summary" in vic.title()
    assert vic.locator("section#prisma svg").count() >= 1
    assert elsewhere == []
