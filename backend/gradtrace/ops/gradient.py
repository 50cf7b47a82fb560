"""The ops only gradient graphs use: `grad(f, x)` builds f's backward pass from them.

The language cannot write them. Each has its own exact VJP, JVP and rule, so gradients of
gradients of gradients work too: the sum back over broadcast axes (`sum_to`) and its transpose,
masks and indicators whose own derivative is zero (as PyTorch's comparisons), and the two halves of
matmul's VJP, each bilinear (conv2d's live beside it in tensor.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .core import (
    Array,
    Op,
    Shape,
    ShapeError,
    broadcast_shape,
    fmt_shape,
    no_gradient,
    register,
    same_shape,
    scalar_shape,
    total,
    unbroadcast,
)
from .tensor import matmul_cost, matmul_shape

# ---------------------------------------------------------------------------------------------
# The ops only gradient graphs use (not in the language). Their own VJPs and JVPs are exact, and
# each has a rule below, so gradients of gradients of gradients work too.

def _zeros(x: Array) -> Array:
    return np.zeros(np.shape(x))


def _ref_shape(symbol: str) -> Callable[[Sequence[Shape]], Shape]:
    """`sum_to(g, r)` takes the shape of r, `broadcast_like(a, r)` the broadcast of the two (r's
    where a fits into it, as gradient graphs use it); the two must broadcast."""
    def rule(shapes: Sequence[Shape]) -> Shape:
        a, r = shapes
        try:
            both = tuple(np.broadcast_shapes(a, r))
        except ValueError:
            raise ShapeError(f"{symbol}: shapes {fmt_shape(a)} and {fmt_shape(r)} do not "
                             "broadcast") from None
        return r if symbol == "sum_to" else both
    return rule


def _sum_to(g: Array, ref: Array) -> Array:
    return np.asarray(unbroadcast(np.broadcast_to(g, np.broadcast_shapes(g.shape, ref.shape)),
                                  ref.shape), dtype=np.float64).reshape(ref.shape)


def _broadcast_like(a: Array, ref: Array) -> Array:
    shape = np.broadcast_shapes(a.shape, ref.shape)
    return np.broadcast_to(a, shape).copy()


register(Op(
    "sum_to", 2, "sum_to", _ref_shape("sum_to"), _sum_to,
    lambda g, args, out: (_broadcast_like(g, args[0]), _zeros(args[1])),
    jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None else _sum_to(t[0], args[1])),
    tex=lambda s: f"\\operatorname{{sum\\_to}}({s[0]}; {s[1]})",
    local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),
    vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}(d{z})",
             lambda s, z: f"d{s[1]} = 0"),
    elementwise=False,
    doc="Sums the first operand over the axes broadcasting added to reach the shape of the second "
    "(which gives only its shape): the engine's sum-back of a broadcast, as a node.",
    rule=lambda b, g, args, out, needs: (b.op("broadcast_like", g, args[0]), None),
    internal=True,
))
register(Op(
    "broadcast_like", 2, "bcast", _ref_shape("broadcast_like"), _broadcast_like,
    lambda g, args, out: (_sum_to(g, args[0]), _zeros(args[1])),
    jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                              else _broadcast_like(t[0], args[1])),
    tex=lambda s: f"\\operatorname{{broadcast}}({s[0]}; {s[1]})",
    local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),
    vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{sum\\_to}}(d{z})",
             lambda s, z: f"d{s[1]} = 0"),
    elementwise=False,
    doc="Repeats the first operand to the shape of the second (which gives only its shape).",
    rule=lambda b, g, args, out, needs: (b.op("sum_to", g, args[0]), None),
    internal=True,
))


def _indicator(name: str, symbol: str, arity: int, forward: Callable[..., Array],
               tex: Callable[[Sequence[str]], str], doc: str) -> None:
    """An op with derivative zero wherever it is defined: its output needs no gradient."""
    register(Op(
        name, arity, symbol, broadcast_shape(symbol) if arity == 2 else same_shape, forward,
        lambda g, args, out: tuple(_zeros(a) for a in args),
        jvp=lambda t, args, out: np.zeros(out.shape),
        rule=no_gradient,
        tex=tex, local_tex=tuple(lambda s: "0" for _ in range(arity)),
        doc=doc, internal=True, differentiable=False,
    ))


_indicator("relu_mask", "1[>0]", 1, lambda x: np.where(x <= 0, 0.0, 1.0),
           lambda s: f"\\mathbb{{1}}[{s[0]} > 0]",
           "relu'(x) as PyTorch: 0 where x <= 0, 1 elsewhere (NaN included).")
# sign (abs'(x): -1, 0 or 1) is a language op now, in elementwise.py.
_indicator("max_share", "share", 2,
           lambda a, b: np.where(a < b, 0.0, np.where(a == b, 0.5, 1.0)),
           lambda s: f"\\mathbb{{1}}[{s[0]} > {s[1]}] + \\tfrac{{1}}{{2}}\\mathbb{{1}}"
           f"[{s[0]} = {s[1]}]",
           "d max(a, b)/da: 1 where a wins, 1/2 on a tie, 0 where a loses.")
_indicator("min_share", "share", 2,
           lambda a, b: np.where(a > b, 0.0, np.where(a == b, 0.5, 1.0)),
           lambda s: f"\\mathbb{{1}}[{s[0]} < {s[1]}] + \\tfrac{{1}}{{2}}\\mathbb{{1}}"
           f"[{s[0]} = {s[1]}]",
           "d min(a, b)/da: 1 where a wins, 1/2 on a tie, 0 where a loses.")
_indicator("nonzero", "1[≠0]", 1, lambda b: np.where(b == 0, 0.0, 1.0),
           lambda s: f"\\mathbb{{1}}[{s[0]} \\neq 0]",
           "The mask of pow's base gradient: PyTorch gives 0 where the exponent is 0.")
_indicator("pow_exp_mask", "mask", 2,
           lambda a, b: np.where((a == 0) & (b >= 0), 0.0, 1.0),
           lambda s: f"\\mathbb{{1}}[{s[0]} \\neq 0 \\lor {s[1]} < 0]",
           "The mask of pow's exponent gradient: PyTorch gives 0 where the base is 0 and the "
           "exponent >= 0.")
_indicator("zeros_like", "0", 1, _zeros, lambda s: f"\\mathbf{{0}}_{{{s[0]}}}",
           "Zeros of the operand's shape: the gradient of what does not depend on the input.")
register(Op(
    "count", 1, "n", scalar_shape, lambda x: np.asarray(float(np.size(x))),
    lambda g, args, out: (_zeros(args[0]),),
    jvp=lambda t, args, out: np.zeros(()),
    rule=no_gradient,
    tex=lambda s: f"\\#{s[0]}", local_tex=(lambda s: "0",), elementwise=False,
    doc="The number of elements (mean's n).", internal=True, differentiable=False,
))


def _masked(g: Array, w: Array) -> Array:
    # g * w, but exactly 0 where w is 0 even if g is infinite or NaN: PyTorch's where(mask, g, 0).
    return np.where(w != 0, g * w, 0.0)


register(Op(
    "masked", 2, "⊙", broadcast_shape("masked"), _masked,
    # d/dg = w (exactly 0 where w is 0), d/dw = g: the product's rule. (In gradient graphs w is
    # always an indicator, which needs no gradient, so the second is never asked for there.)
    lambda h, args, out: (_masked(h, args[1]), h * args[0]),
    jvp=lambda t, args, out: total(out, None if t[0] is None else _masked(t[0], args[1]),
                                    None if t[1] is None else t[1] * args[0]),
    tex=lambda s: f"{s[0]} \\odot {s[1]}",
    local_tex=(lambda s: s[1], lambda s: s[0]),
    doc="The first operand times a mask or weight (the second), exactly 0 where the weight is 0 "
    "even if the first operand is infinite: PyTorch's where(mask, g, 0).",
    rule=lambda b, g, args, out, needs: (
        b.op("masked", g, args[1]) if needs[0] else None,
        b.op("mul", g, args[0]) if needs[1] else None),
    internal=True,
))


def _same_row(shapes: Sequence[Shape]) -> Shape:
    return (*shapes[0][:-1], 1) if shapes[0] else ()


def _rowsum(x: Array) -> Array:
    return x.copy() if x.ndim == 0 else np.sum(x, axis=-1, keepdims=True)


register(Op(
    "rowsum", 1, "Σ₋₁", _same_row, _rowsum,
    lambda g, args, out: (np.broadcast_to(g, args[0].shape).copy(),),
    jvp=lambda t, args, out: np.zeros(out.shape) if t[0] is None else _rowsum(t[0]),
    tex=lambda s: f"\\textstyle\\sum_{{-1}} {s[0]}",
    local_tex=(lambda s: "\\mathbf{1}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}(d{z})",),
    elementwise=False,
    doc="Sums along the last axis, keeping it (length 1): softmax's <g, s>.",
    rule=lambda b, g, args, out, needs: (b.op("broadcast_like", g, args[0]),),
    internal=True,
))


# The two halves of matmul's VJP as ops of their own: dA = dZ B^T (summed back to A's shape; A
# gives only its shape) and dB = A^T dZ. Each is bilinear, and its own VJP is made of matmul and the
# other half: <H, dZ B^T> is differentiated by dZ as H B and by B as H^T dZ.

def _promoted(g: Array, a_shape: Shape, b_shape: Shape) -> tuple[Shape, Shape, Array]:
    a2 = (1, *a_shape) if len(a_shape) == 1 else a_shape
    b2 = (*b_shape, 1) if len(b_shape) == 1 else b_shape
    batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    return a2, b2, g.reshape((*batch, a2[-2], b2[-1]))


def _matmul_da(g: Array, b: Array, a: Array) -> Array:
    a2, b2, g2 = _promoted(g, a.shape, b.shape)
    return np.asarray(unbroadcast(g2 @ np.swapaxes(b.reshape(b2), -1, -2), a2)).reshape(a.shape)


def _matmul_db(a: Array, g: Array, b: Array) -> Array:
    a2, b2, g2 = _promoted(g, a.shape, b.shape)
    return np.asarray(unbroadcast(np.swapaxes(a.reshape(a2), -1, -2) @ g2, b2)).reshape(b.shape)


def _check_product(a: Shape, b: Shape, g: Shape, symbol: str) -> None:
    if matmul_shape([a, b]) != g:
        raise ShapeError(f"{symbol}: a gradient of shape {fmt_shape(g)} does not fit "
                         f"{fmt_shape(a)} @ {fmt_shape(b)}")


def _da_shape(shapes: Sequence[Shape]) -> Shape:
    g, b, a = shapes
    _check_product(a, b, g, "matmul_da")
    return a


def _db_shape(shapes: Sequence[Shape]) -> Shape:
    a, g, b = shapes
    _check_product(a, b, g, "matmul_db")
    return b


register(Op(
    "matmul_da", 3, "dA", _da_shape, _matmul_da,
    lambda h, args, out: (np.matmul(h, args[1]), _matmul_db(h, args[0], args[1]),
                          _zeros(args[2])),
    jvp=lambda t, args, out: total(
        out, None if t[0] is None else _matmul_da(t[0], args[1], args[2]),
        None if t[1] is None else _matmul_da(args[0], t[1], args[2])),
    tex=lambda s: f"{s[0]}\\,{s[1]}^{{\\top}}",
    local_tex=(lambda s: f"{s[1]}^{{\\top}}", lambda s: s[0], lambda s: "0"),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z}\\,{s[1]}",
             lambda s, z: f"d{s[1]} = (d{z})^{{\\top}}\\,{s[0]}",
             lambda s, z: f"d{s[2]} = 0"),
    elementwise=False,
    doc="matmul's VJP for its left operand, dA = dZ B^T (the third operand gives A's shape).",
    cost=lambda shapes: matmul_cost([shapes[2], shapes[1]]),
    rule=lambda b, g, args, out, needs: (
        b.op("matmul", g, args[1]) if needs[0] else None,
        b.op("matmul_db", g, args[0], args[1]) if needs[1] else None, None),
    internal=True,
))
register(Op(
    "matmul_db", 3, "dB", _db_shape, _matmul_db,
    lambda h, args, out: (_matmul_da(args[1], h, args[0]), np.matmul(args[0], h),
                          _zeros(args[2])),
    jvp=lambda t, args, out: total(
        out, None if t[0] is None else _matmul_db(t[0], args[1], args[2]),
        None if t[1] is None else _matmul_db(args[0], t[1], args[2])),
    tex=lambda s: f"{s[0]}^{{\\top}}\\,{s[1]}",
    local_tex=(lambda s: s[1], lambda s: f"{s[0]}^{{\\top}}", lambda s: "0"),
    vjp_tex=(lambda s, z: f"d{s[0]} = {s[1]}\\,(d{z})^{{\\top}}",
             lambda s, z: f"d{s[1]} = {s[0]}\\,d{z}",
             lambda s, z: f"d{s[2]} = 0"),
    elementwise=False,
    doc="matmul's VJP for its right operand, dB = A^T dZ (the third operand gives B's shape).",
    cost=lambda shapes: matmul_cost([shapes[0], shapes[2]]),
    rule=lambda b, g, args, out, needs: (
        b.op("matmul_da", args[1], g, args[0]) if needs[0] else None,
        b.op("matmul", args[0], g) if needs[1] else None, None),
    internal=True,
))

