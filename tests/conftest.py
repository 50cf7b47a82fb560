"""Shared fixtures: the seed examples, an in-process client, and a real uvicorn on loopback.

The `slow` mark (`pytest -m "not slow"` for quick feedback; plain `pytest` runs everything) is
given here to every property-based test (hypothesis: fuzzing by another name) and to every test
of a real uvicorn (the `server` fixture); tests/e2e/conftest.py gives it to the browser tests;
the rest (subprocess runs, stress tests of the limits) carry `@pytest.mark.slow` themselves.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gradtrace.api import create_app

ROOT = Path(__file__).resolve().parents[1]
# The worked examples of the lecture notes, as the package ships them (the app's presets).
SEEDS_PATH = ROOT / "backend" / "gradtrace" / "data" / "seed_examples.json"


def load_seeds() -> list[dict[str, Any]]:
    seeds: list[dict[str, Any]] = json.loads(SEEDS_PATH.read_text())
    return seeds


SEEDS = load_seeds()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        hypothesis = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if hypothesis or "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """A real `gradtrace serve` (uvicorn) on a free loopback port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradtrace", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gradtrace serve did not become healthy")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
