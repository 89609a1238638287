"""One real browser: a system Chromium loads the app, the map draws, nothing leaves the machine.

The browser is ``$CHROMIUM`` when set (as ``make test CHROMIUM=/path``), else the chromium on
PATH; never a downloaded browser build.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = (
    os.environ.get("CHROMIUM", "").strip()
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "/usr/bin/chromium"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
from residency.geo import NO_DATA_COLOUR, STATUS_COLOURS  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


AGENCY = ROOT / "tests" / "data" / "agency"  # a small test organisation


def _start(tmp_path_factory, *extra: str):
    """Start `residency app` (the CLI's way in) on a free port; yield its URL; stop it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install a chromium package (make test does, with "
            "apt-get), or point CHROMIUM=/path/to/chromium at one"
        )
    port = _free_port()
    folder = tmp_path_factory.mktemp("server")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RESIDENCY_DB": str(folder / "store.db")}
    log = (folder / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "residency", "app", "--port", str(port), *extra],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and anything it started
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from _start(tmp_path_factory)


@pytest.fixture(scope="module")
def agency_server(tmp_path_factory):
    yield from _start(tmp_path_factory, "--inventory", str(AGENCY))


def _count(png: bytes, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    from io import BytesIO

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(png)).convert("RGB"), dtype=np.int16)
    close = np.abs(pixels - np.array(colour, dtype=np.int16)) <= tolerance
    return int(close.all(axis=-1).sum())


def _guarded(p, outside: list[str]):
    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    context.route("**/*", guard)
    return browser, context.new_page()


def _pixel(box, lon: float, lat: float) -> tuple[float, float]:
    """Where a point lies on the canvas in the app's "Whole world" view (Web Mercator)."""
    from residency.geo import view

    world = view([])
    size = 512 * 2 ** world["zoom"]

    def merc(degrees: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(degrees) / 2))

    x = box["width"] / 2 + (lon - world["longitude"]) / 360 * size
    y = box["height"] / 2 - (merc(lat) - merc(world["latitude"])) / (2 * math.pi) * size
    return box["x"] + x, box["y"] + y


def _wait_for_map(page, colours, *, grey_min: int, coloured_min: int):
    """Poll the map's canvas until deck.gl has drawn the world and these colours."""
    canvas = page.locator("canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    deadline = time.monotonic() + 60
    while True:
        png = canvas.screenshot()
        grey = _count(png, NO_DATA_COLOUR)
        coloured = {c: _count(png, c) for c in colours}
        drawn = grey > grey_min and sum(coloured.values()) > coloured_min
        if drawn or time.monotonic() > deadline:
            return drawn, png, grey, coloured
        time.sleep(1)


def test_map_draws_and_the_app_stays_offline(server, tmp_path):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser, page = _guarded(p, outside)
        page.goto(server, wait_until="domcontentloaded")
        colours = [STATUS_COLOURS[s] for s in ("high", "medium", "free_flow", "adequacy")]
        drawn, png, grey, coloured = _wait_for_map(page, colours, grey_min=5_000, coloured_min=500)
        page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
        (tmp_path / "map.png").write_bytes(png)
        text = page.inner_text("body")
        browser.close()
    assert drawn, f"the map did not draw (grey {grey}, coloured {coloured}); see {tmp_path}"
    assert "What data lives where" in text
    assert "Not legal advice" in text
    assert outside == [], f"requests left the machine: {outside}"


def test_app_opens_on_an_inventory_and_a_typed_date_applies(agency_server, tmp_path):
    """`residency app --inventory PATH`: the organisation's name and its map, China in the
    colour of its countries-of-concern finding; a date typed and Enter changes the law."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser, page = _guarded(p, outside)
        page.goto(agency_server, wait_until="domcontentloaded")
        drawn, png, grey, coloured = _wait_for_map(
            page,
            [STATUS_COLOURS["medium"], STATUS_COLOURS["high"], STATUS_COLOURS["origin"]],
            grey_min=5_000,
            coloured_min=2_000,
        )
        (tmp_path / "map.png").write_bytes(png)
        page.get_by_text("Whole world").click()  # a known view: hover a country by position
        time.sleep(3)
        canvas = page.locator("canvas").first
        box = canvas.bounding_box()
        page.mouse.move(*_pixel(box, -52, -10))  # Brazil: none of this organisation's data
        tip = page.locator(".deck-tooltip")
        tip.wait_for(state="visible", timeout=20_000)
        label, tip_box = tip.inner_text(), tip.bounding_box()
        from residency.geo import point_of

        page.mouse.move(*_pixel(box, *point_of("CN")))  # where China's arcs end: the country
        page.get_by_text("People's Republic of China (CN)").wait_for(timeout=20_000)
        china = tip.inner_text()
        sidebar = page.locator("section[data-testid='stSidebar']")
        name = sidebar.inner_text()
        date_box = sidebar.get_by_label("or type a date and press Enter")
        date_box.fill("2000-03-01")
        date_box.press("Enter")
        page.get_by_text("is before the earliest rule").first.wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
        browser.close()
    assert drawn, f"the map did not draw (grey {grey}, coloured {coloured}); see {tmp_path}"
    assert all(n > 200 for n in coloured.values()), coloured  # China, the US, Germany
    assert "Harbour & Pine Studio" in name
    assert label.startswith("Brazil"), label  # country names on hover, data or not
    inside = (
        box["x"] <= tip_box["x"]
        and tip_box["x"] + tip_box["width"] <= box["x"] + box["width"]
        and box["y"] <= tip_box["y"] <= box["y"] + box["height"]
    )
    assert inside, (tip_box, box)  # the tooltip stays inside the map
    assert "medium-severity finding: Sensitive data reaches a country of concern" in china
    assert outside == [], f"requests left the machine: {outside}"


def test_what_to_do_page_lists_the_plan_and_its_combined_effect(server, tmp_path):
    """The plan in the browser: the actions, best first, and the effect of those ticked."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser, page = _guarded(p, outside)
        page.goto(server, wait_until="domcontentloaded")
        page.get_by_role("link", name="What to do").click()
        first = page.get_by_text("1. Opt out of Slack's AI training")
        first.wait_for(timeout=180_000)  # the plan judges each candidate with what-if
        page.get_by_text("Findings fixed").first.wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
        text = page.inner_text("body")
        browser.close()
    assert "Sign UK IDTA with" in text
    assert "Together" in text
    assert outside == [], f"requests left the machine: {outside}"
