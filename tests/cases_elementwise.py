"""Test cases for the elementwise functions and comparisons of issue 12 (see tests/cases.py).

References are written with `math`, one element at a time, as PyTorch defines each function
(softplus's threshold, gelu's tanh form, clamp with min > max, where's nonzero condition). The
generators keep operands clear of kinks, poles, branch cuts and thresholds, so that central
differences see a smooth function; the edge conventions themselves are in
tests/test_elementwise_edges.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .cases import (
    UNARY,
    Case,
    Gen,
    Shape,
    away_from_zero,
    binary,
    elementwise,
    integers,
    normal,
    positive,
    unary,
    untied,
)


def open_unit(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """In (-0.9, 0.9): inside the domain of asin and acos, clear of their poles at -1 and 1."""
    return rng.uniform(-0.9, 0.9, size=shape)


def wide(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """In (-4, 4): the tails of gelu and erf too."""
    return rng.uniform(-4.0, 4.0, size=shape)


def clear_of(*points: float, low: float = -3.0, high: float = 3.0, gap: float = 0.1) -> Gen:
    """Uniform in (low, high), moved off each point by at least `gap` (a kink, a threshold)."""
    def gen(rng: np.random.Generator, shape: Shape) -> np.ndarray:
        x = rng.uniform(low, high, size=shape)
        for p in points:
            near = np.abs(x - p) < gap
            x = np.where(near, p + np.where(x >= p, gap, -gap) * 2.0, x)
        return np.asarray(x)
    return gen


def mask(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """where's condition: mostly 0/1, with some other nonzero values (true, as c.bool())."""
    return np.asarray(rng.choice([0.0, 1.0, 1.0, 0.0, -2.5, 0.5], size=shape))


def torch_sign(v: float) -> float:
    return float((v > 0) - (v < 0))


def softplus(beta: float = 1.0, threshold: float = 20.0) -> Callable[[float], float]:
    def f(v: float) -> float:
        return v if v * beta > threshold else math.log1p(math.exp(v * beta)) / beta
    return f


def gelu(v: float) -> float:
    return v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))


def gelu_tanh(v: float) -> float:
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))


def leaky_relu(k: float) -> Callable[[float], float]:
    return lambda v: v if v > 0 else k * v


def elu(alpha: float) -> Callable[[float], float]:
    return lambda v: v if v > 0 else alpha * math.expm1(v)


def clamp(lo: float | None, hi: float | None) -> Callable[[float], float]:
    def f(v: float) -> float:
        if lo is not None:
            v = max(v, lo)
        if hi is not None:
            v = min(v, hi)
        return v
    return f


def compare(test: Callable[[float, float], bool], expr: str, ties: bool = False) -> Case:
    """a on a half-integer grid and b on the integers never tie: the mask does not jump under a
    small step. eq and ne take integers on both sides (`ties`), so that both values show: at a
    tie their mask does not jump either (a step either way leaves a != b)."""
    return binary(integers if ties else untied, integers,
                  lambda a, b: 1.0 if test(a, b) else 0.0, expr)


WHERE_SHAPES = (((), (), ()), ((3,), (3,), (3,)), ((2, 3), (2, 3), (2, 3)),
                ((2, 1), (1, 3), ()), ((3,), (2, 3), (2, 1)), ((2, 3), (), (3,)))

CASES: dict[str, Case] = {
    "log:ln": unary(positive, math.log, "ln"),
    "log10": unary(positive, math.log10, "log10"),
    "log2": unary(positive, math.log2, "log2"),
    "log1p": unary(positive, math.log1p, "log1p"),
    "expm1": unary(normal, math.expm1, "expm1"),
    "atan": unary(wide, math.atan, "atan"),
    "atan:arctan": unary(normal, math.atan, "arctan"),
    "asin": unary(open_unit, math.asin, "asin"),
    "acos": unary(open_unit, math.acos, "acos"),
    "sinh": unary(normal, math.sinh, "sinh"),
    "cosh": unary(normal, math.cosh, "cosh"),
    "erf": unary(wide, math.erf, "erf"),
    # The test_ops.py row "sign" checks it as gradient graphs use it; this one as the language's.
    "sign:language": unary(away_from_zero, torch_sign, "sign"),
    # a clear of 0, where the angle jumps by 2 pi for b < 0.
    "atan2": binary(away_from_zero, normal, math.atan2, "atan2(a, b)"),
    "softplus": unary(wide, softplus(), "softplus"),
    # Both branches: beta x = 2x above and below the threshold 5, clear of x = 2.5.
    "softplus:beta": Case((clear_of(2.5, low=-4.0, high=5.0, gap=0.2),), UNARY,
                          elementwise(softplus(2.0, 5.0)),
                          "softplus(a, beta=2, threshold=5)", {"beta": 2.0, "threshold": 5.0}),
    "softplus:threshold": Case((clear_of(1.0, gap=0.2),), UNARY, elementwise(softplus(1.0, 1.0)),
                               "softplus(a, threshold=1)", {"threshold": 1.0}),
    "gelu": unary(wide, gelu, "gelu"),
    "gelu:tanh": Case((wide,), UNARY, elementwise(gelu_tanh), "gelu(a, approximate='tanh')",
                      {"approximate": "tanh"}),
    "leaky_relu": unary(away_from_zero, leaky_relu(0.01), "leaky_relu"),
    "leaky_relu:slope": Case((away_from_zero,), UNARY, elementwise(leaky_relu(0.2)),
                             "leaky_relu(a, negative_slope=0.2)", {"negative_slope": 0.2}),
    "leaky_relu:positional": Case((away_from_zero,), UNARY, elementwise(leaky_relu(-0.5)),
                                  "leaky_relu(a, -0.5)", {"negative_slope": -0.5}),
    "elu": unary(away_from_zero, elu(1.0), "elu"),
    "elu:alpha": Case((away_from_zero,), UNARY, elementwise(elu(0.5)), "elu(a, alpha=0.5)",
                      {"alpha": 0.5}),
    "clamp": Case((clear_of(-0.5, 0.5),), UNARY, elementwise(clamp(-0.5, 0.5)),
                  "clamp(a, min=-0.5, max=0.5)", {"min": -0.5, "max": 0.5}),
    "clamp:min": Case((clear_of(0.0),), UNARY, elementwise(clamp(0.0, None)), "clamp(a, min=0)",
                      {"min": 0.0}),
    "clamp:max": Case((clear_of(1.0),), UNARY, elementwise(clamp(None, 1.0)), "clamp(a, max=1)",
                      {"max": 1.0}),
    "clamp:positional": Case((clear_of(-1.0, 2.0),), UNARY, elementwise(clamp(-1.0, 2.0)),
                             "clamp(a, -1, 2)", {"min": -1.0, "max": 2.0}),
    # min > max: everything is max, and no gradient passes (as torch.clamp).
    "clamp:crossed": Case((normal,), UNARY, elementwise(clamp(1.0, -1.0)), "clip(a, 1, -1)",
                          {"min": 1.0, "max": -1.0}),
    "where": Case((mask, normal, normal), WHERE_SHAPES,
                  elementwise(lambda c, a, b: a if c != 0 else b), "where(a, b, c)",
                  constant=(0,)),
    "gt": compare(lambda a, b: a > b, "a > b"),
    "lt": compare(lambda a, b: a < b, "a < b"),
    "ge": compare(lambda a, b: a >= b, "a >= b"),
    "le": compare(lambda a, b: a <= b, "a <= b"),
    "eq": compare(lambda a, b: a == b, "a == b", ties=True),
    "ne": compare(lambda a, b: a != b, "a != b", ties=True),
    "gt:named": compare(lambda a, b: a > b, "gt(a, b)"),
}
assert all(len(c.shapes) >= 3 for c in CASES.values())
