"""Graph building and the passes: forward values, reverse-mode gradients, forward-mode tangents.

`build_graph` turns a parsed program into a DAG with one node per input, constant and op. The
graph depends on the text (and on which names were given values, since a value for `pi` or `e`
shadows the constant; with `grad(f, x)`, also on their shapes, which decide where a gradient is
summed back over broadcast axes) but never on the numbers themselves: its `structure` key is what
the layout is cached by. `grad(f, x)` adds the nodes of f's backward pass (`ops.gradient_nodes`).

`forward` computes every node's value in creation order (which is a topological order).
`backward` walks the nodes in reverse: a node's upstream gradient is the sum of what its out-edges
brought back (plus the seed at the output); each in-edge gets its downstream gradient from the op's
VJP, summed back over broadcast axes. Nodes that depend on no input (constants and what is built
only from them) need no gradient, as with `requires_grad=False` in PyTorch.

`forward_mode` (forward-mode differentiation, one direction per pass) walks the nodes in order: the
input `wrt` gets the direction `tangent` (ones by default), and each op node depending on it gets
the sum of its in-edges' contributions, each the op's JVP with only that operand's tangent (for a
scalar edge: the local derivative times the source's tangent). Nodes that do not depend on `wrt`
get None, as nodes that need no gradient do in `backward`.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .calls import (
    IDENTITY_METHODS,
    NOT_STATIC,
    NUMBERS,
    SHAPES,
    Split,
    constructor,
    index_spec,
    inferred,
    literal,
    op_name,
    plan,
    product,
    qualified,
    respelled,
    split,
    static,
    value_line,
)
from .cancel import CancelToken
from .codec import NONFINITE
from .errors import GradtraceError
from .lexer import GREEK
from .ops import (
    BINARY_OPERATORS,
    CONSTANTS,
    FUNCTIONS,
    REGISTRY,
    Array,
    Attrs,
    Op,
    Shape,
    ShapeError,
    fmt_shape,
    gradient_nodes,
    resolve,
    unbroadcast,
)
from .parser import (
    MODULES,
    Binary,
    Call,
    Expr,
    Name,
    Num,
    Program,
    Statement,
    Str,
    Subscript,
    Tuple,
    Unary,
    parse,
    walk,
)
from .settings import Settings
from .userdef import define

Kind = Literal["input", "const", "op"]


@dataclass(slots=True)
class Node:
    index: int
    kind: Kind
    label: str
    start: int
    end: int
    op: str | None = None
    name: str | None = None  # input name, constant name, or the name assigned to an op
    args: tuple[int, ...] = ()
    const_value: float | None = None
    requires_grad: bool = False
    in_edges: list[int] = field(default_factory=list)  # by operand position
    out_edges: list[int] = field(default_factory=list)
    origin: str | None = None  # "grad": made by a grad(f, x) call, part of a gradient graph
    attrs: Attrs = ()  # the op's static attributes (an axis, a stride), as `ops.resolve` takes them
    defined: Op | None = None  # the op of a `def` of the program (not in the registry)

    @property
    def id(self) -> str:
        return f"n{self.index}"

    @property
    def operation(self) -> Op:
        """The op of an op node, with its attributes."""
        if self.defined is not None:
            return self.defined
        assert self.op is not None
        return resolve(self.op, self.attrs)


@dataclass(frozen=True, slots=True)
class Edge:
    index: int
    source: int
    target: int
    arg: int

    @property
    def id(self) -> str:
        return f"e{self.index}"


@dataclass(slots=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    output: int
    inputs: dict[str, int]  # input name -> node index
    spans: dict[str, tuple[int, int]]  # input name -> span of its first use
    source: str
    # Statements before the last that assign no name: computed, but nothing can use them.
    unused: list[tuple[int, int]] = field(default_factory=list)
    # Values the text gives its inputs (value lines, a def's defaults), as JSON-like values; a
    # value in the request wins.
    defaults: dict[str, Any] = field(default_factory=dict)
    # The output gradient the text gives (`L.backward(dz)`, `output_gradients=dz`), if any.
    seed_default: Any = None
    # Warnings of the reading: (type, message, start, end): an assigned name the output does
    # not use, NumPy's reading of np.max(p, 0), ...
    notes: list[tuple[str, str, int, int]] = field(default_factory=list)
    _structure: str | None = None

    @property
    def differentiable(self) -> list[str]:
        """The inputs that take a gradient: all but those used only as labels or indices."""
        return [name for name, i in self.inputs.items() if self.nodes[i].requires_grad]

    @property
    def structure(self) -> str:
        """A key for everything the layout depends on: node kinds, labels, ops and wiring
        (hashed once: the cache, the layout and the trace all ask for it)."""
        if self._structure is None:
            h = hashlib.sha256()
            for n in self.nodes:
                h.update(f"{n.kind}|{n.op}|{n.attrs}|{n.label}|{n.args}\n".encode())
            h.update(str(self.output).encode())
            self._structure = h.hexdigest()[:24]
        return self._structure


# ---------------------------------------------------------------------------------------------
# Graph building


# The functions of the language: the registry's, and grad(f, x), which builds a graph of them.
LANGUAGE_FUNCTIONS = frozenset({*FUNCTIONS, "grad"})
_COMMON = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "max", "min", "sum",
           "mean", "softmax", "matmul", "conv2d", "cross_entropy", "grad")


def _unknown_function(name: str, start: int, end: int) -> GradtraceError:
    if ".random." in name or name.rsplit(".", 1)[-1] in ("rand", "randn", "normal", "uniform"):
        return GradtraceError("function", f"{name} draws random numbers: gradtrace needs the "
                              "values written out (give them in the value fields, or as "
                              "np.array([...]))", start, end)
    close = difflib.get_close_matches(name.rsplit(".", 1)[-1], list(LANGUAGE_FUNCTIONS), n=1)
    # Without a close match, the commonest functions tell the student what there is.
    common = [f for f in _COMMON if f in LANGUAGE_FUNCTIONS]
    rest = len(LANGUAGE_FUNCTIONS) - len(common)
    hint = (f" (did you mean {close[0]}?)" if close
            else f"; the functions include {', '.join(common)}"
            + (f" and {rest} more" if rest > 0 else ""))
    return GradtraceError("function", f"unknown function '{name}'{hint}", start, end)


def raw_shape(raw: object) -> Shape | None:
    """The shape a JSON value will have (None if it is not one: `parse_value` will say why)."""
    shape: list[int] = []
    x = raw
    while isinstance(x, list):
        if not x:
            return None
        shape.append(len(x))
        x = x[0]
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        return None
    return tuple(shape)


# Capital letters that name counts or a loss in the notes, not matrices: N examples of D
# features, C classes, M, T steps; L a loss (L_i, one per example).
COUNTS = frozenset("NDCMTL")


Convention = Literal["matrix", "row", "free"] | None


def capitalised(name: str) -> bool:
    """X, W1, W_2, K: a matrix by the notes' convention (not `Loss`, a word; not N, a count)."""
    head = name.split("_")[0].rstrip("0123456789")
    return len(head) == 1 and head.isupper() and head not in COUNTS


class _Builder:
    """Appends nodes and edges to a graph under construction. `shape(n)` is node n's static shape
    (from the shapes of the given values; None where unknown), for `grad`'s sum-back decisions:
    worked out only when a grad call asks, so that programs without one pay nothing for it."""

    def __init__(self, given: Mapping[str, object], settings: Settings) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self._shapes: list[Shape | None] = []  # of the first nodes, as far as asked
        self._conventions: list[Convention] = []  # likewise (`convention`)
        self.given = given
        self.defaults: dict[str, object] = {}  # the values the text gives (value lines)
        self.settings = settings

    def add(self, node: Node, s0: int, s1: int) -> int:
        if len(self.nodes) >= self.settings.max_nodes:
            raise GradtraceError(
                "limit", f"the expression has more than {self.settings.max_nodes} nodes", s0, s1,
            )
        self.nodes.append(node)
        return node.index

    def shape(self, n: int) -> Shape | None:
        # Nodes are in a topological order: each one's operands come before it.
        while len(self._shapes) <= n:
            node = self.nodes[len(self._shapes)]
            shape: Shape | None = None
            if node.kind == "input":
                shape = raw_shape(self.given.get(node.label, self.defaults.get(node.label)))
            elif node.kind == "const":
                shape = ()
            else:
                arg_shapes = [self._shapes[a] for a in node.args]
                # A shape error leaves it unknown: the forward pass reports it, with its span.
                if all(a is not None for a in arg_shapes):
                    with contextlib.suppress(ValueError, TypeError, IndexError, RuntimeError,
                                             OverflowError):
                        shape = node.operation.shape([a for a in arg_shapes if a is not None])
            self._shapes.append(shape)
        return self._shapes[n]

    def convention(self, n: int) -> Convention:
        """What the notes' convention makes node n, for products written by juxtaposition:
        a known shape of two axes or more a matrix (None for others: their shapes decide); for a
        node whose shape is not known yet (an input no value is given for, to be inferred:
        infer.py), a capitalised name a matrix (`capitalised`), a transposed letter a row (θᵀ),
        a Greek letter a number (None), another name free. An elementwise op on such nodes is a
        matrix if one of them is (σ(X W₁)), a matrix product too (X W), a row times something
        a number (θᵀx); a reduction or any other op a number (sum(X W)).

        Worked out once per node, in order (each from its operands'), like `shape`: a program
        whose nodes share operands must not cost a walk per path."""
        while len(self._conventions) <= n:
            self._conventions.append(self._convention_of(len(self._conventions)))
        return self._conventions[n]

    def _convention_of(self, n: int) -> Convention:
        node = self.nodes[n]
        shape = self.shape(n)
        if shape is not None:
            return "matrix" if len(shape) >= 2 else None
        if node.kind == "const":
            return None
        if node.kind == "input":
            if capitalised(node.label):
                return "matrix"
            return None if node.label.split("_")[0] in GREEK else "free"
        found = {self._conventions[a] for a in node.args}
        if node.op == "transpose" and len(node.args) == 1:
            return "row" if self.nodes[node.args[0]].kind == "input" else \
                self._conventions[node.args[0]]
        if node.op == "matmul":
            return "matrix" if "matrix" in found else None
        if node.op is None or not node.operation.elementwise:
            return None
        return ("matrix" if "matrix" in found else "row" if "row" in found
                else "free" if "free" in found else None)

    def by_convention(self, left: int, right: int) -> bool:
        """Whether a product of these two nodes is the matrix product by the notes' convention
        (when a shape is not known): one side a matrix by convention, the other a tensor or free
        (`W x`, `x^T y`, `XW`, `np.dot(X, W)`)."""
        ls, rs = self.shape(left), self.shape(right)
        if ls is not None and rs is not None:
            return False
        cl, cr = self.convention(left), self.convention(right)
        return bool({"matrix", "row"} & {cl, cr}) and \
            (cl is not None or (ls is not None and len(ls) >= 1)) and \
            (cr is not None or (rs is not None and len(rs) >= 1))

    def product(self, left: int, right: int) -> str:
        """`·` between two nodes (calls.product), by convention where shapes are not known."""
        if self.by_convention(left, right):
            return "matmul"
        return product("·", self.shape(left), self.shape(right))

    def op_node(self, op: str, args: Sequence[int], start: int, end: int, s0: int, s1: int,
                origin: str | None = None, attrs: Attrs = (), defined: Op | None = None) -> int:
        entry = defined or resolve(op, attrs)
        idx = self.add(Node(len(self.nodes), "op", entry.symbol, start, end, op=op,
                            args=tuple(args),
                            requires_grad=entry.differentiable and any(
                                self.nodes[a].requires_grad for k, a in enumerate(args)
                                if entry.takes_grad(k)), origin=origin,
                            attrs=entry.bound, defined=defined),
                       s0, s1)
        for k, a in enumerate(args):
            edge = Edge(len(self.edges), a, idx, k)
            self.edges.append(edge)
            self.nodes[idx].in_edges.append(edge.index)
            self.nodes[a].out_edges.append(edge.index)
        return idx


def _scalar_op(op: Op, arity: int) -> bool:
    """Whether `op` takes scalars to a scalar (so that constants fold into a constant)."""
    try:
        return op.shape([()] * arity) == ()
    except (ShapeError, ValueError, IndexError):
        return False


class _Emitter:
    """The `ops.Builder` that rules write with: new nodes carry the span of the `grad(...)`
    call. Constants are folded, and a product with the constant 1 is its other factor, so that
    `grad(x * y, x)` is the node `y` and `grad(x^3, x)` is `3 x^2`, not `1 * (3 x^(3-1))`.
    A constant is a pending handle (a negative number) until an op node uses it, so that folded
    intermediates leave no dangling nodes."""

    def __init__(self, b: _Builder, start: int, end: int, s0: int, s1: int) -> None:
        self.b, self.start, self.end, self.s0, self.s1 = b, start, end, s0, s1
        self.pending: list[float] = []
        self.made: dict[int, int] = {}  # handle -> its node, once used

    def const(self, value: float) -> int:
        self.pending.append(value)
        return -len(self.pending)

    def real(self, n: int) -> int:
        """The node of `n`, making the node of a pending constant on first use."""
        if n >= 0:
            return n
        if n not in self.made:
            value = self.pending[-n - 1]
            label = f"{value:.6g}" if math.isfinite(value) else str(value)
            self.made[n] = self.b.add(Node(len(self.b.nodes), "const", label, self.start,
                                           self.end, const_value=value, origin="grad"),
                                      self.s0, self.s1)
        return self.made[n]

    def _const_value(self, n: int) -> float | None:
        if n < 0:
            return self.pending[-n - 1]
        node = self.b.nodes[n]
        return node.const_value if node.kind == "const" else None

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        consts = [self._const_value(a) for a in args]
        op = resolve(name, attrs)
        if args and all(c is not None for c in consts) and _scalar_op(op, len(args)):
            with np.errstate(all="ignore"):
                v = op.forward(*(np.asarray(c, dtype=np.float64) for c in consts))
            return self.const(float(v))
        if name in ("mul", "masked") and consts[1] == 1.0:
            return args[0]
        if name == "mul" and consts[0] == 1.0:
            return args[1]
        return self.b.op_node(name, [self.real(a) for a in args], self.start, self.end, self.s0,
                              self.s1, origin="grad", attrs=op.bound)

    def shape(self, node: int) -> Shape | None:
        return () if node < 0 else self.b.shape(node)


def _grad_call(b: _Builder, e: Call, f: int, x: int, source: str, s0: int, s1: int) -> int:
    """The node of d f / d x for `grad(f, x)`: checks, then the backward pass as nodes."""
    f_expr, x_expr = e.args
    xn = b.nodes[x]
    if not isinstance(x_expr, Name) or xn.kind != "input":
        what = source[x_expr.start:x_expr.end]
        why = ("is assigned in the expression" if isinstance(x_expr, Name) and xn.kind == "op"
               else "is a constant" if isinstance(x_expr, Name) else "is not a name")
        raise GradtraceError(
            "name", f"grad differentiates with respect to an input, and '{what[:30]}' {why}: "
            "write grad(f, x) with x an input's name", x_expr.start, x_expr.end,
        )
    shape = b.shape(f)
    if shape is not None and shape != ():
        raise GradtraceError(
            "shape", f"grad needs a scalar to differentiate, but this has shape "
            f"{fmt_shape(shape)}: take sum(...) or mean(...) of it first",
            f_expr.start, f_expr.end,
        )
    return _gradients(_Emitter(b, e.start, e.end, s0, s1), f, {"x": x})["x"]


def build_graph(program: Program, given: Mapping[str, object], settings: Settings) -> Graph:
    """The DAG of `program`. `given` is asked which names have values (to shadow pi, e) and, for
    `grad`, their shapes."""
    return _build(program, given, settings)[0]


def gradient_graph(program: Program, given: Mapping[str, object], settings: Settings
                   ) -> tuple[Graph, dict[str, int]]:
    """The graph of `program` extended by the nodes of d output / d x for every input x, as
    `grad(output, x)` would make them (for second derivatives: the Hessian is their Jacobian)."""
    graph, b = _build(program, given, settings)
    whole = (0, len(program.source))
    emit = _Emitter(b, *whole, *whole)
    return graph, _gradients(emit, graph.output, graph.inputs)


def _gradients(emit: _Emitter, f: int, inputs: Mapping[str, int]) -> dict[str, int]:
    b = emit.b
    names = list(inputs)
    found = gradient_nodes(emit, f, [inputs[n] for n in names], lambda n: b.nodes[n].args,
                           lambda n: b.nodes[n].operation if b.nodes[n].op else None,
                           emit.const(1.0))
    return {name: emit.real(d if d is not None else emit.op("zeros_like", inputs[name]))
            for name, d in zip(names, found, strict=True)}


def _build(program: Program, given: Mapping[str, object], settings: Settings
           ) -> tuple[Graph, _Builder]:
    b = _Builder(given, settings)
    nodes = b.nodes
    env: dict[str, int] = {}  # assigned names -> node
    inputs: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    consts: dict[str, int] = {}  # pi, e -> node

    def resolve(e: Name, s0: int, s1: int) -> int:
        if e.id in env:
            return env[e.id]
        if e.id in inputs:
            return inputs[e.id]
        ident = e.id
        if "." in ident:
            # math.e, np.pi: the constants; any other dotted name is no value of the program.
            module, short = ident.split(".", 1)[0], ident.rsplit(".", 1)[1]
            if module not in MODULES or short not in CONSTANTS:
                if op_name(Call(ident, (), e.start, e.end, e.end), False) is not None:
                    raise GradtraceError("name", f"'{ident}' is a function: call it, as in "
                                         f"{ident}(x)", e.start, e.end)
                raise GradtraceError("name", f"'{ident}' is not something gradtrace computes "
                                     "with (a library's attribute)", e.start, e.end)
            ident = short
        if ident in CONSTANTS and (ident not in given or ident != e.id) \
                and ident not in pending:
            if ident not in consts:
                label = "π" if ident == "pi" else ident
                consts[ident] = b.add(Node(len(nodes), "const", label, e.start, e.end,
                                           name=ident, const_value=CONSTANTS[ident]), s0, s1)
            return consts[ident]
        if (e.id in FUNCTIONS or e.id == "grad") and e.id not in given and e.id not in pending:
            raise GradtraceError("name", f"'{e.id}' is a function: call it, as in {e.id}(x)",
                                 e.start, e.end)
        if e.id in pending:
            defaults[e.id] = b.defaults[e.id] = pending.pop(e.id)
        inputs[e.id] = b.add(Node(len(nodes), "input", e.id, e.start, e.end, name=e.id,
                                  requires_grad=True), s0, s1)
        spans[e.id] = (e.start, e.end)
        return inputs[e.id]

    def op_node(op: str, args: Sequence[int], e: Expr, s0: int, s1: int) -> int:
        return b.op_node(op, args, e.start, e.end, s0, s1)

    def shape_of(e: Expr) -> Shape | None:
        """The shape of a name, for `x.shape[0]` (None where unknown)."""
        if not isinstance(e, Name):
            return None
        if e.id in env:
            return b.shape(env[e.id])
        if e.id in inputs:
            return b.shape(inputs[e.id])
        raw = given.get(e.id, pending.get(e.id))
        return None if raw is None else raw_shape(raw)

    def number_of(name: str) -> float | None:
        """The number a name holds when it is a constant (`y = 0`), for `scores[y]`."""
        node = nodes[env[name]] if name in env else None
        return node.const_value if node is not None and node.kind == "const" else None

    defs: dict[str, Op] = {}  # the program's own functions (`def`)
    bodies: dict[str, Any] = {}

    def call_op(e: Call) -> tuple[str, Split]:
        """The op a call means and its arguments sorted, or an error saying why there is none."""
        if e.func in defs and e.func not in env and e.func not in given:
            bodies[e.func].check_arity(e, len(e.args))
            return e.func, Split(list(e.args), {})
        if constructor(e.func):
            if len(e.args) == 1 and not e.keywords and literal(e.args[0]) is NOT_STATIC:
                return SAME, Split([e.args[0]], {})  # tf.constant(X): X itself
            raise GradtraceError("value", f"{e.func}(...) writes a tensor out inside an "
                                 "expression: give it a line of its own (J = "
                                 f"{e.func}(...)), and it is an input with those values",
                                 e.start, e.end)
        if e.method and e.func in IDENTITY_METHODS and e.func not in defs:
            return SAME, Split([e.args[0]], {})  # x.numpy(), x.double(): the same numbers
        short = qualified(e.func).rsplit(".", 1)[-1]
        if short in ("zeros_like", "ones_like") and len(e.args) == 1 and not e.keywords:
            # np.zeros_like(x): zeros of x's shape, known where x's value is.
            shape = shape_of(e.args[0])
            if shape is not None:
                return short[:-5], Split([], {"shape": tuple(shape)})
        if short == "tensordot":
            axes = static(e.args[2]) if len(e.args) == 3 else next(
                (static(k.value) for k in e.keywords if k.name == "axes"), NOT_STATIC)
            if len(e.args) < 2 or axes != 1:
                raise GradtraceError("function", "tensordot is read with axes=1 (the matrix "
                                     "product): write a @ b", e.start, e.end)
            return "dot", Split(list(e.args[:2]), {})  # the matrix product for matrices
        is_value = e.func in env or e.func in given or e.func in CONSTANTS
        name = op_name(e, is_value)
        if name in ("amax", "amin") and "." in e.func and short in ("max", "min") \
                and len(e.args) == 2:
            what = "maximum" if short == "max" else "minimum"
            axis = source[e.args[1].start:e.args[1].end]
            notes.append(("numpy_convention", f"{source[e.start:e.end][:40]} is the {what} over "
                          f"axis {axis}, as NumPy reads a second argument (a reduction); the "
                          f"elementwise {what} with {axis} is np.{what}(...)", e.start, e.end))
        if name is None:
            if is_value:
                # `y(x + 1)` with a value y: most likely a product written as in algebra.
                raise GradtraceError(
                    "function", f"'{e.func}' is a value, not a function: to multiply, "
                    f"write {e.func} * (...)", e.start, e.name_end,
                )
            raise _unknown_function(e.func, e.start, e.name_end)
        return name, split(REGISTRY[name], e, e.func)

    source = program.source
    pending: dict[str, Any] = {}  # values the text gives names (value lines), until first use
    defaults: dict[str, Any] = {}
    notes: list[tuple[str, str, int, int]] = []
    statements, value_lines = _statements(program, pending, notes)
    result = -1
    computed: list[tuple[Statement, int]] = []  # (statement, its node), for the warnings
    declared: list[str] = []  # the inputs `f(x, y) = ...` declares, in order
    for stmt in statements:
        s0, s1 = stmt.start, stmt.end
        if stmt.function is not None:
            defs[stmt.function.name], bodies[stmt.function.name] = define(stmt.function, bodies)
            continue
        if id(stmt) in value_lines:
            continue  # a value line: read by _statements
        made: dict[int, int] = {}  # id(ast node) -> graph node
        declared.extend(p for p in stmt.params if p not in declared)
        token, numbers = SHAPES.set(shape_of), NUMBERS.set(number_of)
        try:
            read = plan(stmt.expr, lambda e: None if e.func == "grad" else call_op(e))
        finally:
            SHAPES.reset(token)
            NUMBERS.reset(numbers)
        for e in read.order:
            if id(e) in read.dims:
                n = read.dims[id(e)]
                idx = b.add(Node(len(nodes), "const", str(n), e.start, e.end,
                                 const_value=float(n)), s0, s1)
            elif isinstance(e, Num):
                idx = b.add(Node(len(nodes), "const", e.text, e.start, e.end,
                                 const_value=e.value), s0, s1)
            elif isinstance(e, Name):
                idx = resolve(e, s0, s1)
            elif isinstance(e, Unary):
                idx = op_node("neg", [made[id(e.operand)]], e, s0, s1)
            elif isinstance(e, Binary):
                if e.op not in BINARY_OPERATORS and e.op != "·":
                    raise GradtraceError("syntax", f"'{e.op}' is not an operator here",
                                         e.op_start, e.op_end)
                left, right = made[id(e.left)], made[id(e.right)]
                op = b.product(left, right) if e.op == "·" else BINARY_OPERATORS[e.op]
                idx = op_node(op, [left, right], e, s0, s1)
            elif isinstance(e, Str):
                raise GradtraceError("value", f"'{e.value[:20]}' in quotes is an option's value "
                                     "(as in padding='same'), not a number", e.start, e.end)
            elif isinstance(e, Tuple):
                raise GradtraceError("value", "a list or tuple is an option's value (as in "
                                     "reshape(x, (2, 3))) or the operands of cat and stack; "
                                     "tensors are given as input values", e.start, e.end)
            elif isinstance(e, Subscript):
                spec, arrays = read.indexes[id(e)]
                idx = b.op_node("index", [made[id(e.value)], *(made[id(a)] for a in arrays)],
                                e.start, e.end, s0, s1, attrs=(("index", spec),))
            else:
                assert isinstance(e, Call)
                if e.func == "grad":
                    if len(e.args) != 2 or e.keywords:
                        raise GradtraceError(
                            "arity", f"grad takes 2 arguments, as in grad(f, x), got "
                            f"{len(e.args) + len(e.keywords)}", e.start, e.end,
                        )
                    idx = _grad_call(b, e, made[id(e.args[0])], made[id(e.args[1])],
                                     program.source, s0, s1)
                    made[id(e)] = idx
                    continue
                name, args = read.calls[id(e)]
                operands = [made[id(a)] for a in args.operands]
                if name == SAME:
                    made[id(e)] = operands[0]
                    continue
                if name == "dot" and (e.method or "." in e.func):
                    # NumPy's dot (`X.dot(W)`, `np.dot`) is the matrix product of matrices; the
                    # language's dot(a, b) stays the dot product of two vectors.
                    name = "matmul" if name == "dot" and len(operands) == 2 and \
                        b.by_convention(*operands) else \
                        respelled(name, [b.shape(a) for a in operands])
                if name in defs and name == e.func:
                    # The program's own def (it may share a name with one of the language's:
                    # the notes define their own sigmoid and conv2d).
                    idx = b.op_node(name, operands, e.start, e.end, s0, s1, defined=defs[name])
                else:
                    attrs = inferred(name, args.attrs, [b.shape(a) for a in operands])
                    idx = b.op_node(name, operands, e.start, e.end, s0, s1,
                                    attrs=tuple(attrs.items()))
            made[id(e)] = idx
        if stmt.target_items is not None:
            # `y[0] = v`: a new node for y, a copy of the old one with the items set to v.
            assert stmt.target is not None
            numbers = NUMBERS.set(number_of)
            try:
                spec, arrays = index_spec(stmt.target_items, "an index")
            finally:
                NUMBERS.reset(numbers)
            for a in arrays:  # the index arrays of the target are read as any expression
                for sub in walk(a):
                    if isinstance(sub, Name):
                        made[id(sub)] = resolve(sub, s0, s1)
                    elif not isinstance(sub, Num):
                        raise GradtraceError("value", "an index of an assignment is a whole "
                                             "number, a slice or a name", sub.start, sub.end)
                    else:
                        made[id(sub)] = b.add(Node(len(nodes), "const", sub.text, sub.start,
                                                   sub.end, const_value=sub.value), s0, s1)
            target = resolve(Name(stmt.target, stmt.start, stmt.start + len(stmt.target)),
                             s0, s1)
            made[id(stmt.expr)] = b.op_node(
                "setitem", [target, made[id(stmt.expr)], *(made[id(a)] for a in arrays)],
                stmt.start, stmt.end, s0, s1, attrs=(("index", spec),))
        result = made[id(stmt.expr)]
        computed.append((stmt, result))
        if stmt.target is not None:
            node = nodes[result]
            if node.kind != "input" and node.name is None:
                node.name = stmt.target
                node.label = stmt.target
            env[stmt.target] = result
            pending.pop(stmt.target, None)
    # A name used only as labels or indices (`s[y]`) is an integer input: it takes no gradient.
    for idx in inputs.values():
        node = nodes[idx]
        uses = [(nodes[b.edges[ei].target], b.edges[ei].arg) for ei in node.out_edges]
        if uses and not any(t.operation.takes_grad(k) for t, k in uses):
            node.requires_grad = False
    if not computed:
        last = statements[-1]
        if last.function is not None:
            f = last.function
            raise GradtraceError("syntax", f"the program ends with def {f.name}, which it calls "
                                 f"before: the output is the last statement that computes, so "
                                 f"call it after, as in {f.name}(x)", f.start, f.name_end)
        raise GradtraceError("syntax", "nothing here computes: these lines only give values "
                             "(write the formula too, as f = x * y)", 0, len(source))
    if program.output is not None:
        # `L.backward()`, `g.gradient(z, x)`: the text names its output.
        d = program.output
        if d.text not in env and d.text not in inputs:
            raise GradtraceError("name", f"'{d.text}' is not computed above this line: the "
                                 "output must be a name assigned before", d.start, d.end)
        result = env.get(d.text, inputs.get(d.text, result))
    seed_default = _seed(program, pending, notes)
    used = _ancestors(nodes, result)
    unused = [(st.start, st.end) for st, n in computed
              if st.target is None and n not in used]
    named = {st.target for st, n in computed if st.target is not None and n in used}
    for st, n in computed:
        if st.target is not None and n not in used and st.target not in named:
            named.add(st.target)
            notes.append(("unused_name", f"'{st.target}' is computed but the output does not "
                          "use it", st.start, st.target_end or st.end))
    for name in pending:
        if program.seed is None or program.seed.text != name:
            at = next((st for st in statements if st.target == name), None)
            notes.append(("unused_value", f"'{name}' is given a value but the output does not "
                          "use it", *((at.start, at.target_end) if at else (0, 0))))
    if declared:
        # `f(x, y) = ...` declares its inputs: they come in that order (value fields, the
        # Hessian's rows), then any others.
        inputs = {**{p: inputs[p] for p in declared if p in inputs}, **inputs}
    graph = Graph(nodes, b.edges, result, inputs, spans, source, unused, defaults,
                  seed_default, notes)
    return graph, b


# A call that is its argument (`tf.constant(X)`): no node of its own.
SAME = "=same="


def _value_of(stmt: Statement) -> Any:
    """The value a statement gives its name (`x = np.array([...])`, a line `x = -2, y = 5`), or
    NOT_STATIC when it computes something."""
    if stmt.target is None or stmt.target_items is not None or stmt.function is not None:
        return NOT_STATIC
    if stmt.values_line:
        v = literal(stmt.expr)
        if v is NOT_STATIC:
            raise GradtraceError("value", f"in a line of values, {stmt.target} = takes a number "
                                 "written out", stmt.expr.start, stmt.expr.end)
        return v
    return value_line(stmt.expr)


def _called(statements: Sequence[Statement]) -> set[str]:
    roots: list[Expr] = []
    for st in statements:
        roots.append(st.expr)
        if st.function is not None:
            roots.extend(s.expr for s in st.function.body)
    return {e.func for r in roots for e in walk(r) if isinstance(e, Call)}


def _statements(program: Program, pending: dict[str, Any],
                notes: list[tuple[str, str, int, int]]) -> tuple[list[Statement], set[int]]:
    """The statements to build, and which of them (by id) are value lines, the values they give
    recorded in `pending`. A def that
    is the last statement and is never called is the program itself (the notes' `def f(x, y):
    ... return d`): its body, its parameters the inputs, their defaults their values."""
    defined = {st.function.name for st in program.statements if st.function is not None}
    statements = [st for st in program.statements
                  if not (st.target is not None and isinstance(st.expr, Name)
                          and st.expr.id in defined)]  # `loss_func = nll`: another name
    given_by: dict[str, Statement] = {}
    value_lines: set[int] = set()  # id() of the statements that give a value
    for st in statements:
        v = _value_of(st)
        if v is not NOT_STATIC:
            value_lines.add(id(st))
            name = st.target or ""
            if name in given_by:
                # Two values for one name would both be read as the last: refused.
                raise GradtraceError("value", f"'{name}' is given a value twice, here and on "
                                     "a line above: give each value its own name",
                                     st.start, st.target_end or st.end)
            given_by[name] = st
            pending[name] = v
    computes = [st for st in statements if st.function is None and id(st) not in value_lines]
    called = _called(statements)
    last = statements[-1]
    if not computes and last.function is not None and last.function.name not in called:
        f = last.function
        for p in f.params:
            if p.default is not None:
                v = literal(p.default)
                if v is NOT_STATIC:
                    raise GradtraceError("value", f"the default of '{p.name}' is a number, as in "
                                         f"{p.name}=3", p.default.start, p.default.end)
                pending[p.name] = v
        for st in statements[:-1]:
            if st.function is not None and st.function.name not in called:
                notes.append(("unused_def", f"def {st.function.name} is never called, so it is "
                              "not drawn (the last def is the program)", st.start,
                              st.function.name_end))
        return [*statements[:-1], *f.body, Statement(None, f.result, f.result.start,
                                                     f.result.end)], value_lines
    for st in statements:
        if st.function is not None and st.function.name not in called:
            notes.append(("unused_def", f"def {st.function.name} is never called, so it is not "
                          "drawn", st.start, st.function.name_end))
    return statements, value_lines


def _seed(program: Program, pending: Mapping[str, Any],
          notes: list[tuple[str, str, int, int]]) -> Any:
    """The output gradient the text gives: a name with a value line, or a tensor written out."""
    d = program.seed
    if d is None:
        return None
    if d.text in pending:
        return pending[d.text]
    def shape_of(e: Expr) -> Shape | None:
        return raw_shape(pending[e.id]) if isinstance(e, Name) and e.id in pending else None

    token = SHAPES.set(shape_of)
    try:
        (st,) = parse(d.text, given=pending).statements
        v = literal(st.expr)
        if v is NOT_STATIC:  # tf.reshape(dz, [1, dz.shape[0], dz.shape[1], 1]) as well
            v = value_line(st.expr, pending)
    except (GradtraceError, ValueError):
        v = NOT_STATIC
    finally:
        SHAPES.reset(token)
    if v is NOT_STATIC:
        notes.append(("seed_not_read", f"the output gradient '{d.text[:40]}' is not read (it "
                      "is not a tensor written out, nor a name given one), so ones are used",
                      d.start, d.end))
        return None
    return v


def _ancestors(nodes: Sequence[Node], root: int) -> set[int]:
    seen = {root}
    stack = [root]
    while stack:
        for a in nodes[stack.pop()].args:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return seen


# ---------------------------------------------------------------------------------------------
# Values


def parse_value(name: str, raw: object, span: tuple[int, int], settings: Settings,
                what: str = "the value for") -> Array:
    """A JSON value (number, "Infinity"/"-Infinity"/"NaN", rectangular nested list) as float64."""
    where = f"{what} '{name}'" if name else what

    def err(msg: str) -> GradtraceError:
        return GradtraceError("value", f"{where} {msg}", *span)

    # Shape from the first element along each axis, then check every row against it.
    shape: list[int] = []
    x = raw
    while isinstance(x, list):
        if not x:
            raise err("is an empty list")
        shape.append(len(x))
        if len(shape) > settings.max_tensor_dims:
            raise GradtraceError("limit", f"{where} has more than {settings.max_tensor_dims} "
                                 "dimensions", *span)
        x = x[0]
    if math.prod(shape) > settings.max_tensor_elements:
        raise GradtraceError("limit", f"{where} has {math.prod(shape):,} elements, more than the "
                             f"limit of {settings.max_tensor_elements:,}", *span)
    level: list[object] = [raw]
    for depth, size in enumerate(shape):
        nxt: list[object] = []
        for item in level:
            if not isinstance(item, list) or len(item) != size:
                got = f"{len(item)} entries" if isinstance(item, list) else "a number"
                raise err(f"is not rectangular: at depth {depth + 1} a row has {got}, "
                          f"the first has {size}")
            nxt.extend(item)
        level = nxt
    if {type(leaf) for leaf in level} <= {float, int}:
        # The common case, all plain numbers: one conversion instead of one per element
        # (a 256x256 matrix in 3 ms rather than 30). Huge integers still take the slow path.
        try:
            return np.array(level, dtype=np.float64).reshape(shape)
        except OverflowError:
            pass
    flat: list[float] = []
    for leaf in level:
        if isinstance(leaf, bool) or not isinstance(leaf, int | float | str):
            shown = "a list" if isinstance(leaf, list) else repr(leaf)[:20]
            raise err(f"is not rectangular or not numeric: found {shown}")
        if isinstance(leaf, str):
            if leaf not in NONFINITE:
                raise err(f"contains {leaf[:20]!r}, which is not a number")
            flat.append(NONFINITE[leaf])
        else:
            try:
                flat.append(float(leaf))
            except OverflowError:
                raise err("contains an integer too large for a float64") from None
    return np.array(flat, dtype=np.float64).reshape(shape)


# ---------------------------------------------------------------------------------------------
# The passes


@dataclass(slots=True)
class Result:
    values: list[Array]
    grads: list[Array | None]  # None where no gradient is needed
    downstream: list[Array | None]  # per edge
    local: list[float | None]  # per edge: the local derivative where the edge is scalar
    seed: Array


def forward(graph: Graph, inputs: Mapping[str, Array], settings: Settings,
            cancel: CancelToken | None = None, known: Sequence[Array] = ()) -> list[Array]:
    """Every node's value, in order. `known`: the values of the graph's first nodes, already
    computed (a gradient graph extends the graph it was built from), which are not recomputed."""
    values: list[Array] = list(known)
    total = sum(int(v.size) for v in values)
    with np.errstate(all="ignore"):  # overflow and NaN flow through as IEEE values
        for node in graph.nodes[len(values):]:
            if cancel is not None and node.index % 64 == 0:
                cancel.raise_if_cancelled()
            if node.kind == "input":
                v = inputs[node.label]
            elif node.kind == "const":
                assert node.const_value is not None
                v = np.asarray(node.const_value, dtype=np.float64)
            else:
                op = node.operation
                args = [values[a] for a in node.args]
                shown = op.name if op.named and not op.internal else op.symbol
                try:
                    shape = op.shape([a.shape for a in args])
                except ShapeError as exc:
                    raise GradtraceError("shape", str(exc), node.start, node.end) from None
                except (ValueError, TypeError, IndexError, RuntimeError, OverflowError) as exc:
                    # A shape rule that did not foresee these operands (NumPy's own refusal, as
                    # of more than 32 axes): still the user's input, answered as such.
                    raise GradtraceError(
                        "shape", f"'{shown}' cannot take operands of shapes "
                        f"{' and '.join(fmt_shape(a.shape) for a in args)}: {exc}",
                        node.start, node.end) from None
                if len(shape) > settings.max_tensor_dims:
                    raise GradtraceError(
                        "limit", f"'{shown}' would make a tensor with {len(shape)} axes, more than "
                        f"{settings.max_tensor_dims}", node.start, node.end)
                size = math.prod(shape)
                if size > settings.max_tensor_elements:
                    raise GradtraceError(
                        "limit", f"'{shown}' would make a tensor of shape {shape} "
                        f"({size:,} elements, more than {settings.max_tensor_elements:,})",
                        node.start, node.end,
                    )
                if op.cost is not None:
                    macs, scratch = op.cost([a.shape for a in args])
                    if macs > settings.max_op_macs or scratch > settings.max_tensor_elements:
                        raise GradtraceError(
                            "limit", f"'{op.symbol}' on shapes "
                            f"{' and '.join(fmt_shape(a.shape) for a in args)} is too much work: "
                            f"{macs:,} multiply-adds (limit {settings.max_op_macs:,}), "
                            f"{scratch:,} elements of scratch (limit "
                            f"{settings.max_tensor_elements:,})", node.start, node.end,
                        )
                try:
                    v = np.asarray(op.forward(*args), dtype=np.float64)
                except ShapeError as exc:  # what depends on the values: a label out of range
                    raise GradtraceError("shape", str(exc), node.start, node.end) from None
            total += v.size
            if total > settings.max_total_elements:
                raise GradtraceError(
                    "limit", f"the trace would hold more than {settings.max_total_elements:,} "
                    "numbers", node.start, node.end,
                )
            values.append(v)
    return values


def backward(graph: Graph, values: Sequence[Array], seed: Array) -> Result:
    n = len(graph.nodes)
    grads: list[Array | None] = [None] * n
    downstream: list[Array | None] = [None] * len(graph.edges)
    local: list[float | None] = [None] * len(graph.edges)
    with np.errstate(all="ignore"):
        for node in reversed(graph.nodes):
            if not node.requires_grad:
                continue
            v = values[node.index]
            up = seed if node.index == graph.output else np.zeros(v.shape)
            for ei in node.out_edges:
                d = downstream[ei]
                if d is not None:
                    up = up + d
            grads[node.index] = up
            if node.kind != "op":
                continue
            op = node.operation
            args = [values[a] for a in node.args]
            outs = op.vjp(up, args, v)
            # The local derivative is shown for scalar edges only: ask the VJP for it (with an
            # upstream of 1) only when one of this node's edges is scalar.
            scalar_edge = v.ndim == 0 and any(a.ndim == 0 for a in args)
            ones = op.vjp(np.ones(()), args, v) if scalar_edge else None
            for k, a in enumerate(node.args):
                if not graph.nodes[a].requires_grad or not op.takes_grad(k):
                    continue
                ei = node.in_edges[k]
                downstream[ei] = np.asarray(unbroadcast(np.asarray(outs[k]), args[k].shape),
                                            dtype=np.float64)
                if ones is not None and args[k].ndim == 0:
                    local[ei] = float(ones[k])
    return Result(list(values), grads, downstream, local, seed)


def fit_direction(direction: Array | None, shape: tuple[int, ...]) -> Array | None:
    """A seed or tangent for a value of `shape`: ones by default, the array itself if it has that
    shape, a scalar broadcast to it; None if it fits no way."""
    if direction is None:
        return np.ones(shape)
    if direction.shape == shape:
        return direction
    if direction.ndim == 0:
        return np.broadcast_to(direction, shape).copy()
    return None


def make_seed(graph: Graph, raw: Any, out: Array, settings: Settings) -> Array:
    out_node = graph.nodes[graph.output]
    span = (out_node.start, out_node.end)
    seed = None if raw is None else parse_value("", raw, span, settings,
                                                  what="the output gradient")
    fitted = fit_direction(seed, out.shape)
    if fitted is not None:
        return fitted
    assert seed is not None
    raise GradtraceError(
        "seed", f"the output gradient has shape {fmt_shape(seed.shape)} but the output "
        f"has shape {fmt_shape(out.shape)}; give one number, or a tensor of the output's shape",
        *span,
    )


# ---------------------------------------------------------------------------------------------
# Forward mode


@dataclass(slots=True)
class Tangents:
    wrt: str
    tangent: Array  # the input direction, of the input's shape
    tangents: list[Array | None]  # per node; None where the node does not depend on `wrt`
    contributions: list[Array | None]  # per edge: its part of the target's tangent
    local: list[float | None]  # per edge: the local derivative where the edge is scalar
    output: Array  # the output's tangent: the directional derivative (zeros if independent)


def _whole(graph: Graph) -> tuple[int, int]:
    return 0, len(graph.source)


def check_wrt(graph: Graph, wrt: str | None) -> int:
    """The node of the input `wrt`, or a GradtraceError saying why there is none."""
    names = ", ".join(sorted(graph.inputs)) or "none"
    if wrt is None or wrt == "":
        raise GradtraceError(
            "name", f"forward mode needs 'wrt': the input to differentiate along (the inputs: "
            f"{names})", *_whole(graph),
        )
    if wrt in graph.inputs:
        if not graph.nodes[graph.inputs[wrt]].requires_grad:
            raise GradtraceError(
                "name", f"'{wrt}' holds labels (whole numbers used as indices): nothing can be "
                f"differentiated along it (the inputs that take a derivative: "
                f"{', '.join(sorted(graph.differentiable)) or 'none'})", *graph.spans[wrt],
            )
        return graph.inputs[wrt]
    named = next((n for n in graph.nodes if n.name == wrt), None)
    if named is not None and named.kind == "op":
        # Point at the assignment `q = ...` (the node's span is its right-hand side).
        lhs = re.search(rf"(?<![A-Za-z0-9_]){re.escape(wrt)}\s*=\s*$", graph.source[:named.start])
        raise GradtraceError(
            "name", f"'{wrt}' is assigned in the expression, not an input: forward mode "
            f"differentiates along an input (the inputs: {names})",
            lhs.start() if lhs else named.start, named.end,
        )
    if named is not None and named.kind == "const":
        raise GradtraceError(
            "name", f"'{wrt}' is a constant, not an input: forward mode differentiates along an "
            f"input (the inputs: {names})", named.start, named.end,
        )
    raise GradtraceError(
        "name", f"'{wrt}' is not an input of the expression: forward mode differentiates along "
        f"an input (the inputs: {names})", *_whole(graph),
    )


def _input_tangent(graph: Graph, wrt: str, tangent: Array | None, value: Array) -> Array:
    if tangent is not None:
        tangent = np.asarray(tangent, dtype=np.float64)
    fitted = fit_direction(tangent, value.shape)
    if fitted is not None:
        return fitted
    assert tangent is not None
    raise GradtraceError(
        "value", f"the tangent (direction) for '{wrt}' has shape {fmt_shape(tangent.shape)} but "
        f"'{wrt}' has shape {fmt_shape(value.shape)}; give one number, or a tensor of the "
        "input's shape", *graph.spans[wrt],
    )


def make_tangent(graph: Graph, wrt: str, raw: Any, values: Sequence[Array],
                 settings: Settings) -> Array:
    """The direction for `wrt` from its JSON form (None: ones of the input's shape)."""
    idx = check_wrt(graph, wrt)
    if raw is None:
        return np.ones(values[idx].shape)
    span = graph.spans[wrt]
    t = parse_value("", raw, span, settings, what=f"the tangent (direction) for '{wrt}'")
    return _input_tangent(graph, wrt, t, values[idx])


def forward_mode(graph: Graph, values: Sequence[Array], wrt: str | None,
                 tangent: Array | None = None) -> Tangents:
    """Every node's tangent along the direction `tangent` of input `wrt` (ones by default; a
    scalar broadcasts to the input's shape), and every edge's contribution."""
    start = check_wrt(graph, wrt)
    assert wrt is not None
    t0 = _input_tangent(graph, wrt, tangent, values[start])
    tangents: list[Array | None] = [None] * len(graph.nodes)
    contributions: list[Array | None] = [None] * len(graph.edges)
    local: list[float | None] = [None] * len(graph.edges)
    tangents[start] = t0
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node.kind != "op" or not node.requires_grad:
                continue
            op = node.operation
            args = [values[a] for a in node.args]
            out = values[node.index]
            # The local derivative of a scalar edge, on the same edges as in `backward` (every
            # source that depends on some input), so that both modes show the same numbers.
            for k, a in enumerate(node.args):
                if not op.takes_grad(k):
                    continue
                if out.ndim == 0 and args[k].ndim == 0 and graph.nodes[a].requires_grad:
                    unit: list[Array | None] = [None] * len(node.args)
                    unit[k] = np.ones(())
                    local[node.in_edges[k]] = float(op.jvp(unit, args, out))
            total: Array | None = None
            for k, a in enumerate(node.args):
                ta = tangents[a]
                if ta is None or not op.takes_grad(k):
                    continue
                only: list[Array | None] = [None] * len(node.args)
                only[k] = ta
                part = np.asarray(np.broadcast_to(op.jvp(only, args, out), out.shape),
                                  dtype=np.float64)
                contributions[node.in_edges[k]] = part
                total = part if total is None else total + part
            tangents[node.index] = total
    t_out = tangents[graph.output]
    derivative = t_out if t_out is not None else np.zeros(values[graph.output].shape)
    return Tangents(wrt, t0, tangents, contributions, local, derivative)


def forward_tangents(graph: Graph, values: Sequence[Array], wrt: str,
                     tangent: Array | None = None) -> list[Array | None]:
    """The tangent of every node along input `wrt` (None where a node does not depend on it)."""
    return forward_mode(graph, values, wrt, tangent).tangents
