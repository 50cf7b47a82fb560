"""Reductions: sum, mean, and softmax along the last axis.

Their VJPs broadcast the upstream gradient back over the reduced axes (softmax's: s * (g - <g, s>)),
never a dense Jacobian.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .core import (
    Array,
    Builder,
    CodeArgs,
    Op,
    OpCode,
    OperandTangents,
    Spellings,
    register,
    same_shape,
    scalar_shape,
    total,
)


def _softmax_code(c: CodeArgs) -> str:
    # g J = s * (g - <g, s>) along the last axis; a scalar's softmax is the constant 1.
    if c.out_shape == ():
        return f"np.zeros_like({c.g})"
    return f"{c.out} * ({c.g} - np.sum({c.g} * {c.out}, axis=-1, keepdims=True))"


_SOFTMAX_NUMPY = '''
def softmax(x):
    """Along the last axis, shifted by the row's maximum so that exp cannot overflow."""
    if np.ndim(x) == 0:
        return np.ones_like(x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''


# ---------------------------------------------------------------------------------------------


def _sum_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return (np.broadcast_to(g, args[0].shape).copy(),)


def _sum_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return total(out, None if t[0] is None else np.asarray(np.sum(t[0])))


register(Op(
    "sum", 1, "Σ", scalar_shape, lambda x: np.asarray(np.sum(x)), _sum_vjp, jvp=_sum_jvp,
    tex=lambda s: f"\\sum {s[0]}",
    local_tex=(lambda s: "1",),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\cdot \\mathbf{{1}}",),
    gate="distributes",
    elementwise=False,
    code=OpCode("np.sum({0})", "torch.sum({0})", ("np.full_like({0}, {g})",),
                tangent=("np.sum({g})",)),
    rule=lambda b, g, args, out, needs: (b.op("broadcast_like", g, args[0]),),
    spellings=Spellings(("numpy.sum",), ("torch.sum",), ("tf.math.reduce_sum",), ("\\sum",)),
))


def _mean_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    x = args[0]
    return (np.broadcast_to(g / max(x.size, 1), x.shape).copy(),)


def _mean_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return total(out, None if t[0] is None else np.asarray(np.sum(t[0]) / max(t[0].size, 1)))


register(Op(
    "mean", 1, "mean", scalar_shape, lambda x: np.asarray(np.mean(x)), _mean_vjp, jvp=_mean_jvp,
    tex=lambda s: f"\\operatorname{{mean}} {s[0]}",
    local_tex=(lambda s: "\\frac{1}{n}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = \\frac{{d{z}}}{{n}} \\mathbf{{1}}",),
    elementwise=False,
    code=OpCode("np.mean({0})", "torch.mean({0})", ("np.full_like({0}, {g} / {0}.size)",),
                tangent=("np.mean({g})",)),
    rule=lambda b, g, args, out, needs: (
        b.op("broadcast_like", b.op("div", g, b.op("count", args[0])), args[0]),),
    spellings=Spellings(("numpy.mean",), ("torch.mean",), ("tf.math.reduce_mean",)),
))


def _softmax(x: Array) -> Array:
    if x.ndim == 0:
        return np.ones_like(x)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    out: Array = e / np.sum(e, axis=-1, keepdims=True)
    return out


def _softmax_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # J = diag(s) - s s^T, so g J = s * (g - <g, s>) along the last axis.
    if out.ndim == 0:
        return (np.zeros_like(g),)
    return (out * (g - np.sum(g * out, axis=-1, keepdims=True)),)


def _softmax_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # J t = s * t - s <s, t> along the last axis (J is symmetric: the VJP's rule).
    tx = t[0]
    if tx is None or out.ndim == 0:
        return np.zeros(out.shape)
    return total(out, out * (tx - np.sum(tx * out, axis=-1, keepdims=True)))


def _softmax_rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                  ) -> Sequence[int | None]:
    # s * (g - <g, s>) along the last axis
    return (b.op("mul", out, b.op("sub", g, b.op("rowsum", b.op("mul", g, out)))),)


register(Op(
    "softmax", 1, "softmax", same_shape, _softmax, _softmax_vjp, jvp=_softmax_jvp,
    tex=lambda s: f"\\operatorname{{softmax}}({s[0]})",
    local_tex=(lambda s: "\\operatorname{diag}(s) - s s^{\\top}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = {z} \\odot (d{z} - \\langle d{z}, {z} \\rangle)",),
    elementwise=False,
    doc="Along the last axis.",
    code=OpCode("softmax({0})", "torch.softmax({0}, dim=-1)", (_softmax_code,),
                numpy_helper=_SOFTMAX_NUMPY),
    rule=_softmax_rule,
    spellings=Spellings((), ("torch.softmax", "torch.nn.functional.softmax"),
                        ("tf.nn.softmax", "tf.math.softmax"), ("\\operatorname{softmax}",)),
))


