"""Limits, pathological inputs, security headers, the body cap, overload (503) and the caches.

Pathological inputs must each be answered with a 4xx or a finite-or-IEEE result, never a 5xx or a
hang; how long they take is printed by bench/bench_pathological.py rather than asserted here
(timed tests flake on shared machines); pytest-timeout guards against a hang.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gradtrace import GradtraceError, trace
from gradtrace.api import create_app
from gradtrace.api.cache import BodyCache
from gradtrace.settings import Settings, get_settings


def nested(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


PATHOLOGICAL: dict[str, tuple[str, dict[str, Any]]] = {
    "tower of powers": ("9^9^9^9", {}),
    "overflowing literal": ("1e999*x", {"x": 2}),
    "triple exp": ("exp(exp(exp(x)))", {"x": 10}),
    "5000 nested parentheses": ("(" * 5000 + "x" + ")" * 5000, {"x": 1}),
    "20000 terms": ("+".join(["x"] * 20_000), {"x": 1}),
    "5000 terms": ("+".join(["x"] * 5_000), {"x": 1}),
    "deep power chain": ("^".join(["x"] * 3000), {"x": 1}),
    "deep unary minus": ("-" * 5000 + "x", {"x": 1}),
    "deep calls": ("exp(" * 3000 + "x" + ")" * 3000, {"x": 1}),
    "NUL byte": ("x\x00+y", {"x": 1, "y": 2}),
    "control characters": ("x\x1b[31m + \x07y", {"x": 1, "y": 2}),
    "NUL in a name of values": ("x", {"x": 1, "a\x00b": 2}),
    "huge integer value": ("x * 2", {"x": 10**400}),
    "deeply nested list value": ("sum(x)", {"x": nested(500)}),
    "1e8-element value": ("sum(x)", {"x": [[0.0] * 10_000] * 10_000}),
    "broadcast blow-up": ("sum(a * b)", {"a": [[1.0]] * 2000, "b": [[1.0] * 2000]}),
    "matrix too large": ("sum(A @ B)", {"A": [[1.0] * 600] * 600, "B": [[1.0] * 600] * 600}),
}


@pytest.mark.parametrize("case", list(PATHOLOGICAL), ids=list(PATHOLOGICAL))
def test_pathological_input_is_answered_cleanly(client: TestClient, case: str) -> None:
    expr, values = PATHOLOGICAL[case]
    if case == "1e8-element value":  # sent as JSON this is ~200 MB: the body cap is tested below
        with pytest.raises(GradtraceError) as err:
            trace(expr, values)
        assert err.value.type == "limit"
        return
    r = client.post("/api/trace", json={"expr": expr, "values": values})
    assert r.status_code in (200, 400), r.text
    body = r.json()
    if r.status_code == 400:
        e = body["error"]
        assert e["type"] in ("syntax", "limit", "value", "name")
        assert 0 <= e["start"] <= e["end"] <= len(expr)
        assert e["message"]
    else:
        json.dumps(body, allow_nan=False)  # strict JSON: non-finite numbers travel as strings


def test_limit_errors_point_at_the_text() -> None:
    with pytest.raises(GradtraceError) as err:
        trace("(" * 500 + "x" + ")" * 500, {"x": 1})
    assert err.value.type == "limit"
    assert "nested too deeply" in err.value.message
    assert err.value.start < 500  # at one of the opening parentheses
    with pytest.raises(GradtraceError) as err:
        trace("+".join(["x"] * 4000), {"x": 1})
    assert err.value.type == "limit" and "nodes" in err.value.message
    long = "x" * 10_001
    with pytest.raises(GradtraceError) as err:
        trace(long, {long: 1})
    assert err.value.type == "limit" and err.value.end == len(long)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADTRACE_MAX_NODES", "5")
    settings = Settings()
    assert settings.max_nodes == 5
    with pytest.raises(GradtraceError) as err:
        trace("x + y + z + w", {"x": 1, "y": 2, "z": 3, "w": 4}, settings=settings)
    assert err.value.type == "limit"


def test_a_lecture_sized_mlp_fits_the_default_limits() -> None:
    ones = lambda r, c: [[0.01] * c for _ in range(r)]  # noqa: E731
    t = trace(
        "h1 = relu(X @ W1); h2 = relu(h1 @ W2); out = sigmoid(h2 @ W3); L = mean((out - Y)^2)",
        {"X": ones(64, 64), "W1": ones(64, 64), "W2": ones(64, 64), "W3": ones(64, 10),
         "Y": ones(64, 10)},
    )
    assert t["shape"] == []


# ---------------------------------------------------------------------------------------------
# HTTP guards


def test_security_headers_on_api_and_pages(server: str) -> None:
    for path in ("/api/health", "/", "/nonexistent"):
        r = httpx.get(server + path)
        assert r.headers["x-content-type-options"] == "nosniff"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'self'" in csp
        script_src = csp.split("script-src")[1].split(";")[0]
        assert script_src.strip() == "'self'"  # no inline script, no eval
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        assert "server" not in r.headers  # no version banner


def test_embed_may_be_framed_by_any_origin(client: TestClient) -> None:
    r = client.get("/embed")
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers


def test_body_over_the_cap_is_refused_by_its_declared_length() -> None:
    app = create_app(Settings(max_body_bytes=1000))
    with TestClient(app) as c:
        r = c.post("/api/trace", content=b"{" + b" " * 2000 + b"}",
                   headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "limit"


def test_streamed_body_over_the_cap_is_refused() -> None:
    app = create_app(Settings(max_body_bytes=1000))

    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 500

    with TestClient(app) as c:
        r = c.post("/api/trace", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("body", [
    b"not json", b"[" * 100_000 + b"]" * 100_000, b'{"expr": 3}', b'{"values": {}}',
    b'{"expr": "x", "values": []}', b'{"expr": "x", "values": {"x": 1}, "extra": 1}',
    b'{"expr": "x", "values": {"x": 1' + b"0" * 5000 + b"}}", b"\xff\xfe",
])
def test_malformed_bodies_are_4xx(client: TestClient, body: bytes) -> None:
    r = client.post("/api/trace", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()["error"]) == {"type", "message", "start", "end"}


@pytest.mark.slow
def test_overload_answers_503_with_retry_after() -> None:
    app = create_app(Settings(worker_threads=1, queue_limit=0))
    real = app.state.layouts.get_json

    def slow_layout(graph: Any, settings: Settings, *direction: Any) -> Any:
        time.sleep(0.5)
        return real(graph, settings, *direction)

    app.state.layouts.get_json = slow_layout

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return list(await asyncio.gather(*(
                c.post("/api/layout", json={"expr": f"x + {i}"}) for i in range(3)
            )))

    statuses = sorted(r.status_code for r in asyncio.run(scenario()))
    assert statuses[0] == 200
    assert 503 in statuses
    busy = next(r for r in asyncio.run(scenario()) if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["error"]["type"] == "overloaded"


@pytest.mark.slow
def test_dot_past_its_time_budget_falls_back_to_the_layered_layout() -> None:
    expr = "+".join(f"x{i}" for i in range(50))
    with TestClient(create_app(Settings(layout_timeout_s=0.0001))) as c:
        r = c.post("/api/layout", json={"expr": expr})
    assert r.status_code == 200
    assert r.json()["engine"] == "layered"
    with TestClient(create_app()) as c:
        assert c.post("/api/layout", json={"expr": expr}).json()["engine"] == "dot"


@pytest.mark.slow
def test_a_graph_too_big_for_dot_gets_the_layered_layout_at_once(client: TestClient) -> None:
    # y and z feed every layer of a 300-node chain: minutes of dot, milliseconds of ours.
    expr = "; ".join(f"h{i} = tanh({'x' if i == 0 else f'h{i - 1}'} * {'yz'[i % 2]})"
                     for i in range(150))
    r = client.post("/api/layout", json={"expr": expr})
    assert r.status_code == 200
    layout = r.json()
    assert layout["engine"] == "layered"
    t = client.post("/api/trace", json={"expr": expr, "values": {"x": 1, "y": 2, "z": 3}}).json()
    assert set(layout["nodes"]) == {n["id"] for n in t["nodes"]}
    assert set(layout["edges"]) == {e["id"] for e in t["edges"]}
    # layers run left to right: every edge goes from a node to one further right
    for e in t["edges"]:
        assert layout["nodes"][e["source"]]["x"] < layout["nodes"][e["target"]]["x"]


# ---------------------------------------------------------------------------------------------
# Caches


def test_value_only_change_reuses_the_layout() -> None:
    with TestClient(create_app()) as c:
        layouts = c.app.state.layouts  # type: ignore[attr-defined]
        a = c.post("/api/layout", json={"expr": "q = x * y; q + y", "values": {"x": 1, "y": 2}})
        misses = layouts.misses
        b = c.post("/api/layout", json={"expr": "q = x * y; q + y", "values": {"x": 7, "y": -3}})
        assert layouts.misses == misses and layouts.hits >= 1
        assert a.json() == b.json()
        t = c.post("/api/trace", json={"expr": "q = x * y; q + y", "values": {"x": 7, "y": -3}})
        assert t.json()["structure"] == a.json()["structure"]
        c.post("/api/layout", json={"expr": "q = x * y; q - y"})
        assert layouts.misses == misses + 1


def test_repeated_trace_is_served_from_the_cache() -> None:
    with TestClient(create_app()) as c:
        traces = c.app.state.traces  # type: ignore[attr-defined]
        body = {"expr": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}
        first = c.post("/api/trace", json=body)
        second = c.post("/api/trace", json=body)
        assert traces.hits == 1 and first.content == second.content
        changed = c.post("/api/trace", json={**body, "values": {"x": -2, "y": 5, "z": 4}})
        assert changed.json()["gradients"]["x"] == 4.0
        assert traces.hits == 1


def test_trace_cache_memory_is_bounded() -> None:
    cache = BodyCache(max_bytes=10_000)
    for i in range(1000):
        cache.put(str(i), b"x" * 100)
        assert cache.size <= 10_000
    assert cache.get("999") is not None and cache.get("0") is None
    cache.put("huge", b"x" * 9_000)  # more than a quarter of the budget: not kept
    assert cache.get("huge") is None


@pytest.mark.parametrize("expr,values", [
    # the VJP would form a 447 x 447 x 447 intermediate (714 MB) before summing it back
    ("sum(A @ B)", {"A": [[[[0.5] * 447]]] * 447, "B": [[[[0.5]] * 447] * 447]}),
    # a huge kernel: few multiply-adds, but one Python-level pass per kernel position
    ("sum(conv2d(X, W))", {"X": [[0.5] * 447] * 447, "W": [[0.5] * 447] * 447}),
])
def test_too_much_work_for_one_op_is_a_limit(expr: str, values: dict[str, Any]) -> None:
    with pytest.raises(GradtraceError) as err:
        trace(expr, values)
    assert err.value.type == "limit" and "too much work" in err.value.message
    assert (err.value.start, err.value.end) == (4, len(expr) - 1)


@pytest.mark.slow
def test_a_picture_too_large_to_draw_is_a_4xx(client: TestClient) -> None:
    expr = "+".join(f"x*y{i}" for i in range(250))  # a layered layout wider than 32,767 px
    values = {"x": "1", **{f"y{i}": "1" for i in range(250)}}
    from urllib.parse import urlencode

    r = client.get("/api/picture.png?" + urlencode({"expr": expr, **values}))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["type"] == "limit"
    # A small picture draws at the largest scale its pixels allow, and is refused just past it.
    small = {"expr": "(x + y) * z", "x": "1", "y": "2", "z": "3"}
    svg = client.get("/api/picture.svg?" + urlencode(small)).text
    m = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg)
    assert m is not None
    area = float(m.group(1)) * float(m.group(2))
    most = math.sqrt(get_settings().max_picture_pixels / area)
    assert most > 4  # the circuit at 4 times its size, at least
    fits = client.get("/api/picture.png?" + urlencode({**small, "scale": f"{most * 0.99:.3f}"}))
    assert fits.status_code == 200, fits.text
    past = client.get("/api/picture.png?" + urlencode({**small, "scale": f"{most * 1.01:.3f}"}))
    assert past.status_code == 400 and past.json()["error"]["type"] == "limit"


def test_a_layout_that_fell_back_is_kept_for_a_while_then_dot_is_tried_again(
        caplog: pytest.LogCaptureFixture) -> None:
    """dot out of time (say under load): the stand-in is reused for provisional_layout_s, so a
    hung dot costs one time-out per structure and period, not one per request."""
    app = create_app(Settings(layout_timeout_s=0.0001, provisional_layout_s=60))
    now = [0.0]
    with TestClient(app) as c:
        app.state.layouts.clock = lambda: now[0]

        def dot_runs() -> int:
            return sum("instead of dot" in rec.getMessage() for rec in caplog.records)

        r = c.post("/api/layout", json={"expr": "(x + y) * z"})
        assert r.json()["provisional"] is True and dot_runs() == 1
        again = c.post("/api/layout", json={"expr": "(x + y) * z"})
        assert again.json() == r.json() and dot_runs() == 1  # no second time-out
        now[0] = 61.0  # the period is over: dot is asked again
        c.post("/api/layout", json={"expr": "(x + y) * z"})
        assert dot_runs() == 2


def fake_tools(tmp_path: Any, dot_script: str) -> str:
    """A PATH with only a `dot` of ours (and no rsvg-convert); the script may count its runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dot = bin_dir / "dot"
    dot.write_text(f"#!/bin/sh\necho run >> {tmp_path}/dot-runs\n{dot_script}\n")
    dot.chmod(0o755)
    return f"{bin_dir}:/usr/bin/env-not-here"


@pytest.mark.parametrize("script", [
    "echo 'this is not json'",  # exits 0, prints garbage
    "echo '{\"objects\": [{\"name\": \"n0\"}]}'",  # exits 0, JSON that is not a layout
    "exit 3",  # fails
])
def test_a_broken_dot_gives_the_stand_in_layout(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                 script: str) -> None:
    monkeypatch.setenv("PATH", fake_tools(tmp_path, script))
    with TestClient(create_app(Settings())) as c:
        r = c.post("/api/layout", json={"expr": "(x + y) * z"})
        assert r.status_code == 200, r.text
        assert r.json()["engine"] == "layered" and r.json()["provisional"] is True


def test_a_hung_dot_costs_one_time_out(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_tools(tmp_path, "exec sleep 5"))
    with TestClient(create_app(Settings(layout_timeout_s=0.3))) as c:
        for _ in range(3):
            assert c.post("/api/layout", json={"expr": "(x + y) * z"}).status_code == 200
    assert (tmp_path / "dot-runs").read_text().count("run") == 1


def test_without_rsvg_convert_png_is_a_json_503_and_svg_still_works(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_tools(tmp_path, "exit 3"))
    query = "expr=(x%2By)*z&x=-2&y=5&z=-4&step=b1"
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        r = c.get(f"/api/picture.png?{query}")
        assert r.status_code == 503 and r.headers["retry-after"]
        assert r.json()["error"]["type"] == "unavailable" and "SVG" in r.json()["error"]["message"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert c.get(f"/api/picture.svg?{query}").status_code == 200


def test_standalone_without_a_built_viewer_is_a_clear_503(tmp_path: Any) -> None:
    with TestClient(create_app(Settings(frontend_dist=str(tmp_path)))) as c:
        r = c.get("/api/standalone.html?expr=x&x=1")
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "unavailable"
    assert str(tmp_path) not in r.text  # no server paths in the answer


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_cannot_be_framed_by_other_sites(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]


def test_too_many_value_names_is_a_limit(client: TestClient) -> None:
    values = {f"v{i}": 1.0 for i in range(1_001)} | {"x": 2.0}
    r = client.post("/api/trace", json={"expr": "x * 2", "values": values})
    assert r.status_code == 400 and r.json()["error"]["type"] == "limit"
    assert "1,002 values" in r.json()["error"]["message"]


def test_unused_values_are_named_in_a_bounded_number_of_warnings() -> None:
    values = {f"v{i}": 1.0 for i in range(50)} | {"x": 2.0}
    warnings = trace("x * 2", values)["warnings"]
    assert len(warnings) == 21  # 20 named, then how many more
    assert warnings[-1]["message"].startswith("and 30 more values")


def test_the_layout_cache_is_bounded_in_bytes() -> None:
    from gradtrace.analysis import compile_graph
    from gradtrace.layout import LayoutCache

    settings = Settings()
    cache = LayoutCache(512, max_bytes=40_000)
    for n in range(2, 14):
        expr = " + ".join(f"x{i} * y{i}" for i in range(n))
        cache.get(compile_graph(expr, {}, settings), settings)
        assert cache.cache.size <= 40_000
    assert len(cache.cache._data) < 12  # the oldest went


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\ufffe", "\uffff"])
def test_a_character_xml_forbids_in_a_comment_keeps_the_picture_drawable(
        client: TestClient, char: str) -> None:
    """Found by the fuzz suite: the expression is the SVG's title, and one of these made the SVG
    unreadable and the PNG a 503 that blamed the converter."""
    import xml.etree.ElementTree as ET

    query = {"expr": f"x * 2 # note {char}", "x": "0.5"}
    svg = client.get("/api/picture.svg", params=query)
    assert svg.status_code == 200
    ET.fromstring(svg.content)  # well-formed XML
    assert client.get("/api/picture.png", params=query).status_code == 200


@pytest.mark.parametrize("scale", ["٣", "２", "0_5", "1e400", "nan"])
def test_a_scale_is_a_plain_decimal_number(client: TestClient, scale: str) -> None:
    r = client.get("/api/picture.svg", params={"expr": "x", "x": "1", "scale": scale})
    assert r.status_code == 400 and "scale" in r.json()["error"]["message"]
