"""Open a real report in headless Chromium: every section present, nothing fetched."""

from __future__ import annotations

from pathlib import Path

import pytest
from _report_cycle import update_at

from tests.conftest import CHROMIUM_FLAGS

pytestmark = pytest.mark.browser

SECTIONS = ("whats-new", "findings", "prisma", "studies", "design", "rob", "outcomes",
            "sensitivity", "adverse-events", "sof", "published", "gaps", "methods")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"



@pytest.mark.parametrize("review", ["bcg-vaccine", "msc-cirrhosis"])
def test_report_opens_in_chromium(
    review: str, reviews: Path, db: Path, tmp_path: Path, chromium: str
) -> None:
    from playwright.sync_api import sync_playwright

    summary = update_at(db, review, tmp_path / "out", offline=True)
    assert summary.report is not None
    url = summary.report.html_path.resolve().as_uri()
    external: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS,
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})

            def guard(route: object) -> None:
                req = route.request  # type: ignore[attr-defined]
                if req.url.startswith(("file:", "data:", "about:")):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    external.append(req.url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", guard)
            page.goto(url)
            assert "evidence summary" in page.title()
            for sid in SECTIONS:
                sec = page.locator(f"section#{sid}")
                assert sec.count() == 1, f"section {sid} missing"
                text = sec.inner_text().strip()
                heading = sec.locator("h2").inner_text().strip()
                assert len(text) > len(heading) + 10, f"section {sid} is empty"
            # figures are real inline SVG with accessible text
            assert page.locator("section#prisma svg").count() >= 1
            if review == "bcg-vaccine":
                assert page.locator("section#outcomes svg").count() >= 2
                assert page.locator("section#outcomes svg text").count() > 50
                assert "Favours" in page.locator("section#outcomes").inner_text()
            else:
                assert page.locator("section#rob svg").count() == 2
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / f"report-{review}.png"
            page.screenshot(path=str(shot), timeout=30_000)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert external == [], f"the report fetched external resources: {external}"
