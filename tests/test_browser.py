"""One real browser: a system Chromium loads the app, the map draws, nothing leaves the machine.

The browser is ``$CHROMIUM`` when set (as ``make test CHROMIUM=/path``), else the chromium on
PATH; never a downloaded browser build.
"""

from __future__ import annotations

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
# Colours the map must show once deck.gl has drawn: the grey world and the status colours.
WORLD_GREY = (225, 228, 232)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install a chromium package (make test does, with "
            "apt-get), or point CHROMIUM=/path/to/chromium at one"
        )
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path_factory.mktemp("server") / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "residency", "app", "--port", str(port)],  # the CLI's way in
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


def _count(png: bytes, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    from io import BytesIO

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(png)).convert("RGB"), dtype=np.int16)
    close = np.abs(pixels - np.array(colour, dtype=np.int16)) <= tolerance
    return int(close.all(axis=-1).sum())


def test_map_draws_and_the_app_stays_offline(server, tmp_path):
    from playwright.sync_api import sync_playwright

    from residency.geo import STATUS_COLOURS

    outside: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        context.route("**/*", guard)
        page = context.new_page()
        page.goto(server, wait_until="domcontentloaded")
        canvas = page.locator("canvas").first
        canvas.wait_for(state="visible", timeout=60_000)
        drawn = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not drawn:
            png = canvas.screenshot()
            grey = _count(png, WORLD_GREY)
            coloured = sum(
                _count(png, c)
                for c in (
                    STATUS_COLOURS["no_basis"],
                    STATUS_COLOURS["needs_review"],
                    STATUS_COLOURS["adequacy"],
                )
            )
            drawn = grey > 5_000 and coloured > 500
            if not drawn:
                time.sleep(1)
        page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
        (tmp_path / "map.png").write_bytes(png)
        text = page.inner_text("body")
        browser.close()
    assert drawn, f"the map did not draw (grey {grey}, coloured {coloured}); see {tmp_path}"
    assert "What data lives where" in text
    assert "Not legal advice" in text
    assert outside == [], f"requests left the machine: {outside}"
