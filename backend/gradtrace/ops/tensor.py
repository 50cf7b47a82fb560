"""Tensor ops: transpose, dot, matmul, conv2d.

Their VJPs are the matrix forms of the lecture notes (dA = dZ B^T, dB = A^T dZ; a convolution's
input gradient is a full convolution with the flipped kernel), never a dense Jacobian.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .core import (
    Array,
    Builder,
    CodeArgs,
    Op,
    OpCode,
    OperandTangents,
    Rule,
    Shape,
    ShapeError,
    Spellings,
    fmt_shape,
    register,
    total,
    unbroadcast,
)
from .elementwise import mul_vjp


def _matmul_code(i: int) -> Callable[[CodeArgs], str]:
    # dA = dZ B^T, dB = A^T dZ; for a vector operand the outer product takes the place of the
    # matrix product; batched operands go through a helper that sums broadcast batches back.
    def code(c: CodeArgs) -> str:
        a, b = c.args
        ra, rb = len(c.shapes[0]), len(c.shapes[1])
        if (ra, rb) == (2, 2):
            return f"{c.g} @ {b}.T" if i == 0 else f"{a}.T @ {c.g}"
        if (ra, rb) == (1, 1):
            return f"{c.g} * {b}" if i == 0 else f"{c.g} * {a}"
        if (ra, rb) == (2, 1):
            return f"np.outer({c.g}, {b})" if i == 0 else f"{a}.T @ {c.g}"
        if (ra, rb) == (1, 2):
            return f"{b} @ {c.g}" if i == 0 else f"np.outer({a}, {c.g})"
        return f"matmul_grads({c.g}, {a}, {b})[{i}]"

    return code


_MATMUL_NUMPY = '''
def matmul_grads(g, a, b):
    """dA = dZ B^T and dB = A^T dZ for vectors (promoted to matrices as np.matmul does) and
    batches (summed back over the batch axes that broadcasting added or stretched)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = np.reshape(g, (*batch, a2.shape[-2], b2.shape[-1]))
    da = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape)
    db = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape)
    return np.reshape(da, a.shape), np.reshape(db, b.shape)
'''

_CONV2D_NUMPY = '''
def conv2d(x, w):
    """Cross-correlation, stride 1, no padding (tf.nn.conv2d, VALID):
    out[i, j] = sum_pq x[i+p, j+q] w[p, q]; an NHWC input with an HWIO kernel sums over the
    input channels too."""
    if x.ndim == 2:
        return conv2d(x[None, :, :, None], w[:, :, None, None])[0, :, :, 0]
    kh, kw = w.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for p in range(kh):
        for q in range(kw):
            out += x[:, p:p + oh, q:q + ow, :] @ w[p, q]
    return out


def conv2d_grad_x(g, x, w):
    """dX[i+p, j+q] += dZ[i, j] w[p, q]: a full convolution of dZ with the flipped kernel."""
    if x.ndim == 2:
        return conv2d_grad_x(g[None, :, :, None], x[None, :, :, None],
                             w[:, :, None, None])[0, :, :, 0]
    dx = np.zeros_like(x)
    kh, kw = w.shape[:2]
    oh, ow = g.shape[1:3]
    for p in range(kh):
        for q in range(kw):
            dx[:, p:p + oh, q:q + ow, :] += g @ w[p, q].T
    return dx


def conv2d_grad_w(g, x, w):
    """dW[p, q] = sum_ij x[i+p, j+q] dZ[i, j]: a correlation of the input with dZ."""
    if x.ndim == 2:
        return conv2d_grad_w(g[None, :, :, None], x[None, :, :, None],
                             w[:, :, None, None])[:, :, 0, 0]
    dw = np.zeros_like(w)
    kh, kw = w.shape[:2]
    oh, ow = g.shape[1:3]
    for p in range(kh):
        for q in range(kw):
            dw[p, q] = np.tensordot(x[:, p:p + oh, q:q + ow, :], g, axes=([0, 1, 2], [0, 1, 2]))
    return dw
'''

_CONV2D_TORCH = '''
def conv2d(x, w):
    """tf.nn.conv2d (VALID) in PyTorch's layout: NHWC -> NCHW and HWIO -> OIHW, and back."""
    if x.ndim == 2:
        return torch.nn.functional.conv2d(x[None, None], w[None, None])[0, 0]
    out = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1))
    return out.permute(0, 2, 3, 1)
'''


# ---------------------------------------------------------------------------------------------
# Reductions and tensor ops


register(Op(
    "transpose", 1, "ᵀ", lambda shapes: tuple(reversed(shapes[0])),
    lambda x: np.transpose(x).copy(),  # not ascontiguousarray: it makes a scalar a (1,) vector
    lambda g, args, out: (np.transpose(g),),
    jvp=lambda t, args, out: total(out, None if t[0] is None else np.transpose(t[0])),
    tex=lambda s: f"{s[0]}^{{\\top}}",
    local_tex=(lambda s: "P_{\\top}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = (d{z})^{{\\top}}",),
    elementwise=False,
    doc="Reverses the axes (a matrix transpose; a vector or scalar is unchanged).",
    code=OpCode("np.transpose({0})", "torch.permute({0}, tuple(range({0}.ndim - 1, -1, -1)))",
                ("np.transpose({g})",)),
    rule=lambda b, g, args, out, needs: (b.op("transpose", g),),
    spellings=Spellings(("numpy.transpose",), ("torch.t", "torch.permute"),
                        ("tf.transpose",), ("\\top", "^T")),
))


def _dot_shape(shapes: Sequence[Shape]) -> Shape:
    a, b = shapes
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(
            f"dot takes two vectors, got shapes {fmt_shape(a)} and {fmt_shape(b)} "
            "(use @ or matmul for matrices)"
        )
    if a != b:
        raise ShapeError(f"dot needs vectors of the same length, got {a[0]} and {b[0]}")
    return ()


def _dot_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    ta, tb = t
    return total(out, None if ta is None else np.asarray(np.dot(ta, b)),
                  None if tb is None else np.asarray(np.dot(a, tb)))


register(Op(
    # The VJP of a . b is the product's: g b and g a (g is a number).
    "dot", 2, "·", _dot_shape, lambda a, b: np.asarray(np.dot(a, b)), mul_vjp, jvp=_dot_jvp,
    tex=lambda s: f"{s[0]} \\cdot {s[1]}",
    local_tex=(lambda s: f"{s[1]}^{{\\top}}", lambda s: f"{s[0]}^{{\\top}}"),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z}\\,{s[1]}", lambda s, z: f"d{s[1]} = d{z}\\,{s[0]}"),
    gate="swaps",
    elementwise=False,
    code=OpCode("np.dot({0}, {1})", "torch.dot({0}, {1})", ("{g} * {1}", "{g} * {0}"),
                tangent=("np.dot({g}, {1})", "np.dot({0}, {g})")),
    rule=lambda b, g, args, out, needs: (b.op("mul", g, args[1]) if needs[0] else None,
                                         b.op("mul", g, args[0]) if needs[1] else None),
    spellings=Spellings(("numpy.dot", "numpy.vdot"), ("torch.dot",), ("tf.tensordot",)),
))


def matmul_shape(shapes: Sequence[Shape]) -> Shape:
    a, b = shapes
    if len(a) == 0 or len(b) == 0:
        raise ShapeError(
            f"'@' needs vectors or matrices, got shapes {fmt_shape(a)} and {fmt_shape(b)} "
            "(use * to multiply by a scalar)"
        )
    k_left = a[-1]
    k_right = b[0] if len(b) == 1 else b[-2]
    if k_left != k_right:
        raise ShapeError(
            f"'@' cannot multiply shapes {fmt_shape(a)} and {fmt_shape(b)}: the left operand "
            f"has {k_left} columns but the right one has {k_right} rows"
        )
    batch_a, batch_b = a[:-2], b[:-2]
    try:
        batch = tuple(np.broadcast_shapes(batch_a, batch_b))
    except ValueError:
        raise ShapeError(
            f"'@' cannot broadcast the batch axes of {fmt_shape(a)} and {fmt_shape(b)}"
        ) from None
    rows = (a[-2],) if len(a) >= 2 else ()
    cols = (b[-1],) if len(b) >= 2 else ()
    return batch + rows + cols


def matmul_cost(shapes: Sequence[Shape]) -> tuple[int, int]:
    # The VJP forms dZ B^T and A^T dZ over the broadcast batch before summing it back to each
    # operand's own batch: (447,1,1,447) @ (1,447,447,1) makes a 447x447x447 intermediate.
    a, b = shapes
    rows = a[-2] if len(a) >= 2 else 1
    cols = b[-1] if len(b) >= 2 else 1
    k = a[-1]
    batch = math.prod(np.broadcast_shapes(a[:-2], b[:-2]))
    return batch * rows * k * cols, batch * max(rows * k, k * cols)


def _matmul_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    # Promote vectors to matrices as np.matmul does, then dA = dZ B^T and dB = A^T dZ.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = tuple(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]))
    g2 = g.reshape((*batch, a2.shape[-2], b2.shape[-1]))
    ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
    gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
    return ga, gb


def _matmul_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # Bilinear: dZ = dA B + A dB (np.matmul promotes vectors and broadcasts batches as forward).
    a, b = args
    ta, tb = t
    return total(out, None if ta is None else np.matmul(ta, b),
                  None if tb is None else np.matmul(a, tb))


def _halves(da: str, db: str) -> Rule:
    """matmul and conv2d: each operand's part is a VJP half, an op of its own (gradient.py)."""
    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x, w = args
        if da == "matmul_da":
            return (b.op(da, g, w, x) if needs[0] else None,
                    b.op(db, x, g, w) if needs[1] else None)
        return (b.op(da, g, w) if needs[0] else None, b.op(db, x, g) if needs[1] else None)
    return rule


register(Op(
    "matmul", 2, "@", matmul_shape, np.matmul, _matmul_vjp, jvp=_matmul_jvp,
    tex=lambda s: f"{s[0]}\\,{s[1]}",
    local_tex=(lambda s: f"{s[1]}^{{\\top}}", lambda s: f"{s[0]}^{{\\top}}"),
    vjp_tex=(
        lambda s, z: f"d{s[0]} = d{z}\\,{s[1]}^{{\\top}}",
        lambda s, z: f"d{s[1]} = {s[0]}^{{\\top}}\\,d{z}",
    ),
    elementwise=False,
    cost=matmul_cost,
    code=OpCode("{0} @ {1}", "{0} @ {1}", (_matmul_code(0), _matmul_code(1)),
                tangent=("{g} @ {1}", "{0} @ {g}"), numpy_helper=_MATMUL_NUMPY),
    rule=_halves("matmul_da", "matmul_db"),
    spellings=Spellings(("numpy.matmul",), ("torch.matmul", "torch.mm"), ("tf.linalg.matmul",)),
    operator="@",
))


def _conv2d_shape(shapes: Sequence[Shape]) -> Shape:
    x, w = shapes
    if len(x) == 2 and len(w) == 2:
        h, wd = x
        kh, kw = w
        if kh > h or kw > wd:
            raise ShapeError(
                f"conv2d: the kernel {fmt_shape(w)} is larger than the input {fmt_shape(x)}"
            )
        return (h - kh + 1, wd - kw + 1)
    if len(x) == 4 and len(w) == 4:
        n, h, wd, c = x
        kh, kw, cin, cout = w
        if cin != c:
            raise ShapeError(
                f"conv2d: the input has {c} channels but the kernel {fmt_shape(w)} expects {cin} "
                "(input NHWC, kernel HWIO as in tf.nn.conv2d)"
            )
        if kh > h or kw > wd:
            raise ShapeError(
                f"conv2d: the kernel {fmt_shape(w)} is larger than the input {fmt_shape(x)}"
            )
        return (n, h - kh + 1, wd - kw + 1, cout)
    raise ShapeError(
        f"conv2d takes a matrix and a kernel matrix, or an NHWC tensor and an HWIO kernel; "
        f"got shapes {fmt_shape(x)} and {fmt_shape(w)}"
    )


def conv2d_cost(shapes: Sequence[Shape]) -> tuple[int, int]:
    # Each output element sums over the kernel (and its input channels); the passes loop over
    # the kernel's positions in Python, each worth about 2,000 multiply-adds of overhead.
    x, w = shapes
    out = _conv2d_shape(shapes)
    per_output = math.prod(w[:-1]) if len(w) == 4 else math.prod(w)
    positions = w[0] * w[1]
    return math.prod(out) * per_output + 2_000 * positions, math.prod(x)


def conv2d_valid(x: Array, w: Array) -> Array:
    # Cross-correlation, stride 1, VALID: out[i, j] = sum_{p,q} x[i+p, j+q] w[p, q].
    # Looping over the (small) kernel keeps each step one vectorised multiply-add.
    if x.ndim == 2:
        kh, kw = w.shape
        oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
        out = np.zeros((oh, ow))
        for p in range(kh):
            for q in range(kw):
                out += w[p, q] * x[p:p + oh, q:q + ow]
        return out
    kh, kw, _, cout = w.shape
    n, h, wd, _ = x.shape
    oh, ow = h - kh + 1, wd - kw + 1
    out = np.zeros((n, oh, ow, cout))
    for p in range(kh):
        for q in range(kw):
            out += x[:, p:p + oh, q:q + ow, :] @ w[p, q]
    return out


def _conv2d_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # dX[i+p, j+q] += g[i, j] w[p, q]   (a full convolution with the flipped kernel)
    # dW[p, q]      = sum_{i,j} x[i+p, j+q] g[i, j]   (a correlation of x with g)
    x, w = args
    gx = np.zeros_like(x)
    gw = np.zeros_like(w)
    if x.ndim == 2:
        kh, kw = w.shape
        oh, ow = g.shape
        for p in range(kh):
            for q in range(kw):
                gx[p:p + oh, q:q + ow] += g * w[p, q]
                gw[p, q] = np.sum(g * x[p:p + oh, q:q + ow])
        return gx, gw
    kh, kw = w.shape[:2]
    oh, ow = g.shape[1:3]
    for p in range(kh):
        for q in range(kw):
            gx[:, p:p + oh, q:q + ow, :] += g @ w[p, q].T
            # A sum over n, h, w of products of x's channel vectors and g's. With many channels
            # one BLAS product (tensordot) is far faster than einsum; with few, the product is a
            # long thin dot that BLAS handles badly (up to 40 ns a multiply-add) and einsum well.
            xs = x[:, p:p + oh, q:q + ow, :]
            gw[p, q] = (np.tensordot(xs, g, axes=([0, 1, 2], [0, 1, 2])) if gw[p, q].size >= 16
                        else np.einsum("nhwc,nhwo->co", xs, g))
    return gx, gw


def _conv2d_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # Bilinear: d conv2d(X, W) = conv2d(dX, W) + conv2d(X, dW).
    x, w = args
    tx, tw = t
    return total(out, None if tx is None else conv2d_valid(tx, w),
                  None if tw is None else conv2d_valid(x, tw))


register(Op(
    "conv2d", 2, "conv2d", _conv2d_shape, conv2d_valid, _conv2d_vjp, jvp=_conv2d_jvp,
    tex=lambda s: f"\\operatorname{{conv2d}}({s[0]}, {s[1]})",
    local_tex=(lambda s: s[1], lambda s: s[0]),
    vjp_tex=(
        lambda s, z: f"d{s[0]} = \\operatorname{{conv2d}}_{{\\text{{full}}}}(d{z}, "
        f"\\operatorname{{rot180}}({s[1]}))",
        lambda s, z: f"d{s[1]} = \\operatorname{{conv2d}}({s[0]}, d{z})",
    ),
    elementwise=False,
    doc="2-D cross-correlation, stride 1, no padding (tf.nn.conv2d, VALID): (H,W)*(kh,kw) or "
    "NHWC*HWIO.",
    cost=conv2d_cost,
    code=OpCode("conv2d({0}, {1})", "conv2d({0}, {1})",
                ("conv2d_grad_x({g}, {0}, {1})", "conv2d_grad_w({g}, {0}, {1})"),
                tangent=("conv2d({g}, {1})", "conv2d({0}, {g})"),
                numpy_helper=_CONV2D_NUMPY, torch_helper=_CONV2D_TORCH),
    rule=_halves("conv2d_dx", "conv2d_dw"),
    spellings=Spellings((), ("torch.nn.functional.conv2d",), ("tf.nn.conv2d",)),
))

