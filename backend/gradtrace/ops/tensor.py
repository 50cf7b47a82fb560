"""Tensor ops: transpose, dot, matmul, conv2d (with a stride, padding, either layout) and the
halves of conv2d's VJP.

Their VJPs are the matrix forms of the lecture notes (dA = dZ B^T, dB = A^T dZ; a convolution's
input gradient is a full convolution with the flipped kernel, at a stride its transpose), never a
dense Jacobian.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import (
    Array,
    Attr,
    AttrError,
    Builder,
    CodeArgs,
    Op,
    OpCode,
    OperandTangents,
    Shape,
    ShapeError,
    Spellings,
    Syms,
    family,
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

# ---------------------------------------------------------------------------------------------
# Reductions and tensor ops


register(Op(
    "transpose", 1, "ᵀ", lambda shapes: tuple(reversed(shapes[0])),
    lambda x: np.transpose(x).copy(),  # not ascontiguousarray: it makes a scalar a (1,) vector
    lambda g, args, out: (np.transpose(g),),
    jvp=lambda t, args, out: total(out, None if t[0] is None else np.transpose(t[0])),
    tex=lambda s: f"{s[0]}^{{\\top}}",
    local_tex=(lambda s: "P_{\\top}\\ \\text{(a permutation of the entries)}",),
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


def _matmul_rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                 ) -> Sequence[int | None]:
    # Each operand's part is a VJP half, an op of its own (gradient.py); the other operand gives
    # only its shape.
    x, w = args
    return (b.op("matmul_da", g, w, x) if needs[0] else None,
            b.op("matmul_db", x, g, w) if needs[1] else None)


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
    rule=_matmul_rule,
    spellings=Spellings(("numpy.matmul",), ("torch.matmul", "torch.mm"), ("tf.linalg.matmul",)),
    operator="@",
))


# ---------------------------------------------------------------------------------------------
# conv2d: a cross-correlation with a stride and zero padding, in either layout. One computation
# in NHWC (the lecture notes' and tf.nn.conv2d's layout); PyTorch's NCHW input and OIHW kernel
# are permuted into it and back, and a matrix is one image of one channel.

LAYOUTS = ("NHWC", "NCHW")
LAYOUT_WORDS = {
    "NHWC": "input NHWC, kernel HWIO as in tf.nn.conv2d",
    "NCHW": "input NCHW, kernel OIHW as in torch.nn.functional.conv2d",
}
Padding = str | tuple[int, int]  # 'same', 'valid', or zeros added on each side (rows, columns)


def _whole(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
        return None
    return int(v)


def pair(op: str, name: str, value: Any, least: int) -> tuple[int, int]:
    """A size written as one whole number or as a pair (height, width), each at least `least`."""
    given = value if isinstance(value, tuple | list) else (value,)
    whole = [n for n in map(_whole, given) if n is not None and n >= least]
    if len(given) in (1, 2) and len(whole) == len(given):
        return (whole[0], whole[-1])
    shown = given[0] if len(given) == 1 else tuple(given)  # as written: 0, not (0,)
    raise AttrError(f"{op}: {name}={shown!r} should be a whole number of at least {least} or a "
                    "pair (height, width) of them")


def conv_padding(op: str, value: Any) -> Padding:
    if isinstance(value, str):
        word = value.lower()
        if word in ("same", "valid"):
            return word
        raise AttrError(f"{op}: padding={value!r} should be 'same', 'valid', a number of zeros "
                        "or a pair (rows, columns) of them")
    return pair(op, "padding", value, 0)


def axis_pads(n: int, k: int, s: int, padding: Padding, axis: int) -> tuple[int, int]:
    """The zeros added before and after one spatial axis of n positions for a window of k taps
    at stride s: 'valid' none; 'same' as TensorFlow's SAME (ceil(n / s) outputs, the total
    split evenly, an odd one's extra zero after; at stride 1 the output keeps the input's size,
    as PyTorch's 'same'); a number p, p on both sides."""
    if isinstance(padding, tuple):
        return (padding[axis], padding[axis])
    if padding == "same":
        total = max((-(-n // s) - 1) * s + k - n, 0)
        return (total // 2, total - total // 2)
    return (0, 0)


def taps(p: int, q: int, stride: tuple[int, int], out_hw: tuple[int, int]
         ) -> tuple[slice, slice]:
    """Where the window's tap (p, q) meets the padded input, one position per output position:
    rows p, p + sh, ..., columns q, q + sw, ... (a loop over the taps keeps each step one
    vectorised operation over the whole batch)."""
    (sh, sw), (oh, ow) = stride, out_hw
    return slice(p, p + sh * (oh - 1) + 1, sh), slice(q, q + sw * (ow - 1) + 1, sw)


def spatial(shape: Shape, layout: str) -> tuple[int, int]:
    """(H, W) of an input (a matrix, NHWC or NCHW)."""
    hw = shape if len(shape) == 2 else shape[2:] if layout == "NCHW" else shape[1:3]
    return (hw[0], hw[1])


def kernel_hw(shape: Shape, layout: str) -> tuple[int, int]:
    """(kh, kw) of a kernel (a matrix, HWIO or OIHW)."""
    hw = shape if len(shape) == 2 else shape[2:] if layout == "NCHW" else shape[:2]
    return (hw[0], hw[1])


def to_nhwc(x: Array, layout: str) -> Array:
    # Contiguous, so that both layouts give the same sums in the same order, to the last bit.
    if x.ndim == 2:
        return x[None, :, :, None]
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if layout == "NCHW" else x


def from_nhwc(y: Array, layout: str, ndim: int) -> Array:
    if ndim == 2:
        return np.ascontiguousarray(y[0, :, :, 0])
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2) if layout == "NCHW" else y)


def _to_hwio(w: Array, layout: str) -> Array:
    if w.ndim == 2:
        return w[:, :, None, None]
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0)) if layout == "NCHW" else w


def _from_hwio(w: Array, layout: str, ndim: int) -> Array:
    if ndim == 2:
        return np.ascontiguousarray(w[:, :, 0, 0])
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1) if layout == "NCHW" else w)


def pad_nhwc(x: Array, pads: tuple[tuple[int, int], tuple[int, int]], value: float = 0.0
             ) -> Array:
    if pads == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


@dataclass(frozen=True)
class Conv2d:
    """conv2d's attributes, read: the stride, the padding, the layout; the forward pass and the
    two halves of the VJP, which the op and its VJP ops share."""

    stride: tuple[int, int] = (1, 1)
    padding: Padding = (0, 0)
    layout: str = "NHWC"

    def pads(self, hw: tuple[int, int], khw: tuple[int, int]
             ) -> tuple[tuple[int, int], tuple[int, int]]:
        return (axis_pads(hw[0], khw[0], self.stride[0], self.padding, 0),
                axis_pads(hw[1], khw[1], self.stride[1], self.padding, 1))

    def out_hw(self, hw: tuple[int, int], khw: tuple[int, int]) -> tuple[int, int]:
        (pt, pb), (pl, pr) = self.pads(hw, khw)
        return ((hw[0] + pt + pb - khw[0]) // self.stride[0] + 1,
                (hw[1] + pl + pr - khw[1]) // self.stride[1] + 1)

    def attrs(self) -> dict[str, Any]:
        """The attributes as the VJP ops are emitted with (defaults left out, so that today's
        graphs keep their nodes exactly)."""
        out: dict[str, Any] = {}
        if self.stride != (1, 1):
            out["stride"] = self.stride
        if self.padding not in ((0, 0), "valid"):
            out["padding"] = self.padding
        if self.layout != "NHWC":
            out["layout"] = self.layout
        return out

    def code_args(self) -> str:
        """The keyword arguments of the generated files' helpers, after the operands."""
        return "".join(f", {k}={v!r}" for k, v in self.attrs().items())

    def tex_args(self) -> str:
        parts = []
        if self.stride != (1, 1):
            s = self.stride
            parts.append(f"s{{=}}{s[0]}" if s[0] == s[1] else f"s{{=}}({s[0]},{s[1]})")
        if self.padding not in ((0, 0), "valid"):
            p = self.padding
            parts.append(f"p{{=}}\\text{{{p}}}" if isinstance(p, str)
                         else f"p{{=}}{p[0]}" if p[0] == p[1] else f"p{{=}}({p[0]},{p[1]})")
        return ";\\ " + ",\\ ".join(parts) if parts else ""

    def dw_tex_args(self) -> str:
        """The options of the kernel's gradient, a correlation of the input with the upstream
        gradient: the stride's steps spread the gradient's taps apart (a dilation), and the
        correlation itself steps by 1."""
        more = self.tex_args()
        if self.stride == (1, 1):
            return more
        s = self.stride
        dilation = (f"\\text{{dilation}}{{=}}{s[0]}" if s[0] == s[1]
                    else f"\\text{{dilation}}{{=}}({s[0]},{s[1]})")
        rest = more.split(",\\ ", 1)[1:]  # the padding, after the stride
        return ";\\ " + ",\\ ".join([dilation, *rest])

    # Shapes

    def shape(self, x: Shape, w: Shape, name: str = "conv2d") -> Shape:
        """The output's shape, or a ShapeError in the layout's words."""
        words = LAYOUT_WORDS[self.layout]
        if len(x) == 2 and len(w) == 2:
            head: Shape = ()
            cout: Shape = ()
        elif len(x) == 4 and len(w) == 4:
            if self.layout == "NHWC":
                c, cin, cout, other = x[3], w[2], (w[3],), x[1] == w[1]
            else:
                c, cin, cout, other = x[1], w[1], (w[0],), x[3] == w[2]
            if cin != c:
                hint = (f"; for {LAYOUT_WORDS['NCHW' if self.layout == 'NHWC' else 'NHWC']}, "
                        f"write layout='{'NCHW' if self.layout == 'NHWC' else 'NHWC'}'"
                        if other else "")
                raise ShapeError(f"{name}: the input has {c} channels but the kernel "
                                 f"{fmt_shape(w)} expects {cin} ({words}){hint}")
            head = (x[0],)
        else:
            what = ("an NHWC tensor and an HWIO kernel" if self.layout == "NHWC"
                    else "an NCHW tensor and an OIHW kernel")
            raise ShapeError(f"{name} takes a matrix and a kernel matrix, or {what}; got shapes "
                             f"{fmt_shape(x)} and {fmt_shape(w)}")
        hw, khw = spatial(x, self.layout), kernel_hw(w, self.layout)
        (pt, pb), (pl, pr) = self.pads(hw, khw)
        if min(khw) < 1:
            raise ShapeError(f"{name}: the kernel {fmt_shape(w)} is empty")
        if khw[0] > hw[0] + pt + pb or khw[1] > hw[1] + pl + pr:
            padded = (f" padded to ({hw[0] + pt + pb}, {hw[1] + pl + pr})"
                      if pt + pb + pl + pr else "")
            raise ShapeError(f"{name}: the kernel {fmt_shape(w)} is larger than the input "
                             f"{fmt_shape(x)}{padded}")
        oh, ow = self.out_hw(hw, khw)
        if len(x) == 2:
            return (oh, ow)
        return (*head, *cout, oh, ow) if self.layout == "NCHW" else (*head, oh, ow, *cout)

    def input_hw(self, g: Shape, w: Shape) -> tuple[int, int]:
        """The input's (H, W) when only the output's and the kernel's are known: the smallest
        that gives the output (exact at stride 1)."""
        (oh, ow), (kh, kw) = spatial(g, self.layout), kernel_hw(w, self.layout)
        (sh, sw) = self.stride
        if self.padding == "same":
            return ((oh - 1) * sh + 1, (ow - 1) * sw + 1)
        (ph, pw) = self.padding if isinstance(self.padding, tuple) else (0, 0)
        return ((oh - 1) * sh + kh - 2 * ph, (ow - 1) * sw + kw - 2 * pw)

    def kernel_of(self, x: Shape, g: Shape) -> tuple[int, int]:
        """The kernel's (kh, kw) when only the input's and the output's are known: the largest
        that gives the output (exact at stride 1, not known with 'same')."""
        (h, wd), (oh, ow) = spatial(x, self.layout), spatial(g, self.layout)
        if self.padding == "same":
            raise ShapeError("conv2d_dw: with padding 'same' the kernel's size must be given")
        (ph, pw) = self.padding if isinstance(self.padding, tuple) else (0, 0)
        return (h + 2 * ph - (oh - 1) * self.stride[0], wd + 2 * pw - (ow - 1) * self.stride[1])

    def cost(self, x: Shape, w: Shape) -> tuple[int, int]:
        # Each output element sums over the kernel and its input channels; the passes loop over
        # the kernel's taps in Python, each worth about 2,000 multiply-adds of overhead; the
        # scratch is the padded input.
        out = self.shape(x, w)
        khw = kernel_hw(w, self.layout)
        per_output = math.prod(w) // (w[3] if self.layout == "NHWC" else w[0]) if len(w) == 4 \
            else math.prod(w)
        (pt, pb), (pl, pr) = self.pads(spatial(x, self.layout), khw)
        hw = spatial(x, self.layout)
        padded = math.prod(x) // (hw[0] * hw[1]) * (hw[0] + pt + pb) * (hw[1] + pl + pr)
        return math.prod(out) * per_output + 2_000 * khw[0] * khw[1], padded

    # The passes, in NHWC

    # A matrix (one image of one channel) takes its own loops: a scalar times a slice is three
    # times faster than a product of 1x1 matrices.

    def forward(self, x: Array, w: Array) -> Array:
        # out[n, i, j, o] = sum_{p,q,c} xp[n, i sh + p, j sw + q, c] w[p, q, c, o]
        if x.ndim == 2:
            out_hw = self.out_hw(x.shape, w.shape)
            xp2 = np.pad(x, self.pads(x.shape, w.shape))
            out2 = np.zeros(out_hw)
            for p in range(w.shape[0]):
                for q in range(w.shape[1]):
                    out2 += w[p, q] * xp2[taps(p, q, self.stride, out_hw)]
            return out2
        xs, ws = to_nhwc(x, self.layout), _to_hwio(w, self.layout)
        hw, khw = (xs.shape[1], xs.shape[2]), (ws.shape[0], ws.shape[1])
        out_hw = self.out_hw(hw, khw)
        xp = pad_nhwc(xs, self.pads(hw, khw))
        out = np.zeros((xs.shape[0], *out_hw, ws.shape[3]))
        for p in range(khw[0]):
            for q in range(khw[1]):
                rows, cols = taps(p, q, self.stride, out_hw)
                out += xp[:, rows, cols, :] @ ws[p, q]
        return from_nhwc(out, self.layout, x.ndim)

    def grad_x(self, g: Array, w: Array, hw: tuple[int, int]) -> Array:
        # dXp[n, i sh + p, j sw + q, c] += dZ[n, i, j, o] w[p, q, c, o] (at stride 1 without
        # padding, a full convolution of dZ with the flipped kernel); the padding's part dropped.
        if g.ndim == 2:
            (pt, pb), (pl, pr) = self.pads(hw, w.shape)
            gxp2 = np.zeros((hw[0] + pt + pb, hw[1] + pl + pr))
            for p in range(w.shape[0]):
                for q in range(w.shape[1]):
                    gxp2[taps(p, q, self.stride, g.shape)] += g * w[p, q]
            return gxp2[pt:pt + hw[0], pl:pl + hw[1]].copy()
        gs, ws = to_nhwc(g, self.layout), _to_hwio(w, self.layout)
        khw = (ws.shape[0], ws.shape[1])
        (pt, pb), (pl, pr) = self.pads(hw, khw)
        out_hw = (gs.shape[1], gs.shape[2])
        gxp = np.zeros((gs.shape[0], hw[0] + pt + pb, hw[1] + pl + pr, ws.shape[2]))
        for p in range(khw[0]):
            for q in range(khw[1]):
                rows, cols = taps(p, q, self.stride, out_hw)
                gxp[:, rows, cols, :] += gs @ ws[p, q].T
        return from_nhwc(gxp[:, pt:pt + hw[0], pl:pl + hw[1], :], self.layout, g.ndim)

    def grad_w(self, x: Array, g: Array, khw: tuple[int, int]) -> Array:
        # dW[p, q, c, o] = sum_{n,i,j} xp[n, i sh + p, j sw + q, c] dZ[n, i, j, o]
        if x.ndim == 2:
            xp2 = np.pad(x, self.pads(x.shape, khw))
            gw2 = np.zeros(khw)
            for p in range(khw[0]):
                for q in range(khw[1]):
                    gw2[p, q] = np.sum(g * xp2[taps(p, q, self.stride, g.shape)])
            return gw2
        xs, gs = to_nhwc(x, self.layout), to_nhwc(g, self.layout)
        xp = pad_nhwc(xs, self.pads((xs.shape[1], xs.shape[2]), khw))
        out_hw = (gs.shape[1], gs.shape[2])
        gw = np.zeros((*khw, xs.shape[3], gs.shape[3]))
        for p in range(khw[0]):
            for q in range(khw[1]):
                rows, cols = taps(p, q, self.stride, out_hw)
                part = xp[:, rows, cols, :]
                # With many channels one BLAS product (tensordot) is far faster than einsum;
                # with few, the product is a long thin dot that BLAS handles badly (up to 40 ns
                # a multiply-add) and einsum well.
                gw[p, q] = (np.tensordot(part, gs, axes=([0, 1, 2], [0, 1, 2]))
                            if gw[p, q].size >= 16 else np.einsum("nhwc,nhwo->co", part, gs))
        return _from_hwio(gw, self.layout, x.ndim)


def conv_attrs(op: str, stride: Any, padding: Any, layout: str) -> Conv2d:
    return Conv2d(pair(op, "stride", stride, 1), conv_padding(op, padding), layout)


CONV_ATTRS = (
    Attr("stride", "ints", 1, "the step between the kernel's positions: a number or (rows, "
         "columns)"),
    Attr("padding", "any", 0, "zeros added around the input: a number, (rows, columns), 'same' "
         "(TensorFlow's SAME: ceil(H / stride) outputs; at stride 1 the input's size, as "
         "PyTorch's 'same') or 'valid' (none)"),
    Attr("layout", "str", "NHWC", "'NHWC' (input NHWC, kernel HWIO, as tf.nn.conv2d) or 'NCHW' "
         "(input NCHW, kernel OIHW, as torch.nn.functional.conv2d)", choices=LAYOUTS),
)


def _dx_node(b: Builder, conv: Conv2d, g: int, w: int, x: int) -> int:
    """conv2d_dx(g, w) with the input's size where it is not the one the shapes imply."""
    xs, gs, ws = b.shape(x), b.shape(g), b.shape(w)
    extra: dict[str, Any] = {}
    if xs is not None:
        hw = spatial(xs, conv.layout)
        if gs is None or ws is None or conv.input_hw(gs, ws) != hw:
            extra["input_size"] = hw
    return b.op("conv2d_dx", g, w, **conv.attrs(), **extra)


def _dw_node(b: Builder, conv: Conv2d, x: int, g: int, w: int) -> int:
    """conv2d_dw(x, g) with the kernel's size where it is not the one the shapes imply."""
    xs, gs, ws = b.shape(x), b.shape(g), b.shape(w)
    extra: dict[str, Any] = {}
    if ws is not None:
        khw = kernel_hw(ws, conv.layout)
        if xs is None or gs is None or conv.padding == "same" or conv.kernel_of(xs, gs) != khw:
            extra["kernel_size"] = khw
    return b.op("conv2d_dw", x, g, **conv.attrs(), **extra)


_CONV2D_NUMPY = '''
def conv2d_pads(n, k, s, padding):
    """Zeros before and after an axis of n positions, for k taps at stride s: 'valid' none,
    'same' as TensorFlow (ceil(n / s) outputs, an odd total's extra zero after), p on both
    sides."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((-(-n // s) - 1) * s + k - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def conv2d_nhwc(x, w, stride, padding, layout):
    """x as NHWC and w as HWIO (a matrix is one image of one channel; PyTorch's NCHW input and
    OIHW kernel are permuted), the zeros around x, and where tap (p, q) of the kernel meets the
    padded input: rows[p], cols[q], one per output position."""
    if x.ndim == 2:
        x, w = x[None, :, :, None], w[:, :, None, None]
    elif layout == "NCHW":
        x, w = x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0)
    each = padding if isinstance(padding, tuple) else (padding, padding)
    pads = [conv2d_pads(n, k, s, p) for n, k, s, p in zip(x.shape[1:3], w.shape[:2], stride, each)]
    oh, ow = [(n + a + b - k) // s + 1
              for n, k, s, (a, b) in zip(x.shape[1:3], w.shape[:2], stride, pads)]
    rows = [slice(p, p + stride[0] * (oh - 1) + 1, stride[0]) for p in range(w.shape[0])]
    cols = [slice(q, q + stride[1] * (ow - 1) + 1, stride[1]) for q in range(w.shape[1])]
    return x, w, pads, rows, cols


def conv2d_back(y, like, layout):
    """An NHWC result in the layout of `like` (a matrix, NHWC or NCHW)."""
    if like.ndim == 2:
        return y[0, :, :, 0]
    return y.transpose(0, 3, 1, 2) if layout == "NCHW" else y


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), layout="NHWC"):
    """Cross-correlation (tf.nn.conv2d; torch.nn.functional.conv2d with layout='NCHW'):
    out[n, i, j, o] = sum_pqc xp[n, i*sh + p, j*sw + q, c] w[p, q, c, o] (+ b[o]), xp the input
    padded with zeros."""
    x4, w4, pads, rows, cols = conv2d_nhwc(x, w, stride, padding, layout)
    xp = np.pad(x4, ((0, 0), *pads, (0, 0)))
    # One output position for each place the first tap meets.
    out = np.zeros((*xp[:, rows[0], cols[0], :].shape[:3], w4.shape[3]))
    for p, q in np.ndindex(w4.shape[:2]):
        out += xp[:, rows[p], cols[q], :] @ w4[p, q]
    out = conv2d_back(out, x, layout)
    if b is None:
        return out
    return out + (b[:, None, None] if x.ndim == 4 and layout == "NCHW" else b)


def conv2d_grad_x(g, x, w, stride=(1, 1), padding=(0, 0), layout="NHWC"):
    """dX: each output's gradient goes back through the kernel to the inputs it read,
    dXp[n, i*sh + p, j*sw + q, c] += dZ[n, i, j, o] w[p, q, c, o] (at stride 1 without padding,
    a full convolution of dZ with the flipped kernel); the padding's part is dropped."""
    x4, w4, pads, rows, cols = conv2d_nhwc(x, w, stride, padding, layout)
    g4 = g[None, :, :, None] if g.ndim == 2 else g.transpose(0, 2, 3, 1) if layout == "NCHW" else g
    (top, bottom), (left, right) = pads
    h, wd = x4.shape[1:3]
    dxp = np.zeros((x4.shape[0], h + top + bottom, wd + left + right, x4.shape[3]))
    for p, q in np.ndindex(w4.shape[:2]):
        dxp[:, rows[p], cols[q], :] += g4 @ w4[p, q].T
    return conv2d_back(dxp[:, top:top + h, left:left + wd, :], x, layout)


def conv2d_grad_w(g, x, w, stride=(1, 1), padding=(0, 0), layout="NHWC"):
    """dW[p, q, c, o] = sum_nij xp[n, i*sh + p, j*sw + q, c] dZ[n, i, j, o]: a correlation of
    the padded input with dZ."""
    x4, w4, pads, rows, cols = conv2d_nhwc(x, w, stride, padding, layout)
    g4 = g[None, :, :, None] if g.ndim == 2 else g.transpose(0, 2, 3, 1) if layout == "NCHW" else g
    xp = np.pad(x4, ((0, 0), *pads, (0, 0)))
    dw = np.zeros_like(w4)
    for p, q in np.ndindex(w4.shape[:2]):
        dw[p, q] = np.tensordot(xp[:, rows[p], cols[q], :], g4, axes=([0, 1, 2], [0, 1, 2]))
    if w.ndim == 2:
        return dw[:, :, 0, 0]
    return dw.transpose(3, 2, 0, 1) if layout == "NCHW" else dw
'''

_CONV2D_TORCH = '''
def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), layout="NHWC"):
    """torch.nn.functional.conv2d. A matrix is one image of one channel (its bias one number);
    an NHWC input with an HWIO kernel (tf.nn.conv2d's layout) is permuted to PyTorch's NCHW and
    OIHW and back; padding 'same' with a stride, which PyTorch refuses, is TensorFlow's SAME,
    added with F.pad."""
    if x.ndim == 2:
        b = None if b is None else b.reshape(1)
        return conv2d(x[None, None], w[None, None], b, stride, padding, "NCHW")[0, 0]
    if layout == "NHWC":
        # contiguous: PyTorch's CPU convolution cannot give the gradient of a permuted kernel
        # with one output channel in place ("grad_weight must be contiguous").
        out = conv2d(x.permute(0, 3, 1, 2).contiguous(), w.permute(3, 2, 0, 1).contiguous(), b,
                     stride, padding, "NCHW")
        return out.permute(0, 2, 3, 1)
    if padding == "same" and tuple(stride) != (1, 1):
        pads = []
        for n, k, s in zip(x.shape[2:], w.shape[2:], stride):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads = [total // 2, total - total // 2, *pads]  # F.pad lists the last axis first
        x, padding = torch.nn.functional.pad(x, pads), 0
    return torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
'''


def _bias_axes(ndim: int, layout: str) -> tuple[int, ...]:
    """The axes a bias is summed over for its gradient: all but the channels'."""
    return tuple(range(ndim)) if ndim == 2 else (0, 2, 3) if layout == "NCHW" else (0, 1, 2)


def _conv2d_code(conv: Conv2d) -> OpCode:
    kw = conv.code_args()

    def backward(c: CodeArgs) -> str:
        if c.k == 0:
            return f"conv2d_grad_x({c.g}, {c.args[0]}, {c.args[1]}{kw})"
        if c.k == 1:
            return f"conv2d_grad_w({c.g}, {c.args[0]}, {c.args[1]}{kw})"
        axes = _bias_axes(len(c.shapes[0]), conv.layout)
        return f"np.sum({c.g}, axis={axes})"

    def tangent(c: CodeArgs) -> str:
        if c.k == 0:
            return f"conv2d({c.g}, {c.args[1]}{kw})"
        if c.k == 1:
            return f"conv2d({c.args[0]}, {c.g}{kw})"
        per_channel = (f"{c.g}[:, None, None]" if len(c.shapes[0]) == 4 and conv.layout == "NCHW"
                       else c.g)
        return f"np.broadcast_to({per_channel}, {c.out}.shape)"

    return OpCode(
        lambda r: f"conv2d({', '.join(r)}{kw})", lambda r: f"conv2d({', '.join(r)}{kw})",
        (backward, backward), tangent=(tangent, tangent),
        numpy_helper=_CONV2D_NUMPY, torch_helper=_CONV2D_TORCH)


def _make_conv2d(stride: Any = 1, padding: Any = 0, layout: str = "NHWC") -> Op:
    conv = conv_attrs("conv2d", stride, padding, layout)

    def shape(shapes: Sequence[Shape]) -> Shape:
        out = conv.shape(shapes[0], shapes[1])
        if len(shapes) == 3:
            want = () if len(out) == 2 else (out[1] if layout == "NCHW" else out[3],)
            if shapes[2] != want:
                raise ShapeError(f"conv2d: the bias takes one number per output channel, shape "
                                 f"{fmt_shape(want)}, got {fmt_shape(shapes[2])}")
        return out

    def per_channel(b: Array, ndim: int) -> Array:
        return b[:, None, None] if ndim == 4 and layout == "NCHW" else b

    def forward(x: Array, w: Array, b: Array | None = None) -> Array:
        out = conv.forward(x, w)
        return out if b is None else out + per_channel(b, x.ndim)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        x, w = args[0], args[1]
        grads = [conv.grad_x(g, w, spatial(x.shape, layout)),
                 conv.grad_w(x, g, kernel_hw(w.shape, layout))]
        if len(args) == 3:
            grads.append(np.asarray(np.sum(g, axis=_bias_axes(g.ndim, layout))))
        return grads

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        # Bilinear in (X, W), plus the bias: d conv2d(X, W) + b = conv2d(dX, W) + conv2d(X, dW)
        # + db.
        x, w, tx, tw = args[0], args[1], t[0], t[1]
        tb = t[2] if len(t) == 3 else None
        return total(out, None if tx is None else conv.forward(tx, w),
                     None if tw is None else conv.forward(x, tw),
                     None if tb is None else per_channel(tb, x.ndim))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x, w = args[0], args[1]
        parts = [_dx_node(b, conv, g, w, x) if needs[0] else None,
                 _dw_node(b, conv, x, g, w) if needs[1] else None]
        if len(args) == 3:
            gs = b.shape(g)
            axes = _bias_axes(4 if gs is None else len(gs), layout)
            parts.append(b.op("sum", g, axis=axes) if needs[2] else None)
        return parts

    more = conv.tex_args()
    dw_more = conv.dw_tex_args()

    def dx_tex(s: Syms, z: str) -> str:
        if not more:  # stride 1, no padding: a full convolution with the flipped kernel
            return (f"d{s[0]} = \\operatorname{{conv2d}}_{{\\text{{full}}}}(d{z}, "
                    f"\\operatorname{{rot180}}({s[1]}))")
        # the transpose of a strided or padded convolution
        return f"d{s[0]} = \\operatorname{{conv\\_transpose2d}}(d{z}, {s[1]}{more})"

    return Op(
        "conv2d", 2, "conv2d", shape, forward, vjp, jvp=jvp,
        tex=lambda s: f"\\operatorname{{conv2d}}({s[0]}, {s[1]}{more})"
        + (f" + {s[2]}" if len(s) > 2 else ""),
        # conv2d is linear in each operand: its derivative is the map itself.
        local_tex=(lambda s: f"\\operatorname{{conv2d}}(\\cdot, {s[1]}{more})",
                   lambda s: f"\\operatorname{{conv2d}}({s[0]}, \\cdot{more})",
                   lambda s: "1"),
        vjp_tex=(dx_tex, lambda s, z: f"d{s[1]} = \\operatorname{{conv2d}}({s[0]}, d{z}{dw_more})",
                 lambda s, z: f"d{s[2]} = \\textstyle\\sum_{{\\text{{batch, rows, columns}}}} "
                 f"d{z}"),
        elementwise=False,
        doc="2-D cross-correlation (tf.nn.conv2d; torch.nn.functional.conv2d): (H,W)*(kh,kw), "
        "NHWC*HWIO, or with layout='NCHW' NCHW*OIHW; an optional bias, one number per output "
        "channel; stride, and padding with zeros (a number, 'valid', or 'same': TensorFlow's "
        "SAME, which at stride 1 is PyTorch's 'same' and keeps the size; PyTorch refuses 'same' "
        "with a stride). The defaults: stride 1, no padding.",
        cost=lambda shapes: conv.cost(shapes[0], shapes[1]),
        code=_conv2d_code(conv),
        rule=rule,
        spellings=Spellings((), ("torch.nn.functional.conv2d",), ("tf.nn.conv2d",)),
        max_arity=3,
        operand_names=("input", "weight", "bias"),
    )


register(family(_make_conv2d, CONV_ATTRS))


# conv2d's VJP halves as ops of their own, each bilinear: dX = conv2d_dx(dZ, W) (the input gradient
# of torch.nn.grad.conv2d_input) and dW = conv2d_dw(X, dZ) (torch.nn.grad.conv2d_weight). With a
# stride the output's size does not tell the input's (nor, with padding 'same', the kernel's):
# `input_size` / `kernel_size` give it where it is not the one the shapes imply. Their own VJPs:
# <H, dX(dZ, W)> = <dZ, conv2d(H, W)> and <H, dW(X, dZ)> = <dZ, conv2d(X, H)>.

def _check_fits(conv: Conv2d, x: Shape, w: Shape, g: Shape, name: str) -> None:
    try:
        out = conv.shape(x, w, name)
    except ShapeError:
        out = None
    if out != g:
        raise ShapeError(f"{name}: a gradient of shape {fmt_shape(g)} does not fit conv2d of "
                         f"{fmt_shape(x)} and {fmt_shape(w)}")


def _dx_shape(conv: Conv2d, size: tuple[int, int] | None, g: Shape, w: Shape) -> Shape:
    if len(g) != len(w) or len(g) not in (2, 4):
        raise ShapeError(f"conv2d_dx: shapes {fmt_shape(g)} and {fmt_shape(w)} do not fit")
    hw = size if size is not None else conv.input_hw(g, w)
    if len(g) == 2:
        x: Shape = hw
    elif conv.layout == "NHWC":
        x = (g[0], *hw, w[2])
    else:
        x = (g[0], w[1], *hw)
    _check_fits(conv, x, w, g, "conv2d_dx")
    return x


def _dw_shape(conv: Conv2d, size: tuple[int, int] | None, x: Shape, g: Shape) -> Shape:
    if len(x) != len(g) or len(x) not in (2, 4):
        raise ShapeError(f"conv2d_dw: shapes {fmt_shape(x)} and {fmt_shape(g)} do not fit")
    khw = size if size is not None else conv.kernel_of(x, g)
    if len(x) == 2:
        w: Shape = khw
    elif conv.layout == "NHWC":
        w = (*khw, x[3], g[3])
    else:
        w = (g[1], x[1], *khw)
    _check_fits(conv, x, w, g, "conv2d_dw")
    return w


SIZE_ATTR = Attr("input_size", "ints", None, "the input's (H, W), where the output's size does "
                 "not tell it")
KERNEL_ATTR = Attr("kernel_size", "ints", None, "the kernel's (kh, kw), where the sizes do not "
                   "tell it")


def _make_conv2d_dx(stride: Any = 1, padding: Any = 0, layout: str = "NHWC",
                    input_size: Any = None) -> Op:
    conv = conv_attrs("conv2d_dx", stride, padding, layout)
    size = None if input_size is None else pair("conv2d_dx", "input_size", input_size, 1)

    def forward(g: Array, w: Array) -> Array:
        x = _dx_shape(conv, size, g.shape, w.shape)
        return conv.grad_x(g, w, spatial(x, layout))

    def vjp(h: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        g, w = args
        return conv.forward(h, w), conv.grad_w(h, g, kernel_hw(w.shape, layout))

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        (g, w), (tg, tw) = args, t
        return total(out, None if tg is None else forward(tg, w),
                     None if tw is None else forward(g, tw))

    def rule(b: Builder, h: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        g, w = args
        return (b.op("conv2d", h, w, **conv.attrs()) if needs[0] else None,
                _dw_node(b, conv, h, g, w) if needs[1] else None)

    more = conv.tex_args()
    return Op(
        "conv2d_dx", 2, "dX", lambda shapes: _dx_shape(conv, size, shapes[0], shapes[1]),
        forward, vjp, jvp=jvp,
        tex=lambda s: (f"\\operatorname{{conv2d}}_{{\\text{{full}}}}({s[0]}, "
                       f"\\operatorname{{rot180}}({s[1]}))" if not more
                       else f"\\operatorname{{conv\\_transpose2d}}({s[0]}, {s[1]}{more})"),
        local_tex=(lambda s: s[1], lambda s: s[0]),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{conv2d}}(d{z}, {s[1]}{more})",
                 lambda s, z: f"d{s[1]} = \\operatorname{{conv2d}}(d{z}, {s[0]}"
                 f"{conv.dw_tex_args()})"),
        elementwise=False,
        doc="conv2d's VJP for its input (torch.nn.grad.conv2d_input).",
        cost=lambda shapes: conv.cost(_dx_shape(conv, size, shapes[0], shapes[1]), shapes[1]),
        rule=rule,
        internal=True,
    )


def _make_conv2d_dw(stride: Any = 1, padding: Any = 0, layout: str = "NHWC",
                    kernel_size: Any = None) -> Op:
    conv = conv_attrs("conv2d_dw", stride, padding, layout)
    size = None if kernel_size is None else pair("conv2d_dw", "kernel_size", kernel_size, 1)

    def forward(x: Array, g: Array) -> Array:
        w = _dw_shape(conv, size, x.shape, g.shape)
        return conv.grad_w(x, g, kernel_hw(w, layout))

    def vjp(h: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        x, g = args
        return conv.grad_x(g, h, spatial(x.shape, layout)), conv.forward(x, h)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        (x, g), (tx, tg) = args, t
        return total(out, None if tx is None else forward(tx, g),
                     None if tg is None else forward(x, tg))

    def rule(b: Builder, h: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x, g = args
        return (_dx_node(b, conv, g, h, x) if needs[0] else None,
                b.op("conv2d", x, h, **conv.attrs()) if needs[1] else None)

    more = conv.tex_args()
    return Op(
        "conv2d_dw", 2, "dW", lambda shapes: _dw_shape(conv, size, shapes[0], shapes[1]),
        forward, vjp, jvp=jvp,
        tex=lambda s: f"\\operatorname{{conv2d}}({s[0]}, {s[1]}{conv.dw_tex_args()})",
        local_tex=(lambda s: s[1], lambda s: s[0]),
        vjp_tex=(lambda s, z: (f"d{s[0]} = \\operatorname{{conv2d}}_{{\\text{{full}}}}({s[1]}, "
                               f"\\operatorname{{rot180}}(d{z}))" if not more else
                               f"d{s[0]} = \\operatorname{{conv\\_transpose2d}}({s[1]}, "
                               f"d{z}{more})"),
                 lambda s, z: f"d{s[1]} = \\operatorname{{conv2d}}({s[0]}, d{z}{more})"),
        elementwise=False,
        doc="conv2d's VJP for its kernel (torch.nn.grad.conv2d_weight).",
        cost=lambda shapes: conv.cost(shapes[0], _dw_shape(conv, size, shapes[0], shapes[1])),
        rule=rule,
        internal=True,
    )


register(family(_make_conv2d_dx, (*CONV_ATTRS, SIZE_ATTR)))
register(family(_make_conv2d_dw, (*CONV_ATTRS, KERNEL_ATTR)))
