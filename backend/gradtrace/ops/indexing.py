"""Indexing: `x[...]` (`index`), functional index assignment `y[i] = v` (`setitem`), and the
tensors made from nothing: zeros, ones, arange.

An index is a tuple of items (the `index` attribute), one per axis it consumes:
- a whole number (negative ones count from the end): that position, the axis goes;
- ("slice", start, stop, step), None for a missing part: positions start:stop:step as Python
  slices (a negative step reverses; PyTorch has none, so its generated code takes such a slice
  with `take_slice`; assigning to one is refused);
- "array": the next operand, an input of whole numbers (labels, kept as floats), as NumPy's
  advanced indexing: index arrays broadcast together, and their shape replaces the axes they
  index (in place if they are next to each other, first otherwise);
- None: a new axis of length 1; "...": as many whole axes as the other items leave.

The gradient of x[index] adds the upstream gradient into zeros of x's shape at the positions
read (`index_put_add`): a position read twice gets both parts, as PyTorch's index backward.
Labels that are not whole numbers or out of range are refused in words. A whole number and an
index array apart from each other (x[0, :, b]) would order the result's axes one way in NumPy
and another in PyTorch: that is refused too, with the two-step spelling that means one thing.
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
    family,
    fmt_shape,
    register,
    unbroadcast,
)

# The most index arrays one index takes.
MAX_ARRAYS = 7
FULL = ("slice", None, None, None)


# ---------------------------------------------------------------------------------------------
# Reading an index


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_index(index: Any) -> tuple[Any, ...]:
    """The `index` attribute, checked item by item (an AttrError says which is wrong)."""
    if index is None:
        return ()
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if _whole(item) or item is None or item in ("array", "..."):
            continue
        if (isinstance(item, tuple) and len(item) == 4 and item[0] == "slice"
                and all(p is None or _whole(p) for p in item[1:])):
            if item[3] == 0:
                raise AttrError("a slice's step cannot be 0")
            continue
        raise AttrError(f"{item!r} is not an index item (a whole number, a slice, an index "
                        "array, None or ...)")
    if sum(1 for item in items if item == "...") > 1:
        raise AttrError("an index can have only one '...'")
    return tuple(items)


def _arrays(index: tuple[Any, ...]) -> int:
    return sum(1 for item in index if item == "array")


@dataclass(frozen=True)
class Plan:
    """How an index applies to a shape: the items with '...' expanded (each with the axis it
    reads, None for a new axis), the result's shape, and where the index arrays' broadcast
    shape goes."""

    items: tuple[tuple[Any, int | None], ...]
    shape: Shape
    arrays: Shape  # the broadcast shape of the index arrays (and of whole numbers among them)


def _slice_len(item: tuple[Any, ...], n: int) -> int:
    return len(range(*slice(item[1], item[2], item[3]).indices(n)))


def _src(index: tuple[Any, ...], syms: Sequence[str]) -> str:
    """The index as written, for messages (index arrays by their symbols)."""
    out, k = [], 0
    for item in index:
        if item == "array":
            out.append(syms[k] if k < len(syms) else "b")
            k += 1
        elif item is None:
            out.append("None")
        elif isinstance(item, tuple):
            out.append(_slice_src(item))
        else:
            out.append(str(item))
    return ", ".join(out)


def _symbol(index: tuple[Any, ...]) -> str:
    """What the node shows: the index as written (`[0]`, `[:, 1]`), an index array as `·`;
    long ones shortened."""
    if not index:
        return "[ ]"
    text = f"[{_src(index, ['·'] * _arrays(index))}]"
    return text if len(text) <= 12 else text[:10] + "…]"


def _slice_src(item: tuple[Any, ...]) -> str:
    a, b, c = ("" if p is None else str(p) for p in item[1:])
    return f"{a}:{b}" + (f":{c}" if c else "")


def plan(name: str, shape: Shape, index: tuple[Any, ...], array_shapes: Sequence[Shape]) -> Plan:
    """The result's shape of x[index] for x of `shape`, as NumPy computes it, or a ShapeError."""
    ndim = len(shape)
    if _arrays(index) != len(array_shapes):
        raise ShapeError(f"{name}: the index names {_arrays(index)} index arrays, "
                         f"{len(array_shapes)} are given")
    consumed = sum(1 for item in index if item is not None and item != "...")
    if consumed > ndim:
        what = "a scalar" if ndim == 0 else f"a tensor with {ndim} ax{'is' if ndim == 1 else 'es'}"
        raise ShapeError(f"{name}: {consumed} indices for {what}")
    full: list[Any] = []
    for item in index:
        if item == "...":
            full.extend([FULL] * (ndim - consumed))
        else:
            full.append(item)
    if "..." not in index:
        full.extend([FULL] * (ndim - consumed))
    # Each item with the axis it reads.
    items: list[tuple[Any, int | None]] = []
    axis = 0
    for item in full:
        if item is None:
            items.append((None, None))
            continue
        items.append((item, axis))
        n = shape[axis]
        if _whole(item) and not -n <= item < n:
            raise ShapeError(f"{name}: index {item} is out of range for an axis of length {n}")
        axis += 1
    any_array = any(item == "array" for item, _ in items)
    try:
        arrays = tuple(np.broadcast_shapes(*array_shapes)) if array_shapes else ()
    except ValueError:
        raise ShapeError(f"{name}: the index arrays' shapes "
                         f"{' and '.join(fmt_shape(s) for s in array_shapes)} do not broadcast "
                         "together") from None

    def layout(advanced: set[int], kept: list[int]) -> list[Any]:
        """The result's axes, each tagged (where it comes from), for the items `kept`, of which
        `advanced` are the ones indexing together: in place if next to each other, else first."""
        out: list[Any] = []
        placed = False
        contiguous = bool(advanced) and max(advanced) - min(advanced) + 1 == len(advanced)
        if advanced and not contiguous:
            out.append("arrays")
            placed = True
        for pos, i in enumerate(kept):
            item, ax = items[i]
            if pos in advanced:
                if not placed:
                    out.append("arrays")
                    placed = True
            elif item is None:
                out.append(("new", i))
            elif isinstance(item, tuple):
                out.append(("axis", ax))
        return out

    every = list(range(len(items)))
    if any_array:
        # NumPy: whole numbers index together with the arrays.
        numpy_adv = {p for p, i in enumerate(every) if items[i][0] == "array"
                     or _whole(items[i][0])}
        numpy_tags = layout(numpy_adv, every)
        # PyTorch: whole numbers are read first (their axes go), then the arrays index.
        rest = [i for i in every if not _whole(items[i][0])]
        torch_adv = {p for p, i in enumerate(rest) if items[i][0] == "array"}
        if numpy_tags != layout(torch_adv, rest):
            raise ShapeError(
                f"{name}: in [{_src(index, [])}] a whole number and an index array stand apart, "
                "which orders the result's axes one way in NumPy and another in PyTorch: index "
                "in two steps (first the whole numbers, as x[0][:, b])")
        tags = numpy_tags
    else:
        tags = layout(set(), every)
    out: list[int] = []
    for tag in tags:
        if tag == "arrays":
            out.extend(arrays)
        elif tag[0] == "new":
            out.append(1)
        else:
            ax = tag[1]
            item = next(it for it, a in items if a == ax)
            out.append(_slice_len(item, shape[ax]))
    return Plan(tuple(items), tuple(out), arrays)


def _labels(name: str, a: Array, n: int) -> Array:
    """An index array of labels as integers, or a ShapeError: each a whole number in range."""
    bad = a[~np.isfinite(a) | (a != np.round(a))] if a.size else a
    if bad.size:
        v = float(bad.reshape(-1)[0])
        shown = repr(v) if not math.isnan(v) else "NaN"
        raise ShapeError(f"{name}: label {shown} is not a whole number")
    # Checked as floats first: a label of 1e300 would wrap around as an int64.
    out = a[(a < -n) | (a >= n)]
    if out.size:
        raise ShapeError(f"{name}: index {float(out.reshape(-1)[0]):.12g} is out of range for an "
                         f"axis of length {n}")
    return a.astype(np.int64)


def numpy_index(name: str, x_shape: Shape, index: tuple[Any, ...], arrays: Sequence[Array]
                ) -> tuple[Any, ...]:
    """The index as NumPy takes it, the labels checked."""
    p = plan(name, x_shape, index, [a.shape for a in arrays])
    out: list[Any] = []
    k = 0
    for item, ax in p.items:
        if item == "array":
            assert ax is not None
            out.append(_labels(name, np.asarray(arrays[k], dtype=np.float64), x_shape[ax]))
            k += 1
        elif isinstance(item, tuple):
            out.append(slice(*item[1:]))
        else:
            out.append(item)
    return tuple(out)


def _positions(x_shape: Shape, idx: tuple[Any, ...]) -> Array:
    """The (flat) position in x of every element of x[idx]."""
    return np.asarray(np.arange(math.prod(x_shape)).reshape(x_shape)[idx])


def _add_at(g: Array, x_shape: Shape, idx: tuple[Any, ...]) -> Array:
    """Zeros of x's shape with g added at the positions x[idx] reads (repeats add up)."""
    pos = _positions(x_shape, idx)
    if pos.size == 0:
        return np.zeros(x_shape)
    return np.bincount(np.ravel(pos), weights=np.ravel(np.broadcast_to(g, pos.shape)),
                       minlength=math.prod(x_shape)).reshape(x_shape).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# How generated code writes an index


def index_src(index: tuple[Any, ...], refs: Sequence[str], lang: str) -> str:
    """The items as Python source between brackets (NumPy: `:, b.astype(int)`; PyTorch:
    `:, b.long()`); `refs` are the index arrays' names."""
    out, k = [], 0
    for item in index:
        if item == "array":
            out.append(f"{refs[k]}.astype(int)" if lang == "numpy" else f"{refs[k]}.long()")
            k += 1
        elif item is None:
            out.append("None")
        elif isinstance(item, tuple):
            out.append(_slice_src(item))
        else:
            out.append(str(item))
    return ", ".join(out) if out else "()"


def _reversed(index: tuple[Any, ...]) -> list[int]:
    """The positions of the slices with a negative step (x[::-1])."""
    return [p for p, item in enumerate(index) if isinstance(item, tuple)
            and item[3] is not None and item[3] < 0]


def torch_index_src(x: str, index: tuple[Any, ...], refs: Sequence[str]) -> str:
    """x[index] in PyTorch. PyTorch has no negative slice steps: those slices are taken first,
    each along its own axis (`take_slice`, which keeps the axis), then the rest of the index
    with whole slices in their place (the same result, axis for axis)."""
    neg = _reversed(index)
    if not neg:
        return f"{x}[{index_src(index, refs, 'torch')}]"
    consumes = [item is not None and item != "..." for item in index]
    expr = x
    for p in neg:
        # After a '...', the axis is counted from the end, so that the rank is not needed.
        axis = -sum(consumes[p:]) if "..." in index[:p] else sum(consumes[:p])
        a, b, c = index[p][1:]
        expr = f"take_slice({expr}, {axis}, {a}, {b}, {c})"
    rest = tuple(FULL if p in neg else item for p, item in enumerate(index))
    return f"{expr}[{index_src(rest, refs, 'torch')}]"


_TAKE_SLICE_TORCH = '''
def take_slice(x, dim, start, stop, step):
    """x[start:stop:step] along dim as Python slices it: PyTorch has no negative steps."""
    positions = range(x.shape[dim])[start:stop:step]
    return x.index_select(dim, torch.tensor(list(positions), dtype=torch.long))
'''


def index_tuple_src(index: tuple[Any, ...], refs: Sequence[str], lang: str) -> str:
    """The index as a value: `np.s_[:, 0]` in NumPy, a tuple in PyTorch."""
    if lang == "numpy":
        return f"np.s_[{index_src(index, refs, lang)}]"
    out, k = [], 0
    for item in index:
        if item == "array":
            out.append(f"{refs[k]}.long()")
            k += 1
        elif isinstance(item, tuple):
            out.append(f"slice({item[1]}, {item[2]}, {item[3]})")
        else:
            out.append("None" if item is None else str(item))
    return "(" + ", ".join(out) + ("," if len(out) == 1 else "") + ")"


def _index_tex(index: tuple[Any, ...], syms: Sequence[str]) -> str:
    out, k = [], 0
    for item in index:
        if item == "array":
            out.append(syms[k] if k < len(syms) else "\\cdot")
            k += 1
        elif item is None:
            out.append("\\mathrm{None}")
        elif item == "...":
            out.append("\\ldots")
        elif isinstance(item, tuple):
            out.append(_slice_src(item))
        else:
            out.append(str(item))
    return ", ".join(out)


_INDEX_NUMPY = '''
def index_backward(g, x, index):
    """The gradient of x[index]: g added into zeros of x's shape at the positions read
    (a position read twice gets both parts)."""
    positions = np.arange(np.size(x)).reshape(np.shape(x))[index]
    return np.bincount(np.ravel(positions), weights=np.ravel(g),
                       minlength=np.size(x)).reshape(np.shape(x))
'''

INDEX_ATTR = Attr("index", "any", (), "the index: whole numbers, slices, index arrays, None, ...")


# ---------------------------------------------------------------------------------------------
# index


def _make_index(index: Any) -> Op:
    spec = check_index(index)

    def shape(shapes: Sequence[Shape]) -> Shape:
        return plan("index", shapes[0], spec, shapes[1:]).shape

    def idx(args: Sequence[Array]) -> tuple[Any, ...]:
        return numpy_index("index", args[0].shape, spec, args[1:])

    def forward(x: Array, *arrays: Array) -> Array:
        return np.array(x[numpy_index("index", x.shape, spec, arrays)], dtype=np.float64)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        return (_add_at(g, args[0].shape, idx(args)), *(np.zeros(a.shape) for a in args[1:]))

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if t[0] is None:
            return np.zeros(out.shape)
        return np.array(t[0][idx(args)], dtype=np.float64)

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        return (b.op("index_put_add", g, *args, index=spec), *(None for _ in args[1:]))

    def back(c: CodeArgs) -> str:
        return (f"index_backward({c.g}, {c.args[0]}, "
                f"{index_tuple_src(spec, c.args[1:], 'numpy')})")

    def tangent(c: CodeArgs) -> str:
        return f"{c.g}[{index_src(spec, c.args[1:], 'numpy')}]"

    return Op(
        "index", 1, _symbol(spec), shape, forward, vjp, jvp=jvp, rule=rule,
        tex=lambda s: f"{s[0]}[{_index_tex(spec, s[1:])}]",
        local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),  # the index arrays take none
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{add\\_at}}(\\mathbf{{0}}, "
                 f"[{_index_tex(spec, s[1:])}], d{z})",
                 *(lambda s, z, i=i: f"d{s[i]} = 0" for i in range(1, MAX_ARRAYS + 1))),
        elementwise=False,
        doc="x[index]: whole numbers, slices, None, ... and index arrays (inputs of whole "
        "numbers: labels) as NumPy reads them. The gradient adds the upstream into zeros of x's "
        "shape where x was read (twice read, twice added).",
        code=OpCode(lambda refs: f"{refs[0]}[{index_src(spec, refs[1:], 'numpy')}]",
                    lambda refs: torch_index_src(refs[0], spec, refs[1:]),
                    (back,), tangent=(tangent,), numpy_helper=_INDEX_NUMPY,
                    torch_helper=_TAKE_SLICE_TORCH if _reversed(spec) else ""),
        spellings=Spellings((), (), (), ()),
        max_arity=1 + MAX_ARRAYS, no_grad_from=1, named=False,
    )


register(family(_make_index, (INDEX_ATTR,)))


def _make_index_put_add(index: Any) -> Op:
    spec = check_index(index)

    def shape(shapes: Sequence[Shape]) -> Shape:
        g, x = shapes[0], shapes[1]
        want = plan("index_put_add", x, spec, shapes[2:]).shape
        if g != want and g != ():
            raise ShapeError(f"index_put_add: a gradient of shape {fmt_shape(g)} does not fit "
                             f"x[...] of shape {fmt_shape(want)}")
        return x

    def idx(args: Sequence[Array]) -> tuple[Any, ...]:
        return numpy_index("index_put_add", args[1].shape, spec, args[2:])

    def forward(g: Array, x: Array, *arrays: Array) -> Array:
        return _add_at(g, x.shape, numpy_index("index_put_add", x.shape, spec, arrays))

    def vjp(h: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        picked = np.array(h[idx(args)], dtype=np.float64)
        g = args[0]
        return (np.asarray(unbroadcast(picked, g.shape)).reshape(g.shape),
                *(np.zeros(a.shape) for a in args[1:]))

    def rule(b: Builder, h: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        picked = b.op("index", h, *args[2:], index=spec)
        if b.shape(args[0]) != b.shape(picked):
            picked = b.op("sum_to", picked, args[0])
        return (picked, *(None for _ in args[1:]))

    return Op(
        "index_put_add", 2, "add_at", shape, forward, vjp,
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                                  else forward(t[0], *args[1:])),
        rule=rule,
        tex=lambda s: f"\\operatorname{{add\\_at}}(\\mathbf{{0}}_{{{s[1]}}}, "
        f"[{_index_tex(spec, s[2:])}], {s[0]})",
        local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z}[{_index_tex(spec, s[2:])}]",
                 *(lambda s, z, i=i: f"d{s[i]} = 0" for i in range(1, MAX_ARRAYS + 2))),
        elementwise=False,
        doc="Zeros of the second operand's shape with the first added at the positions "
        "x[index] reads (repeats add up): the gradient of an index.",
        internal=True, max_arity=2 + MAX_ARRAYS, no_grad_from=1,
    )


register(family(_make_index_put_add, (INDEX_ATTR,)))


# ---------------------------------------------------------------------------------------------
# setitem: y[index] = v, as a new tensor

_SETITEM_NUMPY = '''
def setitem(y, v, index):
    """A copy of y with y[index] = v (y itself is unchanged)."""
    out = np.array(y, dtype=float)
    out[index] = v
    return out
'''

_SETITEM_TORCH = '''
def setitem(y, v, index):
    """A copy of y with y[index] = v (y itself is unchanged; autograd sees the copy)."""
    out = y.clone()
    out[index] = v
    return out
'''


def _make_setitem(index: Any) -> Op:
    spec = check_index(index)

    def target(shapes: Sequence[Shape]) -> Shape:
        if _reversed(spec):
            raise ShapeError("setitem: a reversed slice (a negative step) cannot be assigned "
                             "to, as in PyTorch: assign to the slice in increasing order")
        return plan("setitem", shapes[0], spec, shapes[2:]).shape

    def shape(shapes: Sequence[Shape]) -> Shape:
        want, v = target(shapes), shapes[1]
        try:
            fits = tuple(np.broadcast_shapes(v, want)) == want
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"setitem: a value of shape {fmt_shape(v)} cannot be put into "
                             f"y[{_src(spec, [])}], of shape {fmt_shape(want)}")
        return shapes[0]

    def idx(args: Sequence[Array]) -> tuple[Any, ...]:
        y = args[0]
        found = numpy_index("setitem", y.shape, spec, args[2:])
        pos = _positions(y.shape, found)
        if np.unique(pos).size != pos.size:
            # NumPy keeps the last write, PyTorch does not say which: refused.
            raise ShapeError("setitem: the index names a position twice, so which value it "
                             "keeps is not defined (PyTorch does not say)")
        return found

    def put(y: Array, v: Array | float, args: Sequence[Array]) -> Array:
        out = np.array(y, dtype=np.float64)
        out[idx(args)] = v
        return out

    def forward(y: Array, v: Array, *arrays: Array) -> Array:
        return put(y, v, (y, v, *arrays))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        v = args[1]
        picked = np.array(g[idx(args)], dtype=np.float64)
        return (put(g, 0.0, args), np.asarray(unbroadcast(picked, v.shape)).reshape(v.shape),
                *(np.zeros(a.shape) for a in args[2:]))

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if t[0] is None and t[1] is None:
            return np.zeros(out.shape)
        base = np.zeros(out.shape) if t[0] is None else t[0]
        return put(base, 0.0 if t[1] is None else t[1], args)

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        arrays = args[2:]
        dy = b.op("setitem", g, b.const(0.0), *arrays, index=spec) if needs[0] else None
        dv = None
        if needs[1]:
            dv = b.op("index", g, *arrays, index=spec)
            if b.shape(dv) != b.shape(args[1]):
                dv = b.op("sum_to", dv, args[1])
        return (dy, dv, *(None for _ in arrays))

    def where(c: CodeArgs) -> str:
        return index_tuple_src(spec, c.args[2:], "numpy")

    def back(c: CodeArgs) -> str:
        if c.k == 0:
            return f"setitem({c.g}, 0.0, {where(c)})"
        picked = f"{c.g}[{index_src(spec, c.args[2:], 'numpy')}]"
        if plan("setitem", c.shapes[0], spec, c.shapes[2:]).shape == c.shapes[1]:
            return picked
        return f"unbroadcast({picked}, {c.args[1]}.shape)"

    def tangent(c: CodeArgs) -> str:
        if c.k == 0:
            return f"setitem({c.g}, 0.0, {where(c)})"
        return f"setitem(np.zeros({c.out_shape!r}), {c.g}, {where(c)})"

    return Op(
        "setitem", 2, _symbol(spec) + "=", shape, forward, vjp, jvp=jvp, rule=rule,
        tex=lambda s: f"{s[0]}[{_index_tex(spec, s[2:])}] \\leftarrow {s[1]}",
        local_tex=(lambda s: f"\\mathbb{{1}}[\\text{{not in }} [{_index_tex(spec, s[2:])}]]",
                   lambda s: "\\mathbf{1}", lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z},\\ 0 \\text{{ at }} [{_index_tex(spec, s[2:])}]",
                 lambda s, z: f"d{s[1]} = d{z}[{_index_tex(spec, s[2:])}]",
                 *(lambda s, z, i=i: f"d{s[i]} = 0" for i in range(2, MAX_ARRAYS + 2))),
        elementwise=False,
        doc="y[index] = v as a new tensor: a copy of y with the indexed positions set to v "
        "(broadcast). y's gradient is the upstream's with those positions zeroed (their old "
        "values are gone); v's is the upstream at those positions, summed back to v's shape.",
        code=OpCode(lambda refs: f"setitem({refs[0]}, {refs[1]}, "
                    f"{index_tuple_src(spec, refs[2:], 'numpy')})",
                    lambda refs: f"setitem({refs[0]}, {refs[1]}, "
                    f"{index_tuple_src(spec, refs[2:], 'torch')})",
                    (back, back), tangent=(tangent, tangent),
                    numpy_helper=_SETITEM_NUMPY, torch_helper=_SETITEM_TORCH),
        max_arity=2 + MAX_ARRAYS, no_grad_from=2, named=False,
    )


register(family(_make_setitem, (INDEX_ATTR,)))


# ---------------------------------------------------------------------------------------------
# Tensors made from nothing: zeros, ones, arange (no operands, so no gradient flows into them).


def _lengths(name: str, shape: tuple[int, ...]) -> Shape:
    bad = [d for d in shape if d < 1]
    if bad:
        raise ShapeError(f"{name}: {bad[0]} is not a length: lengths are whole numbers from 1")
    return tuple(shape)


def _make_filled(name: str, value: float) -> Callable[..., Op]:
    def make(shape: tuple[int, ...]) -> Op:
        src = repr(tuple(shape))
        return Op(
            name, 0, "0" if value == 0 else "1", lambda shapes: _lengths(name, shape),
            lambda: np.full(_lengths(name, shape), value),
            lambda g, args, out: (),
            jvp=lambda t, args, out: np.zeros(out.shape),
            rule=lambda b, g, args, out, needs: (),
            tex=lambda s: f"\\mathbf{{{int(value)}}}_{{{src}}}",
            local_tex=(),
            elementwise=False,
            doc=f"A tensor of {'zeros' if value == 0 else 'ones'} of the given shape (a "
            f"constant: nothing flows back into it).",
            code=OpCode(f"np.{name}({src})", f"torch.{name}({src}, dtype=torch.float64)", ()),
            spellings=Spellings((f"numpy.{name}",), (f"torch.{name}",), (f"tf.{name}",)),
        )
    return make


for _name, _value in (("zeros", 0.0), ("ones", 1.0)):
    register(family(_make_filled(_name, _value), (
        Attr("shape", "ints", (), "the shape (one length, or a tuple of them)"),)))


def _make_arange(end: int) -> Op:
    def shape(shapes: Sequence[Shape]) -> Shape:
        if end < 1:
            raise ShapeError(f"arange: {end} numbers is no tensor: give a whole number from 1")
        return (end,)

    def forward() -> Array:
        return np.arange(shape([])[0], dtype=np.float64)

    return Op(
        "arange", 0, "0..n", shape, forward,
        lambda g, args, out: (),
        jvp=lambda t, args, out: np.zeros(out.shape),
        rule=lambda b, g, args, out, needs: (),
        tex=lambda s: f"(0, 1, \\ldots, {end - 1})",
        local_tex=(),
        elementwise=False,
        doc="The numbers 0, 1, ..., end - 1 (a constant).",
        code=OpCode(f"np.arange({end}, dtype=float)", f"torch.arange({end}, dtype=torch.float64)",
                    ()),
        spellings=Spellings(("numpy.arange",), ("torch.arange",), ("tf.range",)),
    )


register(family(_make_arange, (Attr("end", "int", 1, "how many numbers, from 0"),)))
