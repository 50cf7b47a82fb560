"""What an op is: the `Op` entry, the registry, and what entries share (shapes, sum-back, rules).

Each `Op` holds everything about one op, in one place:
- `shape`: the output shape from the operand shapes, or a `ShapeError` in words a student reads;
- `forward`: NumPy float64 on the operand values;
- `vjp`: the vector-Jacobian product. Given the upstream gradient `g` (shape of the output), the
  operands and the output, it returns one downstream gradient per operand. No dense Jacobian is
  ever formed; an elementwise op's VJP may return a broadcast shape, which the engine sums back
  to the operand's shape (`unbroadcast`);
- `jvp`: the Jacobian-vector product (forward mode). Given the operands' tangents (None where an
  operand has none, e.g. a constant), the operands and the output, it returns the output's
  tangent, of the output's shape (operand tangents broadcast as the forward broadcasts operands).
  It is the exact transpose of `vjp`, masks included, so <g, J t> = <J^T g, t> and a scalar edge
  shows the same local derivative in both modes;
- `rule`: the VJP written with ops (a `Builder`), so that `grad(f, x)` can build a backward pass
  that is itself differentiable (second derivatives, the Hessian);
- `kink`: for ops with a kink (relu, abs, max, min), the quantity whose sign picks the branch, so
  that the numeric check can tell a kink from a wrong derivative;
- `tex` / `local_tex` / `vjp_tex`: how the op is written, the local derivative of each operand
  (`d(a b)/da = b`), and for tensor edges the VJP rule (`dA = dZ B^T`), all in LaTeX, in terms of
  symbols the trace chooses for the operands; `symbol` is what its node shows;
- `gate`: the gate pattern of the lecture notes where the op has one;
- `code`: how generated NumPy and PyTorch files write it. Its PyTorch forward (`code.torch`) is
  the op's PyTorch reference, the function the tests compare it with in float64;
- `operator` / `named`: how the language writes it (`a + b`; `exp(a)`; or both, `a ^ b` and
  `pow(a, b)`); `spellings`: its names in the other notations users paste (NumPy, PyTorch,
  TensorFlow, LaTeX);
- `attrs`: static attributes (an axis, a stride) with their defaults, and `make`, which builds the
  op for given attribute values (`family`); `max_arity` for ops that take a variable number of
  operands;
- `cost`: what a pass costs beyond its output, where that can be far more (matmul, conv2d).

An op that is an exact composition of others is declared with `composite(...)`: its forward, VJP,
JVP, shape and rule all follow from the composition, with no derivative code of its own (it may
still carry a fused VJP where the composition would lose precision or overflow).

Adding an op is one entry in one of the modules of this package; graph building finds it by name,
the frontend gets its symbol and formulas through `catalogue()`, and the parametrized tests in
tests/test_ops.py pick it up (they ask for one row of test cases per op).

At kinks the derivative follows PyTorch, in both modes: relu'(0) = 0, abs'(0) = 0, and max/min
split the gradient (or tangent) evenly between tied operands; for pow the masks of PyTorch's
pow_backward apply (its forward-mode rule uses the same functions). One deliberate difference: with
a NaN operand of max/min, PyTorch's forward mode passes only the second operand's tangent while its
backward passes the gradient to both; here the JVP is the transpose of the VJP (both tangents).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
Shape = tuple[int, ...]
Syms = Sequence[str]


class ShapeError(ValueError):
    """Operand shapes an op cannot take; the message is shown to the user as it is."""


def fmt_shape(shape: Shape) -> str:
    if shape == ():
        return "scalar"
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def tex_name(name: str) -> str:
    """`x` -> x, `w0` -> w_{0}, `W1` -> W_{1}, `x_in` -> x_{in}, `cost` -> \\mathrm{cost}."""
    if name == "pi":
        return "\\pi"
    head, sep, tail = name.partition("_")
    if not sep:
        i = len(name.rstrip("0123456789"))
        head, tail = name[:i], name[i:]
    if not head or (sep and not tail) or (sep and len(head) > 1):
        # `data_loss` is one word with an underscore, not data with a subscript; `x_in` is.
        # `_`, `_x`, `x_`: no head or no subscript to give; a bare `_` would not be valid LaTeX.
        return "\\mathrm{" + name.replace("_", "\\_") + "}"
    base = head if len(head) == 1 else "\\mathrm{" + head + "}"
    if tail:
        return f"{base}_{{{tail.replace('_', ',')}}}"
    return base


GATE_TEXT = {
    "distributes": "An add gate distributes: every input receives the upstream gradient unchanged.",
    "swaps": "A multiply gate swaps: each input's gradient is the upstream gradient times the "
    "other input's value.",
    "routes": "A max gate routes: the whole upstream gradient goes to the larger input (split "
    "evenly on a tie), the other input gets zero.",
    "sums": "A copy gate sums: a value used several times receives the sum of the gradients "
    "coming back along each use.",
}


@dataclass(frozen=True)
class CodeArgs:
    """What a backward template of the generated code is written in: the operands as code (a
    name, or a literal for a constant), the op's output, the upstream gradient `g`, and the static
    shapes (the generator knows every node's shape)."""

    args: tuple[str, ...]
    out: str
    g: str
    shapes: tuple[Shape, ...]
    out_shape: Shape
    k: int = 0  # the operand whose gradient (or tangent part) is being written

    def number(self, i: int) -> float | None:
        """Operand `i` as a number where it is a literal constant (None for a name)."""
        try:
            return float(self.args[i].strip("()"))
        except ValueError:
            return None


# A downstream-gradient template: a format string in the operands `{0}`, `{1}`, the output
# `{out}` and the upstream gradient `{g}`, or a function of the `CodeArgs`.
GradCode = str | Callable[[CodeArgs], str]


@dataclass(frozen=True)
class OpCode:
    """How the generated Python files write an op (codegen.py).

    `numpy` / `torch`: the forward expression in the operands `{0}`, `{1}`. `backward`: per
    operand, the NumPy expression of the downstream gradient, "local derivative times upstream"
    for elementwise ops (the generator sums it back over broadcast axes where the forward
    broadcast) and the VJP for tensor ops; it must equal the op's `vjp`, masks included, so that
    the file prints the engine's numbers. `tangent`: per operand, its part of the output's
    tangent in forward mode, `{g}` being the operand's tangent (the op's `jvp`); None where it
    is `backward` itself: elementwise ops (local derivative times the tangent) and ops whose
    Jacobian is symmetric or a permutation. `numpy_helper` / `torch_helper`: functions the
    expressions call, written into the file when the op is used."""

    numpy: str | Callable[[Sequence[str]], str]
    torch: str | Callable[[Sequence[str]], str]
    backward: tuple[GradCode, ...]
    tangent: tuple[GradCode, ...] | None = None
    numpy_helper: str = ""
    torch_helper: str = ""

    def forward(self, lang: str, refs: Sequence[str]) -> str:
        """The forward expression in the operands `refs` ("numpy" or "torch"); a function
        template takes them all (for ops with a variable number of operands)."""
        t = self.numpy if lang == "numpy" else self.torch
        return t.format(*refs) if isinstance(t, str) else t(refs)

    def downstream(self, k: int, c: CodeArgs, tangent: bool = False) -> str:
        """Operand k's downstream gradient (or, with `tangent`, its part of the output's
        tangent); an op with a variable number of operands repeats its last template."""
        ts = (self.tangent or self.backward) if tangent else self.backward
        t = ts[min(k, len(ts) - 1)]
        return t.format(*c.args, out=c.out, g=c.g) if isinstance(t, str) else t(replace(c, k=k))




class Builder(Protocol):
    """What a rule (and a composition) writes with: emit an op node (with the op's static
    attributes as keywords: `b.op("sum", x, axis=(0,))`) or a constant, and ask a node's static
    shape (None where unknown). Nodes are handles (ints)."""

    def op(self, name: str, *args: int, **attrs: Any) -> int: ...

    def const(self, value: float) -> int: ...

    def shape(self, node: int) -> Shape | None: ...


# A rule: `rule(b, g, args, out, needs)` returns one node (or None) per operand: the part of the
# upstream gradient `g` that goes to it, before any sum-back over broadcast axes. `needs[k]` says
# whether operand k wants one (the rest may be skipped).
Rule = Callable[[Builder, int, Sequence[int], int, Sequence[bool]], Sequence[int | None]]
Vjp = Callable[[Array, Sequence[Array], Array], Sequence[Array]]
Jvp = Callable[[Sequence[Array | None], Sequence[Array], Array], Array]
# How a composite writes itself with other ops, in its operands' nodes: returns the output's node.
Compose = Callable[[Builder, Sequence[int]], int]


def no_gradient(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                ) -> Sequence[int | None]:
    """The rule of an op whose output needs no gradient (an indicator, a count)."""
    return tuple(None for _ in args)


@dataclass(frozen=True)
class Spellings:
    """The op's names in the notations users paste, each fully qualified as its library's own
    documentation writes it (`numpy.maximum`, `torch.nn.functional.relu`, `tf.math.exp`, `\\exp`),
    for the surface syntaxes to read pasted code by (with aliases: `np.`, `F.`); exported with the
    rest of the entry in `catalogue()`."""

    numpy: tuple[str, ...] = ()
    torch: tuple[str, ...] = ()
    tf: tuple[str, ...] = ()
    latex: tuple[str, ...] = ()


class AttrError(ValueError):
    """An attribute value an op cannot take; the message is shown to the user as it is."""


# Attribute values as a node keeps them: (name, value) pairs in the op's declared order, only
# those that differ from the default, values hashable (tuples, not lists) and JSON-ready.
Attrs = tuple[tuple[str, Any], ...]


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
            or int(v) != v:
        raise AttrError(f"{v!r} is not a whole number")
    if abs(v) > 1_000_000_000:  # no axis, stride or length of a tensor here is that large
        raise AttrError(f"{v:.6g} is too large")
    return int(v)


def _ints(v: Any) -> tuple[int, ...]:
    if isinstance(v, list | tuple):
        return tuple(_int(x) for x in v)
    return (_int(v),)


def _axes(v: Any) -> tuple[int, ...] | None:
    return None if v is None else _ints(v)


def _bool(v: Any) -> bool:
    if isinstance(v, bool) or v in (0, 1):
        return bool(v)
    raise AttrError(f"{v!r} is not True or False")


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise AttrError(f"{v!r} is not a number")
    return float(v)


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise AttrError(f"{v!r} is not a word in quotes")
    return v


def _any(v: Any) -> Any:
    return tuple(_any(x) for x in v) if isinstance(v, list | tuple) else v


# How each kind of attribute reads a value written in the program (ints, a tuple, a word).
ATTR_KINDS: dict[str, Callable[[Any], Any]] = {
    "int": _int, "ints": _ints, "axes": _axes, "bool": _bool, "float": _float, "str": _str,
    "any": _any,
}


@dataclass(frozen=True)
class Attr:
    """A static attribute of an op (not an operand: no gradient flows to it), with its default.

    `kind`: "int"; "ints" (one whole number or a tuple of them, read as a tuple); "axes" (None,
    one axis or a tuple of axes, read as a tuple or None); "bool"; "float"; "str" (one of
    `choices` where given); "any" (the op checks it). `aliases`: other keywords that name it
    (`dim` for `axis`, `keepdim` for `keepdims`, as PyTorch writes them)."""

    name: str
    kind: str
    default: Any
    doc: str = ""
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def read(self, value: Any) -> Any:
        """The value as the op takes it, or an `AttrError` saying why it cannot be."""
        if value is None and self.default is None:
            return None
        v = ATTR_KINDS[self.kind](value)
        if self.choices and v not in self.choices:
            raise AttrError(f"{value!r} is not one of {', '.join(map(repr, self.choices))}")
        return v


@dataclass(frozen=True)
class Op:
    name: str
    arity: int  # operands; with `max_arity`, the fewest it takes
    symbol: str  # drawn in the node
    shape: Callable[[Sequence[Shape]], Shape]
    forward: Callable[..., Array]
    vjp: Vjp
    # Required: an op cannot land without its forward-mode rule and its rule for grad.
    jvp: Jvp
    rule: Rule
    tex: Callable[[Syms], str]
    local_tex: tuple[Callable[[Syms], str], ...]
    vjp_tex: tuple[Callable[[Syms, str], str], ...] | None = None
    gate: str | None = None
    elementwise: bool = True
    doc: str = field(default="")
    # The quantity whose sign picks the branch at a kink (relu: x; max: a - b), from the operand
    # values; None for an op without kinks.
    kink: Callable[[Sequence[Array]], Array] | None = None
    # What a pass costs beyond its output, for ops where that can be far more: (multiply-adds,
    # elements of the largest intermediate). The engine refuses past the settings' limits.
    cost: Callable[[Sequence[Shape]], tuple[int, int]] | None = None
    # The code the generated NumPy/PyTorch files write for the op (codegen.py); `code.torch` is its
    # PyTorch reference. Every op of the language has it (tests/test_ops.py checks each); the ops
    # only gradient graphs use do not yet, and the generator refuses their graphs with a 4xx.
    code: OpCode | None = None
    spellings: Spellings = Spellings()
    # Static attributes (an axis, a stride), and for an op that has them, `make(**values)`, which
    # builds the op for those values (`family`); `bound` holds the values this entry was made with
    # (the non-default ones, as a node keeps them).
    attrs: tuple[Attr, ...] = ()
    make: Callable[..., Op] | None = None
    bound: Attrs = ()
    max_arity: int | None = None  # the most operands it takes (None: exactly `arity`)
    # How the language writes it as an operator (`+`; `-` for neg), if it does; `named`: whether
    # it is also called by its name (`pow(a, b)`, `matmul(a, b)`; not `add(a, b)`).
    operator: str | None = None
    named: bool = True
    # Only gradient graphs use it (grad(f, x) makes it; the language cannot write it).
    internal: bool = False
    # False for ops whose output needs no gradient (indicators, counts): their rule gives none.
    differentiable: bool = True
    # For a composite: the composition it is made of (`composite` fills forward, VJP, JVP, shape
    # and rule from it).
    compose: Compose | None = None
    # Other names the language calls it by (`ln` for log, `cat` for concat).
    aliases: tuple[str, ...] = ()
    # Operands that take no gradient: integer labels and indices (`s[y]`), a `where`'s condition.
    # `no_grad` lists positions; `no_grad_from` makes every position from it on one (an index
    # op's index arrays, however many). Their VJP entries are ignored (give zeros), their JVP
    # tangents are always None, and their rules return None there.
    no_grad: tuple[int, ...] = ()
    no_grad_from: int | None = None
    # The operands' names, for ops whose optional operands can be given by keyword (`bias=b`).
    operand_names: tuple[str, ...] = ()
    # Options read off the operands' static shapes where the call does not give them (None for
    # an unknown shape), as PyTorch reads them: cross_entropy's target holds probabilities when
    # it has the logits' shape, labels when it has one axis less.
    infer: Callable[[Sequence[Shape | None]], dict[str, Any]] | None = None

    def takes_grad(self, k: int) -> bool:
        """Whether operand k receives a gradient (and passes a tangent on)."""
        return k not in self.no_grad and (self.no_grad_from is None or k < self.no_grad_from)


REGISTRY: dict[str, Op] = {}


def family(make: Callable[..., Op], attrs: tuple[Attr, ...]) -> Op:
    """The entry of an op with static attributes: `make(**values)` builds the op for given values
    (its shape, forward, VJP, JVP, rule, formulas and code close over them); the registered entry
    is the one for the defaults. `resolve` builds (and keeps) the others on demand."""
    op = make(**{a.name: a.default for a in attrs})
    return replace(op, attrs=attrs, make=make)


def read_attrs(op: Op, given: Mapping[str, Any]) -> Attrs:
    """The attribute values `given` (by name or alias) as a node keeps them, or an `AttrError`
    naming the one at fault."""
    by_name = {n: a for a in op.attrs for n in (a.name, *a.aliases)}
    values: dict[str, Any] = {}
    for key, raw in given.items():
        attr = by_name.get(key)
        if attr is None:
            known = ", ".join(a.name for a in op.attrs) or "none"
            raise AttrError(f"{op.name} has no option '{key}' (its options: {known})")
        if attr.name in values:
            raise AttrError(f"{op.name}: '{key}' is given twice")
        try:
            values[attr.name] = attr.read(raw)
        except AttrError as exc:
            raise AttrError(f"{op.name}: {key}={exc}") from None
    return tuple((a.name, values[a.name]) for a in op.attrs
                 if a.name in values and values[a.name] != a.read(a.default))


_BOUND: dict[tuple[str, Attrs], Op] = {}


def resolve(name: str, attrs: Attrs | Mapping[str, Any] = ()) -> Op:
    """The op `name` with attribute values `attrs` (a node's pairs, or keywords as written)."""
    op = REGISTRY[name]
    if not attrs:
        return op
    pairs = read_attrs(op, attrs if isinstance(attrs, Mapping) else dict(attrs))
    if not pairs:
        return op
    key = (name, pairs)
    found = _BOUND.get(key)
    if found is None:
        assert op.make is not None
        values = {a.name: a.read(a.default) for a in op.attrs} | dict(pairs)
        found = replace(op.make(**values), attrs=op.attrs, make=op.make, bound=pairs)
        if len(_BOUND) < 4096:  # a bounded memo: attribute values come from requests
            _BOUND[key] = found
    return found


def register(op: Op) -> Op:
    assert op.name not in REGISTRY, op.name
    # One local derivative per operand: the required ones, and optional ones that have their own.
    assert op.arity <= len(op.local_tex) <= (op.max_arity or op.arity), op.name
    assert op.code is None or len(op.code.backward) == op.arity, op.name
    assert op.make is None or op.code is None or op.attrs, op.name
    assert op.differentiable or op.rule is no_gradient, op.name
    REGISTRY[op.name] = op
    return op


# ---------------------------------------------------------------------------------------------
# Shape rules


def same_shape(shapes: Sequence[Shape]) -> Shape:
    return shapes[0]


def broadcast_shape(symbol: str) -> Callable[[Sequence[Shape]], Shape]:
    def rule(shapes: Sequence[Shape]) -> Shape:
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            a, b = (fmt_shape(s) for s in shapes)
            raise ShapeError(
                f"'{symbol}' cannot combine shapes {a} and {b}: they do not broadcast (each axis, "
                "counted from the right, must be equal or 1)"
            ) from None

    return rule


def scalar_shape(shapes: Sequence[Shape]) -> Shape:
    return ()


def unbroadcast(g: Array, shape: Shape) -> Array:
    """Sum a gradient back over the axes that broadcasting added or stretched."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


OperandTangents = Sequence[Array | None]


def total(out: Array, *terms: Array | None) -> Array:
    """The sum of the terms that are there, broadcast to the output's shape (zeros if none)."""
    acc: Array | None = None
    for t in terms:
        if t is not None:
            acc = t if acc is None else acc + t
    if acc is None:
        return np.zeros(out.shape)
    return np.asarray(np.broadcast_to(acc, out.shape), dtype=np.float64).copy()



def vjp_tex(op: Op, i: int, syms: Syms, out_sym: str) -> str:
    """The VJP rule of operand `i` for a tensor edge: elementwise ops get `dx = dz ⊙ local`."""
    if op.vjp_tex is not None:
        return op.vjp_tex[i](syms, out_sym)
    local = op.local_tex[i](syms)
    if " + " in local or " - " in local:  # a sum times dz needs its parentheses
        local = f"\\left({local}\\right)"
    return f"d{syms[i]} = d{out_sym} \\odot {local}"


# Placeholders for operand symbols in the formula templates that `catalogue` exports.
SLOT = "#{}#"
OUT_SLOT = "#z#"


def catalogue() -> dict[str, Any]:
    """Every op as JSON-ready data for the frontend (frontend/src/generated/ops.json, written by
    scripts/generate.py): its symbol and LaTeX templates, where `#0#`, `#1#` stand for the
    operands' symbols and `#z#` for the output's."""
    slots = [SLOT.format(i) for i in range(8)]
    out: dict[str, Any] = {}
    for name, op in sorted(REGISTRY.items()):
        s = slots[:len(op.local_tex)]
        out[name] = {
            "arity": op.arity,
            "symbol": op.symbol,
            "tex": op.tex(s),
            "local_tex": [f(s) for f in op.local_tex],
            "vjp_tex": [vjp_tex(op, i, s, OUT_SLOT) for i in range(len(op.local_tex))],
            "gate": op.gate,
            "elementwise": op.elementwise,
            "language": not op.internal,
            "operator": op.operator,
            "function": op.named and not op.internal,
            "aliases": list(op.aliases),
            "composite": op.compose is not None,
            "spellings": {k: list(v) for k, v in vars(op.spellings).items()},
            "attrs": [{"name": a.name, "kind": a.kind, "default": a.default, "doc": a.doc}
                      for a in op.attrs],
            "max_arity": op.max_arity,
            "doc": op.doc,
        }
    return out



# ---------------------------------------------------------------------------------------------
# Composites: an op made of others. Its forward, VJP and JVP run the composition on a small tape
# of arrays with the parts' own rules (the chain rule, as the engine applies it to a graph); its
# rule applies the parts' rules to the composition inside the gradient graph (below).


class Tape:
    """A `Builder` on arrays: each op is evaluated as it is emitted (a composite's parts; the
    tests run rules on it to check them against the VJPs)."""

    def __init__(self, operands: Sequence[Array]) -> None:
        self.values: list[Array] = [np.asarray(v, dtype=np.float64) for v in operands]
        self.steps: list[tuple[Op, tuple[int, ...], int]] = []  # (op, operand handles, handle)

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        op = resolve(name, attrs)
        with np.errstate(all="ignore"):
            v = op.forward(*(self.values[a] for a in args))
        self.values.append(np.asarray(v, dtype=np.float64))
        self.steps.append((op, args, len(self.values) - 1))
        return len(self.values) - 1

    def const(self, value: float) -> int:
        self.values.append(np.asarray(value, dtype=np.float64))
        return len(self.values) - 1

    def shape(self, node: int) -> Shape | None:
        return tuple(self.values[node].shape)


class _ShapeTape:
    """A `Builder` on shapes: the composite's shape rule is its parts' rules in turn."""

    def __init__(self, shapes: Sequence[Shape]) -> None:
        self.shapes: list[Shape] = list(shapes)
        self.steps: list[tuple[Op, list[Shape]]] = []  # (op, operand shapes)

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        op = resolve(name, attrs)
        operands = [self.shapes[a] for a in args]
        self.shapes.append(op.shape(operands))
        self.steps.append((op, operands))
        return len(self.shapes) - 1

    def const(self, value: float) -> int:
        self.shapes.append(())
        return len(self.shapes) - 1

    def shape(self, node: int) -> Shape | None:
        return self.shapes[node]


def _composite_vjp(arity: int, compose: Compose) -> Vjp:
    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        tape = Tape(args)
        top = compose(tape, range(len(args)))
        adjoint: dict[int, Array] = {top: g}
        with np.errstate(all="ignore"):
            for op, operands, handle in reversed(tape.steps):
                up = adjoint.get(handle)
                if up is None:
                    continue
                vals = [tape.values[a] for a in operands]
                parts = op.vjp(up, vals, tape.values[handle])
                for a, d in zip(operands, parts, strict=True):
                    d = unbroadcast(np.asarray(d, dtype=np.float64), tape.values[a].shape)
                    adjoint[a] = d if a not in adjoint else adjoint[a] + d
        return tuple(adjoint.get(i, np.zeros(np.shape(args[i]))) for i in range(len(args)))

    return vjp


def _composite_jvp(arity: int, compose: Compose) -> Jvp:
    def jvp(t: Sequence[Array | None], args: Sequence[Array], out: Array) -> Array:
        tape = Tape(args)
        top = compose(tape, range(len(args)))
        tangents: dict[int, Array] = {i: ti for i, ti in enumerate(t) if ti is not None}
        with np.errstate(all="ignore"):
            for op, operands, handle in tape.steps:
                ts = [tangents.get(a) for a in operands]
                if all(x is None for x in ts):
                    continue
                vals = [tape.values[a] for a in operands]
                tangents[handle] = np.asarray(
                    op.jvp(ts, vals, tape.values[handle]), dtype=np.float64)
        return total(out, tangents.get(top))

    return jvp


# ---------------------------------------------------------------------------------------------
# The backward pass as graph nodes: `grad(f, x)` in the engine, and a composite's rule here.


def _needs_sum(b: Builder, part: int, operand: int) -> bool:
    got, want = b.shape(part), b.shape(operand)
    return got is None or want is None or got != want


def gradient_nodes(b: Builder, f: int, xs: Sequence[int], args_of: Callable[[int], Sequence[int]],
                   op_of: Callable[[int], Op | None], seed: int) -> list[int | None]:
    """The node of d f / d x for each x in `xs` (None where f does not depend on x), emitted
    through `b`: PyTorch's `create_graph=True`. `args_of` and `op_of` read the graph (handles in
    a topological order); `seed` is the node of d f / d f.

    From the seed at `f`, every node on a path from some x to f, in reverse order, sums what its
    uses sent back (the copy gate, an `add` node), then asks its op's rule for each operand's
    part; where the forward broadcast an operand, its part is summed back (`sum_to`) unless the
    shapes are known to be equal. Indicator ops (masks) are not differentiable: as PyTorch's
    comparisons, so relu'' = abs'' = 0 everywhere, at the kink too, and max/min'' likewise."""
    # The nodes f depends on, and among them those that depend on some x: only they get adjoints.
    ancestors: set[int] = set()
    stack = [f]
    while stack:
        n = stack.pop()
        if n in ancestors:
            continue
        ancestors.add(n)
        stack.extend(args_of(n))
    targets = set(xs)
    on_path: set[int] = set()
    for n in sorted(ancestors):
        node_op = op_of(n)
        differentiable = node_op is None or node_op.differentiable
        if n in targets or (differentiable and node_op is not None and any(
                a in on_path and node_op.takes_grad(k) for k, a in enumerate(args_of(n)))):
            on_path.add(n)
    parts: dict[int, list[int]] = {f: [seed]} if f in on_path else {}
    adjoint: dict[int, int] = {}
    for n in sorted(on_path, reverse=True):
        sent = parts.get(n)
        if not sent:
            continue
        g = sent[0]
        for p in sent[1:]:
            g = b.op("add", g, p)  # the copy gate sums
        adjoint[n] = g
        op = op_of(n)
        if op is None:
            continue
        args = args_of(n)
        needs = [a in on_path and op.takes_grad(k) for k, a in enumerate(args)]
        for a, need, d in zip(args, needs, op.rule(b, g, args, n, needs), strict=True):
            if not need or d is None:
                continue
            if op.elementwise and _needs_sum(b, d, a):
                d = b.op("sum_to", d, a)
            parts.setdefault(a, []).append(d)
    return [adjoint.get(x) for x in xs]


# Each composite rule numbers its own symbolic handles from a base of its own, far above any node
# index, so that a composite made of composites never reads another's handles as its own.
_SPAN = 1 << 32
_bases = itertools.count(1)


class _Lazy:
    """The composition inside a gradient graph, emitted only as far as the rules need it.

    `compose` runs symbolically first (handles of this instance's own range, nothing emitted);
    the composite's own node stands for its output, and an intermediate becomes a node only when
    a part's rule uses its value (a product's rule needs its operands, not itself), so no unused
    node is drawn. Handles outside the range are the outer builder's, passed through."""

    def __init__(self, b: Builder) -> None:
        self.b = b
        self.base = next(_bases) * _SPAN
        self.steps: list[tuple[Op, tuple[int, ...]]] = []
        self.real: dict[int, int] = {}
        self._shapes: dict[int, Shape | None] = {}

    def mine(self, node: int) -> bool:
        return self.base <= node < self.base + _SPAN

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        self.steps.append((resolve(name, attrs), args))
        return self.base + len(self.steps) - 1

    def const(self, value: float) -> int:
        return self.b.const(value)

    def args_of(self, node: int) -> Sequence[int]:
        return self.steps[node - self.base][1] if self.mine(node) else ()

    def op_of(self, node: int) -> Op | None:
        return self.steps[node - self.base][0] if self.mine(node) else None

    def shape(self, node: int) -> Shape | None:
        if not self.mine(node):
            return self.b.shape(node)
        if node not in self._shapes:
            op, args = self.steps[node - self.base]
            shapes = [self.shape(a) for a in args]
            known = [s for s in shapes if s is not None]
            shape: Shape | None = None
            if len(known) == len(shapes):
                # A mismatch is reported with its span by the forward pass; here it is unknown.
                with contextlib.suppress(ShapeError, ValueError):
                    shape = op.shape(known)
            self._shapes[node] = shape
        return self._shapes[node]

    def emit(self, node: int) -> int:
        """The graph node of a handle, emitting the intermediates it needs on first use."""
        if not self.mine(node):
            return node
        if node not in self.real:
            op, args = self.steps[node - self.base]
            self.real[node] = self.b.op(op.name, *(self.emit(a) for a in args), **dict(op.bound))
        return self.real[node]


class _Emitting:
    """The builder the parts' rules write with: this composite's handles become nodes as they
    are used."""

    def __init__(self, lazy: _Lazy) -> None:
        self.lazy = lazy

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        return self.lazy.b.op(name, *(self.lazy.emit(a) for a in args), **attrs)

    def const(self, value: float) -> int:
        return self.lazy.b.const(value)

    def shape(self, node: int) -> Shape | None:
        return self.lazy.shape(node)


def _composite_rule(compose: Compose) -> Rule:
    """The parts' rules applied to the composition, as `grad` applies them to a graph."""

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        lazy = _Lazy(b)
        top = compose(lazy, args)
        if lazy.mine(top):
            lazy.real[top] = out  # the composite's own node is its output
        wanted = list(dict.fromkeys(a for a, need in zip(args, needs, strict=True) if need))
        found = gradient_nodes(_Emitting(lazy), top, wanted, lazy.args_of, lazy.op_of, g)
        parts = {a: None if d is None else lazy.emit(d)
                 for a, d in zip(wanted, found, strict=True)}
        # An operand given twice (f(x, x)) gets its whole part once: the engine adds the parts.
        result: list[int | None] = []
        for a, need in zip(args, needs, strict=True):
            result.append(parts.pop(a, None) if need else None)
        return result

    return rule


class _Parts:
    """A `Builder` that only notes which ops a composition is made of."""

    # Shapes are not known here: a composition that reads them (a def's `x.shape[0]`) is given
    # ones, which choose the same ops.
    shapes_known = False

    def __init__(self) -> None:
        self.ops: list[Op] = []

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        self.ops.append(resolve(name, attrs))
        return -len(self.ops)

    def const(self, value: float) -> int:
        return 0

    def shape(self, node: int) -> Shape | None:
        return None


def _composite_kink(arity: int, compose: Compose) -> Callable[[Sequence[Array]], Array]:
    """The parts' kink margins, one after the other: the numeric check sees a step cross any."""

    def kink(args: Sequence[Array]) -> Array:
        tape = Tape(args)
        compose(tape, range(len(args)))
        margins = [np.ravel(k([tape.values[a] for a in operands]))
                   for op, operands, _ in tape.steps
                   if (k := op.kink) is not None]
        return np.concatenate(margins) if margins else np.zeros(0)

    return kink


def _composite_cost(arity: int, compose: Compose) -> Callable[[Sequence[Shape]], tuple[int, int]]:
    """The parts' costs: multiply-adds added up, the largest scratch."""

    def cost(shapes: Sequence[Shape]) -> tuple[int, int]:
        tape = _ShapeTape(shapes)
        compose(tape, range(len(shapes)))
        macs = scratch = 0
        for op, operands in tape.steps:
            part = op.cost
            if part is not None:
                m, s = part(operands)
                macs, scratch = macs + m, max(scratch, s)
        return macs, scratch

    return cost


def composite(name: str, arity: int, symbol: str, compose: Compose, *,
              tex: Callable[[Syms], str], local_tex: tuple[Callable[[Syms], str], ...],
              vjp: Vjp | None = None, jvp: Jvp | None = None,
              forward: Callable[..., Array] | None = None, rule: Rule | None = None,
              **entry: Any) -> Op:
    """The entry of an op that is a composition of registered ops. Forward, shape, VJP, JVP and
    rule follow from `compose`, and so do its kinks, its cost and whether it is elementwise (if
    all its parts are); `forward`/`vjp`/`jvp`/`rule` may replace the derived ones with a fused
    form where the composition would lose precision or overflow (sigmoid at -800: the gate still
    opens into its parts, whose numbers agree wherever they are finite). The rest (`code`,
    `spellings`, `gate`, ...) as `Op`."""

    def composed(*operands: Array) -> Array:
        tape = Tape(operands)
        return tape.values[compose(tape, range(len(operands)))]

    def shape(shapes: Sequence[Shape]) -> Shape:
        tape = _ShapeTape(shapes)
        return tape.shapes[compose(tape, range(len(shapes)))]

    parts = _Parts()
    compose(parts, range(arity))
    made_of = parts.ops
    entry.setdefault("elementwise", all(p.elementwise for p in made_of))
    if any(p.kink is not None for p in made_of):
        entry.setdefault("kink", _composite_kink(arity, compose))
    if any(p.cost is not None for p in made_of):
        entry.setdefault("cost", _composite_cost(arity, compose))
    return Op(name, arity, symbol, shape, forward or composed,
              vjp or _composite_vjp(arity, compose), jvp=jvp or _composite_jvp(arity, compose),
              rule=rule or _composite_rule(compose), tex=tex, local_tex=local_tex,
              compose=compose, **entry)
