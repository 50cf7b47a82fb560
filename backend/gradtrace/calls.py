"""How a call or a subscript in the program becomes an op node: which op a name means, which
arguments are operands and which are the op's static attributes, and what an index reads.

- A function is called by its name in the language (`sum`), an alias (`ln`, `cat`), or a dotted
  name as the libraries spell it (`np.sum`, `torch.nn.functional.relu`, `F.relu`, `tf.nn.relu`),
  looked up in the registry's `spellings`. PyTorch's spellings of the ops with a `layout` (conv2d,
  the pools, batch_norm) mean PyTorch's layout, NCHW, unless the call says otherwise.
  `max`/`min` with one operand, or with an axis, are the reductions `amax`/`amin`, as are
  NumPy's `np.max(p, 0)` (axis 0) and PyTorch's `torch.max(x, 1)` (dim 1); with two operands
  they are the elementwise `maximum`/`minimum`.
- Positional arguments fill the op's operands first (`max(x, 0)` compares with the constant 0),
  then, for an op that takes more, further non-literal ones (`linear(x, W, b)`); what remains
  fills the op's attributes in their declared order (`sum(x, 0)`, `leaky_relu(x, 0.1)`).
  Keywords name attributes (`axis=0`, `dim=0`, `keepdim=True`, `padding='same'`). A list or tuple
  of expressions as the first argument of an op that takes several operands is those operands
  (`cat([a, b], dim=0)`).
- Attribute values are literals: numbers, `-1`, `True`/`False`/`None`, words in quotes, and
  tuples or lists of those.
- An index `x[...]` is the op `index` with the items as its `index` attribute: whole numbers,
  slices `a:b:c` of whole numbers, `None` (a new axis), `...`, and any other expression, which
  is an integer array (labels, as `s[y]`) and an operand that takes no gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .errors import GradtraceError
from .ops import BINARY_OPERATORS, FUNCTIONS, REGISTRY, AttrError, Op, Shape, resolve
from .parser import (
    Call,
    Ellipsis_,
    Expr,
    Name,
    Num,
    Slice,
    Str,
    Subscript,
    Tuple,
    Unary,
    children,
    walk,
)

# The module prefixes users write, as the libraries' own documentation spells them.
_PREFIXES = (
    ("np.", "numpy."), ("jnp.", "numpy."), ("F.", "torch.nn.functional."),
    ("nn.functional.", "torch.nn.functional."), ("tf.", "tf."), ("math.", "math."),
)
_KNOWN_MODULES = ("numpy.", "torch.", "tf.", "math.")


def _spelled() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, op in REGISTRY.items():
        if op.internal:
            continue
        for spelling in (*op.spellings.numpy, *op.spellings.torch, *op.spellings.tf):
            table.setdefault(spelling, name)
    return table


_SPELLED: dict[str, str] | None = None


def qualified(dotted: str) -> str:
    """`np.sum` -> `numpy.sum`, `F.relu` -> `torch.nn.functional.relu`."""
    for short, full in _PREFIXES:
        if dotted.startswith(short):
            return full + dotted[len(short):]
    return dotted


class _NotStatic:
    pass


NOT_STATIC = _NotStatic()

# The shapes of the names where a program is being built (the graph builder sets it), so that
# `x.shape[0]`, `len(y)` and `x.size(1)` are the numbers they are.
SHAPES: ContextVar[Callable[[Expr], Shape | None] | None] = ContextVar("SHAPES", default=None)


# The numbers of the names that hold one (`y = 0`, `N = X.shape[0]`), where a program is
# being built: `scores[y]` is then the entry 0, `np.arange(N)` the numbers up to N.
NUMBERS: ContextVar[Callable[[str], float | None] | None] = ContextVar("NUMBERS", default=None)


def _shape_of(e: Expr) -> Shape | None:
    find = SHAPES.get()
    return None if find is None else find(e)


def _dims(e: Expr) -> Any:
    """`x.shape[k]`, `x.shape`, `len(x)`, `x.size(k)`: whole numbers read off a shape."""
    if isinstance(e, Subscript) and isinstance(e.value, Call) and e.value.func == "shape" \
            and e.value.method and len(e.items) == 1 and isinstance(e.items[0], Expr):
        shape = _shape_of(e.value.args[0])
        k = static(e.items[0])
        if shape is not None and isinstance(k, int) and -len(shape) <= k < len(shape):
            return shape[k]
        return NOT_STATIC
    if isinstance(e, Call) and len(e.args) >= 1 and (
            (e.func == "shape" and e.method) or (e.func == "len" and not e.method)
            or (e.func == "size" and e.method)):
        shape = _shape_of(e.args[0])
        if shape is None:
            return NOT_STATIC
        if e.func == "shape" and len(e.args) == 1:
            return tuple(shape)
        if e.func == "len" and len(e.args) == 1 and shape:
            return shape[0]
        if e.func == "size":
            if len(e.args) == 1:
                return tuple(shape)
            k = static(e.args[1])
            if isinstance(k, int) and -len(shape) <= k < len(shape):
                return shape[k]
    return NOT_STATIC


def static(e: Expr) -> Any:
    """The literal value of an expression (a number, a word, True/False/None, a tuple of those),
    or NOT_STATIC."""
    if isinstance(e, Num):
        return int(e.value) if e.value.is_integer() and not any(c in e.text for c in ".eE") \
            else e.value
    if isinstance(e, Unary) and isinstance(e.operand, Num):
        v = static(e.operand)
        return -v
    if isinstance(e, Name) and e.id in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[e.id]
    if isinstance(e, Name) and e.id in ("np.newaxis", "numpy.newaxis"):
        return None
    if isinstance(e, Name):
        find = NUMBERS.get()
        v = None if find is None else find(e.id)
        if v is None:
            return NOT_STATIC
        return int(v) if float(v).is_integer() else v
    if isinstance(e, Str):
        return e.value
    if isinstance(e, Tuple):
        items = [static(i) for i in e.items]
        return NOT_STATIC if any(i is NOT_STATIC for i in items) else tuple(items)
    if isinstance(e, Subscript | Call):
        return _dims(e)
    return NOT_STATIC


_REDUCTIONS = {"max": "amax", "min": "amin"}
# Methods as PyTorch and NumPy spell them that the language names otherwise.
_METHODS = {"t": "transpose", "mm": "matmul", "view": "reshape", "div": "div", "mul": "mul",
            "add": "add", "sub": "sub", "neg": "neg", "square": "square"}
# Methods that give the same numbers (a copy, another dtype, a NumPy array): no node.
IDENTITY_METHODS = frozenset({"numpy", "item", "detach", "double", "float", "clone", "cpu",
                              "contiguous", "tolist", "type", "astype", "to"})
_AXIS_WORDS = frozenset({"axis", "dim", "keepdims", "keepdim"})


def op_name(e: Call, is_value: bool) -> str | None:
    """The registry name of the op a call means, or None if there is none (the caller says
    why). `is_value`: whether the bare name is a value (an input given, an assigned name)."""
    global _SPELLED
    func = e.func
    if e.method and func in _METHODS and not is_value:
        return _METHODS[func]
    if func == "range" and not is_value:
        return "arange"  # y_hat[range(len(y_hat)), y]
    dotted = "." in func
    if dotted:
        full = qualified(func)
        if _SPELLED is None:
            _SPELLED = _spelled()
        short = full.rsplit(".", 1)[1]
        if short in _REDUCTIONS and full.startswith(("numpy.", "torch.")):
            # np.max(p, 0) reduces over axis 0; torch.max(x, y) with a tensor y is elementwise.
            elementwise = full.startswith("torch.") and len(e.args) == 2 \
                and static(e.args[1]) is NOT_STATIC
            if not elementwise and _REDUCTIONS[short] in REGISTRY:
                return _REDUCTIONS[short]
            return short
        if full in _SPELLED:
            return _SPELLED[full]
        if full.startswith(("torch.", "numpy.", "tf.")) and short == "zeros_like":
            return "zeros_like"
        if full.startswith("torch.") and short in _METHODS:
            return _METHODS[short]
        if full.startswith("tf."):
            # TensorFlow exports most functions at the top and in tf.math, tf.nn, tf.linalg.
            rest = full.split(".", 2)[-1] if full.count(".") >= 2 else full[3:]
            for module in ("tf.math.", "tf.nn.", "tf.linalg.", "tf."):
                if module + rest in _SPELLED:
                    return _SPELLED[module + rest]
        if full.startswith(_KNOWN_MODULES) and short in FUNCTIONS:
            return FUNCTIONS[short]
        return None
    if is_value or func not in FUNCTIONS:
        return None
    name = FUNCTIONS[func]
    if func in _REDUCTIONS and _REDUCTIONS[func] in REGISTRY and (
            len(e.args) == 1 or any(k.name in _AXIS_WORDS for k in e.keywords)
            or (e.method and len(e.args) == 2 and static(e.args[1]) is not NOT_STATIC)):
        # max(X), max(X, axis=0), and the method x.max(1) as NumPy and PyTorch read it (over
        # axis 1); max(a, b) of two operands is elementwise.
        return _REDUCTIONS[func]
    return name


@dataclass(frozen=True)
class Split:
    """A call's arguments sorted: the expressions of the operands, the attribute values."""

    operands: list[Expr]
    attrs: dict[str, Any]


def split(op: Op, e: Call, shown: str) -> Split:
    """Which arguments of the call `e` are the op's operands and which its attributes."""
    most = op.arity if op.max_arity is None else op.max_arity
    operands: list[Expr] = []
    attrs: dict[str, Any] = {}
    free = [a.name for a in op.attrs]
    args = list(e.args)
    if op.max_arity is not None and args and isinstance(args[0], Tuple) \
            and static(args[0]) is NOT_STATIC:
        first = args.pop(0)
        assert isinstance(first, Tuple)
        operands.extend(first.items)  # cat([a, b], dim=0)
    rest = args[op.arity:]
    if [a.name for a in op.attrs] == ["shape"] and len(rest) > 1:
        # torch.zeros(2, 3), x.view(-1, 3): the shape given as several numbers.
        dims = tuple(static(a) for a in rest)
        if all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            args = [*args[:op.arity], Tuple(tuple(rest), rest[0].start, rest[-1].end)]
    for arg in args:
        # The required operands, then optional ones written as expressions (linear's bias).
        if len(operands) < op.arity or (len(operands) < most and static(arg) is NOT_STATIC):
            operands.append(arg)
        elif free:
            value = static(arg)
            if value is NOT_STATIC:
                raise GradtraceError("value", f"{shown}: the option '{free[0]}' takes a value "
                                     "written out (a number, a word in quotes, a tuple of "
                                     "numbers), not an expression", arg.start, arg.end)
            attrs[free.pop(0)] = value
        else:
            raise _arity(op, e, shown)
    by_name = {n: a.name for a in op.attrs for n in (a.name, *a.aliases)}
    for old, new in (("reduction_indices", "axis"), ("keep_dims", "keepdims"),
                     ("strides", "stride"), ("ddof", "correction")):
        # TensorFlow's names (tf.nn.conv2d's strides, TensorFlow 1's reduction_indices).
        if new in by_name and old not in by_name:
            by_name[old] = by_name[new]
    choices = {a.name: a.choices for a in op.attrs if getattr(a, "choices", None)}
    for k in e.keywords:
        if k.name in op.operand_names:
            position = op.operand_names.index(k.name)
            if position != len(operands) or len(operands) >= most:
                raise GradtraceError("arity", f"{shown}: '{k.name}' is given out of order; give "
                                     "the operands before it first", k.start, k.end)
            operands.append(k.value)
            continue
        if k.name == "ord" and static(k.value) in (2, None) and op.name == "norm":
            continue  # np.linalg.norm(x, ord=2): the Euclidean norm, what norm is
        if k.name not in by_name:
            known = ", ".join(a.name for a in op.attrs) or "none"
            raise GradtraceError("function", f"{shown} has no option '{k.name}' (its options: "
                                 f"{known})", k.start, k.end)
        value = static(k.value)
        if value is NOT_STATIC:
            raise GradtraceError("value", f"{shown}: {k.name}= takes a number, a word in quotes "
                                 "or a tuple of numbers, not an expression",
                                 k.value.start, k.value.end)
        if by_name[k.name] in attrs:
            raise GradtraceError("arity", f"{shown}: '{k.name}' is given twice", k.start, k.end)
        options = choices.get(by_name[k.name])
        if isinstance(value, str) and ((options and value not in options
                                        and value.lower() in options)
                                       or by_name[k.name] == "padding"):
            value = value.lower()  # padding="VALID", as TensorFlow writes it
        attrs[by_name[k.name]] = value
    if not op.arity <= len(operands) <= most:
        raise _arity(op, e, shown)
    if "." in e.func and qualified(e.func).startswith("numpy.") and op.name == "var" \
            and "correction" not in attrs:
        attrs["correction"] = 0  # NumPy's var divides by n (ddof=0), PyTorch's by n - 1
    if "." in e.func and qualified(e.func).startswith("torch.") and "layout" not in attrs and any(
            a.name == "layout" for a in op.attrs):
        # PyTorch's conv2d, pools and batch_norm take NCHW: pasted PyTorch code means that.
        attrs["layout"] = "NCHW"
    try:
        resolve(op.name, attrs)
    except AttrError as exc:
        raise GradtraceError("value", str(exc), e.start, e.end) from None
    return Split(operands, attrs)


def _arity(op: Op, e: Call, shown: str) -> GradtraceError:
    most = op.arity if op.max_arity is None else op.max_arity
    plural = "argument" if most == 1 else "arguments"
    count = f"{op.arity}" if most == op.arity else f"{op.arity} to {most}"
    options = f" and the options {', '.join(a.name for a in op.attrs)}" if op.attrs else ""
    got = len(e.args) + len(e.keywords)
    return GradtraceError("arity", f"{shown} takes {count} {plural}{options}, got {got}",
                          e.start, e.end)


def index_spec(items: Sequence[Expr | Slice | Ellipsis_], shown: str
               ) -> tuple[tuple[Any, ...], list[Expr]]:
    """The `index` attribute of `x[items]` and the expressions of its index arrays."""
    spec: list[Any] = []
    arrays: list[Expr] = []
    for item in items:
        if isinstance(item, Ellipsis_):
            spec.append("...")
        elif isinstance(item, Slice):
            parts = []
            for part in (item.lower, item.upper, item.step):
                v = None if part is None else static(part)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                    where = item if part is None else part
                    raise GradtraceError("value", f"{shown}: a slice's bounds are whole numbers, "
                                         "as in x[1:3]", where.start, where.end)
                parts.append(v)
            if parts[2] == 0:
                raise GradtraceError("value", "a slice's step cannot be 0", item.start, item.end)
            spec.append(("slice", *parts))
        else:
            v = static(item)
            if v is None:
                spec.append(None)
            elif isinstance(v, int) and not isinstance(v, bool):
                spec.append(v)
            elif v is NOT_STATIC:
                spec.append("array")
                arrays.append(item)
            else:
                raise GradtraceError("value", f"{shown}: an index is a whole number, a slice, or "
                                     "an input holding whole numbers (labels)",
                                     item.start, item.end)
    return tuple(spec), arrays


@dataclass(frozen=True)
class Plan:
    """How an expression becomes nodes: `order`, its sub-expressions that make a node (children
    first; literal options and the lists spread into a call's operands left out), and for each
    call and subscript (by `id`) the op and arguments, or the index, it was read as."""

    order: list[Expr]
    calls: dict[int, tuple[str, Split]]
    indexes: dict[int, tuple[tuple[Any, ...], list[Expr]]]
    # Numbers read off shapes (`X.shape[0]`, `len(y)`): constants of the program.
    dims: dict[int, int] = field(default_factory=dict)


def plan(root: Expr, call_op: Callable[[Call], tuple[str, Split] | None]) -> Plan:
    """Read `root`'s calls (`call_op`: the op a call means and its arguments sorted, or None
    for a call whose arguments are all operands, as grad's) and subscripts, parents first, so
    that what is a literal option is known before its children are visited."""
    order = walk(root)
    calls: dict[int, tuple[str, Split]] = {}
    indexes: dict[int, tuple[tuple[Any, ...], list[Expr]]] = {}
    skipped: set[int] = set()  # literal options, and the `[a, b]` of cat([a, b])
    literal: set[int] = set()
    dims: dict[int, Any] = {}
    for e in reversed(order):
        if id(e) in literal:
            literal.update(id(c) for c in children(e))
            continue
        if isinstance(e, Subscript | Call) and (n := _dims(e)) is not NOT_STATIC \
                and isinstance(n, int):
            dims[id(e)] = n  # `X.shape[0]`: a number of the program
            literal.update(id(c) for c in children(e))
            continue
        if isinstance(e, Call):
            found = call_op(e)
            if found is None:
                continue
            calls[id(e)] = found
            keep = {id(a) for a in found[1].operands}
            for c in children(e):
                if isinstance(c, Tuple) and any(id(i) in keep for i in c.items):
                    skipped.add(id(c))  # spread: its items are the operands
                    keep.add(id(c))
            literal.update(id(c) for c in children(e) if id(c) not in keep)
        elif isinstance(e, Subscript):
            indexes[id(e)] = items = index_spec(e.items, "an index")
            keep = {id(a) for a in items[1]} | {id(e.value)}
            literal.update(id(c) for c in children(e) if id(c) not in keep)
    skipped |= literal
    return Plan([e for e in order if id(e) not in skipped], calls, indexes, dims)


def inferred(name: str, attrs: dict[str, Any], shapes: Sequence[Shape | None]
             ) -> dict[str, Any]:
    """The call's options, with those the op reads off its operands' shapes where the call does
    not give them (`Op.infer`)."""
    infer = REGISTRY[name].infer
    return attrs if infer is None else infer(shapes) | attrs



def product(op: str, left: Shape | None, right: Shape | None) -> str:
    """The op of a binary operator. `·`, the product of maths notation (juxtaposition, \\cdot,
    ×), is the matrix product between two tensors (`W x`, `x^T y`) and the elementwise one as
    soon as one side is a number (`2 x`) or a shape is unknown."""
    if op == "·":
        tensors = left is not None and right is not None and len(left) >= 1 and len(right) >= 1
        return "matmul" if tensors else "mul"
    return BINARY_OPERATORS[op]


# What builds a tensor from numbers written out, in each library: `np.array([[1, 2]])`.
CONSTRUCTORS = frozenset({
    "numpy.array", "numpy.asarray", "numpy.float64", "numpy.float32", "torch.tensor",
    "torch.Tensor", "torch.as_tensor", "torch.FloatTensor", "torch.DoubleTensor", "tf.constant",
    "tf.Variable", "tf.convert_to_tensor", "jax.numpy.array", "jnp.array", "Value",
})


def constructor(func: str) -> bool:
    """Whether a call of `func` builds a tensor from what it is given (`np.array`, `Value`)."""
    return func == "Value" or ("." in func and qualified(func) in CONSTRUCTORS)


def respelled(name: str, shapes: Sequence[Shape | None]) -> str:
    """NumPy's `dot` (`X.dot(W)`, `np.dot`) is the matrix product for matrices and a product
    with a number; only between two vectors is it the op `dot`."""
    if name == "dot" and len(shapes) == 2 and all(s is not None for s in shapes):
        ndims = [len(s) for s in shapes if s is not None]
        if 0 in ndims:
            return "mul"
        if ndims != [1, 1]:
            return "matmul"
    return name


def literal(e: Expr) -> Any:
    """The numbers of a tensor written out (`[[1, 2], [3, 4]]`, `-2.5`) as nested lists, or
    NOT_STATIC."""
    v = static(e)

    def numbers(x: Any) -> bool:
        if isinstance(x, tuple):
            return bool(x) and all(numbers(i) for i in x)
        return isinstance(x, int | float) and not isinstance(x, bool)

    if v is NOT_STATIC or not numbers(v):
        return NOT_STATIC

    def lists(x: Any) -> Any:
        return [lists(i) for i in x] if isinstance(x, tuple) else float(x)

    return lists(v)


_RESHAPES = frozenset({"reshape", "view"})


def _filled(shape: tuple[int, ...], v: float) -> Any:
    """Nested lists of `shape` holding v."""
    out: Any = v
    for d in reversed(shape):
        out = [out] * d if not isinstance(out, list) else [list(out) for _ in range(d)]
    return out


def value_line(e: Expr, names: Mapping[str, Any] | None = None) -> Any:
    """The value of a line that gives an input its value, as notebooks write them:
    `np.array([[0.9, 0.2]])`, `torch.tensor([1., 2.], requires_grad=True).reshape(2, 1)`,
    `tf.constant(3.0)`, micrograd's `Value(-4.0)`, or a list `[[1, 2], [3, 4]]`. NOT_STATIC for
    anything else (a number alone, `x = 3`, stays a constant of the program). `names`: values
    a name may stand for (an output gradient `tf.reshape(dz, ...)` of a value line's dz)."""
    if isinstance(e, Tuple):
        return literal(e)
    if isinstance(e, Name) and names is not None and e.id in names:
        return names[e.id]
    if not isinstance(e, Call):
        return NOT_STATIC
    if constructor(e.func):
        return literal(e.args[0]) if len(e.args) == 1 and not e.keywords else NOT_STATIC
    full = qualified(e.func) if "." in e.func else e.func
    short = full.rsplit(".", 1)[-1]
    if e.requires_grad and short in ("ones", "zeros") and full.startswith("torch."):
        # torch.ones(2, 2, requires_grad=True): an input, its value ones.
        dims = [static(a) for a in e.args]
        shape = dims[0] if len(dims) == 1 and isinstance(dims[0], tuple) else tuple(dims)
        if all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            from .settings import get_settings  # late: only value lines need them here

            limit = get_settings().max_tensor_elements
            if any(d < 0 for d in shape) or math.prod(shape) > limit:
                raise GradtraceError("limit", f"{short}{shape}: a value has at most "
                                     f"{limit:,} numbers, none of its sizes negative",
                                     e.start, e.end)
            return _filled(shape, 1.0 if short == "ones" else 0.0)
    if (e.method and short in _RESHAPES) or (not e.method and short == "reshape"
                                             and full.startswith(_KNOWN_MODULES)):
        if len(e.args) < 2:
            return NOT_STATIC
        base = value_line(e.args[0], names)
        dims = [static(a) for a in e.args[1:]]
        if base is NOT_STATIC or NOT_STATIC in dims:
            return NOT_STATIC
        shape = dims[0] if len(dims) == 1 and isinstance(dims[0], tuple) else tuple(dims)
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            return NOT_STATIC
        import numpy as np  # late: only value lines need it here

        try:
            return np.reshape(np.asarray(base, dtype=float), shape).tolist()
        except ValueError:
            raise GradtraceError("shape", f"cannot reshape {np.size(base)} numbers to "
                                 f"{shape}", e.start, e.end) from None
    if e.method and short in ("float", "double", "detach", "clone") and len(e.args) == 1:
        return value_line(e.args[0], names)
    return NOT_STATIC
