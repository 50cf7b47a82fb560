"""Fixtures for the browser tests: Debian's chromium driven by Playwright, against the real
server (the session-scoped `server` fixture of tests/conftest.py), which serves frontend/dist."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def chromium_path() -> str:
    path = os.environ.get("GRADTRACE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and other test modules call asyncio.run() (it refuses inside a running loop).
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not DIST_INDEX.is_file():
        pytest.skip(
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
