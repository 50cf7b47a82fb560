"""What the op tests are made of: a `Case` (operand generators, shapes, an independent reference,
how the language writes the op, its attributes), generators of operand values, and references
written in loops and `math`.

tests/test_ops.py gathers the cases: its own for the first ops, and one module per family of ops
(tests/cases_*.py), each a `CASES` dict keyed by op name or `name:variant`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int, ...]
Gen = Callable[[np.random.Generator, Shape], np.ndarray]


def normal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.normal(size=shape)


def positive(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


def away_from_zero(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """|x| in [0.2, 2]: clear of the kinks of relu and abs, and of the pole of 1/x."""
    return np.asarray(rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape))


def small(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=shape)


# Elementwise references, one element at a time with `math`.
def elementwise(f: Callable[..., float]) -> Callable[..., np.ndarray]:
    def ref(*args: np.ndarray) -> np.ndarray:
        b = np.broadcast_arrays(*args)
        out = np.empty(b[0].shape)
        for idx in np.ndindex(out.shape):
            out[idx] = f(*(float(a[idx]) for a in b))
        return out
    return ref


def ref_softmax(x: np.ndarray) -> np.ndarray:
    if x.ndim == 0:
        return np.ones(())
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape[:-1]):
        row = [float(v) for v in x[idx]]
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        out[idx] = [v / sum(exps) for v in exps]
    return out


def ref_transpose(x: np.ndarray) -> np.ndarray:
    out = np.empty(tuple(reversed(x.shape)))
    for idx in np.ndindex(x.shape):
        out[tuple(reversed(idx))] = x[idx]
    return out


def ref_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    A = np.broadcast_to(a2, (*batch, *a2.shape[-2:]))
    B = np.broadcast_to(b2, (*batch, *b2.shape[-2:]))
    n, k, m = a2.shape[-2], a2.shape[-1], b2.shape[-1]
    out = np.zeros((*batch, n, m))
    for bi in np.ndindex(batch):
        for i, j in itertools.product(range(n), range(m)):
            out[(*bi, i, j)] = math.fsum(A[(*bi, i, p)] * B[(*bi, p, j)] for p in range(k))
    shape = (*batch, *((n,) if a.ndim > 1 else ()), *((m,) if b.ndim > 1 else ()))
    return out.reshape(shape)


def ref_conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """tf.nn.conv2d, stride 1, VALID, in loops: out[n,i,j,o] = sum x[n,i+p,j+q,c] w[p,q,c,o]."""
    if x.ndim == 2:
        return ref_conv2d(x[None, :, :, None], w[:, :, None, None])[0, :, :, 0]
    n, h, wd, c = x.shape
    kh, kw, _, co = w.shape
    out = np.zeros((n, h - kh + 1, wd - kw + 1, co))
    for b, i, j, o in np.ndindex(out.shape):
        out[b, i, j, o] = math.fsum(x[b, i + p, j + q, ch] * w[p, q, ch, o]
                                    for p in range(kh) for q in range(kw) for ch in range(c))
    return out


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


@dataclass(frozen=True)
class Case:
    gens: tuple[Gen, ...]
    shapes: tuple[tuple[Shape, ...], ...]
    reference: Callable[..., np.ndarray]
    expr: str | None  # how the language writes it, in operands a, b, c (None: grad graphs only)
    attrs: dict[str, Any] = field(default_factory=dict)  # the op's attributes for these rows
    # Operands that take no gradient (integer labels, indices): not perturbed by the checks.
    constant: tuple[int, ...] = ()
    # The edge values tests/test_torch_reference.py puts among the operands (an op whose PyTorch
    # reference refuses some, as binary_cross_entropy refuses probabilities outside [0, 1],
    # lists those it takes).
    edges: tuple[float, ...] = (0.0, math.inf, -math.inf, math.nan)


BROADCAST = (((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((3, 1), (1, 4)), ((), (2, 3)),
             ((2, 3), ()), ((4,), (2, 4)), ((2, 1, 3), (4, 1)))
UNARY = (((),), ((3,),), ((2, 3),), ((2, 2, 3),))


def binary(gen_a: Gen, gen_b: Gen, f: Callable[[float, float], float], expr: str) -> Case:
    return Case((gen_a, gen_b), BROADCAST, elementwise(f), expr)


def unary(gen: Gen, f: Callable[[float], float], name: str) -> Case:
    return Case((gen,), UNARY, elementwise(f), f"{name}(a)")


def untied(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Values on a grid of spacing 1 shifted by 0.5 from the other operand's (no ties)."""
    return rng.integers(-3, 4, size=shape).astype(float) + 0.5


def integers(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.integers(-3, 4, size=shape).astype(float)


def by_linearity(f: Callable[[np.ndarray], np.ndarray], g: np.ndarray, shape: Shape
                 ) -> np.ndarray:
    """d <g, f(A)> / dA for f linear in A: <g, f(e_i)> for each unit A = e_i, summed exactly."""
    out = np.zeros(shape)
    for idx in np.ndindex(shape):
        e = np.zeros(shape)
        e[idx] = 1.0
        out[idx] = math.fsum((g * f(e)).reshape(-1))
    return out
