"""The review pack in Debian's Chromium: it renders offline, the map is drawn, no request
leaves the file, and ``--format pdf`` prints it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import residency

from .conftest import DATA
from .test_browser import ARGS, CHROMIUM, _count

SMALL = DATA / "report_small.yaml"
AS_OF = "2026-12-02"


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    return CHROMIUM


@pytest.mark.slow
def test_the_pack_renders_offline_with_its_map(chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    from residency.geo import STATUS_COLOURS

    path = residency.load(SMALL).report(tmp_path / "review.html", as_of=AS_OF)
    requests: list[str] = []

    def guard(route):
        requests.append(route.request.url)
        if route.request.url == path.as_uri():
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        context.route("**/*", guard)
        page = context.new_page()
        page.goto(path.as_uri(), wait_until="load")
        image = page.locator("img.map")
        assert image.evaluate("i => i.complete && i.naturalWidth") == 1200
        png = image.screenshot()
        text = page.inner_text("body")
        # The register sorts in the browser, with the inline script.
        page.locator("#register th", has_text="Recipient").click()
        recipients = page.locator("#register tbody tr td:nth-child(4)").all_inner_texts()
        browser.close()
    assert sorted(recipients) == recipients != sorted(recipients, reverse=True)
    assert _count(png, STATUS_COLOURS["no_basis"]) > 500  # the United States, no basis under TR
    assert _count(png, (225, 228, 232)) > 50_000  # the grey world
    for heading in ("Where data lives", "What to do first", "Transfer register by route"):
        assert heading in text
    assert "to be completed" in text and "Not legal advice" in text
    assert [u for u in requests if u != path.as_uri()] == [], "requests left the file"


@pytest.mark.slow
def test_format_pdf_prints_the_pack(chromium, tmp_path):
    out = residency.load(SMALL).report(tmp_path / "review.pdf", as_of=AS_OF, fmt="pdf")
    content = out.read_bytes()
    assert content.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page(?!s)", content)
    assert len(pages) >= 3, len(pages)  # cover and map, then each part on its own page
    assert [p.name for p in tmp_path.iterdir()] == ["review.pdf"]
