"""Start a real `gradtrace serve` (uvicorn) on a free loopback port for a benchmark."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(url: str | None = None, workers: int = 1) -> Iterator[str]:
    """Yield the base URL of `url` if given, else of a server started here and stopped after."""
    if url is not None:
        yield url
        return
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gradtrace", "serve", "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning"])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
