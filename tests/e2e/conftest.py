"""Fixtures for the browser tests: Debian's chromium driven by Playwright, against the real
server (the session-scoped `server` fixture of tests/conftest.py), which serves frontend/dist.

Every test here is marked `slow` (`pytest -m "not slow"` leaves the browser out), and every
screenshot goes through `screenshot`, which asserts what the picture shows before saving it."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ..helpers import unavailable

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests are slow: mark every test of this directory (the hook sees all items)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


def chromium_path() -> str:
    path = os.environ.get("GRADTRACE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and other test modules call asyncio.run() (it refuses inside a running loop).
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not DIST_INDEX.is_file():
        unavailable(
            "frontend/dist is missing: build it with `cd frontend && npm ci && npm run build`"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def app(browser: object, server: str) -> Iterator[object]:
    """A fresh page on the app, failing the test on any page error or console error (a CSP
    violation shows up as one)."""
    from playwright.sync_api import Browser, ConsoleMessage

    assert isinstance(browser, Browser)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, reduced_motion="reduce", base_url=server
    )
    page = context.new_page()
    problems: list[str] = []

    def on_console(m: ConsoleMessage) -> None:
        # An API error answer (a typo in the expression) is logged by the browser itself; the app
        # handles it. Anything else logged as an error (a CSP violation, a bug) fails the test.
        url = (m.location or {}).get("url", "")
        if m.type == "error" and not ("Failed to load resource" in m.text and "/api/" in url):
            problems.append(f"console {m.type}: {m.text} ({url})")

    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", on_console)
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
    assert problems == [], problems


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# The picture, decoded by the browser itself (no imaging library needed): its size, and how much
# of it differs from its most common colour (the background).
_INK = """async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const counts = new Map();
    for (let i = 0; i < d.length; i += 4) {
        const c = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(c, (counts.get(c) || 0) + 1);
    }
    const background = Math.max(...counts.values());
    const pixels = bitmap.width * bitmap.height;
    return { width: bitmap.width, height: bitmap.height, colours: counts.size,
             ink: (pixels - background) / pixels };
}"""


def assert_picture(page: Any, png: bytes, size: tuple[int, int] | None, what: str) -> None:
    """`png` is a PNG of `size` (width, height; any size if None) that is not blank: several
    colours, and at least 1% of its pixels off the background colour."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", what
    got = page.evaluate(_INK, base64.b64encode(png).decode("ascii"))
    if size is not None:
        assert (got["width"], got["height"]) == size, (what, got)
    assert got["colours"] >= 8 and got["ink"] >= 0.01, (f"{what} looks blank", got)


def screenshot(page: Any, path: Path, shows: Sequence[Any]) -> bytes:
    """Save a screenshot of `page` for a person to look at, after asserting what it shows: every
    item of `shows` (a text, or a Playwright locator) is visible on the page, and the picture
    has the viewport's size and is not blank."""
    assert shows, "say what the screenshot shows"
    for item in shows:
        loc = page.get_by_text(item) if isinstance(item, str) else item
        assert loc.filter(visible=True).count() > 0, (path.name, "does not show", item)
    png: bytes = page.screenshot(path=str(path))
    viewport = page.viewport_size
    size = (viewport["width"], viewport["height"]) if viewport else None
    assert_picture(page, png, size, path.name)
    return png
