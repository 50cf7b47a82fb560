"""Test cases for conv2d with stride and padding, pooling, linear, layer_norm, batch_norm
(see tests/cases.py).

The references are loops over output positions that skip the padding (rather than pad with
zeros), with the padding of 'same' worked out here from TensorFlow's rule; the VJP ops' references
go through the forward references by linearity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .cases import Case, Shape, by_linearity, normal

# ---------------------------------------------------------------------------------------------
# Windows: where a kernel (or a pooling window) sits


def pads_of(n: int, k: int, s: int, padding: Any, axis: int) -> tuple[int, int]:
    """Zeros before and after an axis: TensorFlow's SAME gives ceil(n / s) outputs and pads the
    total needed, the odd one after."""
    if padding == "same":
        out = (n + s - 1) // s
        need = max(0, (out - 1) * s + k - n)
        return need // 2, need - need // 2
    if padding == "valid":
        return 0, 0
    p = padding if isinstance(padding, int) else padding[axis]
    return p, p


def two(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[-1])


def as_nhwc(x: np.ndarray, layout: str) -> np.ndarray:
    if x.ndim == 2:
        return x[None, :, :, None]
    return np.moveaxis(x, 1, 3) if layout == "NCHW" else x


def from_nhwc(y: np.ndarray, layout: str, ndim: int) -> np.ndarray:
    if ndim == 2:
        return y[0, :, :, 0]
    return np.moveaxis(y, 3, 1) if layout == "NCHW" else y


def ref_conv2d_at(stride: Any = 1, padding: Any = 0, layout: str = "NHWC"
                  ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """out[n, i, j, o] = sum of x[n, i s + p - top, j s + q - left, c] w[p, q, c, o] over the
    taps (p, q) inside the input and the channels c."""
    sh, sw = two(stride)

    def ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        x4 = as_nhwc(x, layout)
        if w.ndim == 2:
            w4 = w[:, :, None, None]
        else:
            w4 = w.transpose(2, 3, 1, 0) if layout == "NCHW" else w
        n, h, wd, c = x4.shape
        kh, kw, _, co = w4.shape
        (top, bottom), (left, right) = (pads_of(h, kh, sh, padding, 0),
                                        pads_of(wd, kw, sw, padding, 1))
        oh, ow = (h + top + bottom - kh) // sh + 1, (wd + left + right - kw) // sw + 1
        out = np.zeros((n, oh, ow, co))
        for b, i, j, o in np.ndindex(out.shape):
            terms = []
            for p in range(kh):
                for q in range(kw):
                    r, t = i * sh + p - top, j * sw + q - left
                    if 0 <= r < h and 0 <= t < wd:
                        terms += [x4[b, r, t, ch] * w4[p, q, ch, o] for ch in range(c)]
            out[b, i, j, o] = math.fsum(terms)
        return from_nhwc(out, layout, x.ndim)

    return ref


def conv_case(attrs: dict[str, Any], shapes: tuple[tuple[Shape, Shape], ...]) -> Case:
    words = ", ".join(f"{k}={v!r}" for k, v in attrs.items())
    return Case((normal, normal), shapes, ref_conv2d_at(**attrs), f"conv2d(a, b, {words})",
                attrs)


def with_bias(attrs: dict[str, Any], shapes: tuple[tuple[Shape, Shape, Shape], ...]) -> Case:
    """conv2d(x, w, b): b one number per output channel (a matrix's: one number)."""
    ref = ref_conv2d_at(**attrs)
    nchw = attrs.get("layout") == "NCHW"

    def biased(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = ref(x, w)
        return out + (b[:, None, None] if nchw and x.ndim == 4 else b)

    words = ", ".join(f"{k}={v!r}" for k, v in attrs.items())
    return Case((normal, normal, normal), shapes, biased, f"conv2d(a, b, c, {words})", attrs)


def conv_out(attrs: dict[str, Any], x: Shape, w: Shape) -> Shape:
    return ref_conv2d_at(**attrs)(np.zeros(x), np.zeros(w)).shape


def conv_dx_case(attrs: dict[str, Any], pairs: tuple[tuple[Shape, Shape], ...],
                 input_size: tuple[int, int] | None = None) -> Case:
    """conv2d_dx(g, w): the input's gradient; `input_size` where the shapes do not imply it."""
    conv = {k: v for k, v in attrs.items() if k != "input_size"}
    ref = ref_conv2d_at(**conv)
    shape_of = {(conv_out(conv, x, w), w): x for x, w in pairs}
    return Case((normal, normal), tuple(shape_of), lambda g, w: by_linearity(
        lambda e: ref(e, w), g, shape_of[(g.shape, w.shape)]), None, attrs)


def conv_dw_case(attrs: dict[str, Any], pairs: tuple[tuple[Shape, Shape], ...]) -> Case:
    conv = {k: v for k, v in attrs.items() if k != "kernel_size"}
    ref = ref_conv2d_at(**conv)
    shape_of = {(x, conv_out(conv, x, w)): w for x, w in pairs}
    return Case((normal, normal), tuple(shape_of), lambda x, g: by_linearity(
        lambda e: ref(x, e), g, shape_of[(x.shape, g.shape)]), None, attrs)


CASES: dict[str, Case] = {
    "conv2d:stride2_pad1": conv_case({"stride": 2, "padding": 1}, (
        ((5, 6), (3, 3)), ((2, 5, 5, 3), (3, 3, 3, 2)), ((1, 6, 7, 2), (2, 3, 2, 3)))),
    "conv2d:stride_pair": conv_case({"stride": (2, 1), "padding": (1, 0)}, (
        ((5, 4), (2, 2)), ((2, 4, 5, 2), (3, 2, 2, 2)), ((1, 5, 3, 1), (3, 3, 1, 2)))),
    "conv2d:same": conv_case({"padding": "same"}, (
        ((5, 5), (3, 3)), ((2, 4, 5, 2), (2, 3, 2, 3)), ((1, 3, 3, 1), (3, 3, 1, 2)))),
    "conv2d:same_stride2": conv_case({"stride": 2, "padding": "same"}, (
        ((5, 6), (3, 2)), ((2, 5, 5, 2), (3, 3, 2, 2)), ((1, 6, 4, 1), (2, 2, 1, 3)))),
    "conv2d:valid": conv_case({"padding": "valid"}, (
        ((4, 5), (2, 2)), ((2, 4, 4, 2), (3, 2, 2, 2)), ((1, 3, 3, 3), (3, 3, 3, 1)))),
    "conv2d:nchw": conv_case({"stride": 2, "padding": 1, "layout": "NCHW"}, (
        ((5, 4), (3, 3)), ((2, 3, 5, 4), (2, 3, 3, 2)), ((1, 1, 4, 4), (3, 1, 2, 2)))),
    "conv2d:nchw_same": conv_case({"padding": "same", "layout": "NCHW"}, (
        ((4, 6), (3, 3)), ((2, 2, 4, 4), (3, 2, 3, 3)), ((1, 3, 5, 3), (2, 3, 2, 2)))),
    "conv2d:nchw_valid": conv_case({"layout": "NCHW"}, (
        ((4, 4), (2, 3)), ((2, 2, 4, 3), (3, 2, 2, 2)), ((1, 3, 3, 3), (1, 3, 3, 3)))),
    "conv2d:bias": with_bias({"stride": 2, "padding": 1}, (
        ((5, 6), (3, 3), ()), ((2, 5, 5, 3), (3, 3, 3, 2), (2,)),
        ((1, 6, 7, 2), (2, 3, 2, 3), (3,)))),
    "conv2d:nchw_bias": with_bias({"padding": "same", "layout": "NCHW"}, (
        ((4, 5), (3, 3), ()), ((2, 2, 4, 4), (3, 2, 3, 3), (3,)),
        ((1, 3, 5, 3), (2, 3, 2, 2), (2,)))),
    "conv2d_dx:stride2": conv_dx_case({"stride": 2, "padding": 1}, (
        ((5, 5), (3, 3)), ((2, 5, 4, 2), (3, 2, 2, 3)), ((1, 4, 4, 1), (2, 2, 1, 2)))),
    # 6 rows at stride 2 through 3 taps give 2 outputs, as 5 rows do: the size is an attribute.
    "conv2d_dx:input_size": conv_dx_case({"stride": 2, "input_size": (6, 6)}, (
        ((6, 6), (3, 3)), ((2, 6, 6, 2), (3, 3, 2, 1)), ((1, 6, 6, 3), (2, 2, 3, 2)))),
    "conv2d_dx:nchw_same": conv_dx_case({"stride": 2, "padding": "same", "layout": "NCHW",
                                         "input_size": (5, 5)}, (
        ((5, 5), (3, 3)), ((2, 2, 5, 5), (3, 2, 2, 2)), ((1, 1, 5, 5), (2, 1, 3, 3)))),
    "conv2d_dw:stride2": conv_dw_case({"stride": 2, "padding": 1, "kernel_size": (3, 3)}, (
        ((5, 5), (3, 3)), ((2, 5, 5, 2), (3, 3, 2, 3)), ((1, 6, 6, 1), (3, 3, 1, 2)))),
    "conv2d_dw:same": conv_dw_case({"padding": "same", "kernel_size": (3, 2)}, (
        ((4, 5), (3, 2)), ((2, 4, 4, 2), (3, 2, 2, 2)), ((1, 3, 3, 3), (3, 2, 3, 1)))),
    "conv2d_dw:nchw": conv_dw_case({"stride": (1, 2), "layout": "NCHW", "kernel_size": (2, 2)}, (
        ((4, 5), (2, 2)), ((2, 2, 4, 5), (3, 2, 2, 2)), ((1, 3, 3, 4), (1, 3, 2, 2)))),
}


# ---------------------------------------------------------------------------------------------
# Pooling


def windows(x: np.ndarray, attrs: dict[str, Any]) -> tuple[np.ndarray, list[list[Any]]]:
    """x as NHWC, and for each output position (n, i, j, c) the input positions (n, r, t, c) of
    its window that lie inside the input, in row-major order."""
    layout = attrs.get("layout", "NHWC")
    x4 = as_nhwc(x, layout)
    (kh, kw) = two(attrs["kernel_size"])
    (sh, sw) = two(attrs.get("stride") or attrs["kernel_size"])
    (ph, pw) = two(attrs.get("padding", 0))
    n, h, wd, c = x4.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out: list[list[Any]] = []
    for b, i, j, ch in np.ndindex(n, oh, ow, c):
        out.append([(b, i * sh + p - ph, j * sw + q - pw, ch) for p in range(kh)
                    for q in range(kw) if 0 <= i * sh + p - ph < h and 0 <= j * sw + q - pw < wd])
    return x4, out


def pooled_shape(x: np.ndarray, attrs: dict[str, Any]) -> tuple[int, int, int, int]:
    x4 = as_nhwc(x, attrs.get("layout", "NHWC"))
    (kh, kw) = two(attrs["kernel_size"])
    (sh, sw) = two(attrs.get("stride") or attrs["kernel_size"])
    (ph, pw) = two(attrs.get("padding", 0))
    return (x4.shape[0], (x4.shape[1] + 2 * ph - kh) // sh + 1,
            (x4.shape[2] + 2 * pw - kw) // sw + 1, x4.shape[3])


def first_largest(x4: np.ndarray, places: list[Any]) -> Any:
    best = places[0]
    for at in places[1:]:
        if x4[at] > x4[best]:
            best = at
    return best


def ref_max_pool(attrs: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        x4, wins = windows(x, attrs)
        out = np.array([x4[first_largest(x4, w)] for w in wins]).reshape(pooled_shape(x, attrs))
        return from_nhwc(out, attrs.get("layout", "NHWC"), x.ndim)
    return ref


def ref_avg_pool(attrs: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    size = math.prod(two(attrs["kernel_size"]))

    def ref(x: np.ndarray) -> np.ndarray:
        x4, wins = windows(x, attrs)
        out = np.array([math.fsum(x4[at] for at in w) / size for w in wins])
        return from_nhwc(out.reshape(pooled_shape(x, attrs)), attrs.get("layout", "NHWC"),
                         x.ndim)
    return ref


def ref_route(attrs: dict[str, Any]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """max_pool2d_dx(g, x): each window's g added at its first largest x."""
    def ref(g: np.ndarray, x: np.ndarray) -> np.ndarray:
        layout = attrs.get("layout", "NHWC")
        x4, wins = windows(x, attrs)
        g4 = as_nhwc(g, layout).reshape(-1)
        out = np.zeros(x4.shape)
        for k, w in enumerate(wins):
            out[first_largest(x4, w)] += g4[k]
        return from_nhwc(out, layout, x.ndim)
    return ref


def ref_gather(attrs: dict[str, Any]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """max_pool2d_gather(t, x): t at each window's first largest x."""
    def ref(t: np.ndarray, x: np.ndarray) -> np.ndarray:
        layout = attrs.get("layout", "NHWC")
        x4, wins = windows(x, attrs)
        t4 = as_nhwc(t, layout)
        out = np.array([t4[first_largest(x4, w)] for w in wins])
        return from_nhwc(out.reshape(pooled_shape(x, attrs)), layout, x.ndim)
    return ref


def pool_case(name: str, attrs: dict[str, Any], shapes: tuple[Shape, ...]) -> Case:
    words = ", ".join(f"{k}={v!r}" for k, v in attrs.items())
    ref = ref_max_pool(attrs) if name == "max_pool2d" else ref_avg_pool(attrs)
    return Case((normal,), tuple((s,) for s in shapes), ref, f"{name}(a, {words})", attrs)


def pool_vjp_case(name: str, attrs: dict[str, Any], shapes: tuple[Shape, ...]) -> Case:
    """The pooling VJP ops, the second operand the pooled input (it takes no gradient)."""
    out = {s: tuple(from_nhwc(np.zeros(pooled_shape(np.zeros(s), attrs)),
                              attrs.get("layout", "NHWC"), len(s)).shape) for s in shapes}
    if name == "max_pool2d_gather":
        return Case((normal, normal), tuple((s, s) for s in shapes), ref_gather(attrs), None,
                    attrs, constant=(1,))
    if name == "max_pool2d_dx":
        return Case((normal, normal), tuple((out[s], s) for s in shapes), ref_route(attrs), None,
                    attrs, constant=(1,))
    avg = ref_avg_pool(attrs)
    return Case((normal, normal), tuple((out[s], s) for s in shapes),
                lambda g, x: by_linearity(avg, g, x.shape), None, attrs, constant=(1,))


POOLS: dict[str, tuple[dict[str, Any], tuple[Shape, ...]]] = {
    "2": ({"kernel_size": 2}, ((4, 4), (2, 4, 6, 3), (1, 5, 5, 2))),
    "stride1_pad1": ({"kernel_size": 3, "stride": 1, "padding": 1},
                     ((4, 5), (2, 3, 3, 2), (1, 4, 4, 1))),
    "stride2_pad1": ({"kernel_size": 3, "stride": 2, "padding": 1},
                     ((5, 5), (2, 5, 6, 2), (1, 7, 7, 3))),
    "nchw": ({"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 1), "layout": "NCHW"},
             ((5, 5), (2, 3, 4, 5), (1, 2, 3, 3))),
}
for _variant, (_attrs, _shapes) in POOLS.items():
    for _name in ("max_pool2d", "avg_pool2d"):
        CASES[f"{_name}:{_variant}"] = pool_case(_name, _attrs, _shapes)
    for _name in ("max_pool2d_dx", "max_pool2d_gather", "avg_pool2d_dx"):
        CASES[f"{_name}:{_variant}"] = pool_vjp_case(_name, _attrs, _shapes)


# ---------------------------------------------------------------------------------------------
# linear


def ref_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """y[..., o] = sum_i x[..., i] W[o, i] + b[o] (W a vector: y[...] = sum_i x[..., i] w[i])."""
    w2 = w[None, :] if w.ndim == 1 else w
    out = np.zeros((*x.shape[:-1], w2.shape[0]))
    for idx in np.ndindex(out.shape):
        out[idx] = math.fsum(x[(*idx[:-1], i)] * w2[idx[-1], i] for i in range(x.shape[-1]))
    if w.ndim == 1:
        out = out[..., 0]
    if b is not None:
        out = out + np.broadcast_to(b, out.shape)
    return out


CASES.update({
    "linear": Case((normal, normal), (((3, 4), (2, 4)), ((4,), (3, 4)), ((2, 3, 4), (5, 4)),
                                      ((3, 4), (4,))), ref_linear, "linear(a, b)"),
    "linear:bias": Case((normal, normal, normal), (
        ((3, 4), (2, 4), (2,)), ((4,), (3, 4), (3,)), ((2, 3, 4), (5, 4), (5,)),
        ((2, 3), (4, 3), ())), ref_linear, "linear(a, b, c)"),
})


# ---------------------------------------------------------------------------------------------
# layer_norm and batch_norm


def ref_normalize(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """Each group of the elements along `axes` shifted by its mean and divided by
    sqrt(var + eps), the variance divided by n; one group at a time with math.fsum."""
    keep = [a for a in range(x.ndim) if a not in axes]
    out = np.empty(x.shape)
    for outer in np.ndindex(*(x.shape[a] for a in keep)):
        places = []
        for inner in np.ndindex(*(x.shape[a] for a in axes)):
            idx = [0] * x.ndim
            for a, i in zip(keep, outer, strict=True):
                idx[a] = i
            for a, i in zip(axes, inner, strict=True):
                idx[a] = i
            places.append(tuple(idx))
        vals = [float(x[p]) for p in places]
        mean = math.fsum(vals) / len(vals)
        var = math.fsum((v - mean) ** 2 for v in vals) / len(vals)
        for p, v in zip(places, vals, strict=True):
            out[p] = (v - mean) / math.sqrt(var + eps)
    return out


def ref_layer_norm(dims: int = 1, eps: float = 1e-5) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, *affine: np.ndarray) -> np.ndarray:
        out = ref_normalize(x, tuple(range(x.ndim - dims, x.ndim)), eps)
        if affine:
            out = out * affine[0]
        return out + affine[1] if len(affine) > 1 else out
    return ref


def ref_batch_norm(layout: str = "NHWC", eps: float = 1e-5) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, *affine: np.ndarray) -> np.ndarray:
        channel = 1 if layout == "NCHW" else x.ndim - 1
        out = ref_normalize(x, tuple(a for a in range(x.ndim) if a != channel), eps)
        for k, v in enumerate(affine):
            shape = [1] * x.ndim
            shape[channel] = -1
            v = v.reshape(shape)
            out = out * v if k == 0 else out + v
        return out
    return ref


def norm_case(name: str, attrs: dict[str, Any], shapes: tuple[tuple[Shape, ...], ...]) -> Case:
    words = "".join(f", {k}={v!r}" for k, v in attrs.items())
    operands = ", ".join("abc"[:len(shapes[0])])
    if name == "layer_norm":
        shape = attrs.get("normalized_shape")
        ref = ref_layer_norm(len(shape) if shape else attrs.get("dims", 1), attrs.get("eps", 1e-5))
    else:
        ref = ref_batch_norm(attrs.get("layout", "NHWC"), attrs.get("eps", 1e-5))
    return Case(tuple([normal] * len(shapes[0])), shapes, ref, f"{name}({operands}{words})",
                attrs)


CASES.update({
    "layer_norm": norm_case("layer_norm", {}, (((3, 4),), ((2, 3, 5),), ((6,),))),
    "layer_norm:affine": norm_case("layer_norm", {}, (
        ((3, 4), (4,), (4,)), ((2, 3, 5), (5,), (5,)), ((1, 2), (2,), (2,)))),
    "layer_norm:shape": norm_case("layer_norm", {"normalized_shape": (3, 4)}, (
        ((2, 3, 4), (3, 4), (3, 4)), ((3, 4), (3, 4), (3, 4)), ((2, 1, 3, 4), (3, 4), (3, 4)))),
    "layer_norm:dims_weight": norm_case("layer_norm", {"dims": 2, "eps": 1e-3}, (
        ((2, 3, 4), (3, 4)), ((4, 2), (4, 2)), ((2, 2, 2, 3), (2, 3)))),
    "batch_norm": norm_case("batch_norm", {}, (((4, 3),), ((2, 3, 3, 2),), ((3, 2, 2, 1),))),
    "batch_norm:affine": norm_case("batch_norm", {"eps": 1e-3}, (
        ((4, 3), (3,), (3,)), ((2, 3, 3, 2), (2,), (2,)), ((5, 2, 2), (2,), (2,)))),
    "batch_norm:nchw": norm_case("batch_norm", {"layout": "NCHW"}, (
        ((2, 3, 3, 2), (3,), (3,)), ((4, 2), (2,), (2,)), ((2, 3, 4), (3,), (3,)),
        ((3, 2, 2, 2), (2,), (2,)))),
})
