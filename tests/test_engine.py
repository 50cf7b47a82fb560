"""Engine invariants: every backward step satisfies downstream = local x upstream on scalar edges,
and a node's gradient is the sum of what comes back along its out-edges (plus the seed at the
output), on the seed examples and on hand-written programs over every op; fan-out, broadcasting,
seeds, constants, unused and missing values, non-finite numbers, bad values, orders."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace.engine import build_graph
from gradtrace.parser import parse
from gradtrace.settings import get_settings

from .conftest import SEEDS
from .helpers import check_invariants, vjp_fd


def node_by_label(record: dict[str, Any], label: str) -> dict[str, Any]:
    (node,) = [n for n in record["nodes"] if n["label"] == label]
    found: dict[str, Any] = node
    return found


def step_of(record: dict[str, Any], node_id: str) -> dict[str, Any]:
    (step,) = [s for s in record["backward"] if s["node"] == node_id]
    found: dict[str, Any] = step
    return found


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_invariants_on_the_seed_examples(example: dict[str, Any]) -> None:
    record = trace(example["expr"], example["values"], example.get("seed"))
    check_invariants(record)


PROGRAMS: list[tuple[str, dict[str, Any]]] = [
    ("(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}),
    ("a = x * y; b = a + x; c = b * a - y / x; c ^ 2", {"x": 1.5, "y": -0.7}),
    ("sin(x) * cos(y) + tan(x * y) - tanh(x) / sigmoid(y)", {"x": 0.3, "y": 0.4}),
    ("sqrt(x^2 + 1) + log(exp(y) + 1) + abs(x - y) + relu(y - x)", {"x": 0.3, "y": 1.4}),
    ("max(x, y) * min(x, y) + pow(y, x) + e^-x + pi * x", {"x": 0.3, "y": 1.4}),
    ("h = relu(X @ W + b); sum(softmax(h) * h) + mean(h)",
     {"X": [[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]], "W": [[0.2, -0.4], [0.5, 0.1], [-0.3, 0.8]],
      "b": [0.1, -0.2]}),
    ("dot(u, v) * sum(transpose(A) @ u)", {"u": [1.0, 2.0], "v": [0.5, -1.5],
                                           "A": [[1.0, 2.0], [3.0, 4.0]]}),
    ("Y = conv2d(X, K); sum(Y * Y) / 2", {"X": [[1.0, 2.0, 0.0], [0.5, -1.0, 3.0],
                                                [2.0, 1.0, 1.0]],
                                          "K": [[1.0, -1.0], [0.5, 2.0]]}),
    ("x * W + W * W", {"x": 1.5, "W": [[1.0, 2.0], [3.0, 4.0]]}),
    ("u + v", {"u": [[1.0], [2.0], [3.0]], "v": [[1.0, 2.0, 3.0, 4.0]]}),
    ("x", {"x": 3.0}),
    ("W", {"W": [[1.0, 2.0]]}),
    ("2 * 3 + x * 0", {"x": 1.0}),
    ("q = x * 2; y", {"x": 1.0, "y": 2.0}),
]


@pytest.mark.parametrize(("expr", "values"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_invariants_and_gradients_on_programs(expr: str, values: dict[str, Any]) -> None:
    record = trace(expr, values)
    check_invariants(record)
    seed = decode(record["seed"])
    assert seed.shape == tuple(record["shape"]) and (seed == 1.0).all()
    fd = vjp_fd(expr, values, seed)
    for name, g in fd.items():
        np.testing.assert_allclose(decode(record["gradients"][name]), g, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{expr}: d/d{name}")


# ---------------------------------------------------------------------------------------------
# Fan-out and broadcasting


def test_fan_out_terms_are_listed_and_summed() -> None:
    record = trace("c = a + b; d = b + 1; e = c * d", {"a": 2.0, "b": 1.0})
    check_invariants(record)
    b = node_by_label(record, "b")
    assert b["fanout"] == 2 and b["gate"] == "sums"
    step = step_of(record, b["id"])
    # de/dc = d = 2 comes back along b -> c, de/dd = c = 3 along b -> d.
    assert [t["value"] for t in step["terms"]] == [2.0, 3.0]
    assert step["upstream"] == 5.0 and record["gradients"]["b"] == 5.0
    assert node_by_label(record, "a")["gate"] is None


def test_square_by_self_multiplication() -> None:
    record = trace("x * x", {"x": 3.0})
    check_invariants(record)
    step = step_of(record, node_by_label(record, "x")["id"])
    assert [t["value"] for t in step["terms"]] == [3.0, 3.0] and step["upstream"] == 6.0


def test_broadcast_gradient_is_summed_back() -> None:
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    up = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    record = trace("x * W", {"x": 2.0, "W": W.tolist()}, seed=up.tolist())
    check_invariants(record)
    assert decode(record["gradients"]["x"]) == pytest.approx(float(np.sum(W * up)), rel=1e-15)
    np.testing.assert_array_equal(decode(record["gradients"]["W"]), 2.0 * up)
    x_edge = next(e for e in record["edges"] if e["source"] == node_by_label(record, "x")["id"])
    assert x_edge["broadcast"] is True and x_edge["local"] is None
    assert x_edge["vjp_formula"] and "broadcast" in x_edge["vjp_formula"]


def test_broadcast_column_and_row() -> None:
    record = trace("u * v", {"u": [[1.0], [2.0]], "v": [[1.0, 10.0, 100.0]]})
    check_invariants(record)
    assert decode(record["gradients"]["u"]).tolist() == [[111.0], [111.0]]
    assert decode(record["gradients"]["v"]).tolist() == [[3.0, 3.0, 3.0]]


# ---------------------------------------------------------------------------------------------
# Seeds


def test_scalar_seed_is_broadcast_to_the_output() -> None:
    record = trace("2 * W", {"W": [[1.0, 2.0], [3.0, 4.0]]}, seed=0.5)
    check_invariants(record)
    assert record["seed"] == [[0.5, 0.5], [0.5, 0.5]]
    assert record["gradients"]["W"] == [[1.0, 1.0], [1.0, 1.0]]


def test_full_shape_seed() -> None:
    record = trace("W * W", {"W": [[1.0, 2.0]]}, seed=[[3.0, -1.0]])
    check_invariants(record)
    assert record["gradients"]["W"] == [[6.0, -4.0]]


def test_seed_of_a_scalar_output() -> None:
    record = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4}, seed=-2.0)
    assert record["gradients"] == {"x": 8.0, "y": 8.0, "z": -6.0}


@pytest.mark.parametrize(("seed", "type_", "words"), [
    ([1.0, 2.0], "seed", "shape"),
    ([[1.0, 2.0, 3.0]], "seed", "(1, 3)"),
    ("abc", "value", "output gradient"),
    ([1.0, [2.0]], "value", "output gradient"),
    (True, "value", "output gradient"),
])
def test_bad_seeds(seed: Any, type_: str, words: str) -> None:
    src = "q = W * 2"
    with pytest.raises(GradtraceError) as info:
        trace(src, {"W": [[1.0, 2.0], [3.0, 4.0]]}, seed=seed)
    assert info.value.type == type_ and words in info.value.message
    assert src[info.value.start:info.value.end] == "W * 2"


# ---------------------------------------------------------------------------------------------
# Constants, unused and missing values


def test_constants_get_no_gradient_and_no_step() -> None:
    record = trace("x * (2 + 3) + pi", {"x": 1.5})
    check_invariants(record)
    stepped = {s["node"] for s in record["backward"]}
    for n in record["nodes"]:
        if n["kind"] == "const" or (n["label"] == "+" and n["start"] == 5):
            assert n["grad"] is None and n["id"] not in stepped, n
    assert record["gradients"] == {"x": 5.0}
    for e in record["edges"]:
        source = next(n for n in record["nodes"] if n["id"] == e["source"])
        assert (e["downstream"] is None) == (source["grad"] is None)


def test_constant_output() -> None:
    record = trace("2 * 3")
    check_invariants(record)
    assert record["value"] == 6.0 and record["backward"] == [] and record["gradients"] == {}


def test_unused_value_is_a_warning() -> None:
    record = trace("x * 2", {"x": 1.0, "y": 5.0, "q": [1, 2]})
    names = [w["message"] for w in record["warnings"] if w["type"] == "unused_value"]
    assert len(names) == 2 and "'y'" in names[0] and "'q'" in names[1]
    assert record["gradients"] == {"x": 2.0}


def test_value_for_an_assigned_name_is_unused() -> None:
    record = trace("q = x + 1; q * 2", {"x": 1.0, "q": 100.0})
    assert record["value"] == 4.0
    assert [w["type"] for w in record["warnings"]] == ["unused_value"]


def test_a_value_not_given_is_drawn_and_said_so() -> None:
    # A scalar no one gives starts at 1 (infer.py), and the reading says where it came from.
    src = "(x + y) * zeta"
    t = trace(src, {"x": 1, "y": 2})
    assert t["value"] == 3
    zeta = {i["name"]: i for i in t["reading"]["inputs"]}["zeta"]
    assert (zeta["source"], zeta["shape"], zeta["drawn"]) == ("drawn", [], 1)
    assert src[zeta["start"]:zeta["end"]] == "zeta"


def test_name_used_before_its_assignment_is_an_input() -> None:
    src = "r = q * 2; q = x; r"
    t = trace(src, {"x": 1})
    assert [(i["name"], i["source"]) for i in t["reading"]["inputs"]] == [
        ("q", "drawn"), ("x", "request")]
    # Its assignment later is computed for nothing, and said to be.
    assert [(w["type"], src[w["start"]:w["end"]]) for w in t["warnings"]] == [
        ("unused_name", "q")]


# ---------------------------------------------------------------------------------------------
# Non-finite numbers


def strict_json(record: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(record, allow_nan=False)
    back: dict[str, Any] = json.loads(text)
    return back


def test_overflowing_literal() -> None:
    record = trace("1e999 * x", {"x": 2.0})
    check_invariants(strict_json(record))
    assert record["value"] == "Infinity"
    assert record["gradients"] == {"x": "Infinity"}
    forward = [w for w in record["warnings"] if "forward" in w["message"]]
    assert forward and forward[0]["node"] == node_by_label(record, "1e999")["id"]


def test_exp_exp_exp_overflows() -> None:
    src = "exp(exp(exp(x)))"
    record = trace(src, {"x": 10.0})
    check_invariants(strict_json(record))
    assert record["value"] == "Infinity" and record["gradients"]["x"] == "Infinity"
    (first, *_) = record["warnings"]
    assert first["type"] == "nonfinite" and "Infinity" in first["message"]
    assert src[first["start"]:first["end"]] == "exp(exp(x))"
    assert "exp(exp(x))" in first["message"]


def test_log_of_zero() -> None:
    record = trace("log(0 * x)", {"x": 1.0})
    check_invariants(strict_json(record))
    assert record["value"] == "-Infinity"
    assert record["gradients"] == {"x": "NaN"}  # 0 * (1/0) as in IEEE and PyTorch
    kinds = [w["message"].split(" first")[0] for w in record["warnings"]]
    assert kinds == ["the forward pass", "the backward pass"]


def test_non_finite_inputs_are_accepted_as_strings() -> None:
    record = trace("x * y + sum(v)", {"x": "Infinity", "y": "-Infinity",
                                      "v": [1.0, "NaN"]})
    check_invariants(strict_json(record))
    assert record["value"] == "NaN"
    assert record["gradients"]["x"] == "-Infinity" and record["gradients"]["v"] == [1.0, 1.0]
    assert record["nodes"][0]["value"] == "Infinity"


def test_finite_programs_have_no_warnings() -> None:
    for expr, values in PROGRAMS:
        assert not [w for w in trace(expr, values)["warnings"] if w["type"] == "nonfinite"]


# ---------------------------------------------------------------------------------------------
# Bad values


@pytest.mark.parametrize(("value", "words"), [
    ([[1.0, 2.0], [3.0]], "not rectangular"),
    ([[1.0], 2.0], "not rectangular"),
    ([1.0, [2.0]], "found a list"),
    ([], "empty list"),
    ([[]], "empty list"),
    ("abc", "'abc'"),
    ("inf", "not a number"),
    (None, "None"),
    ({"a": 1}, "not rectangular or not numeric"),
    (True, "True"),
    ([1.0, False], "False"),
    (10**400, "too large"),
    ([1, 10**400], "too large"),
])
def test_bad_values(value: Any, words: str) -> None:
    src = "2 * v + 1"
    with pytest.raises(GradtraceError) as info:
        trace(src, {"v": value})
    err = info.value
    assert err.type == "value" and "'v'" in err.message and words in err.message, err.message
    assert src[err.start:err.end] == "v"


def test_too_many_dimensions_or_elements_is_a_limit() -> None:
    s = get_settings()
    deep: Any = 1.0
    for _ in range(s.max_tensor_dims + 1):
        deep = [deep]
    with pytest.raises(GradtraceError) as info:
        trace("x", {"x": deep})
    assert info.value.type == "limit"
    with pytest.raises(GradtraceError) as info:
        trace("x", {"x": [0.0] * (s.max_tensor_elements + 1)})
    assert info.value.type == "limit"


def test_integers_and_floats_are_float64() -> None:
    record = trace("x / 2", {"x": 3})
    assert record["value"] == 1.5
    record = trace("x", {"x": 2**53 + 1})
    assert record["value"] == float(2**53)


# ---------------------------------------------------------------------------------------------
# Output and orders


def test_output_can_be_an_input() -> None:
    record = trace("x", {"x": 3.0})
    check_invariants(record)
    assert record["value"] == 3.0 and record["gradients"] == {"x": 1.0}
    assert [s["node"] for s in record["backward"]] == [record["output"]]
    assert record["backward"][0]["terms"] == [{"edge": None, "value": 1.0}]


def test_output_can_be_a_tensor() -> None:
    record = trace("A @ B", {"A": [[1.0, 2.0]], "B": [[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]]})
    check_invariants(record)
    assert record["value"] == [[1.0, 2.0, 8.0]] and record["shape"] == [1, 3]
    assert record["seed"] == [[1.0, 1.0, 1.0]]
    assert record["gradients"]["A"] == [[3.0, 4.0]]


def test_forward_is_topological_and_backward_its_reverse() -> None:
    record = trace("q = x + y; f = q * z; g = exp(f) + q", {"x": 0.1, "y": 0.2, "z": 0.3})
    check_invariants(record)
    ids = [n["id"] for n in record["nodes"]]
    assert record["forward"] == ids
    assert [s["node"] for s in record["backward"]] == list(reversed(ids))


def test_inputs_and_constants_are_shared_nodes() -> None:
    record = trace("x * pi + x * pi", {"x": 1.0})
    labels = [n["label"] for n in record["nodes"]]
    assert labels.count("x") == 1 and labels.count("π") == 1


def test_graph_structure_ignores_values() -> None:
    s = get_settings()
    g1 = build_graph(parse("(x + y) * z"), {"x": 1}, s)
    g2 = build_graph(parse("(x + y) * z"), {"x": [[1, 2]]}, s)
    assert g1.structure == g2.structure
    g3 = build_graph(parse("(x + y) * w"), {}, s)
    assert g3.structure != g1.structure
    # A value for pi turns the constant into an input: a different graph.
    assert (build_graph(parse("pi * x"), {}, s).structure
            != build_graph(parse("pi * x"), {"pi": 3}, s).structure)


def test_shape_error_in_the_backward_free_part_is_reported() -> None:
    with pytest.raises(GradtraceError) as info:
        trace("q = A @ B; x", {"A": [[1.0, 2.0]], "B": [[1.0, 2.0]], "x": 1.0})
    assert info.value.type == "shape"


def test_huge_broadcast_is_a_limit() -> None:
    n = 1000
    with pytest.raises(GradtraceError) as info:
        trace("u * v", {"u": [[1.0]] * n, "v": [[1.0] * n]})
    assert info.value.type == "limit"
    assert math.prod([n, n]) > get_settings().max_tensor_elements


def test_a_bare_statement_before_the_last_is_warned_about() -> None:
    t = trace("x\ny", {"x": 1, "y": 2})  # two statements: the output is y, x is dropped
    unused = [w for w in t["warnings"] if w["type"] == "unused_statement"]
    assert len(unused) == 1 and (unused[0]["start"], unused[0]["end"]) == (0, 1)
    assert trace("q = x; q + y", {"x": 1, "y": 2})["warnings"] == []


@pytest.mark.parametrize("raw,expected", [
    ([[1, 2.5], [3, -4]], [[1.0, 2.5], [3.0, -4.0]]),
    ([1, "Infinity", "NaN"], [1.0, math.inf, math.nan]),
    ([True, 1], None),
    ([10**400, 1], None),
])
def test_values_fast_and_slow_paths_agree(raw: Any, expected: Any) -> None:
    if expected is None:
        with pytest.raises(GradtraceError) as err:
            trace("sum(w)", {"w": raw})
        assert err.value.type == "value"
    else:
        got = np.asarray(decode(trace("w", {"w": raw})["value"]))
        np.testing.assert_array_equal(got, np.asarray(expected))
