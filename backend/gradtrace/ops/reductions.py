"""Reductions over axes (sum, mean, amax, amin, logsumexp, var, norm) and softmax / log_softmax
along an axis.

A reduction takes `axis` (PyTorch's `dim`: None for every axis, one axis or a tuple of them,
negative ones counted from the end) and `keepdims` (`keepdim`: the reduced axes stay, of length 1).
Without attributes, `sum` and `mean` are the whole-tensor reductions they always were.

Every VJP broadcasts the upstream gradient back over the reduced axes (`unreduce`, the adjoint of
`sum`), never a dense Jacobian: sum's is that copy, mean's that copy divided by the count, amax's
and amin's that copy times the share of each element in the extreme (ties split evenly, as
torch.amax), logsumexp's that copy times softmax, norm's that copy times x / ||x|| (0 where the
norm is 0, as PyTorch). var and log_softmax are composites (they open into their parts); softmax
stays one fused op: s * (g - <g, s>) along its axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from . import elementwise  # noqa: F401 (the parts of the composites below must be registered first)
from .core import (
    Array,
    Attr,
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
    no_gradient,
    register,
    same_shape,
    scalar_shape,
    total,
)

# ---------------------------------------------------------------------------------------------
# Axes: reading them against an operand's rank, the reduced shape, the way back.


def out_of_range(name: str, axis: int, ndim: int, word: str = "axis") -> str:
    """The message for an axis the operand does not have."""
    if ndim == 0:
        return f"{name}: {word} {axis} is out of range for a scalar (it has no axes)"
    axes = "1 axis" if ndim == 1 else f"{ndim} axes"
    return (f"{name}: {word} {axis} is out of range for a tensor with {axes} (from {-ndim} to "
            f"{ndim - 1})")


def axis_of(name: str, axis: int, ndim: int, word: str = "axis") -> int:
    """One axis, counted from 0 (a negative one from the end), or a ShapeError in words."""
    if not -ndim <= axis < ndim:
        raise ShapeError(out_of_range(name, axis, ndim, word))
    return axis % ndim


def axes_of(name: str, axis: tuple[int, ...] | None, ndim: int, word: str = "axis"
            ) -> tuple[int, ...]:
    """The axes a reduction runs over, counted from 0 and sorted (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if not axis:
        # NumPy would reduce over no axis and PyTorch over all of them: say which is meant.
        raise ShapeError(f"{name}: {word}=() names no axis; leave {word} out to reduce over "
                         "every axis")
    out: list[int] = []
    for a in axis:
        k = axis_of(name, a, ndim, word)
        if k in out:
            raise ShapeError(f"{name}: {word} {a} names axis {k} a second time")
        out.append(k)
    return tuple(sorted(out))


def reduced_shape(name: str, shape: Shape, axis: tuple[int, ...] | None, keepdims: bool
                  ) -> Shape:
    axes = axes_of(name, axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def kept(v: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    """A reduction's output with the reduced axes back in place, of length 1."""
    return v if keepdims or not axes else np.expand_dims(v, axes)


def expand(g: Array, shape: Shape, axes: tuple[int, ...], keepdims: bool) -> Array:
    """The upstream gradient copied back over the reduced axes: a fresh array of `shape`."""
    return np.array(np.broadcast_to(kept(g, axes, keepdims), shape), dtype=np.float64)


def axis_src(axis: tuple[int, ...]) -> str:
    """Axes as Python source: `0` for one, `(0, 2)` for more."""
    return str(axis[0]) if len(axis) == 1 else "(" + ", ".join(map(str, axis)) + ")"


def axis_tex(axis: tuple[int, ...] | None, word: str = "axis") -> str:
    """The subscript that shows the axes in a formula (none for all of them)."""
    if axis is None:
        return ""
    return f"_{{\\mathrm{{{word}}}\\,{', '.join(map(str, axis))}}}"


def _np_args(axis: tuple[int, ...] | None, keepdims: bool) -> str:
    """`, axis=0, keepdims=True` as NumPy's reductions take them (what is default left out)."""
    return ((f", axis={axis_src(axis)}" if axis is not None else "")
            + (", keepdims=True" if keepdims else ""))


def _torch_args(axis: tuple[int, ...] | None, keepdims: bool, all_axes: str = "None") -> str:
    """`, dim=0, keepdim=True` as PyTorch's reductions take them; `all_axes`: how the function
    names every axis (None for torch.sum, () for torch.amax)."""
    dim = axis_src(axis) if axis is not None else all_axes
    return f", dim={dim}" + (", keepdim=True" if keepdims else "")


def _num_src(v: float) -> str:
    """A float as NumPy source (inf and NaN are not Python literals)."""
    if math.isfinite(v):
        return repr(v)
    return "np.nan" if math.isnan(v) else ("np.inf" if v > 0 else "-np.inf")


def _kept_src(ref: str, axes: tuple[int, ...], keepdims: bool) -> str:
    return ref if keepdims or not axes else f"np.expand_dims({ref}, {axis_src(axes)})"


def _expand_src(g: str, x: str, axes: tuple[int, ...], keepdims: bool) -> str:
    """The generated NumPy of `expand`: the upstream copied back over the reduced axes."""
    return f"np.broadcast_to({_kept_src(g, axes, keepdims)}, {x}.shape)"


REDUCE_ATTRS = (
    Attr("axis", "axes", None, "the axes to reduce (None: every axis)", aliases=("dim",)),
    Attr("keepdims", "bool", False, "keep the reduced axes, of length 1", aliases=("keepdim",)),
)


# ---------------------------------------------------------------------------------------------
# The ops only gradient graphs use: the way back over reduced axes, a reduction's count, and the
# share of each element in a maximum or minimum.


def _unreduce_shape(shapes: Sequence[Shape], axis: tuple[int, ...] | None, keepdims: bool
                    ) -> Shape:
    g, x = shapes
    want = reduced_shape("unreduce", x, axis, keepdims)
    if g != want and g != ():
        raise ShapeError(f"unreduce: a gradient of shape {fmt_shape(g)} does not fit a reduction "
                         f"of {fmt_shape(x)} to {fmt_shape(want)}")
    return x


def _make_unreduce(axis: tuple[int, ...] | None, keepdims: bool) -> Op:
    def forward(g: Array, x: Array) -> Array:
        axes = axes_of("unreduce", axis, x.ndim)
        if g.ndim == 0:
            return np.array(np.broadcast_to(g, x.shape), dtype=np.float64)
        return expand(g, x.shape, axes, keepdims)

    def back(h: Array, g: Array, x: Array) -> Array:
        if g.ndim == 0 and x.ndim != 0:
            return np.asarray(np.sum(h))
        return np.asarray(np.sum(h, axis=axes_of("unreduce", axis, x.ndim), keepdims=keepdims))

    def rule(b: Builder, h: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        if b.shape(args[0]) == () and b.shape(args[1]) != ():
            return (b.op("sum", h), None)  # a scalar copied everywhere: its adjoint is the total
        return (b.op("sum", h, axis=axis, keepdims=keepdims), None)

    sub = axis_tex(axis)
    return Op(
        "unreduce", 2, "bcast", lambda shapes: _unreduce_shape(shapes, axis, keepdims), forward,
        lambda h, args, out: (back(h, args[0], args[1]), np.zeros(args[1].shape)),
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                                  else forward(t[0], args[1])),
        rule=rule,
        tex=lambda s: f"\\operatorname{{broadcast}}{sub}({s[0]}; {s[1]})",
        local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\textstyle\\sum{sub} d{z}",
                 lambda s, z: f"d{s[1]} = 0"),
        elementwise=False,
        doc="Copies the first operand (a reduction's gradient) back over the axes a reduction of "
        "the second took away (the second gives only its shape): the adjoint of sum.",
        internal=True,
    )


register(family(_make_unreduce, REDUCE_ATTRS))


def _make_count(axis: tuple[int, ...] | None, correction: int) -> Op:
    def forward(x: Array) -> Array:
        n = math.prod(x.shape[a] for a in axes_of("count", axis, x.ndim))
        return np.asarray(float(max(n - correction, 0)))

    def shape(shapes: Sequence[Shape]) -> Shape:
        axes_of("reduced_count", axis, len(shapes[0]))
        return ()

    sub = axis_tex(axis)
    less = f" - {correction}" if correction else ""
    return Op(
        "reduced_count", 1, "n", shape, forward,
        lambda g, args, out: (np.zeros(args[0].shape),),
        jvp=lambda t, args, out: np.zeros(()),
        rule=no_gradient,
        tex=lambda s: f"\\#{sub}{s[0]}{less}", local_tex=(lambda s: "0",), elementwise=False,
        doc="How many elements each output of a reduction over the axes takes (less the "
        "correction, at least 0): mean's and var's n.",
        internal=True, differentiable=False,
    )


register(family(_make_count, (
    Attr("axis", "axes", None, "the axes of the reduction", aliases=("dim",)),
    Attr("correction", "int", 0, "subtracted from the count (var's degrees of freedom)"),
)))


def _share(which: str, x: Array, axes: tuple[int, ...]) -> Array:
    """1/k where x equals its slice's maximum (minimum) and k elements tie there, 0 elsewhere:
    torch.amax's gradient mask (a slice with a NaN has no such element: 0/0, NaN, as PyTorch)."""
    top = (np.max if which == "max" else np.min)(x, axis=axes, keepdims=True)
    hit = (x == top).astype(np.float64)
    with np.errstate(all="ignore"):
        out: Array = hit / np.sum(hit, axis=axes, keepdims=True)
    return out


def _make_share(which: str) -> Callable[..., Op]:
    name = f"a{which}_share"

    def make(axis: tuple[int, ...] | None) -> Op:
        def forward(x: Array) -> Array:
            return _share(which, x, axes_of(name, axis, x.ndim))

        def shape(shapes: Sequence[Shape]) -> Shape:
            axes_of(name, axis, len(shapes[0]))
            return shapes[0]

        along = "" if axis is None else f",\\ \\mathrm{{axis}}\\,{', '.join(map(str, axis))}"
        return Op(
            name, 1, "share", shape, forward,
            lambda g, args, out: (np.zeros(args[0].shape),),
            jvp=lambda t, args, out: np.zeros(out.shape),
            rule=no_gradient,
            tex=lambda s: f"\\operatorname{{share}}_{{\\{which}{along}}}({s[0]})",
            local_tex=(lambda s: "0",),
            doc=f"d a{which}(x)/dx: 1/k where x is the {which}imum of its slice and k elements "
            "tie there, 0 elsewhere (torch.amax's even split).",
            internal=True, differentiable=False, elementwise=False,
        )
    return make


for _which in ("max", "min"):
    register(family(_make_share(_which), (
        Attr("axis", "axes", None, "the axes of the reduction", aliases=("dim",)),)))


# ---------------------------------------------------------------------------------------------
# sum and mean: without attributes the whole-tensor reductions they always were.


def _sum_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return (np.broadcast_to(g, args[0].shape).copy(),)


def _sum_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return total(out, None if t[0] is None else np.asarray(np.sum(t[0])))


_SUM_SPELLINGS = Spellings(("numpy.sum",), ("torch.sum",), ("tf.math.reduce_sum",), ("\\sum",))
_SUM = Op(
    "sum", 1, "Σ", scalar_shape, lambda x: np.asarray(np.sum(x)), _sum_vjp, jvp=_sum_jvp,
    tex=lambda s: f"\\sum {s[0]}",
    local_tex=(lambda s: "1",),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\cdot \\mathbf{{1}}",),
    gate="distributes",
    elementwise=False,
    code=OpCode("np.sum({0})", "torch.sum({0})", ("np.full_like({0}, {g})",),
                tangent=("np.sum({g})",)),
    rule=lambda b, g, args, out, needs: (b.op("broadcast_like", g, args[0]),),
    spellings=_SUM_SPELLINGS,
)


def _make_sum(axis: tuple[int, ...] | None, keepdims: bool) -> Op:
    if axis is None and not keepdims:
        return _SUM

    def axes(x: Array) -> tuple[int, ...]:
        return axes_of("sum", axis, x.ndim)

    def back(c: CodeArgs) -> str:
        return _expand_src(c.g, c.args[0], axes_of("sum", axis, len(c.shapes[0])), keepdims)

    sub = axis_tex(axis)
    return replace(
        _SUM,
        shape=lambda shapes: reduced_shape("sum", shapes[0], axis, keepdims),
        forward=lambda x: np.asarray(np.sum(x, axis=axes(x), keepdims=keepdims)),
        vjp=lambda g, args, out: (expand(g, args[0].shape, axes(args[0]), keepdims),),
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None else np.asarray(
            np.sum(t[0], axis=axes(args[0]), keepdims=keepdims))),
        rule=lambda b, g, args, out, needs: (
            b.op("unreduce", g, args[0], axis=axis, keepdims=keepdims),),
        tex=lambda s: f"\\sum{sub} {s[0]}",
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}{sub}(d{z})",),
        code=OpCode(f"np.sum({{0}}{_np_args(axis, keepdims)})",
                    f"torch.sum({{0}}{_torch_args(axis, keepdims)})", (back,),
                    tangent=(f"np.sum({{g}}{_np_args(axis, keepdims)})",)),
    )


register(family(_make_sum, REDUCE_ATTRS))


def _mean_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    x = args[0]
    return (np.broadcast_to(g / max(x.size, 1), x.shape).copy(),)


def _mean_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return total(out, None if t[0] is None else np.asarray(np.sum(t[0]) / max(t[0].size, 1)))


_MEAN = Op(
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
)


def _make_mean(axis: tuple[int, ...] | None, keepdims: bool) -> Op:
    if axis is None and not keepdims:
        return _MEAN

    def axes(x: Array) -> tuple[int, ...]:
        return axes_of("mean", axis, x.ndim)

    def count(shape: Shape) -> int:
        return math.prod(shape[a] for a in axes_of("mean", axis, len(shape)))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        x = args[0]
        return (expand(g / count(x.shape), x.shape, axes(x), keepdims),)

    def back(c: CodeArgs) -> str:
        n = count(c.shapes[0])
        return _expand_src(f"{c.g} / {n}", c.args[0], axes_of("mean", axis, len(c.shapes[0])),
                           keepdims)

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        n = b.op("reduced_count", args[0], axis=axis)
        return (b.op("unreduce", b.op("div", g, n), args[0], axis=axis, keepdims=keepdims),)

    sub = axis_tex(axis)
    return replace(
        _MEAN,
        shape=lambda shapes: reduced_shape("mean", shapes[0], axis, keepdims),
        forward=lambda x: np.asarray(np.mean(x, axis=axes(x), keepdims=keepdims)),
        vjp=vjp,
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None else np.asarray(
            np.mean(t[0], axis=axes(args[0]), keepdims=keepdims))),
        rule=rule,
        tex=lambda s: f"\\operatorname{{mean}}{sub} {s[0]}",
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}{sub}"
                 f"\\left(\\frac{{d{z}}}{{n}}\\right)",),
        code=OpCode(f"np.mean({{0}}{_np_args(axis, keepdims)})",
                    f"torch.mean({{0}}{_torch_args(axis, keepdims)})", (back,),
                    tangent=(f"np.mean({{g}}{_np_args(axis, keepdims)})",)),
    )


register(family(_make_mean, REDUCE_ATTRS))


# ---------------------------------------------------------------------------------------------
# amax and amin: ties split the gradient evenly, as torch.amax / torch.amin.

_SHARE_NUMPY = '''
def extreme_share(x, top, axis):
    """amax/amin's gradient share: 1/k where x equals the extreme `top` of its slice (k ties),
    0 elsewhere."""
    hit = (x == top).astype(float)
    return hit / np.sum(hit, axis=axis, keepdims=True)
'''


def _make_extreme(which: str) -> Callable[..., Op]:
    name = f"a{which}"
    reduce = np.max if which == "max" else np.min

    def make(axis: tuple[int, ...] | None, keepdims: bool) -> Op:
        def axes(x: Array) -> tuple[int, ...]:
            return axes_of(name, axis, x.ndim)

        def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
            x = args[0]
            return (expand(g, x.shape, axes(x), keepdims) * _share(which, x, axes(x)),)

        def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
            x = args[0]
            if t[0] is None:
                return np.zeros(out.shape)
            return np.asarray(np.sum(t[0] * _share(which, x, axes(x)), axis=axes(x),
                                     keepdims=keepdims))

        def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                 ) -> Sequence[int | None]:
            x = args[0]
            return (b.op("mul", b.op("unreduce", g, x, axis=axis, keepdims=keepdims),
                         b.op(f"{name}_share", x, axis=axis)),)

        def share_src(c: CodeArgs) -> str:
            ax = axes_of(name, axis, len(c.shapes[0]))
            return (f"extreme_share({c.args[0]}, {_kept_src(c.out, ax, keepdims)}, "
                    f"{axis_src(ax) if ax else '()'})")

        def back(c: CodeArgs) -> str:
            ax = axes_of(name, axis, len(c.shapes[0]))
            return f"{_expand_src(c.g, c.args[0], ax, keepdims)} * {share_src(c)}"

        def tangent(c: CodeArgs) -> str:
            ax = axes_of(name, axis, len(c.shapes[0]))
            return (f"np.sum({c.g} * {share_src(c)}, axis={axis_src(ax) if ax else '()'}"
                    f"{', keepdims=True' if keepdims else ''})")

        def kink(args: Sequence[Array]) -> Array:
            # 0 at the slice's extreme, of one sign elsewhere: a new winner changes the pattern.
            x = args[0]
            return x - kept(np.asarray(reduce(x, axis=axes(x), keepdims=keepdims)), axes(x),
                            keepdims)

        sub = axis_tex(axis)
        return Op(
            name, 1, which, lambda shapes: reduced_shape(name, shapes[0], axis, keepdims),
            lambda x: np.asarray(reduce(x, axis=axes(x), keepdims=keepdims)), vjp, jvp=jvp,
            rule=rule, kink=kink,
            tex=lambda s: f"\\{which}{sub} {s[0]}",
            local_tex=(lambda s: f"\\mathbb{{1}}[{s[0]} = \\{which}{sub} {s[0]}] \\,/\\, "
                       f"(\\text{{number of {which}ima}})",),
            vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}{sub}(d{z}) \\odot "
                     f"\\mathbb{{1}}[{s[0]} = {z}] \\,/\\, (\\text{{number of {which}ima}})",),
            gate="routes",
            elementwise=False,
            doc=f"The {which}imum over the axes (None: all). The gradient goes to the "
            f"{which}imum; k tied elements get 1/k of it each, as torch.a{which}.",
            code=OpCode(f"np.{which}({{0}}{_np_args(axis, keepdims)})",
                        f"torch.a{which}({{0}}{_torch_args(axis, keepdims, '()')})", (back,),
                        tangent=(tangent,), numpy_helper=_SHARE_NUMPY),
            spellings=Spellings((f"numpy.{which}", f"numpy.a{which}"), (f"torch.a{which}",),
                                (f"tf.math.reduce_{which}",), (f"\\{which}",)),
        )
    return make


for _which in ("max", "min"):
    register(family(_make_extreme(_which), REDUCE_ATTRS))


# ---------------------------------------------------------------------------------------------
# logsumexp: as torch.logsumexp, shifted by the maximum (an infinite maximum by 0).

_LOGSUMEXP_NUMPY = '''
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over the axes, shifted by the maximum so that exp cannot overflow
    (an infinite maximum is not subtracted, as in torch.logsumexp)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)
'''


def logsumexp(x: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    m = np.max(x, axis=axes, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    with np.errstate(all="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return np.asarray(out if keepdims else np.squeeze(out, axis=axes))


def _make_logsumexp(axis: tuple[int, ...] | None, keepdims: bool) -> Op:
    def axes(x: Array) -> tuple[int, ...]:
        return axes_of("logsumexp", axis, x.ndim)

    def weights(x: Array, out: Array) -> Array:
        # d out / d x = exp(x - out): the softmax over the axes
        with np.errstate(all="ignore"):
            return np.asarray(np.exp(x - kept(out, axes(x), keepdims)))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        x = args[0]
        return (expand(g, x.shape, axes(x), keepdims) * weights(x, out),)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if t[0] is None:
            return np.zeros(out.shape)
        x = args[0]
        return np.asarray(np.sum(t[0] * weights(x, out), axis=axes(x), keepdims=keepdims))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x = args[0]
        back = b.op("unreduce", out, x, axis=axis, keepdims=keepdims)
        return (b.op("mul", b.op("unreduce", g, x, axis=axis, keepdims=keepdims),
                     b.op("exp", b.op("sub", x, back))),)

    def weights_src(c: CodeArgs) -> str:
        ax = axes_of("logsumexp", axis, len(c.shapes[0]))
        return f"np.exp({c.args[0]} - {_kept_src(c.out, ax, keepdims)})"

    def back(c: CodeArgs) -> str:
        ax = axes_of("logsumexp", axis, len(c.shapes[0]))
        return f"{_expand_src(c.g, c.args[0], ax, keepdims)} * {weights_src(c)}"

    def tangent(c: CodeArgs) -> str:
        ax = axes_of("logsumexp", axis, len(c.shapes[0]))
        return (f"np.sum({c.g} * {weights_src(c)}, axis={axis_src(ax) if ax else '()'}"
                f"{', keepdims=True' if keepdims else ''})")

    if axis is None:  # torch.logsumexp needs dims: every axis, of the flattened tensor
        torch_src = ("torch.logsumexp({0}.reshape(-1), dim=0)" + (
            ".reshape([1] * {0}.dim())" if keepdims else ""))
    else:
        torch_src = f"torch.logsumexp({{0}}{_torch_args(axis, keepdims)})"
    sub = axis_tex(axis)
    return Op(
        "logsumexp", 1, "LSE", lambda shapes: reduced_shape("logsumexp", shapes[0], axis,
                                                            keepdims),
        lambda x: logsumexp(x, axes(x), keepdims), vjp, jvp=jvp, rule=rule,
        tex=lambda s: f"\\log \\sum{sub} e^{{{s[0]}}}",
        local_tex=(lambda s: f"\\frac{{e^{{{s[0]}}}}}{{\\sum{sub} e^{{{s[0]}}}}}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}{sub}(d{z}) \\odot "
                 f"e^{{{s[0]} - {z}}}",),
        elementwise=False,
        doc="log(sum(exp(x))) over the axes (None: all), computed without overflow (shifted by "
        "the maximum). Its gradient is the softmax over those axes.",
        code=OpCode(f"logsumexp({{0}}{_np_args(axis, keepdims)})", torch_src, (back,),
                    tangent=(tangent,), numpy_helper=_LOGSUMEXP_NUMPY),
        spellings=Spellings((), ("torch.logsumexp",), ("tf.math.reduce_logsumexp",),
                            ("\\operatorname{logsumexp}",)),
    )


register(family(_make_logsumexp, REDUCE_ATTRS))


# ---------------------------------------------------------------------------------------------
# norm: the 2-norm over the axes, as torch.linalg.vector_norm (gradient 0 where the norm is 0).


def _make_norm(axis: tuple[int, ...] | None, keepdims: bool) -> Op:
    def axes(x: Array) -> tuple[int, ...]:
        return axes_of("norm", axis, x.ndim)

    def forward(x: Array) -> Array:
        return np.asarray(np.sqrt(np.sum(x * x, axis=axes(x), keepdims=keepdims)))

    def scale(g: Array, out: Array) -> Array:
        # g / ||x||, 0 where the norm is 0: PyTorch's masked_fill(norm == 0, 0)
        with np.errstate(all="ignore"):
            return np.where(out == 0, 0.0, g / out)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        # PyTorch's norm backward: g * (x / ||x||), 0 where the norm is 0.
        x = args[0]
        ax = axes(x)
        return (expand(g, x.shape, ax, keepdims) * scale(x, kept(out, ax, keepdims)),)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if t[0] is None:
            return np.zeros(out.shape)
        x = args[0]
        return np.asarray(scale(np.sum(x * t[0], axis=axes(x), keepdims=keepdims), out))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x = args[0]
        n = b.op("unreduce", out, x, axis=axis, keepdims=keepdims)
        unit = b.op("masked", b.op("div", x, n), b.op("nonzero", n))
        return (b.op("mul", b.op("unreduce", g, x, axis=axis, keepdims=keepdims), unit),)

    def back(c: CodeArgs) -> str:
        ax = axes_of("norm", axis, len(c.shapes[0]))
        n = _kept_src(c.out, ax, keepdims)
        return (f"{_expand_src(c.g, c.args[0], ax, keepdims)} * "
                f"np.where({n} == 0, 0.0, {c.args[0]} / {n})")

    def tangent(c: CodeArgs) -> str:
        ax = axes_of("norm", axis, len(c.shapes[0]))
        dot = (f"np.sum({c.args[0]} * {c.g}, axis={axis_src(ax) if ax else '()'}"
               f"{', keepdims=True' if keepdims else ''})")
        return f"np.where({c.out} == 0, 0.0, {dot} / {c.out})"

    sub = axis_tex(axis)
    return Op(
        "norm", 1, "‖·‖", lambda shapes: reduced_shape("norm", shapes[0], axis, keepdims),
        forward, vjp, jvp=jvp, rule=rule,
        kink=lambda args: forward(args[0]),  # the kink of ||x|| is at x = 0
        tex=lambda s: f"\\lVert {s[0]} \\rVert{sub}",
        local_tex=(lambda s: f"\\frac{{{s[0]}}}{{\\lVert {s[0]} \\rVert{sub}}}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{broadcast}}{sub}(d{z}) \\odot "
                 f"\\frac{{{s[0]}}}{{{z}}}",),
        elementwise=False,
        doc="The 2-norm sqrt(sum(x^2)) over the axes (None: all), as "
        "torch.linalg.vector_norm. Its gradient x / ||x|| is 0 where the norm is 0, as PyTorch.",
        code=OpCode(f"np.sqrt(np.sum({{0}} * {{0}}{_np_args(axis, keepdims)}))",
                    f"torch.linalg.vector_norm({{0}}, 2{_torch_args(axis, keepdims)})", (back,),
                    tangent=(tangent,)),
        spellings=Spellings(("numpy.linalg.norm",), ("torch.linalg.vector_norm", "torch.norm"),
                            ("tf.norm", "tf.linalg.norm"), ("\\lVert",)),
    )


register(family(_make_norm, REDUCE_ATTRS))


# ---------------------------------------------------------------------------------------------
# var: a composite, sum((x - mean)^2) / (n - correction), as torch.var (correction 1 by default).


def _make_var(axis: tuple[int, ...] | None, correction: int, keepdims: bool) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        d = b.op("sub", x[0], b.op("mean", x[0], axis=axis, keepdims=True))
        s = b.op("sum", b.op("mul", d, d), axis=axis, keepdims=keepdims)
        return b.op("div", s, b.op("reduced_count", x[0], axis=axis, correction=correction))

    # Fused, as PyTorch's var_backward and its forward-mode rule: 2 / (n - correction) times
    # the upstream times x - mean(x). (The composition would send the mean's part through too,
    # which is 0 but turns an infinite x into NaN everywhere in its slice.)
    def two_over(shape: Shape) -> float:
        n = math.prod(shape[a] for a in axes_of("var", axis, len(shape)))
        with np.errstate(all="ignore"):
            return float(np.float64(2.0) / np.float64(n - correction))

    def centred(x: Array) -> Array:
        with np.errstate(all="ignore"):
            return np.asarray(x - np.mean(x, axis=axes_of("var", axis, x.ndim), keepdims=True))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        x = args[0]
        ax = axes_of("var", axis, x.ndim)
        return (two_over(x.shape) * expand(g, x.shape, ax, keepdims) * centred(x),)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if t[0] is None:
            return np.zeros(out.shape)
        x = args[0]
        ax = axes_of("var", axis, x.ndim)
        return np.asarray(two_over(x.shape) * np.sum(t[0] * centred(x), axis=ax,
                                                     keepdims=keepdims))

    def back(c: CodeArgs) -> str:
        ax = axes_of("var", axis, len(c.shapes[0]))
        x = c.args[0]
        return (f"{_num_src(two_over(c.shapes[0]))} * {_expand_src(c.g, x, ax, keepdims)} * "
                f"({x} - np.mean({x}{_np_args(axis, True)}))")

    def tangent(c: CodeArgs) -> str:
        x = c.args[0]
        return (f"{_num_src(two_over(c.shapes[0]))} * np.sum({c.g} * ({x} - np.mean({x}"
                f"{_np_args(axis, True)})){_np_args(axis, keepdims)})")

    sub = axis_tex(axis)
    denom = "n" if correction == 0 else f"n - {correction}"
    torch_corr = f", correction={correction}"
    op = composite(
        "var", 1, "var", compose, vjp=vjp, jvp=jvp,
        tex=lambda s: f"\\operatorname{{var}}{sub} {s[0]}",
        local_tex=(lambda s: f"\\frac{{2 ({s[0]} - \\bar{{{s[0]}}})}}{{{denom}}}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\frac{{2 ({s[0]} - \\bar{{{s[0]}}})}}{{{denom}}} "
                 f"\\odot \\operatorname{{broadcast}}{sub}(d{z})",),
        elementwise=False,
        doc="The variance over the axes (None: all): the sum of squared deviations from the "
        "mean, divided by n - correction (correction 1 by default, as torch.var; 0 is NumPy's "
        "default, ddof=0). Made of mean, sub, mul, sum and div.",
        code=OpCode(f"np.var({{0}}{_np_args(axis, keepdims)}, ddof={correction})",
                    f"torch.var({{0}}{_torch_args(axis, keepdims)}{torch_corr})"
                    if axis is not None else
                    f"torch.var({{0}}, dim=None{torch_corr}"
                    f"{', keepdim=True' if keepdims else ''})",
                    (back,), tangent=(tangent,)),
        spellings=Spellings(("numpy.var",), ("torch.var",), ("tf.math.reduce_variance",),
                            ("\\operatorname{var}",)),
    )
    return replace(op, shape=lambda shapes: reduced_shape("var", shapes[0], axis, keepdims))


register(family(_make_var, (
    REDUCE_ATTRS[0],
    Attr("correction", "int", 1, "n - correction divides the sum of squares (1: unbiased, as "
         "torch.var; 0: NumPy's default)", aliases=("ddof",)),
    REDUCE_ATTRS[1],
)))


# ---------------------------------------------------------------------------------------------
# softmax along an axis (fused: s * (g - <g, s>)), and log_softmax as a composite.

DIM_ATTR = Attr("dim", "int", -1, "the axis along which the entries sum to 1",
                aliases=("axis",))


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

_SOFTMAX_ALONG_NUMPY = '''
def softmax_along(x, axis):
    """Along `axis`, shifted by its maximum so that exp cannot overflow."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
'''


def softmax(x: Array, axis: int = -1) -> Array:
    if x.ndim == 0:
        return np.ones_like(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    out: Array = e / np.sum(e, axis=axis, keepdims=True)
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


def _softmax_jacobian(s: str) -> str:
    """diag(p) - p p^T, p the softmax `s` (p-hat: no operand's letter)."""
    return (f"\\operatorname{{diag}}(\\hat{{p}}) - \\hat{{p}}\\,\\hat{{p}}^{{\\top}},\\ "
            f"\\hat{{p}} = {s}")


_SOFTMAX = Op(
    "softmax", 1, "softmax", same_shape, softmax, _softmax_vjp, jvp=_softmax_jvp,
    tex=lambda s: f"\\operatorname{{softmax}}({s[0]})",
    local_tex=(lambda s: _softmax_jacobian(f"\\operatorname{{softmax}}({s[0]})"),),
    vjp_tex=(lambda s, z: f"d{s[0]} = {z} \\odot (d{z} - \\langle d{z}, {z} "
             f"\\rangle_{{\\mathrm{{dim}}\\,-1}})",),
    elementwise=False,
    doc="Along the last axis (dim=-1 by default; any other with dim=).",
    code=OpCode("softmax({0})", "torch.softmax({0}, dim=-1)", (_softmax_code,),
                numpy_helper=_SOFTMAX_NUMPY),
    rule=_softmax_rule,
    spellings=Spellings((), ("torch.softmax", "torch.nn.functional.softmax"),
                        ("tf.nn.softmax", "tf.math.softmax"), ("\\operatorname{softmax}",)),
)


def _dim_shape(name: str, dim: int) -> Callable[[Sequence[Shape]], Shape]:
    def shape(shapes: Sequence[Shape]) -> Shape:
        axis_of(name, dim, len(shapes[0]), "dim")
        return shapes[0]
    return shape


def _softmax_parts(dim: int) -> Callable[[Builder, Sequence[int]], int]:
    """What the softmax gate opens into: exp(x - max) / sum exp(x - max) along `dim` (the
    shift by the maximum is what keeps exp from overflowing; its gradient cancels). A scalar's
    softmax is the constant 1."""
    def compose(b: Builder, x: Sequence[int]) -> int:
        if b.shape(x[0]) == ():
            return b.const(1.0)
        shifted = b.op("sub", x[0], b.op("amax", x[0], axis=(dim,), keepdims=True))
        e = b.op("exp", shifted)
        return b.op("div", e, b.op("sum", e, axis=(dim,), keepdims=True))
    return compose


def _make_softmax(dim: int) -> Op:
    if dim == -1:
        return replace(_SOFTMAX, compose=_softmax_parts(-1))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        return (out * (g - np.sum(g * out, axis=dim, keepdims=True)),)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        tx = t[0]
        if tx is None:
            return np.zeros(out.shape)
        return np.asarray(out * (tx - np.sum(tx * out, axis=dim, keepdims=True)))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        dot = b.op("sum", b.op("mul", g, out), axis=dim, keepdims=True)
        return (b.op("mul", out, b.op("sub", g, dot)),)

    sub = axis_tex((dim,), "dim")
    return replace(
        _SOFTMAX, shape=_dim_shape("softmax", dim), forward=lambda x: softmax(x, dim),
        vjp=vjp, jvp=jvp, rule=rule, compose=_softmax_parts(dim),
        tex=lambda s: f"\\operatorname{{softmax}}{sub}({s[0]})",
        local_tex=(lambda s: _softmax_jacobian(f"\\operatorname{{softmax}}{sub}({s[0]})"),),
        vjp_tex=(lambda s, z: f"d{s[0]} = {z} \\odot (d{z} - \\langle d{z}, {z} "
                 f"\\rangle{sub})",),
        code=OpCode(f"softmax_along({{0}}, {dim})", f"torch.softmax({{0}}, dim={dim})",
                    (f"{{out}} * ({{g}} - np.sum({{g}} * {{out}}, axis={dim}, keepdims=True))",),
                    numpy_helper=_SOFTMAX_ALONG_NUMPY),
    )


register(family(_make_softmax, (DIM_ATTR,)))


_LOG_SOFTMAX_NUMPY = '''
def log_softmax(x, axis):
    """x - logsumexp(x) along `axis`, shifted by the maximum first (as PyTorch computes it)."""
    if np.ndim(x) == 0:
        return x - x
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
'''


def _make_log_softmax(dim: int) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        if b.shape(x[0]) == ():
            return b.op("sub", x[0], x[0])  # one entry: its probability is 1, its log 0
        # Shifted by the maximum, so that exp cannot overflow: the steps of PyTorch's kernel
        # (the maximum's gradient cancels: every shifted entry loses it once, the log gets it
        # back once). Then (x - m) - log(sum(exp(x - m))), exact where x - logsumexp(x) would
        # round the large sum m + log(...) before the subtraction.
        shifted = b.op("sub", x[0], b.op("amax", x[0], axis=(dim,), keepdims=True))
        lse = b.op("log", b.op("sum", b.op("exp", shifted), axis=(dim,), keepdims=True))
        return b.op("sub", shifted, lse)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        # PyTorch's log_softmax_backward: g - softmax * sum(g) along the axis.
        if out.ndim == 0:
            return (np.zeros(g.shape),)
        return (g - np.exp(out) * np.sum(g, axis=dim, keepdims=True),)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        tx = t[0]
        if tx is None or out.ndim == 0:
            return np.zeros(out.shape)
        return np.asarray(tx - np.sum(np.exp(out) * tx, axis=dim, keepdims=True))

    def back(c: CodeArgs) -> str:
        if c.out_shape == ():
            return f"np.zeros_like({c.g})"
        return f"{c.g} - np.exp({c.out}) * np.sum({c.g}, axis={dim}, keepdims=True)"

    def tangent(c: CodeArgs) -> str:
        if c.out_shape == ():
            return f"np.zeros_like({c.g})"
        return f"{c.g} - np.sum(np.exp({c.out}) * {c.g}, axis={dim}, keepdims=True)"

    def shape(shapes: Sequence[Shape]) -> Shape:
        if shapes[0] != ():
            axis_of("log_softmax", dim, len(shapes[0]), "dim")
        return shapes[0]

    sub = axis_tex((dim,), "dim") if dim != -1 else ""
    along = axis_tex((dim,), "dim")  # the sum is along the axis, whichever it is
    op = composite(
        "log_softmax", 1, "log softmax", compose, vjp=vjp, jvp=jvp,
        tex=lambda s: f"\\log \\operatorname{{softmax}}{sub}({s[0]})",
        local_tex=(lambda s: f"I - \\mathbf{{1}}\\,\\operatorname{{softmax}}{sub}({s[0]})"
                   f"^{{\\top}}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z} - e^{{{z}}} \\textstyle\\sum{along} d{z}",),
        elementwise=False,
        doc="log(softmax(x)) along an axis (the last by default): x - logsumexp(x), computed "
        "as (x - max) - log(sum(exp(x - max))), as PyTorch, so that exp cannot overflow.",
        code=OpCode(f"log_softmax({{0}}, {dim})",
                    f"torch.log_softmax({{0}}, dim={dim})", (back,), tangent=(tangent,),
                    numpy_helper=_LOG_SOFTMAX_NUMPY),
        spellings=Spellings((), ("torch.log_softmax", "torch.nn.functional.log_softmax"),
                            ("tf.nn.log_softmax", "tf.math.log_softmax"), ()),
    )
    return replace(op, shape=shape)


register(family(_make_log_softmax, (DIM_ATTR,)))
