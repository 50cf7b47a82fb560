"""Fuzzing the app in-process: random text, near-valid expressions and random JSON bodies.

Whatever comes in, the answer is a 2xx or a 4xx with the error JSON (a span inside the text), never
a 5xx and never an unhandled exception. GRADTRACE_FUZZ_EXAMPLES sets the examples per strategy
(default 7,000: 21,000 inputs in all); raise it for a longer local run.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradtrace.api import create_app

from .conftest import SEEDS

pytestmark = pytest.mark.slow  # thousands of examples per strategy

EXAMPLES = int(os.environ.get("GRADTRACE_FUZZ_EXAMPLES", "7000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# One event loop and an in-process ASGI transport for all examples: about 8 times faster than
# TestClient (which starts a portal per request), and an unhandled exception still surfaces.
_loop = asyncio.Runner()
_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()),
                            base_url="http://fuzz", timeout=30)


def post(**kwargs: Any) -> httpx.Response:
    return _loop.run(_client.post("/api/trace", **kwargs))


VALUES: dict[str, Any] = {"x": 0.5, "y": -2.0, "z": 3.0, "w": [1.0, 2.0], "M": [[1.0, 2.0],
                                                                                  [3.0, 4.0]]}
TOKENS = ["x", "y", "z", "w", "M", "q", "1", "0", "2.5", ".5", "1e3", "1e999", "+", "-", "*", "/",
          "@", "^", "**", "(", ")", ",", ";", "\n", "=", " ", "exp", "log", "sqrt", "relu",
          "max", "sum", "softmax", "transpose", "dot", "conv2d", "pi", "e", "sigmoid", "abs",
          "..", "[", "\x00", "é", "#"]


def check(expr: Any, body: dict[str, Any] | bytes) -> None:
    if isinstance(body, bytes):
        r = post(content=body, headers={"content-type": "application/json"})
    else:
        r = post(json=body)
    assert r.status_code < 500, (body, r.text)
    data = r.json()
    if r.status_code == 200:
        json.dumps(data, allow_nan=False)
        assert data["forward"] and len(data["nodes"]) == len(data["forward"])
    else:
        assert 400 <= r.status_code < 500
        err = data["error"]
        assert set(err) == {"type", "message", "start", "end"} and err["message"]
        if isinstance(expr, str) and r.status_code == 400:
            assert 0 <= err["start"] <= err["end"] <= len(expr), (expr, err)


@FUZZ
@given(st.text(max_size=60))
def test_random_text(expr: str) -> None:
    check(expr, {"expr": expr, "values": VALUES})


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """A seed example's expression, or a string of language tokens, then mutated a few times."""
    if draw(st.booleans()):
        text = draw(st.sampled_from([s["expr"] for s in SEEDS]))
    else:
        text = "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=25)))
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        tok = draw(st.sampled_from(TOKENS))
        if kind == "insert":
            text = text[:i] + tok + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + tok + text[i + len(tok):]
    return text


@FUZZ
@given(near_valid(), st.sampled_from(SEEDS))
def test_near_valid_expressions(expr: str, example: dict[str, Any]) -> None:
    values = {**VALUES, **example["values"]}
    check(expr, {"expr": expr, "values": values, "seed": example.get("seed")})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=4),
    max_leaves=20,
)


@FUZZ
@given(st.one_of(
    json_values,
    st.fixed_dictionaries({"expr": st.sampled_from(["x", "x @ M", "sum(w * M)", "q = x; q"])},
                          optional={"values": json_values, "seed": json_values}),
    st.fixed_dictionaries({"expr": json_values, "values": json_values}),
))
def test_random_json_bodies(body: Any) -> None:
    expr = body.get("expr") if isinstance(body, dict) else None
    check(expr, json.dumps(body).encode())
