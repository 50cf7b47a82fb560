"""Test cases for reductions over an axis, softmax along an axis, shape ops and indexing
(see tests/cases.py). References are written in loops over slices with `math`, never by calling
the op."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .cases import Case, Shape, normal

# ---------------------------------------------------------------------------------------------
# Reductions: a function of the list of numbers of each slice, applied slice by slice.

Axis = int | tuple[int, ...] | None


def norm_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    given = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in given))


def slices(shape: Shape, axes: tuple[int, ...]) -> list[tuple[tuple[int, ...], Any]]:
    """(index into the kept-dims output, index of the slice into x) for each output element."""
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    out = []
    for idx in np.ndindex(kept):
        out.append((idx, tuple(slice(None) if i in axes else idx[i] for i in range(len(shape)))))
    return out


def reduce_ref(f: Callable[[list[float]], float], axis: Axis = None, keepdims: bool = False
               ) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        axes = norm_axes(axis, x.ndim)
        out = np.empty(tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
        for idx, sl in slices(x.shape, axes):
            out[idx] = f([float(v) for v in np.ravel(x[sl])])
        if keepdims:
            return out
        return out.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))
    return ref


def f_sum(v: list[float]) -> float:
    return math.fsum(v)


def f_mean(v: list[float]) -> float:
    return math.fsum(v) / len(v)


def f_lse(v: list[float]) -> float:
    m = max(v)
    return m + math.log(math.fsum(math.exp(a - m) for a in v))


def f_var(correction: int) -> Callable[[list[float]], float]:
    def f(v: list[float]) -> float:
        mu = math.fsum(v) / len(v)
        return math.fsum((a - mu) ** 2 for a in v) / (len(v) - correction)
    return f


def f_norm(v: list[float]) -> float:
    return math.sqrt(math.fsum(a * a for a in v))


def along_ref(f: Callable[[list[float]], list[float]], dim: int
              ) -> Callable[[np.ndarray], np.ndarray]:
    """A function of each 1-d slice along `dim` (softmax, log_softmax)."""
    def ref(x: np.ndarray) -> np.ndarray:
        if x.ndim == 0:
            return np.asarray(f([float(x)])[0])
        out = np.empty(x.shape)
        for _, sl in slices(x.shape, (dim % x.ndim,)):
            out[sl] = f([float(v) for v in np.ravel(x[sl])])
        return out
    return ref


def f_softmax(v: list[float]) -> list[float]:
    m = max(v)
    e = [math.exp(a - m) for a in v]
    s = math.fsum(e)
    return [a / s for a in e]


def f_log_softmax(v: list[float]) -> list[float]:
    m = max(v)
    ls = math.log(math.fsum(math.exp(a - m) for a in v))
    return [(a - m) - ls for a in v]


def share_ref(which: str, axis: Axis) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        if x.ndim == 0:
            return np.ones(())
        out = np.zeros(x.shape)
        for _, sl in slices(x.shape, norm_axes(axis, x.ndim)):
            part = x[sl]
            top = (max if which == "max" else min)(float(v) for v in np.ravel(part))
            ties = [i for i in np.ndindex(part.shape) if part[i] == top]
            view = out[sl]
            for i in ties:
                view[i] = 1.0 / len(ties)
        return out
    return ref


def unreduce_ref(axis: Axis, keepdims: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def ref(g: np.ndarray, x: np.ndarray) -> np.ndarray:
        axes = norm_axes(axis, x.ndim)
        out = np.empty(x.shape)
        for idx in np.ndindex(x.shape):
            kept = tuple(0 if i in axes else k for i, k in enumerate(idx))
            gi = kept if keepdims else tuple(k for i, k in enumerate(kept) if i not in axes)
            out[idx] = g[gi]
        return out
    return ref


def count_ref(axis: Axis, correction: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        n = 1
        for a in norm_axes(axis, x.ndim):
            n *= x.shape[a]
        return np.asarray(float(max(n - correction, 0)))
    return ref


def reduced(shape: Shape, axis: Axis, keepdims: bool) -> Shape:
    axes = norm_axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


# Attribute variants of every reduction: (key suffix, attrs, how the language writes them,
# operand shapes).
VARIANTS: tuple[tuple[str, dict[str, Any], str, tuple[Shape, ...]], ...] = (
    ("axis0", {"axis": 0}, "axis=0", ((3,), (2, 3), (2, 3, 2))),
    ("axis-1", {"axis": -1}, "dim=-1", ((4,), (3, 2), (2, 2, 3))),
    ("axis02", {"axis": (0, 2)}, "axis=(0, 2)", ((2, 3, 2), (1, 2, 3), (2, 1, 3, 2))),
    ("keepdims", {"axis": 1, "keepdims": True}, "1, keepdim=True", ((2, 3), (2, 3, 2), (1, 4, 1))),
    ("all_keepdims", {"keepdims": True}, "keepdims=True", ((), (3,), (2, 3))),
    ("none", {"axis": None}, "axis=None", ((3,), (2, 3), (2, 1, 2))),
)


def reductions(name: str, f: Callable[[list[float]], float], gen: Any = normal,
               default: bool = True, extra: str = "", extra_attrs: dict[str, Any] | None = None,
               ) -> dict[str, Case]:
    out: dict[str, Case] = {}
    more = extra_attrs or {}
    if default:
        out[name] = Case((gen,), (((3,),), ((2, 3),), ((2, 2, 3),)), reduce_ref(f),
                         f"{name}(a{extra})", attrs=dict(more))
    for key, attrs, written, shapes in VARIANTS:
        out[f"{name}:{key}"] = Case(
            (gen,), tuple((s,) for s in shapes),
            reduce_ref(f, attrs.get("axis"), attrs.get("keepdims", False)),
            f"{name}(a, {written}{extra})", attrs={**attrs, **more})
    return out


def _unreduce_case(axis: Axis, keepdims: bool, xs: Sequence[Shape]) -> Case:
    return Case((normal, normal), tuple((reduced(x, axis, keepdims), x) for x in xs),
                unreduce_ref(axis, keepdims), None, attrs={"axis": axis, "keepdims": keepdims})


CASES: dict[str, Case] = {
    **reductions("sum", f_sum, default=False),
    **reductions("mean", f_mean, default=False),
    **reductions("amax", max),
    **reductions("amin", min),
    **reductions("logsumexp", f_lse),
    **reductions("norm", f_norm, gen=normal),
    # var: n - 1 (the default correction) must stay above 0 on every slice.
    "var": Case((normal,), (((3,),), ((2, 3),), ((2, 2, 3),)), reduce_ref(f_var(1)), "var(a)"),
    "var:axis0": Case((normal,), (((3,),), ((2, 3),), ((2, 3, 2),)), reduce_ref(f_var(1), 0),
                      "var(a, axis=0)", attrs={"axis": 0}),
    "var:axis-1_keepdims": Case((normal,), (((4,),), ((3, 2),), ((2, 2, 3),)),
                                reduce_ref(f_var(1), -1, True), "var(a, dim=-1, keepdim=True)",
                                attrs={"axis": -1, "keepdims": True}),
    "var:correction0": Case((normal,), (((1, 3),), ((2, 3),), ((2, 3, 2),)),
                            reduce_ref(f_var(0), (0, -1)), "var(a, axis=(0, -1), correction=0)",
                            attrs={"axis": (0, -1), "correction": 0}),
    "var:ddof2": Case((normal,), (((3, 4),), ((2, 3, 5),), ((4, 3),)),
                      reduce_ref(f_var(2), None, True), "var(a, ddof=2, keepdims=True)",
                      attrs={"correction": 2, "keepdims": True}),
    "softmax:dim0": Case((normal,), (((3,),), ((3, 2),), ((2, 3, 2),)),
                         along_ref(f_softmax, 0), "softmax(a, dim=0)", attrs={"dim": 0}),
    "softmax:dim1": Case((normal,), (((2, 3),), ((2, 3, 2),), ((1, 4, 1),)),
                         along_ref(f_softmax, 1), "softmax(a, 1)", attrs={"dim": 1}),
    "log_softmax": Case((normal,), tuple((s,) for s in ((), (3,), (2, 3), (2, 2, 3))),
                        along_ref(f_log_softmax, -1), "log_softmax(a)"),
    "log_softmax:dim0": Case((normal,), (((3,),), ((3, 2),), ((2, 3, 2),)),
                             along_ref(f_log_softmax, 0), "log_softmax(a, dim=0)",
                             attrs={"dim": 0}),
    "log_softmax:dim-2": Case((normal,), (((2, 3),), ((2, 3, 2),), ((4, 1, 2),)),
                              along_ref(f_log_softmax, -2), "log_softmax(a, axis=-2)",
                              attrs={"dim": -2}),
    # The ops of gradient graphs
    "unreduce": _unreduce_case(None, False, ((3,), (2, 3), ())),
    "unreduce:axis1": _unreduce_case(1, False, ((2, 3), (2, 3, 2), (1, 2, 2))),
    "unreduce:axis02_keepdims": _unreduce_case((0, 2), True, ((2, 3, 2), (1, 2, 3))),
    "unreduce:scalar_g": Case((normal, normal), (((), (2, 3)), ((), (3,))),
                              lambda g, x: np.full(x.shape, float(g)), None, attrs={"axis": 0}),
    "reduced_count": Case((normal,), (((),), ((3,),), ((2, 3),)), count_ref(None), None),
    "reduced_count:axis": Case((normal,), (((2, 3),), ((2, 3, 4),), ((3, 1),)),
                               count_ref((0, -1), 1), None,
                               attrs={"axis": (0, -1), "correction": 1}),
    "amax_share": Case((normal,), (((3,),), ((2, 3),), ((),)), share_ref("max", None), None),
    "amax_share:axis": Case((normal,), (((2, 3),), ((2, 3, 2),)), share_ref("max", 1), None,
                            attrs={"axis": 1}),
    "amin_share": Case((normal,), (((3,),), ((2, 3),)), share_ref("min", None), None),
    "amin_share:axis": Case((normal,), (((2, 3, 2),), ((1, 3, 2),)), share_ref("min", (0, 2)),
                            None, attrs={"axis": (0, 2)}),
}


# ---------------------------------------------------------------------------------------------
# Shape ops: each reference moves the numbers one at a time.


def relayout(shape_of: Callable[[Shape], Shape]) -> Callable[[np.ndarray], np.ndarray]:
    """The numbers of x in row-major order, laid out in another shape."""
    def ref(x: np.ndarray) -> np.ndarray:
        flat = [float(x[i]) for i in np.ndindex(x.shape)]
        shape = shape_of(x.shape)
        out = np.empty(shape)
        for k, idx in enumerate(np.ndindex(shape)):
            out[idx] = flat[k]
        return out
    return ref


def flatten_shape(start: int, end: int) -> Callable[[Shape], Shape]:
    def f(shape: Shape) -> Shape:
        if shape == ():
            return (1,)
        s, e = start % len(shape), end % len(shape)
        return (*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:])
    return f


def squeeze_shape(dim: tuple[int, ...] | None) -> Callable[[Shape], Shape]:
    def f(shape: Shape) -> Shape:
        axes = range(len(shape)) if dim is None else [d % len(shape) for d in dim]
        return tuple(d for i, d in enumerate(shape) if not (i in axes and d == 1))
    return f


def unsqueeze_shape(dim: int) -> Callable[[Shape], Shape]:
    def f(shape: Shape) -> Shape:
        k = dim % (len(shape) + 1)
        return (*shape[:k], 1, *shape[k:])
    return f


def expand_ref(shape: Shape) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        out = np.empty(shape)
        off = len(shape) - x.ndim
        for idx in np.ndindex(shape):
            out[idx] = x[tuple(0 if d == 1 else idx[off + k] for k, d in enumerate(x.shape))]
        return out
    return ref


def permute_ref(dims: tuple[int, ...]) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        out = np.empty(tuple(x.shape[d] for d in dims))
        for idx in np.ndindex(out.shape):
            src = [0] * x.ndim
            for k, d in enumerate(dims):
                src[d] = idx[k]
            out[idx] = x[tuple(src)]
        return out
    return ref


def concat_ref(axis: int) -> Callable[..., np.ndarray]:
    def ref(*xs: np.ndarray) -> np.ndarray:
        k = axis % xs[0].ndim
        shape = list(xs[0].shape)
        shape[k] = sum(x.shape[k] for x in xs)
        out = np.empty(shape)
        at = 0
        for x in xs:
            for idx in np.ndindex(x.shape):
                dst = list(idx)
                dst[k] += at
                out[tuple(dst)] = x[idx]
            at += x.shape[k]
        return out
    return ref


def stack_ref(axis: int) -> Callable[..., np.ndarray]:
    def ref(*xs: np.ndarray) -> np.ndarray:
        k = axis % (xs[0].ndim + 1)
        out = np.empty((*xs[0].shape[:k], len(xs), *xs[0].shape[k:]))
        for j, x in enumerate(xs):
            for idx in np.ndindex(x.shape):
                out[(*idx[:k], j, *idx[k:])] = x[idx]
        return out
    return ref


def part_ref(axis: int, part: int) -> Callable[..., np.ndarray]:
    def ref(g: np.ndarray, *xs: np.ndarray) -> np.ndarray:
        k = axis % g.ndim
        start = sum(x.shape[k] for x in xs[:part])
        out = np.empty(xs[part].shape)
        for idx in np.ndindex(out.shape):
            src = list(idx)
            src[k] += start
            out[idx] = g[tuple(src)]
        return out
    return ref


def one(shape: Shape) -> tuple[tuple[Shape, ...], ...]:
    return ((shape,),)


def rows(*shapes: Shape) -> tuple[tuple[Shape, ...], ...]:
    return tuple((s,) for s in shapes)


CASES.update({
    "reshape": Case((normal,), rows((2, 3), (6,), (3, 1, 2)), relayout(lambda s: (math.prod(s),)),
                    "reshape(a, -1)"),
    "reshape:23": Case((normal,), rows((6,), (3, 2), (1, 6)), relayout(lambda s: (2, 3)),
                       "reshape(a, (2, 3))", attrs={"shape": (2, 3)}),
    "reshape:infer": Case((normal,), rows((2, 6), (12,), (3, 2, 2)), relayout(lambda s: (4, 3)),
                          "reshape(a, [-1, 3])", attrs={"shape": (-1, 3)}),
    "reshape:scalar": Case((normal,), rows((), (1,), (1, 1)), relayout(lambda s: (1, 1, 1)),
                           "reshape(a, (1, 1, 1))", attrs={"shape": (1, 1, 1)}),
    "flatten": Case((normal,), rows((), (3,), (2, 3), (2, 1, 3)), relayout(flatten_shape(0, -1)),
                    "flatten(a)"),
    "flatten:1": Case((normal,), rows((2, 3), (2, 3, 2), (1, 2, 2, 2)),
                      relayout(flatten_shape(1, -1)), "flatten(a, 1)",
                      attrs={"start_dim": 1}),
    "flatten:0-1": Case((normal,), rows((2, 3, 2), (3, 1, 2), (2, 2, 1, 2)),
                        relayout(flatten_shape(0, 1)), "flatten(a, start_dim=0, end_dim=1)",
                        attrs={"start_dim": 0, "end_dim": 1}),
    "squeeze": Case((normal,), rows((1, 3), (2, 1, 3, 1), (1,), (3,)),
                    relayout(squeeze_shape(None)), "squeeze(a)"),
    "squeeze:dim": Case((normal,), rows((1, 3), (1, 2, 1), (2, 3)), relayout(squeeze_shape((0,))),
                        "squeeze(a, 0)", attrs={"dim": (0,)}),
    "squeeze:dims": Case((normal,), rows((2, 1, 1), (1, 3, 1), (2, 2, 3)),
                         relayout(squeeze_shape((-1, 1))), "squeeze(a, dim=(-1, 1))",
                         attrs={"dim": (-1, 1)}),
    "unsqueeze": Case((normal,), rows((), (3,), (2, 3)), relayout(unsqueeze_shape(0)),
                      "unsqueeze(a, 0)"),
    "unsqueeze:-1": Case((normal,), rows((), (3,), (2, 3)), relayout(unsqueeze_shape(-1)),
                         "unsqueeze(a, -1)", attrs={"dim": -1}),
    "unsqueeze:1": Case((normal,), rows((3,), (2, 3), (2, 1, 2)), relayout(unsqueeze_shape(1)),
                        "unsqueeze(a, dim=1)", attrs={"dim": 1}),
    "expand": Case((normal,), rows(()), expand_ref(()), None),
    "expand:23": Case((normal,), rows((), (3,), (1, 3), (2, 1)), expand_ref((2, 3)),
                      "expand(a, (2, 3))", attrs={"shape": (2, 3)}),
    "expand:broadcast_to": Case((normal,), rows((4, 1, 3), (1, 1), (4, 1, 1)),
                                expand_ref((2, 4, 2, 3)), "broadcast_to(a, (2, 4, 2, 3))",
                                attrs={"shape": (2, 4, 2, 3)}),
    "permute": Case((normal,), rows(()), permute_ref(()), None),
    "permute:10": Case((normal,), rows((2, 3), (1, 4), (3, 3)), permute_ref((1, 0)),
                       "permute(a, (1, 0))", attrs={"dims": (1, 0)}),
    "permute:201": Case((normal,), rows((2, 3, 4), (1, 2, 3), (3, 1, 2)), permute_ref((2, 0, 1)),
                        "permute(a, (-1, 0, 1))", attrs={"dims": (-1, 0, 1)}),
    "concat": Case((normal, normal), (((2,), (3,)), ((1, 3), (2, 3)), ((2, 2, 1), (1, 2, 1))),
                   concat_ref(0), "cat([a, b])"),
    "concat:one": Case((normal,), rows((3,), (2, 2)), concat_ref(0), "concat([a])"),
    "concat:three_dim1": Case((normal, normal, normal),
                              (((2, 1), (2, 3), (2, 2)), ((1, 2, 2), (1, 1, 2), (1, 3, 2)),
                               ((3, 1), (3, 1), (3, 1))),
                              concat_ref(1), "cat([a, b, c], dim=1)", attrs={"axis": 1}),
    "concat:last": Case((normal, normal), (((2, 1), (2, 3)), ((1, 2, 2), (1, 2, 1)),
                                           ((3,), (1,))),
                        concat_ref(-1), "concat([a, b], axis=-1)", attrs={"axis": -1}),
    "stack": Case((normal, normal), (((), ()), ((3,), (3,)), ((2, 3), (2, 3))), stack_ref(0),
                  "stack([a, b])"),
    "stack:three_dim1": Case((normal, normal, normal),
                             (((2,), (2,), (2,)), ((2, 3), (2, 3), (2, 3)),
                              ((1, 2, 1), (1, 2, 1), (1, 2, 1))),
                             stack_ref(1), "stack([a, b, c], dim=1)", attrs={"axis": 1}),
    "stack:last": Case((normal, normal), (((3,), (3,)), ((2, 2), (2, 2)), ((), ())),
                       stack_ref(-1), "stack([a, b], axis=-1)", attrs={"axis": -1}),
    "stack:one": Case((normal,), rows((), (2, 3)), stack_ref(0), "stack([a])"),
    # The ops of gradient graphs
    "reshape_like": Case((normal, normal), (((6,), (2, 3)), ((2, 3), (3, 2)), ((), (1, 1)),
                                            ((1, 4), (2, 2))),
                         lambda a, r: relayout(lambda s: r.shape)(a), None),
    "concat_part": Case((normal, normal, normal), (((5,), (2,), (3,)), ((3, 2), (1, 2), (2, 2))),
                        part_ref(0, 0), None),
    "concat_part:1": Case((normal, normal, normal, normal),
                          (((2, 6), (2, 1), (2, 3), (2, 2)), ((1, 4, 2), (1, 1, 2), (1, 2, 2),
                                                              (1, 1, 2))),
                          part_ref(1, 1), None, attrs={"axis": 1, "part": 1}),
    "concat_part:last": Case((normal, normal, normal), (((3,), (2,), (1,)), ((2, 3), (2, 1),
                                                                             (2, 2))),
                             part_ref(-1, 1), None, attrs={"axis": -1, "part": 1}),
})


# ---------------------------------------------------------------------------------------------
# Indexing. Static items by Python's own list indexing on nested lists; index arrays by loops.

FULL = ("slice", None, None, None)


def labels(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Whole numbers from -2 to 1 (repeats included): valid labels of any axis of length >= 2."""
    return rng.integers(-2, 2, size=shape).astype(float)


def distinct_labels(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Labels naming distinct positions of an axis of length >= 4 (for assignments)."""
    return np.asarray(rng.permutation([-2.0, -1.0, 0.0, 1.0])[:math.prod(shape)]).reshape(shape)


def basic_ref(index: tuple[Any, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """x[index] for whole numbers, slices, None and '...', read on nested Python lists."""
    def pick(v: Any, items: Sequence[Any]) -> Any:
        if not items:
            return v
        it, rest = items[0], items[1:]
        if it is None:
            return [pick(v, rest)]
        if isinstance(it, int):
            return pick(v[it], rest)
        return [pick(e, rest) for e in v[slice(*it[1:])]]

    def ref(x: np.ndarray) -> np.ndarray:
        consumed = sum(1 for it in index if it is not None and it != "...")
        items: list[Any] = []
        for it in index:
            items.extend([FULL] * (x.ndim - consumed) if it == "..." else [it])
        return np.asarray(pick(x.tolist(), items), dtype=np.float64)
    return ref


def label_rows(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x[b] by loops."""
    out = np.empty((*b.shape, *x.shape[1:]))
    for idx in np.ndindex(b.shape):
        out[idx] = x[int(b[idx])]
    return out


def label_cols(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x[:, b] by loops."""
    out = np.empty((x.shape[0], *b.shape, *x.shape[2:]))
    for i in range(x.shape[0]):
        for idx in np.ndindex(b.shape):
            out[(i, *idx)] = x[i, int(b[idx])]
    return out


def label_pairs(x: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """x[b, c] by loops (b and c broadcast together)."""
    bb, cc = np.broadcast_arrays(b, c)
    out = np.empty((*bb.shape, *x.shape[2:]))
    for idx in np.ndindex(bb.shape):
        out[idx] = x[int(bb[idx]), int(cc[idx])]
    return out


def label_then_int(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x[b, 0] by loops."""
    out = np.empty((*b.shape, *x.shape[2:]))
    for idx in np.ndindex(b.shape):
        out[idx] = x[int(b[idx]), 0]
    return out


def put_add_ref(pick: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """index_put_add(g, x, *arrays): by linearity, sum_i g_i e_(position i), via `pick` on unit
    tensors: out[j] = <g, pick(e_j)>."""
    def ref(g: np.ndarray, x: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
        out = np.zeros(x.shape)
        for j in np.ndindex(x.shape):
            e = np.zeros(x.shape)
            e[j] = 1.0
            out[j] = math.fsum(np.ravel(np.broadcast_to(g, pick(e, *arrays).shape)
                                        * pick(e, *arrays)))
        return out
    return ref


Spots = tuple[Shape, list[tuple[int, ...]]]


def setitem_ref(where: Callable[..., Spots]) -> Callable[..., np.ndarray]:
    """y with y[index] = v: `where(y, *arrays)` gives the indexed result's shape and the
    positions of y it holds, in row-major order; v is broadcast to that shape."""
    def ref(y: np.ndarray, v: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
        out = y.copy()
        shape, spots = where(y, *arrays)
        vv = np.broadcast_to(v, shape).reshape(-1)
        for k, p in enumerate(spots):
            out[p] = vv[k]
        return out
    return ref


def spots_row0(y: np.ndarray) -> Spots:
    return y.shape[1:], [(0, *i) for i in np.ndindex(y.shape[1:])]


def spots_col1(y: np.ndarray) -> Spots:
    shape = (y.shape[0], *y.shape[2:])
    return shape, [(i[0], 1, *i[1:]) for i in np.ndindex(shape)]


def spots_labels(y: np.ndarray, c: np.ndarray) -> Spots:
    shape = (*c.shape, *y.shape[1:])
    return shape, [(int(c[i[:c.ndim]]), *i[c.ndim:]) for i in np.ndindex(shape)]


def ones_ref(shape: Shape, value: float) -> Callable[[], np.ndarray]:
    def ref() -> np.ndarray:
        out = np.empty(shape)
        for idx in np.ndindex(shape):
            out[idx] = value
        return out
    return ref


def arange_ref(n: int) -> Callable[[], np.ndarray]:
    return lambda: np.asarray([float(i) for i in range(n)])


def index_case(index: tuple[Any, ...], expr: str | None, *shapes: Shape) -> Case:
    return Case((normal,), rows(*shapes), basic_ref(index), expr, attrs={"index": index})


CASES.update({
    "index": Case((normal,), rows((), (3,), (2, 3)), lambda x: x.copy(), None),
    "index:int": index_case((1,), "a[1]", (3,), (2, 3), (2, 2, 2)),
    "index:neg": index_case((-1,), "a[-1]", (3,), (2, 3), (1, 2, 2)),
    "index:pair": index_case((1, -2), "a[1, -2]", (2, 3), (3, 2, 2), (2, 2)),
    "index:col": index_case((FULL, 0), "a[:, 0]", (2, 3), (3, 1), (2, 2, 3)),
    "index:slice": index_case((("slice", 1, 3, None),), "a[1:3]", (4,), (3, 2), (5, 2, 2)),
    "index:step": index_case((("slice", None, None, 2), ("slice", 1, None, None)), "a[::2, 1:]",
                             (3, 2), (4, 3), (5, 2, 1)),
    "index:reverse": index_case((("slice", None, None, -1),), "a[::-1]", (3,), (2, 3),
                                (4, 1, 2)),
    "index:reverse_after_ellipsis": index_case(("...", ("slice", -1, 0, -1)), "a[..., -1:0:-1]",
                                               (3,), (2, 3), (2, 2, 4)),
    "index:newaxis_ellipsis": index_case((None, "...", 0), "a[None, ..., 0]", (2,), (2, 3),
                                         (2, 2, 3)),
    "index:labels": Case((normal, labels), (((3,), (4,)), ((2, 3), (2,)), ((4, 2), (2, 3))),
                         label_rows, "a[b]", attrs={"index": ("array",)}, constant=(1,)),
    "index:labels_col": Case((normal, labels), (((2, 3), (4,)), ((3, 2, 2), (2, 2)),
                                                ((1, 2), ()),),
                             label_cols, "a[:, b]", attrs={"index": (FULL, "array")},
                             constant=(1,)),
    "index:two_arrays": Case((normal, labels, labels),
                             (((3, 3), (4,), (4,)), ((2, 3, 2), (2, 2), (1, 2)),
                              ((2, 2), (3, 1), (2,))),
                             label_pairs, "a[b, c]", attrs={"index": ("array", "array")},
                             constant=(1, 2)),
    "index:label_int": Case((normal, labels), (((3, 2), (4,)), ((2, 3, 2), (2, 2)),
                                               ((2, 1), ())),
                            label_then_int, "a[b, 0]", attrs={"index": ("array", 0)},
                            constant=(1,)),
    # index's adjoint
    "index_put_add": Case((normal, normal, labels),
                          (((4,), (3,), (4,)), ((2, 3), (2, 3), (2,)), ((2, 2, 2), (3, 2), (2, 2))),
                          put_add_ref(label_rows), None, attrs={"index": ("array",)},
                          constant=(2,)),
    "index_put_add:col": Case((normal, normal), (((2,), (2, 3)), ((3, 2), (3, 4, 2)),
                                                 ((), (2, 3))),
                              put_add_ref(basic_ref((FULL, 0))), None,
                              attrs={"index": (FULL, 0)}),
    "index_put_add:reverse": Case((normal, normal), (((3,), (3,)), ((2, 2), (2, 2))),
                                  put_add_ref(basic_ref((("slice", None, None, -1),))), None,
                                  attrs={"index": (("slice", None, None, -1),)}),
    # setitem: y[index] = v
    "setitem": Case((normal, normal), (((3,), (3,)), ((2, 3), ()), ((2, 3), (3,))),
                    lambda y, v: np.broadcast_to(v, y.shape).copy(), None),
    "setitem:int": Case((normal, normal), (((3,), ()), ((2, 3), (3,)), ((2, 3), (1,))),
                        setitem_ref(spots_row0), "a[0] = b", attrs={"index": (0,)}),
    "setitem:col": Case((normal, normal), (((2, 3), (2,)), ((3, 2), ()), ((2, 3, 2), (2, 2))),
                        setitem_ref(spots_col1), "a[:, 1] = b", attrs={"index": (FULL, 1)}),
    "setitem:labels": Case((normal, normal, distinct_labels),
                           (((4,), (2,), (2,)), ((5, 2), (3, 2), (3,)), ((4, 3), (), (2,))),
                           setitem_ref(spots_labels), "a[c] = b", attrs={"index": ("array",)},
                           constant=(2,)),
    # Tensors from nothing
    "zeros": Case((), ((),), ones_ref((), 0.0), None),
    "zeros:2": Case((), ((),), ones_ref((2,), 0.0), "zeros(2)", attrs={"shape": (2,)}),
    "zeros:23": Case((), ((),), ones_ref((2, 3), 0.0), "zeros((2, 3))", attrs={"shape": (2, 3)}),
    "ones": Case((), ((),), ones_ref((), 1.0), None),
    "ones:3": Case((), ((),), ones_ref((3,), 1.0), "ones(3)", attrs={"shape": (3,)}),
    "ones:212": Case((), ((),), ones_ref((2, 1, 2), 1.0), "ones(shape=[2, 1, 2])",
                     attrs={"shape": (2, 1, 2)}),
    "arange": Case((), ((),), arange_ref(1), "arange(1)"),
    "arange:5": Case((), ((),), arange_ref(5), "arange(5)", attrs={"end": 5}),
})
