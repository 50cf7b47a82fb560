"""The program's own functions (`def`, userdef.py): each call draws as one gate with its local
derivative, opens into its body's nodes with the same gradients, and its numbers are PyTorch's."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace.codegen import generate

from .helpers import check_invariants, require_torch
from .test_codegen import assert_same, run_inprocess

NEURON = """def neuron(x, w, b=0.5):
    z = x @ w + b
    return sigmoid(z)
h = neuron(X, W1)
L = sum(neuron(h, W2, 0) ^ 2)"""

VALUES: dict[str, Any] = {
    "X": [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]],
    "W1": [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]],
    "W2": [[1.0], [-2.0]],
}


def gate_ids(record: dict[str, Any]) -> list[str]:
    return [n["gate_id"] for n in record["nodes"] if n["gate_id"]]


def test_each_call_is_one_gate_with_the_functions_name() -> None:
    record = trace(NEURON, VALUES)
    check_invariants(record)
    calls = [n for n in record["nodes"] if n["op"] == "neuron"]
    assert len(calls) == 2 and all(n["gate_id"] for n in calls)
    assert not any(n["op"] in ("matmul", "sigmoid") for n in record["nodes"])
    formulas = [e["vjp_formula"] or e["local_formula"] for e in record["edges"]
                if e["target"] == calls[0]["id"]]
    assert all("\\partial \\mathrm{neuron}" in f for f in formulas), formulas


def test_opening_the_gates_gives_the_same_gradients_as_pytorch() -> None:
    torch = require_torch()
    closed = trace(NEURON, VALUES)
    opened = trace(NEURON, VALUES, expand=gate_ids(closed))
    check_invariants(opened)
    assert {n["op"] for n in opened["nodes"]} >= {"matmul", "sigmoid", "add"}
    assert len(opened["backward"]) > len(closed["backward"])
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in VALUES.items()}

    def neuron(x: Any, w: Any, b: float = 0.5) -> Any:
        return torch.sigmoid(x @ w + b)

    loss = (neuron(neuron(t["X"], t["W1"]), t["W2"], 0) ** 2).sum()
    loss.backward()
    for record in (closed, opened):
        assert np.isclose(decode(record["value"]), loss.item(), rtol=1e-13)
        for name, v in t.items():
            np.testing.assert_allclose(decode(record["gradients"][name]), v.grad.numpy(),
                                       rtol=1e-12, atol=1e-15)


def test_a_scalar_function_shows_its_local_derivative_as_a_number() -> None:
    record = trace("def f(x):\n  return x * x * x\nf(a)", {"a": 2.0})
    (edge,) = [e for e in record["edges"] if e["source"] == "n0"]
    assert edge["local"] == 12.0 and "\\partial f" in edge["local_formula"]


def test_a_function_may_call_an_earlier_one_in_place() -> None:
    src = "def sq(u): return u * u\ndef f(x): return sq(x) + sq(x + 1)\nf(a)"
    record = trace(src, {"a": 3.0})
    assert decode(record["value"]) == 25.0 and record["gradients"] == {"a": 14.0}
    assert [n["op"] for n in record["nodes"] if n["kind"] == "op"] == ["f"]


def test_one_line_and_options_in_the_body() -> None:
    src = "def f(x): return sum(x, axis=0)\nL = sum(f(X) ^ 2)"
    record = trace(src, {"X": [[1.0, 2.0], [3.0, 4.0]]})
    assert decode(record["value"]) == 16.0 + 36.0
    assert decode(record["gradients"]["X"]).tolist() == [[8.0, 12.0], [8.0, 12.0]]


@pytest.mark.parametrize("lang", ["numpy", "pytorch"])
def test_the_generated_file_writes_the_body_out(lang: str) -> None:
    if lang == "pytorch":
        require_torch()
    assert_same(run_inprocess(generate(NEURON, VALUES, None, lang)), trace(NEURON, VALUES),
                f"def {lang}")


def test_the_picture_draws_the_gate(client: Any) -> None:
    q = urlencode({"expr": NEURON, **{k: json.dumps(v) for k, v in VALUES.items()}})
    r = client.get(f"/api/picture.svg?{q}")
    assert r.status_code == 200, r.text
    assert "neuron" in r.text


@pytest.mark.parametrize(("src", "kind", "span", "words"), [
    ("def f(x):\n  y = x * 2\nf(a)", "syntax", "def f", "no 'return'"),
    ("def f(x): return x * q\nf(a)", "name", "q", "not known inside f"),
    ("def f(x): return x\nf(a, a)", "arity", "f(a, a)", "f takes 1 arguments, got 2"),
    ("def f(x, w=2): return x * w\nf()", "arity", "f()", "1 to 2"),
    ("def f(x, w=2, v): return x\nf(a)", "syntax", "v", "needs a default"),
    ("def f(x, w=y): return x\nf(a)", "value", "y", "a number"),
    ("def f(x, x): return x\nf(a)", "syntax", "x", "named twice"),
    ("return a", "syntax", "return", "outside a function"),
    ("def f(x):\n  def g(y): return y\n  return x\nf(a)", "syntax", "def", "inside a def"),
    ("def f(x): return frob(x)\nf(a)", "function", "frob", "unknown function"),
])
def test_mistakes_in_a_def_point_at_the_characters(src: str, kind: str, span: str,
                                                   words: str) -> None:
    with pytest.raises(GradtraceError) as info:
        trace(src, {"a": 1.0})
    err = info.value
    assert err.type == kind, err
    assert src[err.start:err.end] == span, (err, src[err.start:err.end])
    assert words in err.message, err.message


def test_a_def_may_share_a_name_with_a_function_of_the_language() -> None:
    # The notes define their own sigmoid, relu and conv2d: the program's def is the one called.
    t = trace("def exp(x): return 2 * x\nexp(a)", {"a": 3})
    assert t["value"] == 6.0 and t["gradients"]["a"] == 2.0


def test_a_def_never_called_is_the_program() -> None:
    t = trace("def f(x, w=3):\n    p = x * w\n    return p", {"x": 2})
    assert t["value"] == 6.0 and t["gradients"] == {"x": 3.0, "w": 2.0}
    assert t["reading"]["inputs"][1] == {"name": "w", "value": 3.0, "labels": False,
                                         "start": 27, "end": 28, "shape": [],
                                         "source": "text", "drawn": None}
