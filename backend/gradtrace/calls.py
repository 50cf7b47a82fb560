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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import GradtraceError
from .ops import FUNCTIONS, REGISTRY, AttrError, Op, Shape, resolve
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
    if isinstance(e, Str):
        return e.value
    if isinstance(e, Tuple):
        items = [static(i) for i in e.items]
        return NOT_STATIC if any(i is NOT_STATIC for i in items) else tuple(items)
    return NOT_STATIC


_REDUCTIONS = {"max": "amax", "min": "amin"}
_AXIS_WORDS = frozenset({"axis", "dim", "keepdims", "keepdim"})


def op_name(e: Call, is_value: bool) -> str | None:
    """The registry name of the op a call means, or None if there is none (the caller says
    why). `is_value`: whether the bare name is a value (an input given, an assigned name)."""
    global _SPELLED
    func = e.func
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
        if full.startswith(_KNOWN_MODULES) and short in FUNCTIONS:
            return FUNCTIONS[short]
        return None
    if is_value or func not in FUNCTIONS:
        return None
    name = FUNCTIONS[func]
    if func in _REDUCTIONS and _REDUCTIONS[func] in REGISTRY and (
            len(e.args) == 1 or any(k.name in _AXIS_WORDS for k in e.keywords)):
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
    for k in e.keywords:
        if k.name in op.operand_names:
            position = op.operand_names.index(k.name)
            if position != len(operands) or len(operands) >= most:
                raise GradtraceError("arity", f"{shown}: '{k.name}' is given out of order; give "
                                     "the operands before it first", k.start, k.end)
            operands.append(k.value)
            continue
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
        attrs[by_name[k.name]] = value
    if not op.arity <= len(operands) <= most:
        raise _arity(op, e, shown)
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


def plan(root: Expr, call_op: Callable[[Call], tuple[str, Split] | None]) -> Plan:
    """Read `root`'s calls (`call_op`: the op a call means and its arguments sorted, or None
    for a call whose arguments are all operands, as grad's) and subscripts, parents first, so
    that what is a literal option is known before its children are visited."""
    order = walk(root)
    calls: dict[int, tuple[str, Split]] = {}
    indexes: dict[int, tuple[tuple[Any, ...], list[Expr]]] = {}
    skipped: set[int] = set()  # literal options, and the `[a, b]` of cat([a, b])
    literal: set[int] = set()
    for e in reversed(order):
        if id(e) in literal:
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
    return Plan([e for e in order if id(e) not in skipped], calls, indexes)


def inferred(name: str, attrs: dict[str, Any], shapes: Sequence[Shape | None]
             ) -> dict[str, Any]:
    """The call's options, with those the op reads off its operands' shapes where the call does
    not give them (`Op.infer`)."""
    infer = REGISTRY[name].infer
    return attrs if infer is None else infer(shapes) | attrs

