"""Forward-mode differentiation (issue 6): `trace(..., mode="forward", wrt=..., tangent=...)`.

- the record: `mode`, `wrt`, `tangent`, `derivative`, node and edge `tangent`s, `cost`, an empty
  `backward` and `gradients`; each node's tangent is the sum of its in-edges' tangents, and a scalar
  edge's tangent is its local derivative times its source's tangent;
- duality with reverse mode on every seed example and input: <seed, J t> == <J^T seed, t>
  (`sum(seed * derivative) == sum(gradient[wrt] * tangent)`), for the default and random tangents;
- generated scalar programs (the generators of tests/test_properties.py): forward derivative ==
  reverse gradient for each input, to 1e-9;
- kinks as PyTorch's forward mode; tensors against finite differences;
- bad input (no wrt, a wrt that is not an input, a tangent of the wrong shape) is a GradtraceError
  with a span, 400 over HTTP; reverse-mode records only gained `mode` and `cost`;
- the trace cache keys forward requests by mode, wrt and tangent.

The per-op JVP checks (every op of the registry against finite differences) are in test_ops.py.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, note

from gradtrace import GradtraceError, decode, trace
from gradtrace.analysis import compile_graph
from gradtrace.engine import forward as run_forward
from gradtrace.engine import forward_mode, forward_tangents
from gradtrace.settings import get_settings

from .conftest import SEEDS
from .helpers import check_invariants, close, evaluate
from .test_properties import INPUTS, ScalarProgram, evaluation_or_reject, scalar_programs

CIRCUIT: dict[str, Any] = {"expr": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}
FORWARD_ONLY = {"wrt", "tangent", "derivative"}


def check_forward_invariants(record: dict[str, Any]) -> None:
    """What must hold of every forward-mode record."""
    json.dumps(record, allow_nan=False)
    assert record["mode"] == "forward"
    assert record["backward"] == [] and record["gradients"] == {}
    assert set(record["cost"]) == {"reverse", "forward"}
    assert record["forward"] == [n["id"] for n in record["nodes"]]
    nodes = {n["id"]: n for n in record["nodes"]}
    in_edges: dict[str, list[dict[str, Any]]] = {nid: [] for nid in nodes}
    for e in record["edges"]:
        in_edges[e["target"]].append(e)
        src = nodes[e["source"]]
        # An edge carries a tangent exactly when its source has one.
        assert (e["tangent"] is None) == (src["tangent"] is None), e
        assert e["downstream"] is None and e["vjp_formula"] is None
        if e["tangent"] is not None:
            t = decode(e["tangent"])
            assert list(t.shape) == nodes[e["target"]]["shape"], e
            if e["local"] is not None:
                local, ts = float(decode(e["local"])), decode(src["tangent"])
                if math.isfinite(local) and np.isfinite(ts).all():
                    assert close(t, local * ts, rtol=1e-12, atol=1e-300), e
        # A scalar edge shows its local derivative whenever its source depends on some input
        # (as in reverse mode), whether or not it depends on wrt.
        if e["local"] is not None:
            assert src["shape"] == [] and nodes[e["target"]]["shape"] == []
    wrt_nodes = [n for n in record["nodes"] if n["kind"] == "input" and n["label"] == record["wrt"]]
    assert len(wrt_nodes) == 1
    for n in record["nodes"]:
        assert n["grad"] is None
        if n is wrt_nodes[0]:
            assert close(decode(n["tangent"]), decode(record["tangent"]), rtol=0.0)
            continue
        carrying = [e for e in in_edges[n["id"]] if e["tangent"] is not None]
        if not carrying:
            assert n["tangent"] is None, n
            continue
        t = decode(n["tangent"])
        assert list(t.shape) == n["shape"]
        total = decode(carrying[0]["tangent"])
        for e in carrying[1:]:
            total = total + decode(e["tangent"])
        assert close(total, t, rtol=0.0), n
    out = nodes[record["output"]]
    derivative = decode(record["derivative"])
    assert list(derivative.shape) == out["shape"]
    if out["tangent"] is None:
        assert not derivative.any()
    else:
        assert close(derivative, decode(out["tangent"]), rtol=0.0)


def forward(expr: str, values: dict[str, Any], wrt: str, tangent: Any = None,
            seed: Any = None) -> dict[str, Any]:
    record = trace(expr, values, seed, mode="forward", wrt=wrt, tangent=tangent)
    check_forward_invariants(record)
    return record


# ---------------------------------------------------------------------------------------------
# The record


def test_circuit_along_x() -> None:
    record = forward(CIRCUIT["expr"], CIRCUIT["values"], "x")
    assert record["wrt"] == "x" and record["tangent"] == 1.0 and record["derivative"] == -4.0
    assert record["value"] == -12.0
    tangents = {n["label"]: n["tangent"] for n in record["nodes"]}
    assert tangents == {"x": 1.0, "y": None, "+": 1.0, "z": None, "×": -4.0}
    by_edge = {(e["source"], e["target"]): (e["tangent"], e["local"]) for e in record["edges"]}
    assert by_edge == {("n0", "n2"): (1.0, 1.0), ("n1", "n2"): (None, 1.0),
                       ("n2", "n4"): (-4.0, -4.0), ("n3", "n4"): (None, 3.0)}
    assert record["forward"] == ["n0", "n1", "n2", "n3", "n4"]
    assert record["cost"] == {
        "reverse": "Reverse mode: one backward pass gives the gradient for all 3 inputs",
        "forward": "Forward mode: one pass per input direction: 3 passes for all 3 inputs",
    }


@pytest.mark.parametrize(("wrt", "expected"), [("x", -4.0), ("y", -4.0), ("z", 3.0)])
def test_circuit_each_direction_is_one_gradient_entry(wrt: str, expected: float) -> None:
    assert forward(CIRCUIT["expr"], CIRCUIT["values"], wrt)["derivative"] == expected


def test_a_copy_gate_adds_the_tangents_of_both_uses() -> None:
    record = forward("x * x + x", {"x": 3.0}, "x", tangent=2.0)
    assert record["derivative"] == 14.0  # (2x + 1) t
    mul = next(n for n in record["nodes"] if n["op"] == "mul")
    parts = [e["tangent"] for e in record["edges"] if e["target"] == mul["id"]]
    assert parts == [6.0, 6.0] and mul["tangent"] == 12.0


def test_reverse_record_only_gains_mode_and_cost() -> None:
    record = trace(CIRCUIT["expr"], CIRCUIT["values"])
    check_invariants(record)
    assert record["mode"] == "reverse" and set(record["cost"]) == {"reverse", "forward"}
    assert not FORWARD_ONLY & set(record)
    assert all("tangent" not in n for n in record["nodes"])
    assert all("tangent" not in e for e in record["edges"])
    # wrt and tangent do not change a reverse-mode record.
    assert trace(CIRCUIT["expr"], CIRCUIT["values"], wrt="x", tangent=[1, 2]) == record


def test_the_default_mode_is_reverse() -> None:
    a = trace(CIRCUIT["expr"], CIRCUIT["values"])
    b = trace(CIRCUIT["expr"], CIRCUIT["values"], mode="reverse")
    assert a == b


@pytest.mark.parametrize(("expr", "values"), [
    ("q = x * y; f = sigmoid(q) + max(x, 0)", {"x": 1.5, "y": -0.5}),
    ("x ^ y + relu(y) * 2 ^ x - abs(x - y) / pi", {"x": 0.0, "y": 0.0}),
    ("sum(W @ v) * c + c ^ 2", {"W": [[1.0, 2.0]], "v": [3.0, 4.0], "c": 0.5}),
])
def test_forward_record_matches_the_reverse_one_where_modes_agree(expr: str,
                                                                  values: dict[str, Any]) -> None:
    rev = trace(expr, values)
    fwd = forward(expr, values, sorted(values)[-1])
    for key in ("expr", "output", "value", "shape", "seed", "forward", "gates", "structure",
                "cost"):
        assert fwd[key] == rev[key], key
    skip = {"grad", "tangent"}
    assert [{k: v for k, v in n.items() if k not in skip} for n in fwd["nodes"]] == [
        {k: v for k, v in n.items() if k not in skip} for n in rev["nodes"]]
    for fe, re_ in zip(fwd["edges"], rev["edges"], strict=True):
        # The same local derivatives on the same edges in both modes.
        assert (fe["local_formula"], fe["local"]) == (re_["local_formula"], re_["local"])


def test_cost_counts_the_numbers_of_tensor_inputs() -> None:
    record = forward("sum(W @ x) * c", {"W": [[1, 2], [3, 4]], "x": [1, 1], "c": 2}, "W")
    assert "7 passes" in record["cost"]["forward"] and "3 inputs" in record["cost"]["forward"]
    assert "all 3 inputs" in record["cost"]["reverse"]
    one = trace("2 * x", {"x": 1})["cost"]
    assert one["forward"].endswith("1 pass for the 1 input")


def test_tensor_tangent_and_derivative() -> None:
    values = {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [0.5, -1.0]}
    t = [[0.1, -0.2], [0.3, 0.4]]
    record = forward("y = tanh(W @ x); sum(y * y)", values, "W", tangent=t)
    assert record["tangent"] == t
    W, x, T = (np.asarray(values["W"]), np.asarray(values["x"]), np.asarray(t))

    def f(h: float) -> float:
        return float(evaluate("y = tanh(W @ x); sum(y * y)", {"W": (W + h * T).tolist(),
                                                              "x": x.tolist()}))

    fd = (f(1e-6) - f(-1e-6)) / 2e-6
    assert math.isclose(float(decode(record["derivative"])), fd, rel_tol=1e-6)
    # The node y's tangent is d tanh(Wx) = (1 - y^2) * (T x).
    y = np.tanh(W @ x)
    node = next(n for n in record["nodes"] if n["name"] == "y")
    np.testing.assert_allclose(decode(node["tangent"]), (1 - y * y) * (T @ x), rtol=1e-14)


def test_scalar_tangent_broadcasts_to_the_input() -> None:
    record = forward("sum(v * v)", {"v": [1.0, 2.0, 3.0]}, "v", tangent=0.5)
    assert record["tangent"] == [0.5, 0.5, 0.5] and record["derivative"] == 6.0
    assert forward("sum(v * v)", {"v": [1.0, 2.0, 3.0]}, "v")["derivative"] == 12.0


def test_broadcast_edges_carry_output_shaped_tangents() -> None:
    record = forward("a + b", {"a": [[1.0], [2.0]], "b": [1.0, 2.0, 3.0]}, "a",
                     tangent=[[1.0], [-1.0]])
    assert record["derivative"] == [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]
    assert record["edges"][0]["tangent"] == record["derivative"]


def test_an_input_the_output_does_not_use_has_derivative_zero() -> None:
    record = forward("a = x * 2; y + 1", {"x": [1.0, 2.0], "y": [3.0, 4.0]}, "x")
    assert record["derivative"] == [0.0, 0.0]
    out = next(n for n in record["nodes"] if n["id"] == record["output"])
    assert out["tangent"] is None


def test_non_finite_tangents_are_strings_and_warned() -> None:
    record = forward("sqrt(x)", {"x": 0.0}, "x")
    assert record["derivative"] == "Infinity"
    assert any(w["type"] == "nonfinite" and "tangent" in w["message"]
               for w in record["warnings"])


def test_engine_forward_tangents() -> None:
    s = get_settings()
    graph = compile_graph("(x + y) * z", {"x": 1, "y": 1, "z": 1}, s)
    vals = run_forward(graph, {k: np.asarray(float(v)) for k, v in
                               CIRCUIT["values"].items()}, s)
    ts = forward_tangents(graph, vals, "z")
    assert [None if t is None else float(t) for t in ts] == [None, None, None, 1.0, 3.0]
    res = forward_mode(graph, vals, "z", np.asarray(2.0))
    assert float(res.output) == 6.0
    assert [None if c is None else float(c) for c in res.contributions] == [None, None, None, 6.0]


# ---------------------------------------------------------------------------------------------
# Kinks: PyTorch's forward-mode conventions


@pytest.mark.parametrize(("expr", "x", "expected"), [
    ("relu(x)", 0.0, 0.0), ("relu(x)", [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    ("abs(x)", 0.0, 0.0), ("abs(x)", [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    ("max(x, 0)", 0.0, 0.5), ("min(x, 0)", 0.0, 0.5), ("max(x, 0)", -1.0, 0.0),
    ("max(x, x)", 2.0, 1.0), ("x ^ 0", 0.0, 0.0), ("x ^ 2", 0.0, 0.0), ("x ^ 2", -3.0, -6.0),
    ("2 ^ x", 0.0, math.log(2.0)), ("0 ^ x", 2.0, 0.0), ("0 ^ x", 0.0, 0.0),
])
def test_kinks_follow_pytorch(expr: str, x: Any, expected: Any) -> None:
    record = forward(expr, {"x": x}, "x")
    assert close(decode(record["derivative"]), expected, rtol=1e-15)
    # ...and agree with reverse mode there.
    assert close(decode(record["derivative"]), decode(trace(expr, {"x": x})["gradients"]["x"]),
                 rtol=1e-15)


def test_max_tie_between_two_inputs_splits_the_tangent() -> None:
    assert forward("max(x, y)", {"x": 1.5, "y": 1.5}, "x")["derivative"] == 0.5
    assert forward("min(x, y)", {"x": 1.5, "y": 1.5}, "y")["derivative"] == 0.5


# ---------------------------------------------------------------------------------------------
# Duality with reverse mode: <seed, J t> == <J^T seed, t>


def dual_check(example: dict[str, Any], wrt: str, tangent: Any) -> None:
    rev = trace(example["expr"], example["values"], example.get("seed"))
    fwd = forward(example["expr"], example["values"], wrt, tangent, example.get("seed"))
    seed = decode(rev["seed"])
    derivative = decode(fwd["derivative"])
    t = decode(fwd["tangent"])
    grad = decode(rev["gradients"][wrt])
    lhs = math.fsum((seed * derivative).reshape(-1))
    rhs = math.fsum((grad * t).reshape(-1))
    # Relative to the size of the terms summed (a sum that cancels to ~0 is still checked).
    scale = max(math.fsum(np.abs(seed * derivative).reshape(-1)),
                math.fsum(np.abs(grad * t).reshape(-1)), 1e-300)
    assert abs(lhs - rhs) <= 1e-9 * scale, (example["key"], wrt, lhs, rhs)


SEED_INPUTS = [pytest.param(ex, name, id=f"{ex['key']}-{name}")
               for ex in SEEDS for name in ex["gradients"]]


@pytest.mark.parametrize(("example", "wrt"), SEED_INPUTS)
def test_seed_examples_default_tangent_is_dual_to_the_gradient(example: dict[str, Any],
                                                               wrt: str) -> None:
    dual_check(example, wrt, None)


@pytest.mark.parametrize(("example", "wrt"), SEED_INPUTS)
def test_seed_examples_random_tangents_are_dual_to_the_gradient(example: dict[str, Any],
                                                                wrt: str) -> None:
    shape = np.asarray(example["values"][wrt], dtype=np.float64).shape
    for k in range(3):
        rng = np.random.default_rng([k, *wrt.encode(), *example["key"].encode()])
        dual_check(example, wrt, rng.normal(size=shape).tolist())


def test_every_seed_example_has_inputs_to_check() -> None:
    assert len(SEED_INPUTS) >= len(SEEDS)


# ---------------------------------------------------------------------------------------------
# Generated scalar programs: forward derivative == reverse gradient


@given(scalar_programs())
def test_scalar_programs_forward_equals_reverse(prog: ScalarProgram) -> None:
    note(prog.text)
    evaluation_or_reject(prog)
    rev = trace(prog.text, prog.values)
    for name in INPUTS:
        if name not in rev["gradients"]:
            with pytest.raises(GradtraceError) as info:
                trace(prog.text, prog.values, mode="forward", wrt=name)
            assert info.value.type == "name"
            continue
        fwd = forward(prog.text, prog.values, name)
        got = float(decode(fwd["derivative"]))
        expected = float(decode(rev["gradients"][name]))
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), (name, got, expected)


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(("expr", "wrt", "tangent", "kind", "span"), [
    ("(x + y) * z", None, None, "name", "(x + y) * z"),
    ("(x + y) * z", "", None, "name", "(x + y) * z"),
    ("(x + y) * z", "w", None, "name", "(x + y) * z"),
    ("q = x + y; q * z", "q", None, "name", "q = x + y"),
    ("x * pi + y * z", "pi", None, "name", "pi"),
    ("(x + y) * z", "x", [1, 2], "value", "x"),
    ("(x + y) * z", "x", "nope", "value", "x"),
    ("(x + y) * z", "x", [[1], [2, 3]], "value", "x"),
])
def test_bad_forward_input(expr: str, wrt: str | None, tangent: Any, kind: str,
                           span: str) -> None:
    with pytest.raises(GradtraceError) as info:
        trace(expr, CIRCUIT["values"], mode="forward", wrt=wrt, tangent=tangent)
    err = info.value
    assert err.type == kind, err
    assert expr[err.start:err.end] == span, err


def test_unknown_mode_in_python() -> None:
    with pytest.raises(GradtraceError):
        trace("x", {"x": 1}, mode="sideways")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# HTTP


def test_api_forward_circuit(client: TestClient) -> None:
    r = client.post("/api/trace", json={**CIRCUIT, "mode": "forward", "wrt": "x"})
    assert r.status_code == 200, r.text
    body = r.json()
    check_forward_invariants(body)
    assert body == trace(CIRCUIT["expr"], CIRCUIT["values"], mode="forward", wrt="x")
    assert body["derivative"] == -4.0 and body["mode"] == "forward" and body["wrt"] == "x"
    assert [n["tangent"] for n in body["nodes"]] == [1.0, None, 1.0, None, -4.0]
    assert [e["tangent"] for e in body["edges"]] == [1.0, None, -4.0, None]
    assert body["backward"] == [] and body["gradients"] == {}


def test_api_forward_with_tangent_and_the_cache(client: TestClient) -> None:
    req = {"expr": "sum(v * v)", "values": {"v": [1.0, 2.0]}, "mode": "forward", "wrt": "v"}
    a = client.post("/api/trace", json=req).json()
    b = client.post("/api/trace", json={**req, "tangent": [1.0, 0.0]}).json()
    c = client.post("/api/trace", json={**req, "tangent": [0.0, 1.0]}).json()
    rev = client.post("/api/trace", json={"expr": req["expr"], "values": req["values"]}).json()
    assert (a["derivative"], b["derivative"], c["derivative"]) == (6.0, 2.0, 4.0)
    assert rev["mode"] == "reverse" and rev["gradients"] == {"v": [2.0, 4.0]}
    # Asked again, in any order: each answer is its own (the cache keys mode, wrt, tangent).
    assert client.post("/api/trace", json={**req, "tangent": [1.0, 0.0]}).json() == b
    assert client.post("/api/trace", json=req).json() == a
    rev2 = client.post("/api/trace", json={"expr": req["expr"], "values": req["values"],
                                           "mode": "reverse"}).json()
    assert rev2 == rev
    two = {"expr": "x * y", "values": {"x": 2.0, "y": 3.0}, "mode": "forward"}
    assert client.post("/api/trace", json={**two, "wrt": "x"}).json()["derivative"] == 3.0
    assert client.post("/api/trace", json={**two, "wrt": "y"}).json()["derivative"] == 2.0


def test_api_reverse_record_unchanged_but_for_mode_and_cost(client: TestClient) -> None:
    body = client.post("/api/trace", json=CIRCUIT).json()
    check_invariants(body)
    assert body["mode"] == "reverse" and body["gradients"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert not FORWARD_ONLY & set(body)
    assert all("tangent" not in n for n in body["nodes"] + body["edges"])


@pytest.mark.parametrize(("extra", "kind", "span"), [
    ({}, "name", "(x + y) * z"),
    ({"wrt": "w"}, "name", "(x + y) * z"),
    ({"wrt": "x", "tangent": [1, 2, 3]}, "value", "x"),
    ({"wrt": "x", "tangent": {"a": 1}}, "value", "x"),
])
def test_api_forward_errors(client: TestClient, extra: dict[str, Any], kind: str,
                            span: str) -> None:
    r = client.post("/api/trace", json={**CIRCUIT, "mode": "forward", **extra})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == kind
    assert CIRCUIT["expr"][err["start"]:err["end"]] == span


def test_api_assigned_name_error_points_at_the_assignment(client: TestClient) -> None:
    expr = "q = x + y\nq * z"
    r = client.post("/api/trace", json={"expr": expr, "values": CIRCUIT["values"],
                                        "mode": "forward", "wrt": "q"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "name" and expr[err["start"]:err["end"]] == "q = x + y"


def test_api_unknown_mode_is_422(client: TestClient) -> None:
    r = client.post("/api/trace", json={**CIRCUIT, "mode": "sideways", "wrt": "x"})
    assert r.status_code == 422
