"""The language's calls, options, indexing, labels and library spellings, through `trace` (graph
building in engine.py and calls.py), against PyTorch float64 where there is a number to check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace

from .helpers import check_invariants, require_torch


def grads(expr: str, **values: Any) -> dict[str, Any]:
    record = trace(expr, values)
    check_invariants(record)
    return {k: decode(v).tolist() for k, v in record["gradients"].items()}


def error(expr: str, **values: Any) -> GradtraceError:
    with pytest.raises(GradtraceError) as info:
        trace(expr, values)
    return info.value


@pytest.mark.parametrize("src", [
    "y = zeros(2); y[0] = x[0] + 2*x[1]; y[1] = x[1] + 2*x[2]; L = sum(y)",
    "y = torch.zeros(2)\ny[0] = x[0] + 2*x[1]\ny[1] = x[1] + 2*x[2]\nL = y.sum()",
])
def test_the_notes_index_assignment(src: str) -> None:
    record = trace(src, {"x": [1.0, 2.0, 3.0]})
    assert decode(record["value"]) == 13.0
    assert decode(record["gradients"]["x"]).tolist() == [1.0, 3.0, 2.0]


def test_an_assigned_entry_takes_no_gradient_from_what_it_replaced() -> None:
    # y = x * 1, then y[1] = 5 * w: d sum(y)/dx = [1, 0, 1], d/dw = 5.
    g = grads("y = x * 1; y[1] = 5 * w; sum(y)", x=[1.0, 2.0, 3.0], w=2.0)
    assert g == {"x": [1.0, 0.0, 1.0], "w": 5.0}


@pytest.mark.parametrize(("expr", "index"), [
    ("x[0]", (0,)), ("x[-1]", (-1,)), ("X[:, 0]", (slice(None), 0)),
    ("X[1:3]", (slice(1, 3),)), ("X[1, 2]", (1, 2)), ("X[::-1, 1:]", (slice(None, None, -1),
                                                                        slice(1, None))),
    ("X[None, 0]", (None, 0)), ("X[..., 1]", (Ellipsis, 1)),
])
def test_indexing_as_numpy_and_pytorch(expr: str, index: tuple[Any, ...]) -> None:
    torch = require_torch()
    values = np.arange(12.0).reshape(3, 4) - 5.5
    name = expr[0]
    record = trace(f"sum(({expr}) ^ 2)", {name: values.tolist() if name == "X"
                                          else values[0].tolist()})
    v = values if name == "X" else values[0]
    t = torch.tensor(v, requires_grad=True, dtype=torch.float64)
    # torch has no negative-step slices: flip instead
    fixed = tuple(i for i in index)
    if any(isinstance(i, slice) and i.step == -1 for i in fixed):
        picked = torch.flip(t, [0])[:, 1:]
    else:
        picked = t[fixed]
    (picked ** 2).sum().backward()
    assert np.allclose(decode(record["value"]), float((picked ** 2).sum()))
    np.testing.assert_allclose(decode(record["gradients"][name]), t.grad.numpy(), rtol=1e-15)


def test_labels_pick_scores_and_take_no_gradient() -> None:
    torch = require_torch()
    s = [[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]]
    record = trace("sum(S[arange(2), y])", {"S": s, "y": [2, 0]})
    check_invariants(record)
    assert set(record["gradients"]) == {"S"}  # y holds labels: no gradient
    y_node = next(n for n in record["nodes"] if n["name"] == "y")
    assert y_node["grad"] is None
    t = torch.tensor(s, requires_grad=True, dtype=torch.float64)
    t[torch.arange(2), torch.tensor([2, 0])].sum().backward()
    np.testing.assert_allclose(decode(record["gradients"]["S"]), t.grad.numpy())


def test_repeated_labels_add_up() -> None:
    assert grads("sum(s[y])", s=[1.0, 2.0, 3.0], y=[0, 2, 0]) == {"s": [2.0, 0.0, 1.0]}


@pytest.mark.parametrize(("y", "words"), [
    ([0.5, 1], "whole number"),
    ([0, 3], "out of range"),
])
def test_bad_labels_say_which(y: list[float], words: str) -> None:
    src = "sum(s[y])"
    err = error(src, s=[1.0, 2.0, 3.0], y=y)
    assert err.type == "shape" and words in err.message, err.message
    assert src[err.start:err.end] == "s[y]"


def test_a_label_input_cannot_be_a_direction_of_forward_mode() -> None:
    with pytest.raises(GradtraceError) as info:
        trace("sum(s[y])", {"s": [1.0, 2.0], "y": [1]}, mode="forward", wrt="y")
    assert "labels" in info.value.message


def test_comparisons_are_masks_with_zero_derivative() -> None:
    assert grads("(z > 0) * z", z=[-1.0, 2.0]) == {"z": [0.0, 1.0]}
    record = trace("x >= y", {"x": [1.0, 2.0], "y": 2.0})
    assert decode(record["value"]).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(("expr", "same_as"), [
    ("np.maximum(p, 0)", "max(p, 0)"),
    ("F.relu(p)", "relu(p)"),
    ("torch.nn.functional.relu(p)", "relu(p)"),
    ("tf.nn.sigmoid(p)", "sigmoid(p)"),
    ("p.exp().sum()", "sum(exp(p))"),
    ("p.T @ p", "transpose(p) @ p"),
    ("np.max(P, 0)", "amax(P, axis=0)"),
    ("torch.max(P, 1)", "amax(P, dim=1)"),
    ("max(P)", "amax(P)"),
    ("max(P, axis=1)", "amax(P, axis=1)"),
    ("torch.sum(P, dim=0, keepdim=True)", "sum(P, axis=0, keepdims=True)"),
    ("sum(P, 1)", "sum(P, axis=1)"),
    ("ln(p)", "log(p)"),
])
def test_spellings_and_methods_mean_the_same_op(expr: str, same_as: str) -> None:
    values = {"p": [0.5, -1.0, 2.0], "P": [[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]]}
    a, b = trace(expr, values), trace(same_as, values)
    assert a["value"] == b["value"] and a["gradients"] == b["gradients"]


@pytest.mark.parametrize(("expr", "kind", "span", "words"), [
    ("sum(x, axis=0.5)", "value", "sum(x, axis=0.5)", "whole number"),
    ("sum(x, axes=0)", "function", "axes=0", "no option 'axes'"),
    ("sum(x, axis=x)", "value", "x", "not an expression"),
    ("sum(x, 0, 1, 2)", "arity", "sum(x, 0, 1, 2)", "sum takes 1 argument"),
    ("sum(x, axis=0, dim=0)", "arity", "dim=0", "given twice"),
    ("x + 'same'", "value", "'same'", "in quotes"),
    ("x + (1, 2)", "value", "(1, 2)", "list or tuple"),
    ("x[0.5]", "value", "0.5", "whole number"),
    ("x[1:2.5]", "value", "2.5", "whole numbers"),
    ("np.frobnicate(x)", "function", "np.frobnicate", "unknown function"),
])
def test_bad_calls_point_at_the_characters(expr: str, kind: str, span: str, words: str) -> None:
    err = error(expr, x=[1.0, 2.0])
    assert err.type == kind, err
    assert expr[err.start:err.end] == span, (err, expr[err.start:err.end])
    assert words in err.message, err.message


def test_the_options_change_the_structure_of_the_graph() -> None:
    from gradtrace.engine import build_graph
    from gradtrace.parser import parse
    from gradtrace.settings import get_settings

    s = get_settings()
    a = build_graph(parse("sum(X, axis=0)"), {"X": [[1.0]]}, s)
    b = build_graph(parse("sum(X, axis=1)"), {"X": [[1.0]]}, s)
    assert a.structure != b.structure


def test_pytorch_spellings_of_layered_ops_mean_nchw() -> None:
    torch = require_torch()
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    record = trace("sum(F.conv2d(x, w, stride=2, padding=1))", {"x": x.tolist(), "w": w.tolist()})
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    out = torch.nn.functional.conv2d(tx, tw, stride=2, padding=1).sum()
    out.backward()
    assert np.isclose(decode(record["value"]), out.item(), rtol=1e-12)
    np.testing.assert_allclose(decode(record["gradients"]["w"]), tw.grad.numpy(), rtol=1e-12)
    # The language's own conv2d stays NHWC, as tf.nn.conv2d and the lecture notes.
    nhwc = trace("sum(conv2d(x, w, stride=2, padding=1))",
                 {"x": x.transpose(0, 2, 3, 1).tolist(), "w": w.transpose(2, 3, 1, 0).tolist()})
    assert np.isclose(decode(nhwc["value"]), out.item(), rtol=1e-12)
