"""Shape ops: reshape, flatten, squeeze, unsqueeze, expand (broadcast_to), permute, concat (cat)
and stack.

Each moves or copies numbers without arithmetic, so each is linear and its VJP is its adjoint,
again an op of this kind: a reshape's is the reshape back (`reshape_like`, to the operand's shape),
expand's the sum back over the copies (`sum_to`), permute's the inverse permutation, concat's the
block of each operand (`concat_part`), stack's the slice at each position (`index`). Their rules
emit those adjoints, whose own rules emit the ops here: gradients of gradients stay exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

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
    family,
    fmt_shape,
    register,
    unbroadcast,
)
from .reductions import axis_of, axis_src, axis_tex

# The most operands cat and stack take (each is a tensor of the program).
MAX_PARTS = 32


def _shape_src(shape: Sequence[int]) -> str:
    return repr(tuple(shape))


def _tangent_or_zeros(t: Array | None, like: Array) -> Array:
    return np.zeros(like.shape) if t is None else t


def _per_operand(f: Callable[[int], Callable[[Sequence[str], str], str]]
                 ) -> tuple[Callable[[Sequence[str], str], str], ...]:
    """A VJP formula for each operand a variadic op can take (operand i's own symbol)."""
    return tuple(f(i) for i in range(MAX_PARTS))


# ---------------------------------------------------------------------------------------------
# The reshape back: reshape_like(a, r) has r's shape (r gives only its shape). It is the adjoint
# of every op that only rearranges the axes' lengths (reshape, flatten, squeeze, unsqueeze), and
# of itself.


def _reshape_like_shape(shapes: Sequence[Shape]) -> Shape:
    a, r = shapes
    if math.prod(a) != math.prod(r):
        raise ShapeError(f"reshape_like: {fmt_shape(a)} ({math.prod(a)} elements) cannot take "
                         f"the shape {fmt_shape(r)} ({math.prod(r)} elements)")
    return r


register(Op(
    "reshape_like", 2, "reshape", _reshape_like_shape,
    lambda a, r: np.reshape(a, r.shape).copy(),
    lambda h, args, out: (np.reshape(h, args[0].shape).copy(), np.zeros(args[1].shape)),
    jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                              else np.reshape(t[0], out.shape).copy()),
    rule=lambda b, h, args, out, needs: (b.op("reshape_like", h, args[0]), None),
    tex=lambda s: f"\\operatorname{{reshape}}({s[0]}; \\operatorname{{shape}}({s[1]}))",
    local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),
    vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{reshape}}(d{z}; "
             f"\\operatorname{{shape}}({s[0]}))",
             lambda s, z: f"d{s[1]} = 0"),
    elementwise=False,
    doc="The first operand's numbers in the shape of the second (which gives only its shape): "
    "the gradient of a reshape, flatten, squeeze or unsqueeze, back to its operand's shape.",
    internal=True,
))


def _reshape_rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                  ) -> Sequence[int | None]:
    return (b.op("reshape_like", g, args[0]),)


def _reshape_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return (np.reshape(g, args[0].shape).copy(),)


_BACK_RESHAPE = "np.reshape({g}, {0}.shape)"


# ---------------------------------------------------------------------------------------------
# reshape


def reshape_target(name: str, src: Shape, shape: tuple[int, ...]) -> Shape:
    """`shape` with its -1 (at most one) worked out for `src`'s number of elements."""
    n = math.prod(src)
    if sum(1 for d in shape if d == -1) > 1:
        raise ShapeError(f"{name}: only one length can be -1 (worked out from the others), in "
                         f"{fmt_shape(shape)}")
    bad = [d for d in shape if d < -1 or d == 0]
    if bad:
        raise ShapeError(f"{name}: {bad[0]} is not a length: lengths are whole numbers from 1 "
                         "(or -1 for the one worked out from the others)")
    known = math.prod(d for d in shape if d != -1)
    if -1 in shape:
        if n % known:
            raise ShapeError(f"{name}: {fmt_shape(src)} has {n} elements, which cannot be laid "
                             f"out as {fmt_shape(shape)} ({n} is not a multiple of {known})")
        return tuple(n // known if d == -1 else d for d in shape)
    if known != n:
        raise ShapeError(f"{name}: {fmt_shape(src)} has {n} elements, {fmt_shape(shape)} holds "
                         f"{known}")
    return tuple(shape)


def _relayout(name: str, shape_of: Callable[[Shape], Shape], tex: Callable[[Sequence[str]], str],
              doc: str, code: OpCode, spellings: Spellings) -> Op:
    """An op that lays the same numbers out in another shape (reshape, flatten, squeeze,
    unsqueeze): its VJP, JVP and rule reshape back or forward, its local derivative is 1."""
    return Op(
        name, 1, name, lambda shapes: shape_of(shapes[0]),
        lambda x: np.reshape(x, shape_of(x.shape)).copy(), _reshape_vjp,
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                                  else np.reshape(t[0], out.shape).copy()),
        rule=_reshape_rule,
        tex=tex,
        local_tex=(lambda s: "\\mathbf{1}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{reshape}}(d{z}; "
                 f"\\operatorname{{shape}}({s[0]}))",),
        elementwise=False, doc=doc, code=code, spellings=spellings,
    )


def _make_reshape(shape: tuple[int, ...]) -> Op:
    src = _shape_src(shape)
    return _relayout(
        "reshape", lambda x: reshape_target("reshape", x, shape),
        lambda s: f"\\operatorname{{reshape}}_{{{src}}}({s[0]})",
        "The same numbers, in row-major order, in another shape (one length may be -1: "
        "worked out from the others).",
        OpCode(f"np.reshape({{0}}, {src})", f"torch.reshape({{0}}, {src})",
               (_BACK_RESHAPE,), tangent=(f"np.reshape({{g}}, {src})",)),
        Spellings(("numpy.reshape",), ("torch.reshape",), ("tf.reshape",)),
    )


register(family(_make_reshape, (
    Attr("shape", "ints", (-1,), "the new shape (one length may be -1)"),)))


# ---------------------------------------------------------------------------------------------
# flatten, as torch.flatten

_FLATTEN_NUMPY = '''
def flatten(x, start_dim=0, end_dim=-1):
    """torch.flatten: the axes start_dim..end_dim as one (a scalar becomes one element)."""
    if np.ndim(x) == 0:
        return np.reshape(x, (1,))
    s, e = start_dim % np.ndim(x), end_dim % np.ndim(x)
    return np.reshape(x, np.shape(x)[:s] + (-1,) + np.shape(x)[e + 1:])
'''


def _flatten_shape(shape: Shape, start: int, end: int) -> Shape:
    if shape == ():
        for d, word in ((start, "start_dim"), (end, "end_dim")):
            if d not in (0, -1):
                raise ShapeError(f"flatten: {word} {d} is out of range for a scalar (0 or -1)")
        return (1,)
    s = axis_of("flatten", start, len(shape), "start_dim")
    e = axis_of("flatten", end, len(shape), "end_dim")
    if s > e:
        raise ShapeError(f"flatten: start_dim {start} comes after end_dim {end}")
    return (*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:])


def _make_flatten(start_dim: int, end_dim: int) -> Op:
    dims = "" if (start_dim, end_dim) == (0, -1) else f", {start_dim}, {end_dim}"
    sub = "" if (start_dim, end_dim) == (0, -1) else (
        f"_{{\\mathrm{{dims}}\\,{start_dim}..{end_dim}}}")
    return _relayout(
        "flatten", lambda x: _flatten_shape(x, start_dim, end_dim),
        lambda s: f"\\operatorname{{flatten}}{sub}({s[0]})",
        "The axes from start_dim to end_dim (all, by default) as one, as torch.flatten.",
        OpCode(f"flatten({{0}}{dims})", f"torch.flatten({{0}}{dims})", (_BACK_RESHAPE,),
               tangent=(f"flatten({{g}}{dims})",), numpy_helper=_FLATTEN_NUMPY),
        Spellings((), ("torch.flatten",), ()),
    )


register(family(_make_flatten, (
    Attr("start_dim", "int", 0, "the first axis to flatten"),
    Attr("end_dim", "int", -1, "the last axis to flatten"),
)))


# ---------------------------------------------------------------------------------------------
# squeeze and unsqueeze, as PyTorch

_SQUEEZE_NUMPY = '''
def squeeze(x, dim=None):
    """torch.squeeze: drop the axes of length 1 (among `dim`, if given; others stay)."""
    axes = range(np.ndim(x)) if dim is None else [d % np.ndim(x) for d in dim]
    return np.squeeze(x, axis=tuple(a for a in axes if np.shape(x)[a] == 1))
'''


def _squeeze_shape(shape: Shape, dim: tuple[int, ...] | None) -> Shape:
    if dim is None:
        axes = set(range(len(shape)))
    else:
        axes = {axis_of("squeeze", d, len(shape), "dim") for d in dim}
    # As torch.squeeze: an axis named in dim whose length is not 1 stays, without an error.
    return tuple(d for i, d in enumerate(shape) if not (i in axes and d == 1))


def _make_squeeze(dim: tuple[int, ...] | None) -> Op:
    arg = "" if dim is None else f", {axis_src(dim)}"
    sub = axis_tex(dim, "dim")
    return _relayout(
        "squeeze", lambda x: _squeeze_shape(x, dim),
        lambda s: f"\\operatorname{{squeeze}}{sub}({s[0]})",
        "Drops the axes of length 1 (among dim, if given: a named axis of another length "
        "stays, as torch.squeeze).",
        OpCode(f"squeeze({{0}}{'' if dim is None else f', {dim!r}'})",
                    f"torch.squeeze({{0}}{arg})", (_BACK_RESHAPE,),
                    tangent=(f"squeeze({{g}}{'' if dim is None else f', {dim!r}'})",),
                    numpy_helper=_SQUEEZE_NUMPY),
        Spellings(("numpy.squeeze",), ("torch.squeeze",), ("tf.squeeze",)),
    )


register(family(_make_squeeze, (
    Attr("dim", "axes", None, "the axes to drop if of length 1 (None: all of length 1)",
         aliases=("axis",)),)))


def _unsqueeze_shape(shape: Shape, dim: int) -> Shape:
    # The new axis counts among the output's: from -(ndim + 1) to ndim.
    k = axis_of("unsqueeze", dim, len(shape) + 1, "dim")
    return (*shape[:k], 1, *shape[k:])


def _make_unsqueeze(dim: int) -> Op:
    return _relayout(
        "unsqueeze", lambda x: _unsqueeze_shape(x, dim),
        lambda s: f"\\operatorname{{unsqueeze}}{axis_tex((dim,), 'dim')}({s[0]})",
        "A new axis of length 1 at dim.",
        OpCode(f"np.expand_dims({{0}}, {dim})", f"torch.unsqueeze({{0}}, {dim})",
               (_BACK_RESHAPE,), tangent=(f"np.expand_dims({{g}}, {dim})",)),
        Spellings(("numpy.expand_dims",), ("torch.unsqueeze",), ("tf.expand_dims",)),
    )


register(family(_make_unsqueeze, (
    Attr("dim", "int", 0, "where the new axis goes", aliases=("axis",)),)))


# ---------------------------------------------------------------------------------------------
# expand / broadcast_to: copies; the gradient sums them back (`sum_to`).


def _expand_shape(src: Shape, shape: tuple[int, ...]) -> Shape:
    bad = [d for d in shape if d < 1]
    if bad:
        raise ShapeError(f"expand: {bad[0]} is not a length: give every length of the new shape "
                         "(whole numbers from 1)")
    try:
        both = tuple(np.broadcast_shapes(src, shape))
    except ValueError:
        both = None
    if both != tuple(shape):
        raise ShapeError(f"expand: {fmt_shape(src)} cannot be broadcast to {fmt_shape(shape)} "
                         "(each axis, counted from the right, must be equal or 1 in the "
                         "operand)")
    return tuple(shape)


def _make_expand(shape: tuple[int, ...]) -> Op:
    src = _shape_src(shape)
    return Op(
        "expand", 1, "expand", lambda shapes: _expand_shape(shapes[0], shape),
        lambda x: np.array(np.broadcast_to(x, shape), dtype=np.float64),
        lambda g, args, out: (np.asarray(unbroadcast(g, args[0].shape), dtype=np.float64),),
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                                  else np.array(np.broadcast_to(t[0], shape))),
        rule=lambda b, g, args, out, needs: (b.op("sum_to", g, args[0]),),
        tex=lambda s: f"\\operatorname{{expand}}_{{{src}}}({s[0]})",
        local_tex=(lambda s: "\\mathbf{1}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{sum\\_to}}(d{z}; "
                 f"\\operatorname{{shape}}({s[0]}))",),
        gate="sums",
        elementwise=False,
        doc="Copies of the operand to the given shape, as NumPy broadcasts (axes of length 1 "
        "stretch, new axes go in front); the gradient sums the copies back.",
        code=OpCode(f"np.broadcast_to({{0}}, {src})", f"torch.broadcast_to({{0}}, {src})",
                    ("unbroadcast({g}, {0}.shape)",),
                    tangent=(f"np.broadcast_to({{g}}, {src})",)),
        spellings=Spellings(("numpy.broadcast_to",), ("torch.broadcast_to",),
                            ("tf.broadcast_to",)),
        aliases=("broadcast_to",),
    )


register(family(_make_expand, (Attr("shape", "ints", (), "the shape to broadcast to"),)))


# ---------------------------------------------------------------------------------------------
# permute


def _permutation(dims: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    if len(dims) != ndim:
        raise ShapeError(f"permute: dims {_shape_src(dims)} must list each of the {ndim} axes "
                         "once")
    out = tuple(axis_of("permute", d, ndim, "dim") for d in dims)
    if sorted(out) != list(range(ndim)):
        raise ShapeError(f"permute: dims {_shape_src(dims)} must list each of the {ndim} axes "
                         "once")
    return out


def _make_permute(dims: tuple[int, ...]) -> Op:
    def forward(x: Array) -> Array:
        return np.transpose(x, _permutation(dims, x.ndim)).copy()

    def inverse(ndim: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.argsort(_permutation(dims, ndim)))

    def back(c: CodeArgs) -> str:
        return f"np.transpose({c.g}, {_shape_src(inverse(len(c.shapes[0])))})"

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        shape = b.shape(args[0])
        ndim = len(dims) if shape is None else len(shape)
        return (b.op("permute", g, dims=inverse(ndim)),)

    src = _shape_src(dims)
    return Op(
        "permute", 1, "permute",
        lambda shapes: tuple(shapes[0][d] for d in _permutation(dims, len(shapes[0]))),
        forward,
        lambda g, args, out: (np.transpose(g, inverse(args[0].ndim)).copy(),),
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None else forward(t[0])),
        rule=rule,
        tex=lambda s: f"\\operatorname{{permute}}_{{{src}}}({s[0]})",
        local_tex=(lambda s: "P\\ \\text{(a permutation of the entries)}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{permute}}^{{-1}}(d{z})",),
        elementwise=False,
        doc="The axes in the order dims gives (the output's axis i is the operand's dims[i]).",
        code=OpCode(f"np.transpose({{0}}, {src})", f"torch.permute({{0}}, {src})", (back,),
                    tangent=(f"np.transpose({{g}}, {src})",)),
        spellings=Spellings(("numpy.transpose", "numpy.permute_dims"), ("torch.permute",),
                            ("tf.transpose",)),
    )


register(family(_make_permute, (Attr("dims", "ints", (), "the new order of the axes"),)))


# ---------------------------------------------------------------------------------------------
# concat (cat) and stack: variadic. concat's adjoint for operand k is its block (`concat_part`),
# whose adjoint is the concat of that block with zeros.


def _concat_shape(name: str, shapes: Sequence[Shape], axis: int) -> tuple[Shape, int]:
    first = shapes[0]
    if first == ():
        raise ShapeError(f"{name}: a scalar has no axis to join along: stack scalars instead")
    k = axis_of(name, axis, len(first))
    for i, s in enumerate(shapes[1:], start=1):
        if len(s) != len(first) or any(a != b for j, (a, b) in enumerate(zip(s, first,
                                                                             strict=True))
                                       if j != k):
            raise ShapeError(f"{name}: tensor {i} has shape {fmt_shape(s)}, tensor 0 "
                             f"{fmt_shape(first)}: all lengths but the one along axis {axis} "
                             "must match")
    return (*first[:k], sum(s[k] for s in shapes), *first[k + 1:]), k


def _blocks(shapes: Sequence[Shape], k: int) -> list[tuple[int, int]]:
    """Where each operand sits along the joined axis: (start, stop)."""
    out, at = [], 0
    for s in shapes:
        out.append((at, at + s[k]))
        at += s[k]
    return out


def _block_src(g: str, k: int, ndim: int, start: int, stop: int) -> str:
    return f"{g}[{', '.join([':'] * k + [f'{start}:{stop}'])}]"


def _make_concat(axis: int) -> Op:
    def forward(*xs: Array) -> Array:
        return np.concatenate(xs, axis=axis)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        _, k = _concat_shape("concat", [a.shape for a in args], axis)
        return tuple(np.take(g, range(a, b), axis=k) for a, b in
                     _blocks([x.shape for x in args], k))

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if all(x is None for x in t):
            return np.zeros(out.shape)
        return forward(*(_tangent_or_zeros(x, a) for x, a in zip(t, args, strict=True)))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        return tuple(b.op("concat_part", g, *args, axis=axis, part=k) if need else None
                     for k, need in enumerate(needs))

    def back(c: CodeArgs) -> str:
        _, k = _concat_shape("concat", c.shapes, axis)
        start, stop = _blocks(c.shapes, k)[c.k]
        return _block_src(c.g, k, len(c.out_shape), start, stop)

    def tangent(c: CodeArgs) -> str:
        parts = [c.g if i == c.k else f"np.zeros({_shape_src(s)})"
                 for i, s in enumerate(c.shapes)]
        return f"np.concatenate([{', '.join(parts)}], axis={axis})"

    return Op(
        "concat", 1, "cat", lambda shapes: _concat_shape("concat", shapes, axis)[0], forward,
        vjp, jvp=jvp, rule=rule,
        tex=lambda s: f"\\operatorname{{cat}}{axis_tex((axis,))}({', '.join(s)})",
        local_tex=(lambda s: "\\mathbf{1}",),
        vjp_tex=_per_operand(lambda i: lambda s, z: (
            f"d{s[i]} = d{z}\\big|_{{{s[i]}}}\\ \\text{{(its block along axis {axis})}}")),
        elementwise=False,
        doc="The tensors joined along an axis (0 by default); all other lengths must match. "
        "Each one's gradient is its block of the upstream gradient.",
        code=OpCode(lambda refs: f"np.concatenate([{', '.join(refs)}], axis={axis})",
                    lambda refs: f"torch.cat([{', '.join(refs)}], dim={axis})", (back,),
                    tangent=(tangent,)),
        spellings=Spellings(("numpy.concatenate", "numpy.concat"), ("torch.cat",
                                                                     "torch.concat"),
                            ("tf.concat",)),
        max_arity=MAX_PARTS,
        aliases=("cat",),
    )


AXIS0 = Attr("axis", "int", 0, "the axis to join along", aliases=("dim",))
register(family(_make_concat, (AXIS0,)))


def _part_shape(shapes: Sequence[Shape], axis: int, part: int) -> Shape:
    g, xs = shapes[0], shapes[1:]
    whole, _ = _concat_shape("concat_part", xs, axis)
    if g != whole:
        raise ShapeError(f"concat_part: a gradient of shape {fmt_shape(g)} does not fit the "
                         f"concatenation {fmt_shape(whole)}")
    if not 0 <= part < len(xs):
        raise ShapeError(f"concat_part: there is no tensor {part} among {len(xs)}")
    return xs[part]


def _make_concat_part(axis: int, part: int) -> Op:
    def forward(g: Array, *xs: Array) -> Array:
        _, k = _concat_shape("concat_part", [x.shape for x in xs], axis)
        a, b = _blocks([x.shape for x in xs], k)[part]
        return np.take(g, range(a, b), axis=k)

    def place(h: Array, g: Array, xs: Sequence[Array]) -> Array:
        _, k = _concat_shape("concat_part", [x.shape for x in xs], axis)
        a, b = _blocks([x.shape for x in xs], k)[part]
        out = np.zeros(g.shape)
        out[(slice(None),) * k + (slice(a, b),)] = h
        return out

    def rule(b: Builder, h: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        xs = args[1:]
        parts = [h if i == part else b.op("zeros_like", x) for i, x in enumerate(xs)]
        return (b.op("concat", *parts, axis=axis), *(None for _ in xs))

    return Op(
        "concat_part", 2, "block", lambda shapes: _part_shape(shapes, axis, part), forward,
        lambda h, args, out: (place(h, args[0], args[1:]),
                              *(np.zeros(x.shape) for x in args[1:])),
        jvp=lambda t, args, out: (np.zeros(out.shape) if t[0] is None
                                  else forward(t[0], *args[1:])),
        rule=rule,
        tex=lambda s: f"{s[0]}\\big|_{{\\text{{block {part} along axis {axis}}}}}",
        local_tex=(lambda s: "\\mathbf{1}", lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\operatorname{{cat}}(0, \\ldots, d{z}, \\ldots, 0)",
                 *_per_operand(lambda i: lambda s, z: f"d{s[i + 1]} = 0")),
        elementwise=False,
        doc="The block of a concatenation's gradient (the first operand) that belongs to tensor "
        "`part` of the concatenated ones (the others, which give only their shapes).",
        internal=True, max_arity=MAX_PARTS + 1, no_grad_from=1,
    )


register(family(_make_concat_part, (AXIS0, Attr("part", "int", 0, "which tensor's block"))))


def _stack_shape(shapes: Sequence[Shape], axis: int) -> tuple[Shape, int]:
    first = shapes[0]
    for i, s in enumerate(shapes[1:], start=1):
        if s != first:
            raise ShapeError(f"stack: tensor {i} has shape {fmt_shape(s)}, tensor 0 "
                             f"{fmt_shape(first)}: stacked tensors must have one shape")
    k = axis_of("stack", axis, len(first) + 1)
    return (*first[:k], len(shapes), *first[k:]), k


def stack_item(axis: int, k: int) -> tuple[Any, ...]:
    """The index of position k along the stacking axis (an `index` op's attribute): counted
    from the front for axis >= 0, from the back (after an ellipsis) for a negative one, so that
    it needs no rank."""
    full = ("slice", None, None, None)
    if axis >= 0:
        return (*([full] * axis), k)
    return ("...", k, *([full] * (-axis - 1)))


def _slice_tex(axis: int, k: int) -> str:
    """Position k along the stacking axis, as an index: `:, 1` for axis 1, `\\ldots, 1` for -1."""
    if axis >= 0:
        return ", ".join([":"] * axis + [str(k)])
    return ", ".join(["\\ldots", str(k)] + [":"] * (-axis - 1))


def _make_stack(axis: int) -> Op:
    def forward(*xs: Array) -> Array:
        return np.stack(xs, axis=axis)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        _, k = _stack_shape([a.shape for a in args], axis)
        return tuple(np.take(g, i, axis=k) for i in range(len(args)))

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        if all(x is None for x in t):
            return np.zeros(out.shape)
        return forward(*(_tangent_or_zeros(x, a) for x, a in zip(t, args, strict=True)))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        return tuple(b.op("index", g, index=stack_item(axis, k)) if need else None
                     for k, need in enumerate(needs))

    def back(c: CodeArgs) -> str:
        _, k = _stack_shape(c.shapes, axis)
        return f"np.take({c.g}, {c.k}, axis={k})"

    def tangent(c: CodeArgs) -> str:
        parts = [c.g if i == c.k else f"np.zeros({_shape_src(s)})"
                 for i, s in enumerate(c.shapes)]
        return f"np.stack([{', '.join(parts)}], axis={axis})"

    return Op(
        "stack", 1, "stack", lambda shapes: _stack_shape(shapes, axis)[0], forward,
        vjp, jvp=jvp, rule=rule,
        tex=lambda s: f"\\operatorname{{stack}}{axis_tex((axis,))}({', '.join(s)})",
        local_tex=(lambda s: "\\mathbf{1}",),
        vjp_tex=_per_operand(lambda i: lambda s, z: f"d{s[i]} = d{z}[{_slice_tex(axis, i)}]"),
        elementwise=False,
        doc="The tensors (all of one shape) stacked along a new axis (0 by default). Each one's "
        "gradient is its slice of the upstream gradient.",
        code=OpCode(lambda refs: f"np.stack([{', '.join(refs)}], axis={axis})",
                    lambda refs: f"torch.stack([{', '.join(refs)}], dim={axis})", (back,),
                    tangent=(tangent,)),
        spellings=Spellings(("numpy.stack",), ("torch.stack",), ("tf.stack",)),
        max_arity=MAX_PARTS,
    )


register(family(_make_stack, (
    Attr("axis", "int", 0, "where the new axis goes", aliases=("dim",)),)))
