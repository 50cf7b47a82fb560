"""The layers of a network: pooling (max_pool2d, avg_pool2d) and the VJP ops of pooling, and, as
composites the user can open into their parts, linear, layer_norm and batch_norm.

Pooling shares conv2d's windows (tensor.py): a stride, zero padding (-inf for max), and the layout,
NHWC (the lecture notes', tf.nn's) or NCHW (PyTorch's), a matrix being one image of one channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import elementwise, reductions, tensor  # noqa: F401 (the composites' parts come first)
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
    composite,
    family,
    fmt_shape,
    register,
    total,
)
from .tensor import LAYOUTS, from_nhwc, pad_nhwc, pair, spatial, taps, to_nhwc

# ---------------------------------------------------------------------------------------------
# Pooling


@dataclass(frozen=True)
class Pool2d:
    """A pooling op's attributes, read: the window, the stride (the window's by default, as
    PyTorch's), the zeros (or -inf) around the input, the layout."""

    name: str
    kernel: tuple[int, int] | None  # None: not given (the op refuses every shape)
    stride: tuple[int, int]
    padding: tuple[int, int]
    layout: str

    @classmethod
    def read(cls, name: str, kernel_size: Any, stride: Any, padding: Any, layout: str
             ) -> Pool2d:
        kernel = None if kernel_size is None else pair(name, "kernel_size", kernel_size, 1)
        steps = (kernel or (1, 1)) if stride is None else pair(name, "stride", stride, 1)
        pads = pair(name, "padding", padding, 0)
        if kernel is not None and any(2 * p > k for p, k in zip(pads, kernel, strict=True)):
            raise AttrError(f"{name}: padding={padding!r} is more than half the window "
                            f"{kernel}: PyTorch pads at most half a window on each side")
        return cls(name, kernel, steps, pads, layout)

    def attrs(self) -> dict[str, Any]:
        """The attributes as the VJP ops are emitted with."""
        out: dict[str, Any] = {"kernel_size": self.kernel, "stride": self.stride}
        if self.padding != (0, 0):
            out["padding"] = self.padding
        if self.layout != "NHWC":
            out["layout"] = self.layout
        return out

    def code_args(self) -> str:
        return (f", kernel_size={self.kernel!r}, stride={self.stride!r}, "
                f"padding={self.padding!r}, layout={self.layout!r}")

    def tex_args(self) -> str:
        k, s, p = self.kernel or (0, 0), self.stride, self.padding
        parts = [f"{k[0]}\\times {k[1]}"]
        if s != k:
            parts.append(f"s{{=}}{s[0]}" if s[0] == s[1] else f"s{{=}}({s[0]},{s[1]})")
        if p != (0, 0):
            parts.append(f"p{{=}}{p[0]}" if p[0] == p[1] else f"p{{=}}({p[0]},{p[1]})")
        return ",\\ ".join(parts)

    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return ((self.padding[0], self.padding[0]), (self.padding[1], self.padding[1]))

    def shape(self, x: Shape, name: str | None = None) -> Shape:
        name = name or self.name
        if self.kernel is None:
            raise ShapeError(f"{name} needs the window's size: {name}(x, 2) or "
                             f"kernel_size=(2, 2)")
        if len(x) not in (2, 4):
            raise ShapeError(f"{name} takes a matrix or a tensor of four axes ({self.layout}), "
                             f"got shape {fmt_shape(x)}")
        hw = spatial(x, self.layout)
        (kh, kw), (ph, pw), (sh, sw) = self.kernel, self.padding, self.stride
        if kh > hw[0] + 2 * ph or kw > hw[1] + 2 * pw:
            padded = f" padded to ({hw[0] + 2 * ph}, {hw[1] + 2 * pw})" if ph + pw else ""
            raise ShapeError(f"{name}: the window {fmt_shape(self.kernel)} is larger than the "
                             f"input {fmt_shape(x)}{padded}")
        out = ((hw[0] + 2 * ph - kh) // sh + 1, (hw[1] + 2 * pw - kw) // sw + 1)
        if len(x) == 2:
            return out
        return (x[0], x[1], *out) if self.layout == "NCHW" else (x[0], *out, x[3])

    def cost(self, x: Shape) -> tuple[int, int]:
        # Each output looks at every tap of its window: a pass over the outputs per tap, worth
        # about one multiply-add an element for the mean and four for the maximum (a comparison
        # and two masked copies, or a mask and a sum going back), plus about 2,000 of Python
        # overhead per tap; the scratch is the padded input.
        assert self.kernel is not None
        out = math.prod(self.shape(x))
        kh, kw = self.kernel
        per_tap = 4 if self.name.startswith("max") else 1
        hw = spatial(x, self.layout)
        padded = math.prod(x) // (hw[0] * hw[1]) * (hw[0] + 2 * self.padding[0]) * (
            hw[1] + 2 * self.padding[1])
        return out * kh * kw * per_tap + 2_000 * kh * kw, padded

    # The passes, in NHWC: tap (p, q) of the window meets the padded input at taps(p, q, ...).

    def _out_hw(self, x4: Array) -> tuple[int, int]:
        assert self.kernel is not None
        (kh, kw), (ph, pw), (sh, sw) = self.kernel, self.padding, self.stride
        return ((x4.shape[1] + 2 * ph - kh) // sh + 1, (x4.shape[2] + 2 * pw - kw) // sw + 1)

    def winners(self, x: Array) -> tuple[Array, Array]:
        """Each window's largest value (NHWC) and the tap it is at (p kw + q), as PyTorch's
        max_pool2d picks it: the first largest in row-major order, a NaN over any number (a
        later NaN over an earlier one); the padding (-inf) never wins, and a window of -inf
        alone gives its first tap inside the input."""
        assert self.kernel is not None
        x4 = to_nhwc(x, self.layout)
        (kh, kw), (ph, pw), (sh, sw) = self.kernel, self.padding, self.stride
        out_hw = self._out_hw(x4)
        xp = pad_nhwc(x4, self.pads(), -np.inf)
        best = np.full((x4.shape[0], *out_hw, x4.shape[3]), -np.inf)
        first = (np.maximum(ph - sh * np.arange(out_hw[0]), 0)[:, None] * kw
                 + np.maximum(pw - sw * np.arange(out_hw[1]), 0)[None, :])
        tap = np.array(np.broadcast_to(first[None, :, :, None], best.shape), dtype=np.intp)
        nan = bool(np.isnan(x4).any())
        wins = np.empty(best.shape, dtype=bool)
        for p in range(kh):
            for q in range(kw):
                v = xp[(slice(None), *taps(p, q, self.stride, out_hw))]
                np.greater(v, best, out=wins)
                if nan:
                    wins |= np.isnan(v)
                np.copyto(best, v, where=wins)
                np.copyto(tap, p * kw + q, where=wins)
        return best, tap

    def route(self, g: Array, x: Array) -> Array:
        """max_pool2d's VJP: each window's gradient goes to its winning input alone (summed
        where windows overlap)."""
        assert self.kernel is not None
        _, tap = self.winners(x)
        g4, x4 = to_nhwc(g, self.layout), to_nhwc(x, self.layout)
        (ph, pw), out_hw = self.padding, tap.shape[1:3]
        h, w = x4.shape[1:3]
        gxp = np.zeros((x4.shape[0], h + 2 * ph, w + 2 * pw, x4.shape[3]))
        for p in range(self.kernel[0]):
            for q in range(self.kernel[1]):
                at = (slice(None), *taps(p, q, self.stride, out_hw))
                gxp[at] += np.where(tap == p * self.kernel[1] + q, g4, 0.0)
        return from_nhwc(gxp[:, ph:ph + h, pw:pw + w, :], self.layout, x.ndim)

    def gather(self, t: Array, x: Array) -> Array:
        """t at each window's winning input of x: max_pool2d's JVP, the transpose of `route`."""
        assert self.kernel is not None
        _, tap = self.winners(x)
        tp = pad_nhwc(to_nhwc(t, self.layout), self.pads())
        out = np.zeros(tap.shape)
        for p in range(self.kernel[0]):
            for q in range(self.kernel[1]):
                at = (slice(None), *taps(p, q, self.stride, tap.shape[1:3]))
                out = np.where(tap == p * self.kernel[1] + q, tp[at], out)
        return from_nhwc(out, self.layout, x.ndim)

    def margins(self, x: Array) -> Array:
        """Every tap's value minus its window's largest: 0 at the winner (and at ties), negative
        elsewhere; the winner changes where one of these changes sign."""
        assert self.kernel is not None
        x4 = to_nhwc(x, self.layout)
        out_hw = self._out_hw(x4)
        xp = pad_nhwc(x4, self.pads(), -np.inf)
        windows = np.stack([xp[(slice(None), *taps(p, q, self.stride, out_hw))]
                            for p in range(self.kernel[0]) for q in range(self.kernel[1])], -1)
        with np.errstate(invalid="ignore"):
            return np.ravel(windows - np.max(windows, axis=-1, keepdims=True))

    def mean(self, x: Array) -> Array:
        """The mean of each window, the padding's zeros counted (PyTorch's count_include_pad):
        a sum over the taps, divided by kh kw."""
        assert self.kernel is not None
        x4 = to_nhwc(x, self.layout)
        out_hw = self._out_hw(x4)
        xp = pad_nhwc(x4, self.pads())
        out = np.zeros((x4.shape[0], *out_hw, x4.shape[3]))
        for p in range(self.kernel[0]):
            for q in range(self.kernel[1]):
                out += xp[(slice(None), *taps(p, q, self.stride, out_hw))]
        return from_nhwc(out / (self.kernel[0] * self.kernel[1]), self.layout, x.ndim)

    def spread(self, g: Array, x_shape: Shape) -> Array:
        """avg_pool2d's VJP: each window's gradient shared evenly by its kh kw taps (the
        padding's share dropped), summed where windows overlap."""
        assert self.kernel is not None
        g4 = to_nhwc(g, self.layout) / (self.kernel[0] * self.kernel[1])
        h, w = spatial(x_shape, self.layout)
        (ph, pw), out_hw = self.padding, (g4.shape[1], g4.shape[2])
        channels = x_shape[3] if len(x_shape) == 4 and self.layout == "NHWC" else (
            x_shape[1] if len(x_shape) == 4 else 1)
        gxp = np.zeros((g4.shape[0], h + 2 * ph, w + 2 * pw, channels))
        for p in range(self.kernel[0]):
            for q in range(self.kernel[1]):
                gxp[(slice(None), *taps(p, q, self.stride, out_hw))] += g4
        return from_nhwc(gxp[:, ph:ph + h, pw:pw + w, :], self.layout, len(x_shape))


POOL_ATTRS = (
    Attr("kernel_size", "ints", None, "the window: a number or (rows, columns)"),
    Attr("stride", "ints", None, "the step between windows: a number or (rows, columns); "
         "the window's size by default"),
    Attr("padding", "ints", 0, "added around the input on each side (at most half the window, "
         "as PyTorch): -inf for max_pool2d, zeros counted in the mean for avg_pool2d"),
    Attr("layout", "str", "NHWC", "'NHWC' (as tf.nn) or 'NCHW' (as torch.nn.functional)",
         choices=LAYOUTS),
)


def _check_ref(pool: Pool2d, g: Shape, x: Shape, name: str) -> None:
    try:
        out = pool.shape(x, name)
    except ShapeError:
        out = None
    if out != g:
        raise ShapeError(f"{name}: a gradient of shape {fmt_shape(g)} does not fit the pooling "
                         f"of {fmt_shape(x)}")


_POOL_NUMPY = '''
def pool2d_nhwc(x, kernel_size, stride, padding, layout, fill):
    """x as NHWC (a matrix is one image of one channel; NCHW is permuted), padded with `fill`,
    and where tap (p, q) of the window meets the padded input: rows[p], cols[q], one per output
    position."""
    x4 = x[None, :, :, None] if x.ndim == 2 else x.transpose(0, 2, 3, 1) if layout == "NCHW" else x
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    oh, ow = (x4.shape[1] + 2 * ph - kh) // sh + 1, (x4.shape[2] + 2 * pw - kw) // sw + 1
    xp = np.pad(x4, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=fill)
    rows = [slice(p, p + sh * (oh - 1) + 1, sh) for p in range(kh)]
    cols = [slice(q, q + sw * (ow - 1) + 1, sw) for q in range(kw)]
    return xp, rows, cols


def pool2d_back(y, like, layout):
    """An NHWC result in the layout of `like` (a matrix, NHWC or NCHW)."""
    if like.ndim == 2:
        return y[0, :, :, 0]
    return y.transpose(0, 3, 1, 2) if layout == "NCHW" else y


def pool2d_scatter(parts, x, kernel_size, stride, padding, layout):
    """Adds each tap's part (NHWC, one per output) back onto the input it met; drops the
    padding's."""
    xp, rows, cols = pool2d_nhwc(x, kernel_size, stride, padding, layout, 0.0)
    dxp = np.zeros(xp.shape)
    for (p, q), part in zip(np.ndindex(*kernel_size), parts):
        dxp[:, rows[p], cols[q], :] += part
    (ph, pw), (h, w) = padding, xp.shape[1:3]
    return pool2d_back(dxp[:, ph:h - ph, pw:w - pw, :], x, layout)


def max_pool2d_winners(x, kernel_size, stride, padding, layout):
    """Each window's largest value and the tap it is at (p * kw + q), as PyTorch's max_pool2d:
    the first largest in row-major order, a NaN over any number (a later NaN over an earlier
    one); the padding (-inf) never wins: a window of -inf alone gives its first tap inside."""
    xp, rows, cols = pool2d_nhwc(x, kernel_size, stride, padding, layout, -np.inf)
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    best = np.full(xp[:, rows[0], cols[0], :].shape, -np.inf)
    first = (np.maximum(ph - sh * np.arange(best.shape[1]), 0)[:, None] * kw
             + np.maximum(pw - sw * np.arange(best.shape[2]), 0)[None, :])
    tap = np.broadcast_to(first[None, :, :, None], best.shape)
    for p, q in np.ndindex(kh, kw):
        v = xp[:, rows[p], cols[q], :]
        wins = (v > best) | np.isnan(v)
        best, tap = np.where(wins, v, best), np.where(wins, p * kw + q, tap)
    return best, tap


def max_pool2d(x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """The largest value of each window (torch.nn.functional.max_pool2d)."""
    return pool2d_back(max_pool2d_winners(x, kernel_size, stride, padding, layout)[0], x, layout)


def max_pool2d_grad(g, x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """dX: each window's gradient goes to its largest input alone."""
    _, tap = max_pool2d_winners(x, kernel_size, stride, padding, layout)
    g4 = g[None, :, :, None] if g.ndim == 2 else g.transpose(0, 2, 3, 1) if layout == "NCHW" else g
    parts = [np.where(tap == k, g4, 0.0) for k in range(kernel_size[0] * kernel_size[1])]
    return pool2d_scatter(parts, x, kernel_size, stride, padding, layout)


def max_pool2d_at(t, x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """t at each window's largest input of x: max_pool2d's derivative along t."""
    _, tap = max_pool2d_winners(x, kernel_size, stride, padding, layout)
    tp, rows, cols = pool2d_nhwc(t, kernel_size, stride, padding, layout, 0.0)
    out = np.zeros(tap.shape)
    for p, q in np.ndindex(*kernel_size):
        out = np.where(tap == p * kernel_size[1] + q, tp[:, rows[p], cols[q], :], out)
    return pool2d_back(out, x, layout)


def avg_pool2d(x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """The mean of each window, the padding's zeros counted (torch.nn.functional.avg_pool2d,
    count_include_pad=True)."""
    xp, rows, cols = pool2d_nhwc(x, kernel_size, stride, padding, layout, 0.0)
    out = np.zeros(xp[:, rows[0], cols[0], :].shape)
    for p, q in np.ndindex(*kernel_size):
        out += xp[:, rows[p], cols[q], :]
    return pool2d_back(out / (kernel_size[0] * kernel_size[1]), x, layout)


def avg_pool2d_grad(g, x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """dX: each window's gradient shared evenly by its kh * kw inputs."""
    g4 = g[None, :, :, None] if g.ndim == 2 else g.transpose(0, 2, 3, 1) if layout == "NCHW" else g
    part = g4 / (kernel_size[0] * kernel_size[1])
    return pool2d_scatter([part] * (kernel_size[0] * kernel_size[1]), x, kernel_size, stride,
                          padding, layout)
'''

_POOL_TORCH = '''
def max_pool2d(x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """torch.nn.functional.max_pool2d, which takes NCHW: a matrix is one image of one channel,
    NHWC is permuted to NCHW and back."""
    if x.ndim == 2:
        return torch.nn.functional.max_pool2d(x[None], kernel_size, stride, padding)[0]
    if layout == "NHWC":
        out = max_pool2d(x.permute(0, 3, 1, 2).contiguous(), kernel_size, stride, padding, "NCHW")
        return out.permute(0, 2, 3, 1)
    return torch.nn.functional.max_pool2d(x, kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride, padding=(0, 0), layout="NHWC"):
    """torch.nn.functional.avg_pool2d (count_include_pad=True), in NCHW as max_pool2d."""
    if x.ndim == 2:
        return torch.nn.functional.avg_pool2d(x[None], kernel_size, stride, padding)[0]
    if layout == "NHWC":
        out = avg_pool2d(x.permute(0, 3, 1, 2).contiguous(), kernel_size, stride, padding, "NCHW")
        return out.permute(0, 2, 3, 1)
    return torch.nn.functional.avg_pool2d(x, kernel_size, stride, padding)
'''


def _pool_shape(pool: Pool2d) -> Any:
    return lambda shapes: pool.shape(shapes[0])


def _make_max_pool2d(kernel_size: Any = None, stride: Any = None, padding: Any = 0,
                     layout: str = "NHWC") -> Op:
    pool = Pool2d.read("max_pool2d", kernel_size, stride, padding, layout)
    kw = pool.code_args()

    def forward(x: Array) -> Array:
        return from_nhwc(pool.winners(x)[0], layout, x.ndim)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        return total(out, None if t[0] is None else pool.gather(t[0], args[0]))

    return Op(
        "max_pool2d", 1, "maxpool", _pool_shape(pool), forward,
        lambda g, args, out: (pool.route(g, args[0]),), jvp=jvp,
        tex=lambda s: f"\\operatorname{{maxpool}}_{{{pool.tex_args()}}}({s[0]})",
        local_tex=(lambda s: f"\\mathbb{{1}}[{s[0]} = \\max \\text{{ of its window}}]",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{route}}(d{z}\\ \\text{{to each "
                 f"window's first largest }} {s[0]})",),
        elementwise=False,
        doc="The largest value of each window (torch.nn.functional.max_pool2d; tf.nn.max_pool2d "
        "in NHWC): a matrix or NHWC (layout='NCHW' for PyTorch's), stride the window's by "
        "default, padding with -inf. The gradient goes to one input per window, the first "
        "largest in row-major order, as PyTorch's.",
        kink=lambda args: pool.margins(args[0]),
        cost=lambda shapes: pool.cost(shapes[0]),
        code=OpCode(f"max_pool2d({{0}}{kw})", f"max_pool2d({{0}}{kw})",
                    (f"max_pool2d_grad({{g}}, {{0}}{kw})",),
                    tangent=(f"max_pool2d_at({{g}}, {{0}}{kw})",),
                    numpy_helper=_POOL_NUMPY, torch_helper=_POOL_TORCH),
        rule=lambda b, g, args, out, needs: (
            b.op("max_pool2d_dx", g, args[0], **pool.attrs()),),
        spellings=Spellings((), ("torch.nn.functional.max_pool2d",),
                            ("tf.nn.max_pool2d", "tf.nn.max_pool")),
    )


def _make_max_pool2d_dx(kernel_size: Any = None, stride: Any = None, padding: Any = 0,
                        layout: str = "NHWC") -> Op:
    pool = Pool2d.read("max_pool2d_dx", kernel_size, stride, padding, layout)

    def shape(shapes: Sequence[Shape]) -> Shape:
        _check_ref(pool, shapes[0], shapes[1], "max_pool2d_dx")
        return shapes[1]

    return Op(
        "max_pool2d_dx", 2, "dX", shape, pool.route,
        lambda h, args, out: (pool.gather(h, args[1]), np.zeros(args[1].shape)),
        jvp=lambda t, args, out: total(out, None if t[0] is None
                                       else pool.route(t[0], args[1])),
        tex=lambda s: f"\\operatorname{{route}}({s[0]};\\ {s[1]})",
        local_tex=(lambda s: f"\\mathbb{{1}}[{s[1]} = \\max \\text{{ of its window}}]",
                   lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z}\\ \\text{{at each window's largest }} {s[1]}",
                 lambda s, z: f"d{s[1]} = 0"),
        elementwise=False,
        doc="max_pool2d's VJP: the first operand (one per window) sent to each window's "
        "largest input of the second (which only picks the places: it takes no gradient).",
        cost=lambda shapes: pool.cost(shapes[1]),
        rule=lambda b, h, args, out, needs: (
            b.op("max_pool2d_gather", h, args[1], **pool.attrs()) if needs[0] else None, None),
        internal=True,
        no_grad=(1,),
    )


def _make_max_pool2d_gather(kernel_size: Any = None, stride: Any = None, padding: Any = 0,
                            layout: str = "NHWC") -> Op:
    pool = Pool2d.read("max_pool2d_gather", kernel_size, stride, padding, layout)

    def shape(shapes: Sequence[Shape]) -> Shape:
        t, x = shapes
        if t != x:
            raise ShapeError(f"max_pool2d_gather: shapes {fmt_shape(t)} and {fmt_shape(x)} "
                             "differ")
        return pool.shape(x, "max_pool2d_gather")

    return Op(
        "max_pool2d_gather", 2, "gather", shape, pool.gather,
        lambda g, args, out: (pool.route(g, args[1]), np.zeros(args[1].shape)),
        jvp=lambda t, args, out: total(out, None if t[0] is None
                                       else pool.gather(t[0], args[1])),
        tex=lambda s: f"{s[0]}\\ \\text{{at each window's largest }} {s[1]}",
        local_tex=(lambda s: f"\\mathbb{{1}}[{s[1]} = \\max \\text{{ of its window}}]",
                   lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{route}}(d{z};\\ {s[1]})",
                 lambda s, z: f"d{s[1]} = 0"),
        elementwise=False,
        doc="The first operand's values at each window's largest input of the second: "
        "max_pool2d's JVP, and the VJP of its VJP.",
        cost=lambda shapes: pool.cost(shapes[1]),
        rule=lambda b, g, args, out, needs: (
            b.op("max_pool2d_dx", g, args[1], **pool.attrs()) if needs[0] else None, None),
        internal=True,
        no_grad=(1,),
    )


def _window_tex(pool: Pool2d) -> str:
    """How many inputs a window holds, in a formula: 2 \\times 3 (k_h k_w where not given)."""
    return "k_h k_w" if pool.kernel is None else f"{pool.kernel[0]} \\times {pool.kernel[1]}"


def _make_avg_pool2d(kernel_size: Any = None, stride: Any = None, padding: Any = 0,
                     layout: str = "NHWC") -> Op:
    pool = Pool2d.read("avg_pool2d", kernel_size, stride, padding, layout)
    kw = pool.code_args()
    return Op(
        "avg_pool2d", 1, "avgpool", _pool_shape(pool), pool.mean,
        lambda g, args, out: (pool.spread(g, args[0].shape),),
        jvp=lambda t, args, out: total(out, None if t[0] is None else pool.mean(t[0])),
        tex=lambda s: f"\\operatorname{{avgpool}}_{{{pool.tex_args()}}}({s[0]})",
        local_tex=(lambda s: f"\\tfrac{{1}}{{{_window_tex(pool)}}}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\tfrac{{1}}{{{_window_tex(pool)}}}\\,(\\text{{each "
                 f"window's }} d{z} \\text{{ added to its inputs}})",),
        elementwise=False,
        doc="The mean of each window (torch.nn.functional.avg_pool2d; tf.nn.avg_pool2d in NHWC): "
        "a matrix or NHWC (layout='NCHW' for PyTorch's), stride the window's by default; the "
        "padding's zeros count in the mean, as PyTorch's count_include_pad=True.",
        cost=lambda shapes: pool.cost(shapes[0]),
        code=OpCode(f"avg_pool2d({{0}}{kw})", f"avg_pool2d({{0}}{kw})",
                    (f"avg_pool2d_grad({{g}}, {{0}}{kw})",),
                    tangent=(f"avg_pool2d({{g}}{kw})",),
                    numpy_helper=_POOL_NUMPY, torch_helper=_POOL_TORCH),
        rule=lambda b, g, args, out, needs: (
            b.op("avg_pool2d_dx", g, args[0], **pool.attrs()),),
        spellings=Spellings((), ("torch.nn.functional.avg_pool2d",),
                            ("tf.nn.avg_pool2d", "tf.nn.avg_pool")),
    )


def _make_avg_pool2d_dx(kernel_size: Any = None, stride: Any = None, padding: Any = 0,
                        layout: str = "NHWC") -> Op:
    pool = Pool2d.read("avg_pool2d_dx", kernel_size, stride, padding, layout)

    def shape(shapes: Sequence[Shape]) -> Shape:
        _check_ref(pool, shapes[0], shapes[1], "avg_pool2d_dx")
        return shapes[1]

    return Op(
        "avg_pool2d_dx", 2, "dX", shape, lambda g, x: pool.spread(g, x.shape),
        lambda h, args, out: (pool.mean(h), np.zeros(args[1].shape)),
        jvp=lambda t, args, out: total(out, None if t[0] is None
                                       else pool.spread(t[0], args[1].shape)),
        tex=lambda s: f"\\tfrac{{1}}{{{_window_tex(pool)}}}\\,(\\text{{each window's }} {s[0]}"
        f" \\text{{ added to its inputs, in the shape of }} {s[1]})",
        local_tex=(lambda s: f"\\tfrac{{1}}{{{_window_tex(pool)}}}", lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{avgpool}}_{{{pool.tex_args()}}}(d{z})",
                 lambda s, z: f"d{s[1]} = 0"),
        elementwise=False,
        doc="avg_pool2d's VJP: each window's gradient shared by its inputs (the second operand "
        "gives only the input's shape).",
        cost=lambda shapes: pool.cost(shapes[1]),
        rule=lambda b, h, args, out, needs: (
            b.op("avg_pool2d", h, **pool.attrs()) if needs[0] else None, None),
        internal=True,
        no_grad=(1,),
    )


register(family(_make_max_pool2d, POOL_ATTRS))
register(family(_make_max_pool2d_dx, POOL_ATTRS))
register(family(_make_max_pool2d_gather, POOL_ATTRS))
register(family(_make_avg_pool2d, POOL_ATTRS))
register(family(_make_avg_pool2d_dx, POOL_ATTRS))


# ---------------------------------------------------------------------------------------------
# linear: y = x W^T + b, as torch.nn.functional.linear


def _features(x: Shape) -> str:
    return f"{x[-1]} features" if x else "no feature axis (a scalar)"


def _linear(b: Builder, args: Sequence[int]) -> int:
    x, w = args[0], args[1]
    xs, ws = b.shape(x), b.shape(w)
    if ws is not None and len(ws) not in (1, 2):
        raise ShapeError(f"linear: the weight must be a matrix (out, in) or a vector (in,), got "
                         f"shape {fmt_shape(ws)}")
    if xs is not None and ws is not None and (not xs or xs[-1] != ws[-1]):
        raise ShapeError(f"linear: the input {fmt_shape(xs)} has {_features(xs)} but the weight "
                         f"{fmt_shape(ws)} takes {ws[-1]} (the weight is (out, in), as "
                         "torch.nn.functional.linear's)")
    if len(args) == 3 and ws is not None and len(ws) == 1:
        raise ShapeError(f"linear: with a bias the weight must be a matrix (out, in), got shape "
                         f"{fmt_shape(ws)} (PyTorch refuses a vector there)")
    y = b.op("matmul", x, b.op("transpose", w))
    if len(args) == 3:
        ys, bs = b.shape(y), b.shape(args[2])
        if ys is not None and bs is not None and _broadcast(ys, bs) != ys:
            raise ShapeError(f"linear: the bias {fmt_shape(bs)} does not fit the output "
                             f"{fmt_shape(ys)} (it is (out,), or broadcasts to the output)")
        y = b.op("add", y, args[2])
    return y


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _linear_grad(c: CodeArgs) -> str:
    # dx = dY W, dW = dY^T x summed over the batch axes, db = dY summed to the bias's shape.
    x, w = c.args[0], c.args[1]
    batch = list(range(len(c.shapes[0]) - 1))
    if c.k == 0:
        return f"{c.g} @ {w}" if len(c.shapes[1]) == 2 else f"np.multiply.outer({c.g}, {w})"
    if c.k == 1:
        return f"np.tensordot({c.g}, {x}, axes=({batch}, {batch}))"
    return c.g if c.shapes[2] == c.out_shape else f"unbroadcast({c.g}, {c.args[2]}.shape)"


def _linear_tangent(c: CodeArgs) -> str:
    x, w = c.args[0], c.args[1]
    if c.k == 0:
        return f"{c.g} @ np.transpose({w})"
    if c.k == 1:
        return f"{x} @ np.transpose({c.g})"
    return c.g if c.shapes[2] == c.out_shape else f"np.broadcast_to({c.g}, {c.out}.shape)"


register(composite(
    "linear", 2, "linear", _linear,
    tex=lambda s: f"{s[0]}\\,{s[1]}^{{\\top}}" + (f" + {s[2]}" if len(s) > 2 else ""),
    local_tex=(lambda s: s[1], lambda s: f"{s[0]}^{{\\top}}", lambda s: "1"),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z}\\,{s[1]}",
             lambda s, z: f"d{s[1]} = (d{z})^{{\\top}}\\,{s[0]}",
             lambda s, z: f"d{s[2]} = \\textstyle\\sum_{{\\text{{batch}}}} d{z}"),
    max_arity=3,
    operand_names=("input", "weight", "bias"),
    doc="A fully connected layer, x W^T + b (torch.nn.functional.linear): W is (out, in), the "
    "bias b (out,) is optional. Made of transpose, matmul and add.",
    code=OpCode(lambda r: f"{r[0]} @ np.transpose({r[1]})" + (f" + {r[2]}" if len(r) > 2 else ""),
                lambda r: f"torch.nn.functional.linear({', '.join(r)})",
                (_linear_grad, _linear_grad), tangent=(_linear_tangent, _linear_tangent)),
    spellings=Spellings((), ("torch.nn.functional.linear",), ()),
))


# ---------------------------------------------------------------------------------------------
# Normalization: layer_norm (over the last axes of each sample) and batch_norm (over the batch, per
# channel, with the batch's own statistics: training mode). Both are (x - mean) / sqrt(var + eps),
# the variance biased (divided by n, as PyTorch normalizes), then times a weight plus a bias.

_NORM_NUMPY = '''
def normalize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes` (the variance divided by n), and that
    standard deviation."""
    d = x - np.mean(x, axis=axes, keepdims=True)
    sigma = np.sqrt(np.mean(d * d, axis=axes, keepdims=True) + eps)
    return d / sigma, sigma


def normalize_grad(g, x, axes, eps):
    """d<g, normalize(x)>/dx = (g - mean(g) - xhat mean(g xhat)) / sigma over `axes`; the
    Jacobian is symmetric, so this is also normalize's tangent along g."""
    xhat, sigma = normalize(x, axes, eps)
    return (g - np.mean(g, axis=axes, keepdims=True)
            - xhat * np.mean(g * xhat, axis=axes, keepdims=True)) / sigma


def layer_norm(x, w=None, b=None, dims=1, eps=1e-05):
    """Each sample normalized over its last `dims` axes (torch.nn.functional.layer_norm), times
    the weight plus the bias (of those axes' shape)."""
    out = normalize(x, tuple(range(-dims, 0)), eps)[0]
    out = out if w is None else out * w
    return out if b is None else out + b


def batch_norm(x, w=None, b=None, eps=1e-05, layout="NHWC"):
    """Each channel normalized over the batch (and the rows and columns) with the batch's own
    mean and variance (torch.nn.functional.batch_norm, training=True), times the weight plus
    the bias (one number per channel)."""
    channel = 1 if layout == "NCHW" else x.ndim - 1
    out = normalize(x, tuple(a for a in range(x.ndim) if a != channel), eps)[0]
    shape = [1] * x.ndim
    shape[channel] = -1
    out = out if w is None else out * np.reshape(w, shape)
    return out if b is None else out + np.reshape(b, shape)
'''


def _norm_code(numpy: Any, torch: Any, axes_of: Any, per_channel: Any, eps: float) -> OpCode:
    """The generated code of a normalization: its NumPy helper and PyTorch function (`numpy`,
    `torch`: of the operands' code), and closed-form gradients: dx through normalize_grad, dw
    the upstream times xhat and db the upstream, each summed over the axes the weight is
    repeated along. `axes_of(shape)`: the normalized axes; `per_channel(ref, shape)`: a weight
    as it broadcasts against the input (or the axes it is repeated along, `per_channel(None,
    shape)`)."""

    def back(c: CodeArgs) -> str:
        x, shape = c.args[0], c.shapes[0]
        axes = axes_of(shape)
        other = per_channel(None, shape)
        if c.k == 0:
            up = c.g if len(c.args) < 2 else f"{c.g} * {per_channel(c.args[1], shape)}"
            return f"normalize_grad({up}, {x}, {axes}, {eps!r})"
        if c.k == 1:
            return f"np.sum({c.g} * normalize({x}, {axes}, {eps!r})[0], axis={other})"
        return f"np.sum({c.g}, axis={other})"

    def tangent(c: CodeArgs) -> str:
        x, shape = c.args[0], c.shapes[0]
        axes = axes_of(shape)
        if c.k == 0:
            t = f"normalize_grad({c.g}, {x}, {axes}, {eps!r})"
            return t if len(c.args) < 2 else f"{t} * {per_channel(c.args[1], shape)}"
        if c.k == 1:
            return f"normalize({x}, {axes}, {eps!r})[0] * {per_channel(c.g, shape)}"
        return f"np.broadcast_to({per_channel(c.g, shape)}, {c.out}.shape)"

    return OpCode(numpy, torch, (back,), tangent=(tangent,), numpy_helper=_NORM_NUMPY)


def normalized(b: Builder, x: int, axes: tuple[int, ...], eps: float) -> int:
    """(x - mean) / sqrt(var + eps) over `axes`, the variance the mean square deviation (biased,
    as PyTorch normalizes), written with its parts."""
    d = b.op("sub", x, b.op("mean", x, axis=axes, keepdims=True))
    var = b.op("mean", b.op("square", d), axis=axes, keepdims=True)
    return b.op("div", d, b.op("sqrt", b.op("add", var, b.const(eps))))


_WHAT = ("weight", "bias")


def _norm_vjp_tex(over: str) -> tuple[Any, ...]:
    # The means are over the values normalized together (as the local derivative says).
    return (
        lambda s, z: (f"d{s[0]} = \\tfrac{{1}}{{\\sigma}}\\left(g - \\operatorname{{mean}} g - "
                      f"\\hat{{{s[0]}}}\\,\\operatorname{{mean}}(g \\odot \\hat{{{s[0]}}})\\right),"
                      f"\\ g = d{z}" + (f" \\odot {s[1]}" if len(s) > 1 else "")),
        lambda s, z: f"d{s[1]} = \\textstyle\\sum_{{\\text{{{over}}}}} d{z} \\odot \\hat{{{s[0]}}}",
        lambda s, z: f"d{s[2]} = \\textstyle\\sum_{{\\text{{{over}}}}} d{z}",
    )


def _norm_tex(name: str, s: Sequence[str]) -> str:
    out = f"\\operatorname{{{name}}}({s[0]})"
    if len(s) > 1:
        out += f" \\odot {s[1]}"
    return out + (f" + {s[2]}" if len(s) > 2 else "")


def _norm_local() -> tuple[Any, ...]:
    """The input's Jacobian (per normalised group), times the weight where there is one; then the
    weight's (the normalised input) and the bias's (ones): y = x̂ w + b."""
    def dx(s: Sequence[str]) -> str:
        x = s[0]
        scale = f"\\operatorname{{diag}}({s[1]})\\," if len(s) > 1 else ""
        centred = f"{x} - \\operatorname{{mean}} {x}"
        return (f"{scale}\\tfrac{{1}}{{\\sigma}}\\left(I - \\tfrac{{1}}{{n}}\\mathbf{{1}}"
                f"\\mathbf{{1}}^{{\\top}} - \\tfrac{{1}}{{n}}\\hat{{{x}}}\\hat{{{x}}}^{{\\top}}"
                f"\\right),\\ \\hat{{{x}}} = \\tfrac{{{centred}}}{{\\sigma}},\\ \\sigma = "
                f"\\sqrt{{\\operatorname{{mean}}(({centred})^{{2}}) + \\epsilon}}"
                f"\\ \\text{{over the }} n \\text{{ values normalized together}}")
    return (dx, lambda s: f"\\hat{{{s[0]}}}", lambda s: "1")


def _make_layer_norm(normalized_shape: Any = None, eps: float = 1e-5, dims: Any = None) -> Op:
    if normalized_shape is not None and (
            not normalized_shape or any(n < 1 for n in normalized_shape)):
        raise AttrError(f"layer_norm: normalized_shape={normalized_shape!r} should be the sizes "
                        "of the input's last axes")
    if dims is not None and dims < 1:
        raise AttrError(f"layer_norm: dims={dims!r} should be the number of last axes to "
                        "normalize, at least 1")
    if normalized_shape is not None and dims is not None and len(normalized_shape) != dims:
        raise AttrError(f"layer_norm: normalized_shape={normalized_shape!r} has "
                        f"{len(normalized_shape)} axes but dims={dims}")
    if eps <= 0:
        raise AttrError(f"layer_norm: eps={eps!r} should be above 0")
    k = len(normalized_shape) if normalized_shape is not None else dims or 1
    axes = tuple(range(-k, 0))
    last = "the last axis" if k == 1 else f"the last {k} axes"

    def compose(b: Builder, args: Sequence[int]) -> int:
        x = args[0]
        xs = b.shape(x)
        if xs is not None and len(xs) < k:
            raise ShapeError(f"layer_norm normalizes over {last}, but the input "
                             f"{fmt_shape(xs)} has {len(xs)}")
        want = None if xs is None else xs[len(xs) - k:]
        if normalized_shape is not None and want is not None and want != normalized_shape:
            raise ShapeError(f"layer_norm: normalized_shape={fmt_shape(normalized_shape)} is "
                             f"not the last axes of the input {fmt_shape(xs or ())} "
                             f"({fmt_shape(want)})")
        y = normalized(b, x, axes, eps)
        for what, operand, op in zip(_WHAT, args[1:], ("mul", "add"), strict=False):
            got = b.shape(operand)
            if want is not None and got is not None and got != want:
                hint = "" if k > 1 or len(got) < 2 else (
                    f"; to normalize over the last {len(got)} axes, write "
                    f"normalized_shape={fmt_shape(got)}")
                raise ShapeError(f"layer_norm: the {what} must have the normalized shape "
                                 f"{fmt_shape(want)}, got {fmt_shape(got)}{hint}")
            y = b.op(op, y, operand)
        return y

    def torch(r: Sequence[str]) -> str:
        rest = "".join(f", {v}" for v in r[1:])
        return (f"torch.nn.functional.layer_norm({r[0]}, {r[0]}.shape[-{k}:]{rest}, "
                f"eps={eps!r})")

    return composite(
        "layer_norm", 1, "LayerNorm", compose,
        tex=lambda s: _norm_tex("LayerNorm", s),
        local_tex=_norm_local(),
        vjp_tex=_norm_vjp_tex("batch"),
        max_arity=3,
        operand_names=("input", "weight", "bias"),
        doc="Layer normalization (torch.nn.functional.layer_norm): each sample's last axes "
        "(normalized_shape as PyTorch's, or dims, their number; the last axis by default) "
        "shifted by their mean and divided by sqrt(var + eps), the variance divided by n; then "
        "times the optional weight plus the optional bias (both of the normalized shape). Made "
        "of mean, sub, square, add, sqrt, div, mul.",
        code=_norm_code(lambda r: f"layer_norm({', '.join(r)}, dims={k}, eps={eps!r})", torch,
                        lambda shape: tuple(range(len(shape) - k, len(shape))),
                        lambda ref, shape: tuple(range(len(shape) - k)) if ref is None else ref,
                        eps),
        spellings=Spellings((), ("torch.nn.functional.layer_norm",), ()),
    )


register(family(_make_layer_norm, (
    Attr("normalized_shape", "ints", None, "the shape of the last axes to normalize over, as "
         "PyTorch's (the last axis by default)"),
    Attr("eps", "float", 1e-5, "added to the variance before the square root"),
    Attr("dims", "int", None, "the number of last axes to normalize over (instead of "
         "normalized_shape)"),
)))


def _make_batch_norm(eps: float = 1e-5, layout: str = "NHWC") -> Op:
    if eps <= 0:
        raise AttrError(f"batch_norm: eps={eps!r} should be above 0")

    def channel_of(ndim: int) -> int:
        return 1 if layout == "NCHW" else ndim - 1

    def axes_of(shape: Shape) -> tuple[int, ...]:
        return tuple(a for a in range(len(shape)) if a != channel_of(len(shape)))

    def compose(b: Builder, args: Sequence[int]) -> int:
        x = args[0]
        xs = b.shape(x)
        shape = xs if xs is not None else (2, 2, 2, 2)
        if len(shape) < 2:
            raise ShapeError(f"batch_norm takes a batch with channels: (N, C), or N, then "
                             f"{'C, then' if layout == 'NCHW' else ''} the other axes"
                             f"{'' if layout == 'NCHW' else ', then C'} ({layout}); got shape "
                             f"{fmt_shape(shape)}")
        channel = channel_of(len(shape))
        axes = axes_of(shape)
        if xs is not None and math.prod(xs[a] for a in axes) < 2:
            raise ShapeError(f"batch_norm: the input {fmt_shape(xs)} has one value per channel: "
                             "the batch's variance needs more (PyTorch refuses it too)")
        y = normalized(b, x, axes, eps)
        for what, operand, op in zip(_WHAT, args[1:], ("mul", "add"), strict=False):
            got = b.shape(operand)
            if xs is not None and got is not None and got != (xs[channel],):
                raise ShapeError(f"batch_norm: the {what} takes one number per channel, shape "
                                 f"({xs[channel]},), got {fmt_shape(got)} (channels on axis "
                                 f"{channel}, {layout})")
            if channel != len(shape) - 1:  # (C,) does not broadcast against (N, C, H, W)
                operand = b.op("unreduce", operand, x, axis=axes)
            y = b.op(op, y, operand)
        return y

    def per_channel(ref: str | None, shape: Shape) -> Any:
        channel = channel_of(len(shape))
        if ref is None:  # the axes a weight is repeated along
            return axes_of(shape)
        if channel == len(shape) - 1:
            return ref
        return f"np.reshape({ref}, {tuple(-1 if a == channel else 1 for a in range(len(shape)))})"

    def torch(r: Sequence[str]) -> str:
        w, b = (r[1] if len(r) > 1 else "None"), (r[2] if len(r) > 2 else "None")
        if layout == "NCHW":
            return (f"torch.nn.functional.batch_norm({r[0]}, None, None, {w}, {b}, "
                    f"training=True, eps={eps!r})")
        # PyTorch wants the channels second: NHWC moved there and back.
        return (f"torch.nn.functional.batch_norm({r[0]}.movedim(-1, 1), None, None, {w}, {b}, "
                f"training=True, eps={eps!r}).movedim(1, -1)")

    return composite(
        "batch_norm", 1, "BatchNorm", compose,
        tex=lambda s: _norm_tex("BatchNorm", s),
        local_tex=_norm_local(),
        vjp_tex=_norm_vjp_tex("batch, rows, columns"),
        max_arity=3,
        operand_names=("input", "weight", "bias"),
        doc="Batch normalization with the batch's own statistics (training mode: "
        "torch.nn.functional.batch_norm(x, None, None, weight, bias, training=True)): each "
        "channel shifted by its mean over the batch (and rows and columns) and divided by "
        "sqrt(var + eps), the variance divided by n; then times the optional weight plus the "
        "optional bias, one number per channel. (N, C), or NHWC (layout='NCHW' for PyTorch's). "
        "Made of mean, sub, square, add, sqrt, div, mul.",
        code=_norm_code(lambda r: f"batch_norm({', '.join(r)}, eps={eps!r}, layout={layout!r})",
                        torch, axes_of, per_channel, eps),
        spellings=Spellings((), ("torch.nn.functional.batch_norm",), ()),
    )


register(family(_make_batch_norm, (
    Attr("eps", "float", 1e-5, "added to the variance before the square root"),
    Attr("layout", "str", "NHWC", "where the channels are: last ('NHWC', as tf.nn) or second "
         "('NCHW', as torch.nn.functional); an (N, C) input either way", choices=LAYOUTS),
)))
