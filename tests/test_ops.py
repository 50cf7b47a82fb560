"""Every op of `gradtrace.ops.REGISTRY`: forward against an independent reference (NumPy loops and
`math`), VJP against central finite differences in float64 with a random upstream gradient, JVP
(forward mode) against central differences along random tangents and as the VJP's transpose, for
scalars, vectors, matrices and broadcast shapes; the kink conventions of PyTorch; shape errors.

`CASES` must have an entry for every op in the registry (`test_every_op_has_cases`): an op cannot
land untested. A key is the op's name, or `name:variant` for more rows of the same op with other
attributes (`sum:axis` with `attrs={"axis": 0}`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace.ops import (
    GATE_TEXT,
    REGISTRY,
    Op,
    ShapeError,
    catalogue,
    resolve,
    unbroadcast,
    vjp_tex,
)
from gradtrace.ops.core import Tape

from . import cases_axes, cases_elementwise, cases_layers, cases_losses
from .cases import (
    BROADCAST,
    UNARY,
    Case,
    Gen,
    Shape,
    away_from_zero,
    binary,
    by_linearity,
    elementwise,
    integers,
    normal,
    positive,
    ref_conv2d,
    ref_matmul,
    ref_softmax,
    ref_transpose,
    sigmoid,
    small,
    unary,
    untied,
)
from .helpers import balanced, check_invariants, require_torch

CASES: dict[str, Case] = {
    "add": binary(normal, normal, lambda a, b: a + b, "a + b"),
    "sub": binary(normal, normal, lambda a, b: a - b, "a - b"),
    "mul": binary(normal, normal, lambda a, b: a * b, "a * b"),
    "div": binary(normal, away_from_zero, lambda a, b: a / b, "a / b"),
    "pow": binary(positive, normal, math.pow, "a ^ b"),
    "max": binary(untied, integers, max, "max(a, b)"),
    "min": binary(untied, integers, min, "min(a, b)"),
    "neg": Case((normal,), UNARY, elementwise(lambda v: -v), "-a"),
    "exp": unary(normal, math.exp, "exp"),
    "log": unary(positive, math.log, "log"),
    "sqrt": unary(positive, math.sqrt, "sqrt"),
    "sin": unary(normal, math.sin, "sin"),
    "cos": unary(normal, math.cos, "cos"),
    "tan": unary(small, math.tan, "tan"),
    "tanh": unary(normal, math.tanh, "tanh"),
    "sigmoid": unary(normal, sigmoid, "sigmoid"),
    "relu": unary(away_from_zero, lambda v: v if v > 0 else 0.0, "relu"),
    "abs": unary(away_from_zero, abs, "abs"),
    "square": unary(normal, lambda v: v * v, "square"),
    "sum": Case((normal,), UNARY, lambda x: np.asarray(math.fsum(x.reshape(-1))), "sum(a)"),
    "mean": Case((normal,), UNARY, lambda x: np.asarray(math.fsum(x.reshape(-1)) / x.size),
                 "mean(a)"),
    "softmax": Case((normal,), UNARY, ref_softmax, "softmax(a)"),
    "transpose": Case((normal,), UNARY, ref_transpose, "transpose(a)"),
    "dot": Case((normal, normal), (((1,), (1,)), ((4,), (4,))),
                lambda a, b: np.asarray(math.fsum(a * b)), "dot(a, b)"),
    "matmul": Case((normal, normal), (
        ((2, 3), (3, 4)), ((1, 1), (1, 1)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
        ((2, 2, 3), (3, 4)), ((3, 2), (2, 2, 4)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)),
    ), ref_matmul, "a @ b"),
    "conv2d": Case((normal, normal), (
        ((5, 6), (2, 3)), ((3, 3), (3, 3)), ((4, 4), (1, 1)),
        ((1, 4, 5, 2), (2, 2, 2, 3)), ((2, 3, 3, 1), (3, 3, 1, 2)),
        ((1, 4, 4, 4), (2, 2, 4, 4)),  # 16 channel pairs: the kernel gradient's BLAS branch
    ), ref_conv2d, "conv2d(a, b)"),
}


# The ops of gradient graphs (adjoint.py), which the language cannot write: references by loops,
# and the VJP halves by linearity, one unit operand at a time through the references above.


def _at(idx: tuple[int, ...], shape: Shape) -> tuple[int, ...]:
    """The element of an array of `shape` that broadcasting puts at `idx`."""
    off = len(idx) - len(shape)
    return tuple(0 if d == 1 else idx[off + k] for k, d in enumerate(shape))


def ref_sum_to(g: np.ndarray, r: np.ndarray) -> np.ndarray:
    out = np.zeros(r.shape)
    for idx in np.ndindex(g.shape):
        out[_at(idx, r.shape)] += g[idx]
    return out


def ref_broadcast_like(a: np.ndarray, r: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(a.shape, r.shape)
    out = np.empty(shape)
    for idx in np.ndindex(shape):
        out[idx] = a[_at(idx, a.shape)]
    return out


def ref_rowsum(x: np.ndarray) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    out = np.empty((*x.shape[:-1], 1))
    for idx in np.ndindex(x.shape[:-1]):
        out[(*idx, 0)] = math.fsum(float(v) for v in x[idx])
    return out


def weights(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.asarray(rng.choice([0.0, 0.5, 1.0], size=shape))


MATMUL_PAIRS = (((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
                ((2, 2, 3), (3, 4)), ((3, 2), (2, 2, 4)))
CONV_PAIRS = (((4, 5), (2, 3)), ((3, 3), (3, 3)), ((1, 4, 4, 2), (2, 2, 2, 3)))


def _conv_out(x: Shape, w: Shape) -> Shape:
    return REGISTRY["conv2d"].shape([x, w])


def _matmul_out(a: Shape, b: Shape) -> Shape:
    return REGISTRY["matmul"].shape([a, b])


def indicator(gen: Gen, f: Callable[..., float], arity: int) -> Case:
    shapes = BROADCAST if arity == 2 else UNARY
    return Case(tuple([gen] * arity), shapes, elementwise(f), None)


CASES.update({
    "sum_to": Case((normal, normal), (((2, 3), (3,)), ((2, 3), (2, 1)), ((3,), ()), ((), ()),
                                      ((2, 3), (2, 3)), ((2, 1, 3), (1, 3))), ref_sum_to, None),
    "broadcast_like": Case((normal, normal), (((3,), (2, 3)), ((2, 1), (2, 3)), ((), (2, 2)),
                                              ((), ()), ((1, 3), (2, 1, 3))),
                           ref_broadcast_like, None),
    "masked": Case((normal, weights), BROADCAST,
                   elementwise(lambda g, w: g * w if w != 0 else 0.0), None),
    "relu_mask": indicator(away_from_zero, lambda v: 0.0 if v <= 0 else 1.0, 1),
    "sign": indicator(away_from_zero, lambda v: float((v > 0) - (v < 0)), 1),
    "nonzero": indicator(integers, lambda v: 0.0 if v == 0 else 1.0, 1),
    "max_share": Case((untied, integers), BROADCAST,
                      elementwise(lambda a, b: 0.0 if a < b else 0.5 if a == b else 1.0), None),
    "min_share": Case((untied, integers), BROADCAST,
                      elementwise(lambda a, b: 0.0 if a > b else 0.5 if a == b else 1.0), None),
    # The exponent clear of 0, where (with a base 0) the mask jumps.
    "pow_exp_mask": Case((integers, untied), BROADCAST,
                         elementwise(lambda a, b: 0.0 if a == 0 and b >= 0 else 1.0), None),
    "zeros_like": Case((normal,), UNARY, lambda x: np.zeros(x.shape), None),
    "count": Case((normal,), UNARY, lambda x: np.asarray(float(x.size)), None),
    "rowsum": Case((normal,), UNARY, ref_rowsum, None),
    "matmul_da": Case((normal, normal, normal),
                      tuple((_matmul_out(a, b), b, a) for a, b in MATMUL_PAIRS),
                      lambda g, b, a: by_linearity(lambda e: ref_matmul(e, b), g, a.shape), None),
    "matmul_db": Case((normal, normal, normal),
                      tuple((a, _matmul_out(a, b), b) for a, b in MATMUL_PAIRS),
                      lambda a, g, b: by_linearity(lambda e: ref_matmul(a, e), g, b.shape), None),
    "conv2d_dx": Case((normal, normal), tuple((_conv_out(x, w), w) for x, w in CONV_PAIRS),
                      lambda g, w: by_linearity(
                          lambda e: ref_conv2d(e, w), g,
                          REGISTRY["conv2d_dx"].shape([g.shape, w.shape])), None),
    "conv2d_dw": Case((normal, normal), tuple((x, _conv_out(x, w)) for x, w in CONV_PAIRS),
                      lambda x, g: by_linearity(
                          lambda e: ref_conv2d(x, e), g,
                          REGISTRY["conv2d_dw"].shape([x.shape, g.shape])), None),
})
for _family in (cases_elementwise, cases_axes, cases_layers, cases_losses):
    assert not set(_family.CASES) & set(CASES), "a case key is defined twice"
    CASES.update(_family.CASES)
LANGUAGE = sorted(n for n, c in CASES.items() if c.expr is not None)
LETTERS = "abcdefgh"


def op_name(key: str) -> str:
    """The op a CASES key is about: `sum:axis` -> `sum`."""
    return key.split(":")[0]


def case_op(key: str) -> Op:
    """The op of a CASES key, with the case's attributes."""
    return resolve(op_name(key), CASES[key].attrs)


def test_every_op_has_cases() -> None:
    covered = {op_name(k) for k in CASES}
    missing = set(REGISTRY) - covered
    assert not missing, f"ops without test cases in tests/test_ops.py CASES: {sorted(missing)}"
    assert not covered - set(REGISTRY)


def op_cases(language_only: bool = False) -> list[Any]:
    out = []
    for key in sorted(CASES):
        case = CASES[key]
        if language_only and case.expr is None:
            continue
        for k, shapes in enumerate(case.shapes):
            out.append(pytest.param(key, k, id=f"{key}-{'-'.join(map(str, shapes))}"))
    return out


def operands(name: str, k: int, seed: int = 0) -> list[np.ndarray]:
    case = CASES[name]
    rng = np.random.default_rng([seed, k, *name.encode()])
    return [np.asarray(g(rng, s), dtype=np.float64) for g, s in zip(case.gens, case.shapes[k],
                                                                      strict=True)]


def values_of(args: Sequence[np.ndarray]) -> dict[str, Any]:
    """The operands as the values of the inputs a, b, c... of a case's expression."""
    return dict(zip(LETTERS, (a.tolist() for a in args), strict=False))


@pytest.mark.parametrize(("name", "k"), op_cases())
def test_forward_matches_the_reference(name: str, k: int) -> None:
    op, case = case_op(name), CASES[name]
    args = operands(name, k)
    out = np.asarray(op.forward(*args))
    expected = case.reference(*args)
    assert out.shape == expected.shape
    assert tuple(op.shape([a.shape for a in args])) == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-14)


def fd_vjp(f: Callable[..., np.ndarray], args: Sequence[np.ndarray], g: np.ndarray, i: int
           ) -> np.ndarray:
    """d<g, f(args)>/d args[i] by central differences, h = 1e-6 max(1, |x|)."""
    x = args[i]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        h = 1e-6 * max(1.0, abs(float(x[idx])))
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        fp = f(*(plus if j == i else a for j, a in enumerate(args)))
        fm = f(*(minus if j == i else a for j, a in enumerate(args)))
        grad[idx] = math.fsum((g * (fp - fm)).reshape(-1)) / (2 * h)
    return grad


@pytest.mark.parametrize(("name", "k"), op_cases())
def test_vjp_matches_finite_differences(name: str, k: int) -> None:
    op = case_op(name)
    for seed in range(2):
        args = operands(name, k, seed)
        out = np.asarray(op.forward(*args))
        g = np.random.default_rng([seed, 99]).normal(size=out.shape)
        grads = op.vjp(g, args, out)
        assert len(grads) == len(args)
        for i, (a, gi) in enumerate(zip(args, grads, strict=True)):
            if i in CASES[name].constant:
                continue
            gi = np.asarray(gi)
            if not op.elementwise:  # only elementwise ops leave broadcast axes to the engine
                assert gi.shape == a.shape, (name, i, gi.shape, a.shape)
            gi = unbroadcast(gi, a.shape)
            assert gi.shape == a.shape
            expected = fd_vjp(op.forward, args, g, i)
            np.testing.assert_allclose(gi, expected, rtol=1e-6, atol=1e-7,
                                       err_msg=f"{name} operand {i}")


def fd_jvp(f: Callable[..., np.ndarray], args: Sequence[np.ndarray],
           tangents: Sequence[np.ndarray | None]) -> np.ndarray:
    """d/dh f(args + h tangents) at h = 0 by central differences, h = 1e-6 max(1, |args|)."""
    scale = max([1.0, *(float(np.max(np.abs(a))) for a, t in zip(args, tangents, strict=True)
                        if t is not None)])
    h = 1e-6 * scale
    plus = [a if t is None else a + h * t for a, t in zip(args, tangents, strict=True)]
    minus = [a if t is None else a - h * t for a, t in zip(args, tangents, strict=True)]
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * h)


@pytest.mark.parametrize(("name", "k"), op_cases())
def test_jvp_matches_finite_differences(name: str, k: int) -> None:
    """Forward mode: each operand's tangent alone, then all at once, against central differences;
    the output tangent has the output's shape; and the JVP is the transpose of the VJP."""
    op = case_op(name)
    constant = CASES[name].constant
    for seed in range(2):
        args = operands(name, k, seed)
        out = np.asarray(op.forward(*args))
        rng = np.random.default_rng([seed, 77])
        ts: list[np.ndarray | None] = [None if i in constant else rng.normal(size=a.shape)
                                       for i, a in enumerate(args)]
        choices: list[list[np.ndarray | None]] = [
            [t if j == i else None for j, t in enumerate(ts)] for i in range(len(args))
            if i not in constant]
        choices.append(list(ts))
        for only in choices:
            got = np.asarray(op.jvp(only, args, out))
            assert got.shape == out.shape, (name, got.shape, out.shape)
            np.testing.assert_allclose(got, fd_jvp(op.forward, args, only), rtol=1e-6,
                                       atol=1e-7, err_msg=f"{name} tangents {only}")
        none = np.asarray(op.jvp([None] * len(args), args, out))
        assert none.shape == out.shape and not none.any()
        g = rng.normal(size=out.shape)
        grads = op.vjp(g, args, out)
        lhs = math.fsum((g * np.asarray(op.jvp(ts, args, out))).reshape(-1))
        rhs = math.fsum(float(np.sum(unbroadcast(np.asarray(gi), a.shape) * t))
                        for gi, a, t in zip(grads, args, ts, strict=True) if t is not None)
        assert math.isclose(lhs, rhs, rel_tol=1e-10, abs_tol=1e-12), (name, lhs, rhs)


@pytest.mark.parametrize(("name", "k"), op_cases())
def test_rule_matches_the_vjp(name: str, k: int) -> None:
    """The op's rule for grad (its VJP written with ops) gives the VJP's numbers: run on a tape
    that evaluates each op it emits, summed back over broadcast axes as gradient graphs do."""
    op = case_op(name)
    args = operands(name, k)
    constant = CASES[name].constant
    with np.errstate(all="ignore"):
        out = np.asarray(op.forward(*args), dtype=np.float64)
        g = np.random.default_rng(k).normal(size=out.shape)
        want = op.vjp(g, args, out)
        tape = Tape([*args, out, g])
        n = len(args)
        got = op.rule(tape, n + 1, list(range(n)), n, [i not in constant for i in range(n)])
    for i, (w, h) in enumerate(zip(want, got, strict=True)):
        if i in constant:
            continue
        w = unbroadcast(np.asarray(w, dtype=np.float64), args[i].shape)
        if h is None:  # no gradient flows there: the VJP must agree that it is zero
            assert not op.differentiable or np.all(w == 0), (name, i)
            continue
        value = unbroadcast(np.broadcast_to(tape.values[h], np.broadcast_shapes(
            tape.values[h].shape, args[i].shape)), args[i].shape)
        np.testing.assert_allclose(value, w, rtol=1e-12, atol=1e-12, err_msg=f"{name} operand {i}")


@pytest.mark.parametrize(("name", "k"), op_cases(language_only=True))
def test_vjp_through_the_whole_pipeline(name: str, k: int) -> None:
    """The same check through `trace` (parser, graph, engine's unbroadcast, seed)."""
    case = CASES[name]
    assert case.expr is not None
    args = operands(name, k, seed=7)
    values = values_of(args)
    out = case.reference(*args)
    g = np.random.default_rng(3).normal(size=out.shape)
    record = trace(case.expr, values, seed=g.tolist())
    check_invariants(record)
    out_node = next(n for n in record["nodes"] if n["id"] == record["output"])
    assert out_node["op"] == op_name(name)
    np.testing.assert_allclose(decode(record["value"]), out, rtol=1e-13, atol=1e-14)
    for i, letter in enumerate(LETTERS[:len(args)]):
        if i in case.constant:
            continue
        got = decode(record["gradients"][letter])
        assert got.shape == args[i].shape
        np.testing.assert_allclose(got, fd_vjp(case.reference, args, g, i), rtol=1e-6,
                                   atol=1e-7, err_msg=f"{name}: gradient of {letter}")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_has_formulas(name: str) -> None:
    op = REGISTRY[name]
    n = len(op.local_tex)  # the required operands, and optional ones with a formula of their own
    syms = ["a", "b", "c", "d"][:n]
    assert op.symbol and balanced(op.tex(syms))
    assert op.arity <= n <= (op.max_arity or op.arity)
    for i in range(n):
        assert op.local_tex[i](syms) and balanced(op.local_tex[i](syms))
        rule = vjp_tex(op, i, syms, "z")
        assert rule.startswith(f"d{syms[i]} = ") and balanced(rule)
    if op.gate is not None:
        assert op.gate in GATE_TEXT


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_catalogue_templates_give_the_formulas(name: str) -> None:
    """The frontend fills the catalogue's templates (ops.json) with symbols: it must get what
    the op's own formulas write with them."""
    op = REGISTRY[name]
    entry = catalogue()[name]
    syms = ["a_{1}", "W", "\\sigma", "b"][:len(op.local_tex)]

    def fill(template: str) -> str:
        for i, sym in enumerate(syms):
            template = template.replace(f"#{i}#", sym)
        return template.replace("#z#", "z")

    assert fill(entry["tex"]) == op.tex(syms)
    assert [fill(t) for t in entry["local_tex"]] == [f(syms) for f in op.local_tex]
    assert [fill(t) for t in entry["vjp_tex"]] == [vjp_tex(op, i, syms, "z")
                                                   for i in range(len(op.local_tex))]
    assert entry["symbol"] == op.symbol and entry["function"] == (op.named and not op.internal)


def test_unbroadcast_sums_over_added_and_stretched_axes() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    assert unbroadcast(g, (3, 4)).tolist() == g.sum(axis=0).tolist()
    assert unbroadcast(g, (3, 1)).tolist() == g.sum(axis=(0, 2))[:, None].tolist()
    assert unbroadcast(g, ()).tolist() == g.sum()
    assert unbroadcast(g, (1, 1, 4)).tolist() == g.sum(axis=(0, 1), keepdims=True).tolist()
    assert unbroadcast(g, (2, 3, 4)) is g


# ---------------------------------------------------------------------------------------------
# Kinks, as PyTorch


def grads(expr: str, **values: Any) -> dict[str, Any]:
    record = trace(expr, values)
    check_invariants(record)
    return {k: decode(v).tolist() for k, v in record["gradients"].items()}


def test_relu_at_zero() -> None:
    assert grads("relu(x)", x=0.0) == {"x": 0.0}
    assert grads("relu(x)", x=[-1.0, 0.0, 2.0]) == {"x": [0.0, 0.0, 1.0]}


def test_abs_at_zero() -> None:
    assert grads("abs(x)", x=0.0) == {"x": 0.0}
    assert grads("abs(x)", x=[-1.0, 0.0, 2.0]) == {"x": [-1.0, 0.0, 1.0]}


@pytest.mark.parametrize("f", ["max", "min"])
def test_max_min_ties_split_evenly(f: str) -> None:
    assert grads(f"{f}(x, y)", x=1.5, y=1.5) == {"x": 0.5, "y": 0.5}
    assert grads(f"3 * {f}(x, y)", x=-2.0, y=-2.0) == {"x": 1.5, "y": 1.5}
    assert grads(f"{f}(x, x)", x=2.0) == {"x": 1.0}
    big, small_ = ("x", "y") if f == "max" else ("y", "x")
    assert grads(f"{f}(x, y)", x=3.0, y=1.0) == {big: 1.0, small_: 0.0}
    assert grads(f"{f}(x, y)", x=[1.0, 2.0, 3.0], y=2.0) == (
        {"x": [0.0, 0.5, 1.0], "y": 1.5} if f == "max" else {"x": [1.0, 0.5, 0.0], "y": 1.5})


def test_max_routes_the_relu_of_the_notes() -> None:
    assert grads("max(x, 0)", x=0.0) == {"x": 0.5}
    assert grads("max(x, 0)", x=-1.0) == {"x": 0.0}


def test_nan_operands_follow_pytorch_masks() -> None:
    # maximum/minimum backward zero an operand only where it compares smaller/larger: with a NaN
    # neither comparison holds and both operands get the upstream gradient. threshold_backward
    # zeroes relu's gradient only where the input is <= 0.
    assert grads("max(x, y)", x="NaN", y=1.0) == {"x": 1.0, "y": 1.0}
    assert grads("min(x, y)", x=1.0, y="NaN") == {"x": 1.0, "y": 1.0}
    assert grads("relu(x)", x="NaN") == {"x": 1.0}


def test_pow_at_zero_to_the_zero() -> None:
    record = trace("x ^ y", {"x": 0.0, "y": 0.0})
    assert decode(record["value"]) == 1.0
    assert record["gradients"] == {"x": 0.0, "y": 0.0}


def test_pow_masks() -> None:
    assert grads("x ^ y", x=0.0, y=2.0) == {"x": 0.0, "y": 0.0}
    assert grads("x ^ 2", x=-3.0) == {"x": -6.0}
    g = grads("x ^ y", x=2.0, y=3.0)
    assert g["x"] == 12.0 and math.isclose(g["y"], 8 * math.log(2), rel_tol=1e-15)
    g = grads("x ^ y", x=-2.0, y=2.0)  # d/dy = x^y ln x is NaN for x < 0, as in PyTorch
    assert g["x"] == -4.0 and math.isnan(g["y"])


def test_pow_function_is_the_operator() -> None:
    a, b = trace("pow(x, y)", {"x": 1.5, "y": -0.5}), trace("x^y", {"x": 1.5, "y": -0.5})
    assert a["gradients"] == b["gradients"] and a["value"] == b["value"]


def test_softmax_of_a_scalar() -> None:
    record = trace("softmax(x) * 3", {"x": 2.0})
    assert decode(record["value"]) == 3.0 and record["gradients"] == {"x": 0.0}


def test_sigmoid_does_not_overflow() -> None:
    record = trace("sigmoid(x)", {"x": [-1000.0, 0.0, 1000.0]})
    assert decode(record["value"]).tolist() == [0.0, 0.5, 1.0]
    assert decode(record["gradients"]["x"]).tolist() == [0.0, 0.25, 0.0]
    assert record["warnings"] == []


# ---------------------------------------------------------------------------------------------
# Shape errors


@pytest.mark.parametrize(("expr", "values", "words"), [
    ("A @ B", {"A": [[1, 2, 3]] * 2, "B": [[1, 2]] * 4}, ["(2, 3)", "(4, 2)", "3 columns",
                                                         "4 rows"]),
    ("A @ v", {"A": [[1, 2]] * 2, "v": [1, 2, 3]}, ["(2, 2)", "(3,)"]),
    ("x @ A", {"x": 2.0, "A": [[1, 2]] * 2}, ["scalar", "use *"]),
    ("matmul(A, B)", {"A": [[[1, 2]]] * 2, "B": [[[1], [2]]] * 3}, ["batch"]),
    ("dot(A, B)", {"A": [[1, 2]] * 2, "B": [[1, 2]] * 2}, ["dot takes two vectors", "(2, 2)",
                                                           "@"]),
    ("dot(u, v)", {"u": [1, 2], "v": [1, 2, 3]}, ["same length", "2", "3"]),
    ("conv2d(X, K)", {"X": [[1, 2]] * 2, "K": [[1, 2, 3]] * 3}, ["kernel", "larger than",
                                                                  "(3, 3)", "(2, 2)"]),
    ("conv2d(X, K)", {"X": [[[[1.0] * 2] * 3] * 3], "K": [[[[1.0]] * 3] * 2] * 2},
     ["2 channels", "expects 3", "NHWC"]),
    ("conv2d(X, K)", {"X": [1, 2, 3], "K": [1]}, ["conv2d takes"]),
    ("u + v", {"u": [1, 2, 3], "v": [1, 2]}, ["'+'", "(3,)", "(2,)", "broadcast"]),
    ("u * W", {"u": [1, 2, 3], "W": [[1, 2]] * 2}, ["'*'", "(3,)", "(2, 2)"]),
    ("max(u, v)", {"u": [1, 2, 3], "v": [1, 2]}, ["'max'", "broadcast"]),
])
def test_shape_errors_are_readable(expr: str, values: dict[str, Any], words: list[str]) -> None:
    src = f"2 * ({expr})"
    with pytest.raises(GradtraceError) as info:
        trace(src, values)
    err = info.value
    assert err.type == "shape"
    assert src[err.start:err.end] == expr
    for w in words:
        assert w in err.message, (w, err.message)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_shape_rules_raise_shape_error_or_agree_with_forward(name: str) -> None:
    """For a spread of operand shapes, the shape rule either refuses with a ShapeError (never
    another exception) or predicts exactly the shape the forward computes."""
    op = REGISTRY[name]
    pool: list[Shape] = [(), (1,), (3,), (2, 3), (3, 2), (3, 3), (1, 3), (2, 3, 3), (1, 4, 4, 3),
                         (2, 2, 3, 2)]
    for shapes in itertools.product(pool, repeat=op.arity):
        try:
            expected = op.shape(list(shapes))
        except ShapeError as exc:
            assert str(exc)
            continue
        # Labels and indices (operands that take no gradient) as 0, a valid label for any shape.
        args = [np.full(s, 0.5 if op.takes_grad(k) else 0.0) for k, s in enumerate(shapes)]
        with np.errstate(all="ignore"):
            out = np.asarray(op.forward(*args))
            assert out.shape == tuple(expected), (name, shapes)
            gs = op.vjp(np.ones(out.shape), args, out)
            jvp = np.asarray(op.jvp([np.ones(a.shape) for a in args], args, out))
        assert jvp.shape == out.shape, (name, shapes)
        for a, g in zip(args, gs, strict=True):
            assert unbroadcast(np.asarray(g), a.shape).shape == a.shape


def test_conv2d_work_is_limited() -> None:
    """A large kernel over a large input stays within every size limit but would take seconds."""
    x = np.zeros((447, 447)).tolist()
    src = "sum(conv2d(X, K))"
    with pytest.raises(GradtraceError) as info:
        trace(src, {"X": x, "K": np.zeros((100, 100)).tolist()})
    assert info.value.type == "limit" and "multiply-adds" in info.value.message
    assert src[info.value.start:info.value.end] == "conv2d(X, K)"
    record = trace(src, {"X": x, "K": np.zeros((3, 3)).tolist()})
    assert record["gradients"]["K"] == np.zeros((3, 3)).tolist()


# ---------------------------------------------------------------------------------------------
# Generated code (codegen.py): every op of the language writes a file that prints the engine's
# gradients, in NumPy (the backward written out by hand) and in PyTorch (autograd).


@pytest.mark.parametrize("name", LANGUAGE)
def test_every_op_has_code(name: str) -> None:
    code = case_op(name).code
    assert code is not None, f"{name} has no `code=OpCode(...)` in the registry"
    assert len(code.backward) == case_op(name).arity
    assert code.numpy and code.torch


@pytest.mark.parametrize("lang", ["numpy", "pytorch"])
@pytest.mark.parametrize(("name", "k"), op_cases(language_only=True))
def test_generated_code_matches_the_engine(name: str, k: int, lang: str) -> None:
    """Every op and every operand shape of CASES (broadcasting included), random seed."""
    from gradtrace.codegen import generate

    from .test_codegen import assert_same, run_inprocess

    if lang == "pytorch":
        require_torch()
    case = CASES[name]
    args = operands(name, k, seed=11)
    values = values_of(args)
    g = np.random.default_rng(5).normal(size=case.reference(*args).shape).tolist()
    record = trace(case.expr, values, seed=g)
    assert_same(run_inprocess(generate(case.expr, values, g, lang)), record, f"{name} {lang}")


KINKS = {"a": [0.0, 0.0, 1.0, -1.0, 2.0, 0.0, -2.0], "b": [0.0, 1.0, 0.0, 0.0, 2.0, -1.0, 3.0]}


@pytest.mark.parametrize("lang", ["numpy", "pytorch"])
@pytest.mark.parametrize("name", [n for n in LANGUAGE if case_op(n).elementwise
                                  and len(CASES[n].gens) <= 2 and not CASES[n].constant])
def test_generated_code_kinks_match_the_engine(name: str, lang: str) -> None:
    """Zeros, ties and negative bases: the masks of relu, abs, max, min and pow (PyTorch's)
    are the engine's in both files. NaN operands too, in NumPy (the engine's own rule)."""
    from gradtrace.codegen import generate

    from .test_codegen import assert_same, run_inprocess

    if lang == "pytorch":
        require_torch()
    expr = CASES[name].expr
    values = {k: v for k, v in KINKS.items() if k in expr}
    if lang == "numpy":
        values = {k: [*v, "NaN", 1.0] for k, v in values.items()}
        if len(values) == 2:
            values["b"][-1] = "NaN"
    assert_same(run_inprocess(generate(expr, values, None, lang)), trace(expr, values),
                f"{name} {lang}")


@pytest.mark.parametrize("lang", ["numpy", "pytorch"])
@pytest.mark.parametrize(("name", "k"), op_cases(language_only=True))
def test_generated_forward_mode_matches_the_engine(name: str, k: int, lang: str) -> None:
    """Forward mode: the file's derivative along a random direction of each operand in turn is
    the engine's (`jvp`), for every op and operand shape of CASES."""
    from .test_codegen import assert_same_derivative

    if lang == "pytorch":
        require_torch()
    case = CASES[name]
    args = operands(name, k, seed=13)
    values = values_of(args)
    rng = np.random.default_rng(17)
    for i, (wrt, a) in enumerate(zip(LETTERS, args, strict=False)):
        if i in case.constant:
            continue
        assert_same_derivative(case.expr, values, wrt, rng.normal(size=a.shape).tolist(), (lang,))
