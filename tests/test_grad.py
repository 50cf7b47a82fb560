"""`grad(f, x)`, gradients of gradients, and the Hessian (backend/gradtrace/adjoint.py,
engine.gradient_graph, hessian.py).

References: SymPy's derivatives of the generated scalar programs of test_properties (built from
gradtrace's own AST), central finite differences of the engine's first-order gradients in float64,
and PyTorch's double backward (`create_graph=True`) where torch is installed, kinks included.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import sympy as sp  # type: ignore[import-untyped]
from hypothesis import given, note

from gradtrace import GradtraceError, decode, trace
from gradtrace.analysis import analyse, request
from gradtrace.engine import LANGUAGE_FUNCTIONS, gradient_graph
from gradtrace.hessian import hessian, is_symmetric
from gradtrace.ops import FUNCTIONS, REGISTRY
from gradtrace.parser import parse
from gradtrace.settings import Settings, get_settings

from .conftest import ROOT
from .helpers import check_invariants, require_torch
from .test_properties import (
    SYMBOLS,
    ScalarProgram,
    evaluation_or_reject,
    scalar_programs,
    to_sympy,
)


def value(expr: str, values: dict[str, Any]) -> np.ndarray:
    return decode(trace(expr, values)["value"])


def wrap(text: str, inner: str) -> str:
    """The program with its last statement's expression e replaced by inner.format(e)."""
    last = parse(text).statements[-1]
    expr = last.expr
    return text[:expr.start] + inner.format(text[expr.start:expr.end]) + text[expr.end:]


def error(expr: str, values: dict[str, Any]) -> GradtraceError:
    with pytest.raises(GradtraceError) as info:
        trace(expr, values)
    return info.value


# ---------------------------------------------------------------------------------------------
# The registry: every op has a rule, and the internal ops stay out of the language


def test_the_ops_of_gradient_graphs_stay_out_of_the_language() -> None:
    internal = {name for name, op in REGISTRY.items() if op.internal}
    assert {"sum_to", "masked", "matmul_da"} <= internal
    assert not internal & set(FUNCTIONS)
    # Besides the ops of gradient graphs, only masks and signs are non-differentiable: their
    # derivative is 0 wherever it exists, as PyTorch's comparisons and sign.
    assert {name for name, op in REGISTRY.items() if not op.differentiable} - internal <= {
        "sign", "gt", "lt", "ge", "le", "eq", "ne"}


def test_the_input_box_knows_the_same_functions() -> None:
    """The input box (frontend/src/ops.ts) reads the language's functions from
    frontend/src/generated/language.json (kept current by tests/test_generated.py): the
    registry's named ops, which its catalogue marks, and grad."""
    generated = ROOT / "frontend" / "src" / "generated"
    language = json.loads((generated / "language.json").read_text())
    assert set(language["functions"]) == set(LANGUAGE_FUNCTIONS)
    catalogue = json.loads((generated / "ops.json").read_text())
    assert {a for n, info in catalogue.items() if info["function"]
            for a in (n, *info["aliases"])} | {"grad"} == set(LANGUAGE_FUNCTIONS)


def test_a_misspelt_grad_is_suggested() -> None:
    assert "did you mean grad?" in error("gard(x^2, x)", {"x": 1.0}).message


# ---------------------------------------------------------------------------------------------
# Small cases by hand


@pytest.mark.parametrize(("expr", "values", "expected"), [
    ("grad(x^3, x)", {"x": 2.0}, 12.0),
    ("d = grad(x^3, x); grad(d, x)", {"x": 2.0}, 12.0),  # the example: 6x
    ("grad(grad(grad(x^3, x), x), x)", {"x": 5.0}, 6.0),
    ("grad(x * y, x)", {"x": 2.0, "y": -3.0}, -3.0),
    ("grad((x + y) * z, x)", {"x": -2, "y": 5, "z": -4}, -4.0),
    ("grad(sin(x) * x, x)", {"x": 0.7}, math.cos(0.7) * 0.7 + math.sin(0.7)),
    ("grad(exp(-x^2), x)", {"x": 0.3}, -0.6 * math.exp(-0.09)),
    ("grad(sigmoid(x), x)", {"x": 0.4}, (s := 1 / (1 + math.exp(-0.4))) * (1 - s)),
    ("grad(x, x)", {"x": 3.0}, 1.0),
    ("grad(y, x)", {"x": 3.0, "y": 2.0}, 0.0),  # not depending on x: 0, not an error
    ("grad(pi * 2, x)", {"x": 3.0}, 0.0),
    ("grad(x^y, y)", {"x": 2.0, "y": 3.0}, 8 * math.log(2)),
    ("q = x^2; grad(q * q, x)", {"x": 1.5}, 4 * 1.5**3),  # fan-out: the copy gate sums
])
def test_small_derivatives(expr: str, values: dict[str, Any], expected: float) -> None:
    record = trace(expr, values)
    check_invariants(record)
    assert math.isclose(float(decode(record["value"])), expected, rel_tol=1e-12, abs_tol=1e-15)


def test_grad_of_something_not_depending_on_x_is_zeros_of_its_shape() -> None:
    got = value("grad(sum(v), W)", {"v": [1.0, 2.0], "W": [[1.0, 2.0], [3.0, 4.0]]})
    assert got.shape == (2, 2) and not got.any()


def test_the_gradient_graph_is_made_of_ordinary_nodes_without_clutter() -> None:
    record = trace("grad(x * y, x)", {"x": 2.0, "y": -3.0})
    out = next(n for n in record["nodes"] if n["id"] == record["output"])
    assert out["kind"] == "input" and out["label"] == "y"  # d(x y)/dx is the node y itself
    record = trace("d = grad(x^3, x); grad(d, x)", {"x": 2.0})
    # Folded constants leave nothing dangling: every node the last grad call made is used. (The
    # nodes of what it differentiates may be unused: d(x^3)/dx = 3 x^2 does not need x^3.)
    made = [n for n in record["nodes"] if n["start"] == record["expr"].rindex("grad(")]
    assert len(made) >= 3
    for n in made:
        assert n["id"] == record["output"] or n["fanout"] > 0, n
    named = next(n for n in record["nodes"] if n["name"] == "d")
    assert decode(named["value"]) == 12.0  # 3 x^2 at 2, a node that can be used further


def test_a_composite_differentiates_through_its_parts_without_unused_nodes() -> None:
    """square is declared as x * x (ops/composites.py): grad applies mul's rule, and emits only
    what that rule uses (not a second x * x)."""
    record = trace("grad(square(x), x)", {"x": 3.0})
    assert [n["label"] for n in record["nodes"]] == ["x", "²", "+"]
    assert record["value"] == 6.0
    assert trace("grad(grad(square(x) * x, x), x)", {"x": 3.0})["value"] == 18.0


def test_grad_nodes_point_at_the_grad_call() -> None:
    expr = "y = x^2; grad(y * 3, x)"
    record = trace(expr, {"x": 1.0})
    call = expr.index("grad(")
    made = [n for n in record["nodes"] if n["kind"] == "op" and n["start"] == call]
    assert made and all(n["end"] == len(expr) for n in made)


# ---------------------------------------------------------------------------------------------
# Tensors: nested gradients through every tensor op, against finite differences of the engine


def engine_grad(expr: str, values: dict[str, Any], name: str) -> np.ndarray:
    return decode(trace(expr, values)["gradients"][name])


def fd_of_grad(expr: str, values: dict[str, Any], name: str, wrt: str, seed: np.ndarray
               ) -> np.ndarray:
    """d <seed, grad_name(expr)> / d wrt by central differences of the engine's gradient."""
    x0 = np.asarray(values[wrt], dtype=np.float64)
    out = np.zeros(x0.shape)
    for idx in np.ndindex(x0.shape):
        h = 1e-6 * max(1.0, abs(float(x0[idx])))
        plus, minus = x0.copy(), x0.copy()
        plus[idx] += h
        minus[idx] -= h
        gp = engine_grad(expr, {**values, wrt: plus.tolist()}, name)
        gm = engine_grad(expr, {**values, wrt: minus.tolist()}, name)
        out[idx] = float(np.sum(seed * (gp - gm))) / (2 * h)
    return out


TENSOR_CASES = [
    ("sum(tanh(W @ v))", {"W": [[0.5, -1.0, 0.3], [0.2, 0.4, -0.7]], "v": [1.0, -0.5, 2.0]}),
    ("mean((A @ B - C)^2)", {"A": [[1.0, 2.0], [0.5, -1.0]], "B": [[0.3, -0.2], [0.1, 0.4]],
                             "C": [[1.0, 0.0], [0.0, 1.0]]}),
    ("sum(softmax(v) * w)", {"v": [0.1, -0.4, 1.2], "w": [1.0, 2.0, -1.0]}),
    ("dot(v, w) * sum(sigmoid(v))", {"v": [0.3, -1.1, 0.8], "w": [0.5, 1.5, -2.0]}),
    ("sum(conv2d(X, K)^2)", {"X": [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]],
                             "K": [[1.0, -1.0], [0.5, 0.25]]}),
    ("sum(conv2d(X, K) * 2)^2", {"X": [[[[0.1, 0.2], [0.3, -0.1]], [[0.5, -0.2], [0.4, 0.1]]]],
                                 "K": [[[[0.5], [1.0]]]]}),
    ("sum(transpose(W) @ v * b)", {"W": [[1.0, 2.0], [3.0, 4.0]], "v": [0.5, -1.0],
                                   "b": 1.5}),  # broadcasting a scalar: a sum_to node
    ("sum(v @ M @ v)", {"v": [0.2, -0.3], "M": [[[1.0, 2.0], [0.5, 1.0]]]}),  # batch broadcast
    ("sum(exp(x * v) / (1 + v^2)) + max(x, 0.5) * sum(abs(v))", {"x": 0.7,
                                                                  "v": [0.3, -0.8, 1.4]}),
]


@pytest.mark.parametrize(("expr", "values"), TENSOR_CASES)
def test_grad_of_grad_through_tensor_ops_matches_finite_differences(
        expr: str, values: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    names = list(values)
    for name in names:
        inner = f"grad({expr}, {name})"
        first = value(inner, values)
        np.testing.assert_allclose(first, engine_grad(expr, values, name), rtol=1e-12,
                                   atol=1e-12)
        seed = rng.normal(size=first.shape)
        record = trace(inner, values, seed=seed.tolist())
        check_invariants(record)
        for wrt in names:
            got = decode(record["gradients"][wrt])
            fd = fd_of_grad(expr, values, name, wrt, seed)
            np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6,
                                       err_msg=f"d<seed, grad({name})>/d{wrt} of {expr}")


@pytest.mark.parametrize(("expr", "values"), TENSOR_CASES)
def test_hessian_matches_finite_differences_of_the_gradient(
        expr: str, values: dict[str, Any]) -> None:
    inputs = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    h = hessian(analyse(request(expr, values)))
    matrix = h["matrix"]
    n = sum(v.size for v in inputs.values())
    assert matrix.shape == (n, n) and len(h["labels"]) == n
    assert is_symmetric(matrix) or "max" in expr
    col = 0
    for wrt in h["inputs"]:
        for idx in np.ndindex(inputs[wrt].shape):
            row = 0
            for name in h["inputs"]:
                size = inputs[name].size

                def g_at(v: np.ndarray, name: str = name, wrt: str = wrt) -> np.ndarray:
                    return engine_grad(expr, {**values, wrt: v.tolist()}, name).reshape(-1)

                x0 = inputs[wrt]
                step = 1e-6 * max(1.0, abs(float(x0[idx])))
                plus, minus = x0.copy(), x0.copy()
                plus[idx] += step
                minus[idx] -= step
                fd = (g_at(plus) - g_at(minus)) / (2 * step)
                np.testing.assert_allclose(matrix[row:row + size, col], fd, rtol=1e-5,
                                           atol=1e-6, err_msg=f"{expr}: d/d{wrt}{idx} of "
                                           f"grad {name}")
                row += size
            col += 1


# ---------------------------------------------------------------------------------------------
# Generated scalar programs against SymPy


FREE = ("y", "z")  # inputs the generated programs never re-assign (x may be re-assigned)


class SmoothAbs(sp.Function):  # type: ignore[misc]
    """|a| with the derivative a/|a|: what Abs is away from 0, but which SymPy differentiates
    twice to numbers (its own Abs'' stays unevaluated as a sign's derivative)."""

    @classmethod
    def eval(cls, a: sp.Expr) -> sp.Expr | None:
        return sp.Abs(a) if a.is_Number else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self.args[0] / SmoothAbs(self.args[0])


def smooth(expr: sp.Expr) -> sp.Expr:
    """The same function with |a|, max and min written with SmoothAbs: equal everywhere, and
    twice differentiable away from the kinks (which the generated programs keep clear of)."""
    expr = expr.replace(sp.Abs, SmoothAbs)
    expr = expr.replace(sp.Max, lambda *a: _fold(a, 1))
    return expr.replace(sp.Min, lambda *a: _fold(a, -1))


def at(expr: sp.Expr, point: dict[Any, Any]) -> float:
    return float(expr.subs(point).replace(SmoothAbs, sp.Abs).evalf(30))


def _fold(args: tuple[sp.Expr, ...], sign: int) -> sp.Expr:
    out = args[0]
    for b in args[1:]:  # max(a, b) = (a + b + |a - b|) / 2, min with -|a - b|
        out = (out + b + sign * SmoothAbs(out - b)) / 2
    return out


@given(scalar_programs())
def test_grad_and_grad_of_grad_match_sympy(prog: ScalarProgram) -> None:
    note(prog.text)
    evaluation_or_reject(prog)
    expr = smooth(to_sympy(parse(prog.text)))
    point = {SYMBOLS[n]: sp.Rational(repr(v)) for n, v in prog.values.items()}
    for a in FREE:
        first = float(decode(trace(wrap(prog.text, f"grad({{}}, {a})"), prog.values)["value"]))
        exact = at(expr.diff(SYMBOLS[a]), point)
        assert math.isclose(first, exact, rel_tol=1e-9, abs_tol=1e-9), (a, first, exact)
        for b in FREE:
            text = wrap(prog.text, f"grad(grad({{}}, {a}), {b})")
            second = float(decode(trace(text, prog.values)["value"]))
            exact2 = at(expr.diff(SYMBOLS[a], SYMBOLS[b]), point)
            assert math.isclose(second, exact2, rel_tol=1e-8, abs_tol=1e-8), (text, second,
                                                                               exact2)


@given(scalar_programs())
def test_hessian_matches_sympy(prog: ScalarProgram) -> None:
    note(prog.text)
    evaluation_or_reject(prog)
    expr = smooth(to_sympy(parse(prog.text)))
    point = {SYMBOLS[n]: sp.Rational(repr(v)) for n, v in prog.values.items()}
    h = hessian(analyse(request(prog.text, prog.values)))
    assert is_symmetric(h["matrix"])
    for i, a in enumerate(h["inputs"]):
        for j, b in enumerate(h["inputs"]):
            exact = at(expr.diff(SYMBOLS[a], SYMBOLS[b]), point)
            assert math.isclose(h["matrix"][i, j], exact, rel_tol=1e-8, abs_tol=1e-8), (a, b)


# ---------------------------------------------------------------------------------------------
# Kinks: the values returned (documented in README and adjoint.py), and PyTorch's


KINKS = [
    ("grad(relu(x), x)", {"x": 0.0}, 0.0),
    ("grad(grad(relu(x)^2, x), x)", {"x": 0.0}, 0.0),  # relu'(0) = 0, so 2 relu' relu' = 0
    ("grad(grad(relu(x)^2, x), x)", {"x": 1.0}, 2.0),
    ("grad(abs(x), x)", {"x": 0.0}, 0.0),
    ("grad(grad(abs(x), x), x)", {"x": 0.0}, 0.0),
    ("grad(max(x, y), x)", {"x": 1.0, "y": 1.0}, 0.5),  # a tie splits evenly
    ("grad(grad(max(x, y) * x, x), y)", {"x": 1.0, "y": 1.0}, 0.5),
    ("grad(min(x, y)^2, y)", {"x": 2.0, "y": 2.0}, 2.0),
    ("grad(x^0, x)", {"x": 0.0}, 0.0),  # pow's masks: 0 where the exponent is 0
    ("grad(x^y, y)", {"x": 0.0, "y": 2.0}, 0.0),  # and where the base is 0, exponent >= 0
    ("grad(grad(x^y, x), y)", {"x": 0.0, "y": 2.0}, 0.0),
    ("grad(grad(x^2, x), x)", {"x": 0.0}, 2.0),
]


@pytest.mark.parametrize(("expr", "values", "expected"), KINKS)
def test_kinks_give_the_documented_values(expr: str, values: dict[str, Any],
                                          expected: float) -> None:
    assert float(value(expr, values)) == expected


TORCH_CASES = [
    *((e, v) for e, v, _ in KINKS),
    ("grad(grad(sin(x) * y^3, x), y)", {"x": 0.4, "y": 1.3}),
    ("grad(grad(x^y, y), y)", {"x": 1.7, "y": -0.6}),
    ("grad(grad(sqrt(x) / (1 + x), x), x)", {"x": 2.5}),
    ("grad(grad(tan(x) + sigmoid(x) * tanh(x), x), x)", {"x": 0.3}),
    ("grad(grad(log(x^2 + y) * exp(-y), y), x)", {"x": 0.9, "y": 0.2}),
]


def torch_value(expr: str, values: dict[str, Any]) -> float:
    """The same nested derivative by torch.autograd.grad(create_graph=True), from our AST."""
    torch = require_torch()
    env = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)
           for k, v in values.items()}
    funcs = {"sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp,
             "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh,
             "sigmoid": torch.sigmoid, "relu": torch.relu, "abs": torch.abs,
             "max": torch.maximum, "min": torch.minimum}
    from gradtrace.parser import Binary, Call, Name, Num, Unary

    def conv(e: Any) -> Any:
        if isinstance(e, Num):
            return torch.tensor(e.value, dtype=torch.float64)
        if isinstance(e, Name):
            return env[e.id]
        if isinstance(e, Unary):
            return -conv(e.operand)
        if isinstance(e, Binary):
            a, b = conv(e.left), conv(e.right)
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a ** b}[e.op]
        assert isinstance(e, Call)
        if e.func == "grad":
            f = conv(e.args[0])
            wrt = env[e.args[1].id]
            if not f.requires_grad:
                return torch.zeros_like(wrt)
            (d,) = torch.autograd.grad(f, wrt, create_graph=True, allow_unused=True)
            return torch.zeros_like(wrt) if d is None else d
        return funcs[e.func](*(conv(a) for a in e.args))

    (stmt,) = parse(expr).statements
    return float(conv(stmt.expr).detach())


@pytest.mark.parametrize(("expr", "values"), TORCH_CASES)
def test_nested_gradients_match_pytorch(expr: str, values: dict[str, Any]) -> None:
    expected = torch_value(expr, values)
    got = float(value(expr, values))
    assert math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-14) or (
        math.isnan(got) and math.isnan(expected)), (got, expected)


# ---------------------------------------------------------------------------------------------
# Bad input: clear errors with spans


@pytest.mark.parametrize(("expr", "values", "kind", "span_text", "words"), [
    ("grad(v * 2, x)", {"v": [1.0, 2.0], "x": 1.0}, "shape", "v * 2", "scalar"),
    ("grad(x^2, 2 * x)", {"x": 1.0}, "name", "2 * x", "input"),
    ("q = x + 1; grad(q^2, q)", {"x": 1.0}, "name", "q", "assigned"),
    ("grad(x^2, pi)", {"x": 1.0}, "name", "pi", "constant"),
    ("grad(x^2)", {"x": 1.0}, "arity", "grad(x^2)", "2 arguments"),
    ("grad(x^2, x, x)", {"x": 1.0}, "arity", "grad(x^2, x, x)", "2 arguments"),
    ("grad + x", {"x": 1.0}, "name", "grad", "function"),
])
def test_bad_grad_calls_say_what_and_where(expr: str, values: dict[str, Any], kind: str,
                                           span_text: str, words: str) -> None:
    err = error(expr, values)
    assert err.type == kind
    assert expr[err.start:err.end] == span_text
    assert words in err.message


def test_grad_of_a_non_scalar_is_a_400_through_the_api(client: Any) -> None:
    r = client.post("/api/trace", json={"expr": "grad(W @ v, v)",
                                        "values": {"W": [[1, 2], [3, 4]], "v": [1, 1]}})
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["type"] == "shape" and "scalar" in body["message"]


def test_nested_grads_stay_within_the_node_limit() -> None:
    settings = Settings(max_nodes=60)
    text = "x"
    for _ in range(6):
        text = f"grad(sin({text}) * x, x)"
    with pytest.raises(GradtraceError) as info:
        trace(text, {"x": 0.5}, settings=settings)
    assert info.value.type == "limit"


def test_hessian_refuses_what_it_cannot_give() -> None:
    s = get_settings()
    with pytest.raises(GradtraceError) as info:
        hessian(analyse(request("v * 2", {"v": [1.0, 2.0]})))
    assert info.value.type == "shape"
    big = np.zeros(s.max_hessian_elements + 1)
    with pytest.raises(GradtraceError) as info:
        hessian(analyse(request("sum(v^2)", {"v": big.tolist()})))
    assert info.value.type == "limit"
    # In a record, the trace is answered and the Hessian says why it is missing.
    rec = trace("v * 2", {"v": [1.0, 2.0]}, hessian=True)
    assert rec["hessian"]["error"]["type"] == "shape" and rec["value"] == [2.0, 4.0]


def test_gradient_graph_keeps_the_original_nodes_first() -> None:
    program = parse("(x + y) * z")
    graph, grads = gradient_graph(program, {"x": -2, "y": 5, "z": -4}, get_settings())
    assert [n.label for n in graph.nodes[:5]] == ["x", "y", "+", "z", "×"]
    assert set(grads) == {"x", "y", "z"}
