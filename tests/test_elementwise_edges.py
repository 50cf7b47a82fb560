"""The elementwise functions, comparisons and where at their edges, against PyTorch in float64:
kinks and ties (clamp at a bound, leaky_relu and elu at 0, sign at 0), overflow (softplus at
+-1000, gelu far out), poles and domains (log of 0 and of negative numbers, asin at 1), signed
zeros, infinities and NaN. Each row goes through the whole pipeline (`trace`) and compares the
value, each input's gradient (reverse mode, seed ones) and its derivative along ones (forward
mode) with torch's forward, `autograd.grad` and its forward-mode AD (dual numbers); some rows
also the second derivative, `grad(sum(f), x)` against `create_graph=True`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from gradtrace import decode, trace
from gradtrace.ops import REGISTRY, resolve
from gradtrace.ops.core import Tape

from .helpers import require_torch

NAN, INF = math.nan, math.inf


@dataclass(frozen=True)
class Edge:
    expr: str  # in the inputs of `values`
    torch: Callable[..., Any]  # the same function of torch tensors, in the order of `values`
    values: dict[str, list[float]]
    forward_mode: bool = True  # False where PyTorch's forward mode deliberately differs (atan2)


def _json(v: float) -> Any:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def _F() -> Any:
    return require_torch().nn.functional


def T() -> Any:
    return require_torch()


EDGES: dict[str, Edge] = {
    # clamp: the gradient passes at the bounds (ties included), not outside, not for NaN.
    "clamp": Edge("clamp(x, min=0, max=1)", lambda x: T().clamp(x, min=0.0, max=1.0),
                  {"x": [0.0, 1.0, 0.5, -1.0, 2.0, NAN, INF, -INF, -0.0]}),
    "clamp_min": Edge("clamp(x, min=0)", lambda x: T().clamp(x, min=0.0),
                      {"x": [0.0, -0.0, -1.0, 3.0, NAN, -INF]}),
    "clamp_max": Edge("clamp(x, max=-1)", lambda x: T().clamp(x, max=-1.0),
                      {"x": [-1.0, 0.0, -3.0, NAN, INF]}),
    "clamp_crossed": Edge("clamp(x, 1, 0)", lambda x: T().clamp(x, min=1.0, max=0.0),
                          {"x": [0.0, 0.5, 1.0, 2.0, NAN]}),
    "leaky_relu": Edge("leaky_relu(x)", lambda x: _F().leaky_relu(x),
                       {"x": [0.0, -0.0, 1.0, -1.0, NAN, INF, -INF]}),
    "leaky_relu_slope": Edge("leaky_relu(x, negative_slope=0.2)",
                             lambda x: _F().leaky_relu(x, 0.2), {"x": [0.0, -2.0, 3.0, NAN]}),
    "elu": Edge("elu(x)", lambda x: _F().elu(x),
                {"x": [0.0, -0.0, 1e-10, -1e-10, -800.0, 800.0, NAN, INF, -INF]}),
    "elu_alpha": Edge("elu(x, alpha=2)", lambda x: _F().elu(x, alpha=2.0),
                      {"x": [0.0, -1.0, 1.0, NAN, -INF]}),
    "sign": Edge("sign(x)", lambda x: T().sign(x),
                 {"x": [0.0, -0.0, 2.0, -3.0, NAN, INF, -INF]}),
    "abs": Edge("abs(x)", lambda x: T().abs(x), {"x": [0.0, -0.0, 2.0, -3.0, NAN, INF, -INF]}),
    "softplus": Edge("softplus(x)", lambda x: _F().softplus(x),
                     {"x": [1000.0, -1000.0, 20.0, 20.000001, 0.0, -40.0, NAN, INF, -INF]}),
    "softplus_beta": Edge("softplus(x, beta=2, threshold=5)",
                          lambda x: _F().softplus(x, beta=2.0, threshold=5.0),
                          {"x": [2.5, 2.5000001, 1000.0, -1000.0, -0.5, NAN]}),
    # A threshold past e^x's overflow: inf, and the gradient inf / inf = NaN, as PyTorch's.
    "softplus_no_threshold": Edge("softplus(x, threshold=1000)",
                                  lambda x: _F().softplus(x, threshold=1000.0),
                                  {"x": [800.0, 700.0, -800.0]}),
    "gelu": Edge("gelu(x)", lambda x: _F().gelu(x),
                 {"x": [0.0, 10.0, -10.0, -40.0, 1e160, INF, -INF, NAN]}),
    "gelu_tanh": Edge("gelu(x, approximate='tanh')", lambda x: _F().gelu(x, approximate="tanh"),
                      {"x": [0.0, 10.0, -10.0, -40.0, 1e160, INF, -INF, NAN]}),
    "erf": Edge("erf(x)", lambda x: T().erf(x), {"x": [0.0, 30.0, -30.0, INF, -INF, NAN, 1e-300]}),
    "log": Edge("log(x)", lambda x: T().log(x), {"x": [0.0, -0.0, -1.0, 1e-300, INF, NAN]}),
    "ln": Edge("ln(x)", lambda x: T().log(x), {"x": [0.0, -1.0, INF]}),
    "log10": Edge("log10(x)", lambda x: T().log10(x), {"x": [0.0, -0.0, -1.0, 1e-300, INF, NAN]}),
    "log2": Edge("log2(x)", lambda x: T().log2(x), {"x": [0.0, -0.0, -1.0, 1e-300, INF, NAN]}),
    "log1p": Edge("log1p(x)", lambda x: T().log1p(x), {"x": [-1.0, -2.0, 1e-20, INF, NAN]}),
    "expm1": Edge("expm1(x)", lambda x: T().expm1(x), {"x": [1000.0, -1000.0, 1e-20, NAN]}),
    "asin": Edge("asin(x)", lambda x: T().asin(x), {"x": [1.0, -1.0, 2.0, 0.5, -0.0, NAN]}),
    "acos": Edge("acos(x)", lambda x: T().acos(x), {"x": [1.0, -1.0, -2.0, 0.5, NAN]}),
    "atan": Edge("atan(x)", lambda x: T().atan(x), {"x": [INF, -INF, 1e200, 0.0, NAN]}),
    "sinh": Edge("sinh(x)", lambda x: T().sinh(x), {"x": [1000.0, -1000.0, 0.0, NAN]}),
    "cosh": Edge("cosh(x)", lambda x: T().cosh(x), {"x": [1000.0, -1000.0, 0.0, NAN]}),
    # atan2's gradient at (0, 0) is 0 (PyTorch masks 1 / (a^2 + b^2) where it is 0); PyTorch's
    # forward mode does not mask, so here the JVP, the VJP's transpose, differs from it there.
    "atan2": Edge("atan2(y, x)", lambda y, x: T().atan2(y, x), {
        "y": [0.0, 0.0, -0.0, 1.0, NAN, INF, 1e-200, 1e-160, 0.0, 3.0, -2.0],
        "x": [0.0, -0.0, -1.0, INF, 1.0, INF, 1e-200, 1e-160, -1.0, 4.0, NAN]},
        forward_mode=False),
    # (Not at (1, inf) either: there PyTorch's forward mode gives 0 * inf = NaN, its backward 0.)
    "atan2_regular": Edge("atan2(y, x)", lambda y, x: T().atan2(y, x), {
        "y": [0.0, -0.0, 3.0, -2.0, 0.0, 1e-300], "x": [-1.0, -1.0, 4.0, -5.0, 2.0, -1.0]}),
    # where: the gradient goes to the operand picked, exactly 0 to the other (NaN there too).
    "where": Edge("where(c, a, b)", lambda c, a, b: T().where(c != 0, a, b), {
        "c": [1.0, 0.0, NAN, 0.5, -0.0, -2.0], "a": [1.0, NAN, 3.0, INF, 5.0, 6.0],
        "b": [NAN, 2.0, -3.0, -4.0, INF, -6.0]}),
    # The classic: where(x > 0, sqrt(x), 0 x) has gradient NaN at x = 0 in PyTorch: where sends
    # 0 back to sqrt, whose backward divides it by 2 sqrt(0) = 0. At x = -1 too: 0 / (2 NaN).
    "where_sqrt": Edge("where(x > 0, sqrt(x), 0 * x)",
                       lambda x: T().where(x > 0, T().sqrt(x), 0 * x),
                       {"x": [0.0, 4.0, -1.0]}),
    "where_abs": Edge("where(x > 0, x, -x)", lambda x: T().where(x > 0, x, -x),
                      {"x": [0.0, -0.0, 2.0, -3.0, NAN]}),
}
for _op, _rel in (("gt", ">"), ("lt", "<"), ("ge", ">="), ("le", "<="), ("eq", "=="), ("ne", "!=")):
    EDGES[_op] = Edge(f"a {_rel} b", eval(f"lambda a, b: (a {_rel} b).double()"), {
        "a": [0.0, 1.0, NAN, INF, -0.0, 2.0, -INF, NAN],
        "b": [0.0, 0.0, 1.0, INF, 0.0, NAN, -INF, NAN]})
    EDGES[f"{_op}_named"] = Edge(f"{_op}(a, b)", eval(f"lambda a, b: (a {_rel} b).double()"), {
        "a": [0.0, 1.0, NAN], "b": [0.0, 1.5, 1.0]})


def assert_same(ours: np.ndarray, theirs: Any, what: str, rtol: float = 1e-12,
                atol: float = 0.0) -> None:
    torch = require_torch()
    if theirs._is_zerotensor():  # autograd's zeros of a function that is constant there
        theirs = torch.zeros(theirs.shape, dtype=torch.float64)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _torch_inputs(edge: Edge, requires_grad: bool = True) -> list[Any]:
    torch = require_torch()
    return [torch.tensor(v, dtype=torch.float64, requires_grad=requires_grad)
            for v in edge.values.values()]


def _values(edge: Edge) -> dict[str, Any]:
    return {k: [_json(x) for x in v] for k, v in edge.values.items()}


@pytest.mark.parametrize("key", sorted(EDGES))
def test_value_and_gradient_match_torch(key: str) -> None:
    torch = require_torch()
    edge = EDGES[key]
    record = trace(edge.expr, _values(edge))
    xs = _torch_inputs(edge)
    y = edge.torch(*xs)
    assert_same(decode(record["value"]), y, f"{edge.expr}: value")
    wanted = [x for x in xs if y.requires_grad]
    grads = (torch.autograd.grad(y, wanted, torch.ones_like(y), allow_unused=True)
             if wanted else [None] * len(xs))
    for name, x, g in zip(edge.values, xs, grads, strict=False):
        if name not in record["gradients"]:  # an input that takes no gradient (where's c)
            continue
        expected = torch.zeros_like(x) if g is None else g
        assert_same(decode(record["gradients"][name]), expected, f"{edge.expr}: d{name}")


@pytest.mark.parametrize("key", sorted(k for k, e in EDGES.items() if e.forward_mode))
def test_forward_mode_matches_torch(key: str) -> None:
    torch = require_torch()
    import torch.autograd.forward_ad as fwAD
    edge = EDGES[key]
    differentiable = trace(edge.expr, _values(edge))["gradients"]
    for i, name in enumerate(edge.values):
        if name not in differentiable:  # where's condition: it takes no derivative
            continue
        record = trace(edge.expr, _values(edge), mode="forward", wrt=name)
        xs = _torch_inputs(edge, requires_grad=False)
        with fwAD.dual_level():
            duals = [fwAD.make_dual(x, torch.ones_like(x) if j == i else torch.zeros_like(x))
                     for j, x in enumerate(xs)]
            y = edge.torch(*duals)
            dy = fwAD.unpack_dual(y).tangent
        if dy is None:  # a comparison: no tangent
            dy = torch.zeros_like(y)
        assert_same(decode(record["derivative"]), dy, f"{edge.expr}: d/d{name}")


def test_atan2_forward_mode_is_the_transpose_of_its_gradient() -> None:
    # Elementwise, so the derivative along ones is the gradient with seed ones, masks included:
    # 0 at (0, 0) where PyTorch's forward mode gives NaN.
    edge = EDGES["atan2"]
    reverse = trace(edge.expr, _values(edge))
    for name in edge.values:
        forward = trace(edge.expr, _values(edge), mode="forward", wrt=name)
        np.testing.assert_array_equal(decode(forward["derivative"]),
                                      decode(reverse["gradients"][name]))
    assert decode(reverse["gradients"]["y"])[0] == 0.0
    assert decode(reverse["gradients"]["x"])[0] == 0.0


# Second derivatives: the rules (grad's backward pass, written with ops) at the edges, against
# create_graph=True. Overflow must not leak into them: softplus'' at +-1000 is 0, not NaN.
SECOND = {
    "softplus": ("softplus(x)", lambda x: _F().softplus(x), [1000.0, -1000.0, 0.0, 21.0, -40.0]),
    "softplus_beta": ("softplus(x, beta=2, threshold=5)",
                      lambda x: _F().softplus(x, beta=2.0, threshold=5.0), [1000.0, -1000.0, 1.0]),
    "gelu": ("gelu(x)", lambda x: _F().gelu(x), [0.0, 10.0, -10.0, -40.0, 3.0]),
    "gelu_tanh": ("gelu(x, approximate='tanh')", lambda x: _F().gelu(x, approximate="tanh"),
                  [0.0, 10.0, -10.0, -40.0, 3.0]),
    "elu": ("elu(x, alpha=2)", lambda x: _F().elu(x, alpha=2.0),
            [0.0, -1.0, 1.0, 1000.0, -1000.0, NAN]),
    "leaky_relu": ("leaky_relu(x, 0.2)", lambda x: _F().leaky_relu(x, 0.2), [0.0, -1.0, 1.0]),
    "clamp": ("clamp(x, min=0, max=1)", lambda x: T().clamp(x, 0.0, 1.0), [0.0, 1.0, 0.5, 2.0]),
    "erf": ("erf(x)", lambda x: T().erf(x), [0.0, 1.0, -30.0, 30.0]),
    "asin": ("asin(x)", lambda x: T().asin(x), [0.0, 0.5, -0.9]),
    "acos": ("acos(x)", lambda x: T().acos(x), [0.0, 0.5, -0.9]),
    "atan": ("atan(x)", lambda x: T().atan(x), [0.0, 2.0, 1e200]),
    "log10": ("log10(x)", lambda x: T().log10(x), [0.5, 3.0]),
    "log2": ("log2(x)", lambda x: T().log2(x), [0.5, 3.0]),
    "log1p": ("log1p(x)", lambda x: T().log1p(x), [0.5, 1e-20]),
    "expm1": ("expm1(x)", lambda x: T().expm1(x), [0.5, -1000.0]),
    "sinh": ("sinh(x)", lambda x: T().sinh(x), [0.5, -2.0]),
    "cosh": ("cosh(x)", lambda x: T().cosh(x), [0.5, -2.0]),
    "sign": ("sign(x) * x", lambda x: T().sign(x) * x, [0.0, -2.0, 3.0]),
    "abs": ("abs(x)", lambda x: T().abs(x), [0.0, -2.0, 3.0]),
    "where": ("where(x > 1, x * x, x * x * x)", lambda x: T().where(x > 1, x * x, x * x * x),
              [1.0, 2.0, -1.0]),
}


# Far out, gelu_tanh'' is 1 - tanh^2 = 0 in float64 here, and -6e-35 in PyTorch's formula.
TINY = 1e-30


@pytest.mark.parametrize("key", sorted(SECOND))
def test_second_derivative_matches_torch(key: str) -> None:
    torch = require_torch()
    expr, f, xs = SECOND[key]
    record = trace(f"grad(sum({expr}), x)", {"x": [_json(v) for v in xs]})
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    assert_same(decode(record["value"]), d1, f"{expr}: first derivative, by its rule")
    if d1.requires_grad:
        (d2,) = torch.autograd.grad(d1.sum(), x)
    else:
        d2 = torch.zeros_like(x)
    assert_same(decode(record["gradients"]["x"]), d2, f"{expr}: second derivative", atol=TINY)


def test_softplus_second_derivative_near_the_threshold() -> None:
    # At x = 19, softplus'' = s (1 - s) = 5.6027963747546e-9 (s = sigmoid(19)) loses digits to
    # cancellation both in PyTorch's s (1 - s) (7.7e-9 off, relatively) and in the parts'
    # u / (1 + u) - u^2 / (1 + u)^2 (1.6e-8 off): they agree to 1e-7.
    torch = require_torch()
    record = trace("grad(sum(softplus(x)), x)", {"x": [19.0, 15.0, 10.0]})
    x = torch.tensor([19.0, 15.0, 10.0], dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(torch.nn.functional.softplus(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    assert_same(decode(record["gradients"]["x"]), d2, "softplus''", rtol=1e-7)
    assert abs(decode(record["gradients"]["x"])[0] / 5.6027963747546e-9 - 1) < 2e-8


def test_atan2_second_derivatives_match_torch() -> None:
    torch = require_torch()
    values = {"y": [1.0, -2.0, 0.5], "x": [3.0, 0.5, -1.0]}
    for wrt in ("y", "x"):
        record = trace(f"grad(sum(atan2(y, x)), {wrt})", values)
        y, x = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values.values())
        d1 = torch.autograd.grad(torch.atan2(y, x).sum(), y if wrt == "y" else x,
                                 create_graph=True)[0]
        assert_same(decode(record["value"]), d1, f"d/d{wrt}")
        for name, t in (("y", y), ("x", x)):
            (d2,) = torch.autograd.grad(d1.sum(), t, retain_graph=True)
            assert_same(decode(record["gradients"][name]), d2, f"d/d{name} d/d{wrt}")


def test_comparisons_broadcast_and_take_no_gradient() -> None:
    record = trace("(a > b) * a + (a <= b) * b", {"a": [[1.0], [3.0]], "b": [2.0, 3.0, 0.5]})
    assert decode(record["value"]).tolist() == [[2.0, 3.0, 1.0], [3.0, 3.0, 3.0]]
    # Only the products carry gradient: d/da = (a > b) summed over b's axis, d/db likewise.
    assert decode(record["gradients"]["a"]).tolist() == [[1.0], [2.0]]
    assert decode(record["gradients"]["b"]).tolist() == [1.0, 2.0, 0.0]
    for name in ("gt", "lt", "ge", "le", "eq", "ne"):
        assert not REGISTRY[name].differentiable and REGISTRY[name].operator is not None


def test_sign_is_not_differentiable_and_abs_uses_it() -> None:
    assert not REGISTRY["sign"].differentiable and not REGISTRY["sign"].internal
    record = trace("grad(sum(abs(x)), x)", {"x": [-2.0, 0.0, 3.0]})
    assert decode(record["value"]).tolist() == [-1.0, 0.0, 1.0]
    assert decode(record["gradients"]["x"]).tolist() == [0.0, 0.0, 0.0]


def test_clamp_needs_a_bound() -> None:
    from gradtrace import GradtraceError

    with pytest.raises(GradtraceError) as info:
        trace("clamp(x)", {"x": 1.0})
    assert "min" in info.value.message and "max" in info.value.message


@pytest.mark.parametrize(("name", "attrs"), [
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
])
def test_composites_equal_their_fused_gradients(name: str, attrs: dict[str, Any]) -> None:
    """softplus and gelu: the composition of their parts (what the gate opens into, and what
    grad's backward pass is made of) gives the fused VJP's numbers, across both of softplus's
    branches and gelu's tails, and nothing overflows at +-1000."""
    op = resolve(name, attrs)
    assert op.compose is not None
    x = np.concatenate([np.linspace(-30.0, 30.0, 241), [-1000.0, 1000.0, 4.999, 5.001]])
    out = np.asarray(op.forward(x))
    g = np.random.default_rng(0).normal(size=x.shape)
    (fused,) = op.vjp(g, [x], out)
    tape = Tape([x, out, g])
    (part,) = op.rule(tape, 2, [0], 1, [True])
    assert part is not None
    assert np.all(np.isfinite(out[x < 1000])) and np.all(np.isfinite(fused))
    np.testing.assert_allclose(tape.values[part], fused, rtol=1e-12, atol=1e-300)
