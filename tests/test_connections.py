"""Connections and fairness against a real uvicorn on loopback (api/protocol.py, middleware.py,
lanes.py): time-outs for slow and idle connections, a bound on connections that sheds idle ones
first, every overload a JSON 503 with Retry-After and the security headers, cheap requests served
while the heavy lane is full, and work cancelled when its client hangs up.

The server runs in a thread of the test, so the tests read its counters (`app.state.lanes.counts`)
to check the mechanism; timings are the fairness bench's (bench/fairness.py)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gradtrace.api import create_app, protocol
from gradtrace.api.protocol import protocol_for
from gradtrace.settings import Settings

from .conftest import free_port

pytestmark = pytest.mark.slow  # real servers, real time-outs

# A check that takes seconds when its limits are raised for the test (many passes of a long
# chain): the heavy lane's work, and long enough to be hung up on.
COSTLY = {"expr": "\n".join(["t0=x0"] + [f"t{i}=tanh(x{i})*t{i - 1}+.5" for i in range(1, 300)]),
          "values": {f"x{i}": 0.01 * i for i in range(300)}, "check": True}
RAISED = {"max_check_work": 100_000_000, "max_check_evaluations": 100_000}


@contextlib.contextmanager
def live(**overrides: Any) -> Iterator[tuple[str, FastAPI]]:
    """`gradtrace serve`'s server (uvicorn with the guarded protocol) in a thread."""
    settings = Settings(**overrides)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, http=protocol_for(settings), log_level="warning",
        timeout_keep_alive=int(settings.idle_timeout_s), lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(20)


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s


def read_all(s: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := s.recv(65536):
            data += chunk
    return data


def parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def assert_project_error(status: int, headers: dict[str, str], body: Any, code: int) -> None:
    assert status == code
    assert headers["content-type"] == "application/json"
    assert set(body["error"]) == {"type", "message", "start", "end"}
    assert headers["x-content-type-options"] == "nosniff" and "content-security-policy" in headers


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout() -> None:
    with live(header_timeout_s=0.5) as (base, _):
        s = connect(base)
        t0 = time.monotonic()
        assert read_all(s) == b""  # closed without a word: no request was begun
        assert 0.4 < time.monotonic() - t0 < 5


def test_headers_that_trickle_in_get_a_json_408_at_the_deadline() -> None:
    """A deadline, not an idle timer: a byte every 0.2 s does not keep the connection."""
    with live(header_timeout_s=1.0) as (base, _):
        s = connect(base)
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        with contextlib.suppress(OSError):
            for _ in range(20):
                s.sendall(b"X")
                time.sleep(0.2)
        status, headers, body = parse(read_all(s))
        assert_project_error(status, headers, body, 408)
        assert body["error"]["type"] == "timeout" and time.monotonic() - t0 < 5


def test_a_body_that_does_not_arrive_gets_a_json_408() -> None:
    with live(body_timeout_s=0.5) as (base, _):
        s = connect(base)
        s.sendall(b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"expr\"")
        status, headers, body = parse(read_all(s))
        assert_project_error(status, headers, body, 408)


def test_idle_connections_past_the_bound_are_shed_oldest_first() -> None:
    """The bound full of quiet connections, then as many new ones: each new one sheds an old
    quiet one, and the new ones are served."""
    with live(max_connections=20, header_timeout_s=30) as (base, _):
        old = [connect(base) for _ in range(20)]
        time.sleep(protocol.SHED_AFTER_S + 0.2)  # quiet long enough to be shed
        new = [connect(base) for _ in range(20)]
        for s in old:  # closed by the server, without a word: they had asked nothing
            s.settimeout(2)
            assert read_all(s) == b""
        new[-1].sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_all(new[-1]).startswith(b"HTTP/1.1 200 ")
        for s in new:
            s.close()


def test_a_burst_past_the_bound_gets_answers_not_resets() -> None:
    """Twice the bound of connections at once, each asking at once: every one is answered, 200
    or the JSON 503 with Retry-After, none reset or closed without a word."""
    with live(max_connections=20) as (base, _):
        socks = [connect(base) for _ in range(40)]
        for s in socks:
            with contextlib.suppress(OSError):
                s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        statuses = []
        for s in socks:
            status, headers, body = parse(read_all(s))
            statuses.append(status)
            if status != 200:
                assert_project_error(status, headers, body, 503)
                assert headers["retry-after"] == "1"
        assert statuses.count(200) >= 20 and 503 in statuses


def test_past_the_bound_with_every_connection_busy_the_answer_is_a_json_503() -> None:
    with live(max_connections=5, header_timeout_s=30, body_timeout_s=30) as (base, _):
        busy = [connect(base) for _ in range(5)]
        for s in busy:  # each in a request: its body is still coming
            s.sendall(b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        time.sleep(0.3)
        status, headers, body = parse(read_all(connect(base)))
        assert_project_error(status, headers, body, 503)
        assert headers["retry-after"] == "1" and body["error"]["type"] == "overloaded"
        for s in busy:
            s.close()


def test_cheap_requests_are_served_while_the_heavy_lane_is_full() -> None:
    with live(heavy_processes=1, heavy_queue_limit=0, **RAISED) as (base, app):
        counts = app.state.lanes.counts
        with httpx.Client(base_url=base, timeout=60) as costly, \
                httpx.Client(base_url=base, timeout=10) as cheap:
            done = threading.Event()

            def hold_the_heavy_lane() -> None:
                with contextlib.suppress(httpx.HTTPError):  # closed when the test ends
                    costly.post("/api/trace", json=COSTLY)
                done.set()

            threading.Thread(target=hold_the_heavy_lane, daemon=True).start()
            wait_for(lambda: app.state.lanes.heavy.in_flight == 1)
            r = cheap.post("/api/trace", json={"expr": "(x + y) * z",
                                               "values": {"x": -2, "y": 5, "z": -4}})
            assert r.status_code == 200 and r.json()["forward"]
            assert counts["light"] == 1 and not done.is_set()
            over = cheap.post("/api/trace", json=COSTLY)  # no room left in the heavy lane
            assert over.status_code == 503 and over.headers["retry-after"] == "1"
            assert over.json()["error"]["type"] == "overloaded"
            assert over.headers["x-content-type-options"] == "nosniff"


def test_work_whose_client_hangs_up_is_cancelled_in_its_worker() -> None:
    """The check would run for many seconds; its client leaves after it starts: the request is
    cancelled, the worker stops at its next check and its slot is free again within seconds."""
    with live(heavy_processes=1, **RAISED) as (base, app):
        lanes = app.state.lanes
        body = json.dumps(COSTLY).encode()
        s = connect(base)
        s.sendall(b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        wait_for(lambda: lanes.heavy.in_flight == 1)
        time.sleep(0.5)
        s.close()
        wait_for(lambda: lanes.counts["hung_up"] == 1 and lanes.counts["cancelled"] == 1)
        wait_for(lambda: lanes.heavy.in_flight == 0, 5.0)
        assert lanes.counts["deferred"] == 1  # it was offered to the light lane first


def test_a_client_that_stops_reading_its_answer_is_dropped_with_it() -> None:
    """An answer of many megabytes (more than the kernel's buffers hold) to a client that reads
    none of it: after `write_timeout_s` the
    connection is aborted and its buffer freed (a plain close would keep both)."""
    with live(write_timeout_s=0.5) as (base, _):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once
        host, port = base.removeprefix("http://").split(":")
        s.connect((host, int(port)))
        s.settimeout(10)
        body = json.dumps({"expr": "x * x", "values": {"x": [0.5] * 100_000}}).encode()
        s.sendall(b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)  # an answer of ~15 MB
        time.sleep(5)  # reads nothing while the server's buffer is full and the timer runs
        data = read_all(s)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        assert b" 200 " in head.split(b"\r\n")[0] + b" " and len(body) < length


def test_past_the_bytes_held_for_requests_in_progress_the_answer_is_a_json_503() -> None:
    with live(max_pending_bytes=1_000) as (base, app):
        r = httpx.post(f"{base}/api/trace", json={"expr": "x", "values": {"x": [1.0] * 500}})
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["error"]["type"] == "overloaded"
        assert app.state.lanes.counts["refused_busy"] == 1
        small = httpx.post(f"{base}/api/trace", json={"expr": "x", "values": {"x": 1}})
        assert small.status_code == 200  # what was held is given back


def test_a_request_that_is_not_http_gets_the_json_400() -> None:
    with live() as (base, _):
        s = connect(base)
        s.sendall(b"NONSENSE\x00\r\n\r\n")
        status, headers, body = parse(read_all(s))
        assert_project_error(status, headers, body, 400)
        big = connect(base)  # a head that grows past h11's limit on an incomplete one (16 KiB)
        big.sendall(b"GET /api/health?" + b"a" * 70_000)
        time.sleep(0.2)
        with contextlib.suppress(OSError):
            big.sendall(b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = parse(read_all(big))
        assert_project_error(status, headers, body, 400)
