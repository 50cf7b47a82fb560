"""Gates that open: a composite op drawn as one node, or opened in place into its parts.

The lecture notes' "modular" backprop: a sigmoid may be one gate whose local derivative is
(1 - σ)σ, or the chain of nodes it is made of. A composite op (an `Op` with `compose`) is one
node of the graph `engine.build_graph` makes, with its own local derivative: a closed gate. This
module opens gates: it rewrites that graph, replacing an opened gate's node by the nodes of its
composition (one level: a part that is itself a composite stays a closed gate, which may be opened
in turn), and closing a gate is leaving it out of the list. Both views compute the same values
and the same gradients for the inputs; only the steps differ (an opened gate shows its parts'
steps, numbered in the view's own order).

Gate ids name gates independently of the values, and stay the same whichever other gates are
open:
- `g<k>`: the composite op node `n<k>` of the collapsed graph (the graph with every gate closed,
  whose node ids are n0, n1, ...);
- `<parent>.<p>`: inside the opened gate `<parent>`, its part `p`, the p-th op its composition
  writes (counted from 1, in the order `compose` emits them); a part is a gate when its op is a
  composite itself (`g5.2` is the second op of gate g5's composition).
An id is opened together with the gates it lies in (`g5.2` opens g5 as well). An id that names
no gate of this expression (a link may outlive an edit of the expression) opens nothing, and
`analysis.py` says so in a warning.

The view keeps every value of the collapsed graph (an opened gate's value is its composition's
last node, computed by the same ops as the composite's own forward, so the numbers are equal bit
for bit): `View.base_of` maps each collapsed node to the view node holding its value, which is
how the Hessian (made from the collapsed graph) reads the view's values.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .engine import Edge, Graph, Node, raw_shape
from .errors import GradtraceError
from .ops import Array, Op, Shape, ShapeError, resolve
from .settings import Settings

# `g5`, `g5.2`, `g12.1.3`: a node index of the collapsed graph, then part positions.
GATE_ID = re.compile(r"g(0|[1-9][0-9]{0,5})(?:\.[1-9][0-9]{0,3}){0,16}")


def id_key(gate: str) -> tuple[int, ...]:
    """The order of gate ids: by node, then part (g2 < g2.1 < g2.10 < g10)."""
    return tuple(int(p) for p in gate[1:].split("."))


def parent_of(gate: str) -> str | None:
    head, dot, _ = gate.rpartition(".")
    return head if dot else None


def parse_expand(items: Iterable[str]) -> list[str]:
    """The gate ids of `expand` as given (a list; each item may hold several, comma-separated, as
    the URL writes them: `expand=g5,g5.2`), stripped, without repeats, in the order given."""
    out: dict[str, None] = {}
    for item in items:
        for part in str(item).split(","):
            text = part.strip()
            if text:
                out[text] = None
    return list(out)


@dataclass(frozen=True, slots=True)
class OpenGate:
    """An opened gate of a view."""

    id: str
    op: str  # the composite's name
    parent: str | None  # the opened gate it is a part of
    output: int  # the view node holding its value (its composition's last node)
    start: int
    end: int
    name: str | None  # the name the expression gives its value (`q = square(x)`), if any


@dataclass(slots=True)
class Gates:
    """Per node of a graph: the id of the closed gate it is (None: not a gate), and the innermost
    opened gate it is a part of (None: none); and the opened gates, parents before parts."""

    ids: list[str | None]
    groups: list[str | None]
    opened: list[OpenGate]


def _no_gates() -> Gates:
    return Gates([], [], [])


@dataclass(slots=True)
class View(Graph):
    """A graph with some gates opened: the collapsed graph it was made from (`base`), where each
    of its nodes' values is in the view (`base_of`), and the view's gates."""

    gates: Gates = field(default_factory=_no_gates)
    base: Graph | None = None
    base_of: list[int] = field(default_factory=list)


def is_gate(node: Node) -> bool:
    """Whether a node is a gate that can be opened: an op node of a composite."""
    return node.kind == "op" and node.operation.compose is not None


def gates_of(graph: Graph) -> Gates:
    """The gates of a graph: a view's own, or for a collapsed graph its closed gates (g<k>)."""
    if isinstance(graph, View):
        return graph.gates
    return Gates([f"g{n.index}" if is_gate(n) else None for n in graph.nodes],
                 [None] * len(graph.nodes), [])


def base_graph(graph: Graph) -> Graph:
    """The collapsed graph a view was made from (a collapsed graph is its own)."""
    return graph.base if isinstance(graph, View) and graph.base is not None else graph


def base_values(graph: Graph, values: Sequence[Array]) -> list[Array]:
    """The values of the collapsed graph's nodes, read from the view's."""
    if isinstance(graph, View) and graph.base is not None:
        return [values[i] for i in graph.base_of]
    return list(values)


def _shape_of(op: Op, shapes: Sequence[Shape | None]) -> Shape | None:
    if any(s is None for s in shapes):
        return None
    # A mismatch is reported with its span by the forward pass; here the shape is unknown.
    with contextlib.suppress(ShapeError, ValueError, TypeError, IndexError):
        return tuple(op.shape([s for s in shapes if s is not None]))
    return None


@dataclass(slots=True)
class _Item:
    kind: str  # "operand", "const" or "op"
    op: Op | None = None
    args: tuple[int, ...] = ()
    value: float = 0.0
    part: int = 0  # an op's position in the composition, from 1
    shape: Shape | None = None


class _Recorder:
    """A `Builder` that notes a composition without building anything: handles 0..k-1 are the
    composite's operands, then each const and op in the order `compose` writes them."""

    def __init__(self, shapes: Sequence[Shape | None]) -> None:
        self.items = [_Item("operand", shape=s) for s in shapes]
        self.parts = 0

    def op(self, name: str, *args: int, **attrs: Any) -> int:
        op = resolve(name, attrs)
        self.parts += 1
        self.items.append(_Item("op", op, tuple(args), part=self.parts,
                                shape=_shape_of(op, [self.items[a].shape for a in args])))
        return len(self.items) - 1

    def const(self, value: float) -> int:
        self.items.append(_Item("const", value=float(value), shape=()))
        return len(self.items) - 1

    def shape(self, node: int) -> Shape | None:
        return self.items[node].shape

    def live(self, top: int) -> set[int]:
        """The handles `top` is computed from (parts nothing uses are not drawn)."""
        seen: set[int] = set()
        stack = [top]
        while stack:
            h = stack.pop()
            if h not in seen:
                seen.add(h)
                stack.extend(self.items[h].args)
        return seen


class _Rewriter:
    """Builds the view: nodes copied from the collapsed graph, or an opened gate's parts."""

    def __init__(self, graph: Graph, want: set[str], given: Mapping[str, object],
                 settings: Settings) -> None:
        self.graph = graph
        self.want = want
        self.given = given
        self.settings = settings
        self.nodes: list[Node] = []
        self.ids: list[str | None] = []
        self.groups: list[str | None] = []
        self.shapes: list[Shape | None] = []
        self.opened: list[OpenGate] = []
        self.opening: OpenGate | None = None  # for the message of the node limit
        self.new_of: list[int] = []  # collapsed node -> view node holding its value

    def add(self, node: Node, gate_id: str | None, group: str | None,
            shape: Shape | None) -> int:
        if len(self.nodes) >= self.settings.max_nodes:
            # The gate being opened, else the last one opened: what made the graph grow.
            where = self.opening or (self.opened[-1] if self.opened else None)
            span = (where.start, where.end) if where else (0, len(self.graph.source))
            raise GradtraceError(
                "limit", f"with these gates open the graph would have more than "
                f"{self.settings.max_nodes:,} nodes: close a gate", *span)
        self.nodes.append(node)
        self.ids.append(gate_id)
        self.groups.append(group)
        self.shapes.append(shape)
        return node.index

    def copy(self, node: Node, args: tuple[int, ...]) -> int:
        if node.kind == "input":
            shape = raw_shape(self.given.get(node.label))
        elif node.kind == "const":
            shape = ()
        else:
            shape = _shape_of(node.operation, [self.shapes[a] for a in args])
        new = replace(node, index=len(self.nodes), args=args, in_edges=[], out_edges=[])
        return self.add(new, f"g{node.index}" if is_gate(node) else None, None, shape)

    def op_node(self, op: Op, args: Sequence[int], like: Node, gate_id: str | None,
                group: str) -> int:
        requires_grad = op.differentiable and any(
            self.nodes[a].requires_grad for k, a in enumerate(args) if op.takes_grad(k))
        node = Node(len(self.nodes), "op", op.symbol, like.start, like.end, op=op.name,
                    args=tuple(args), requires_grad=requires_grad, origin=like.origin,
                    attrs=op.bound)
        return self.add(node, gate_id, group, _shape_of(op, [self.shapes[a] for a in args]))

    def open(self, op: Op, args: Sequence[int], gid: str, parent: str | None,
             like: Node) -> int:
        """Append the parts of gate `gid` (op `op` on the view's nodes `args`): its value's node.
        `like` gives the parts their span and origin (the gate's node in the collapsed graph)."""
        assert op.compose is not None
        outer, self.opening = self.opening, OpenGate(gid, op.name, parent, -1, like.start,
                                                      like.end, None)
        rec = _Recorder([self.shapes[a] for a in args])
        top = op.compose(rec, range(len(args)))
        live = rec.live(top)
        real = dict(enumerate(args))
        consts: dict[str, int] = {}  # one node per constant of the gate (softplus's 20, twice)
        first = len(self.nodes)
        for h, item in enumerate(rec.items):
            if item.kind == "operand" or h not in live:
                continue
            if item.kind == "const":
                v = item.value
                key = repr(v)
                if key not in consts:
                    label = f"{v:.6g}" if math.isfinite(v) else str(v)
                    consts[key] = self.add(Node(len(self.nodes), "const", label, like.start,
                                                like.end, const_value=v, origin=like.origin),
                                           None, gid, ())
                real[h] = consts[key]
                continue
            part = item.op
            assert part is not None
            pid = f"{gid}.{item.part}"
            parts = [real[a] for a in item.args]
            if part.compose is not None and pid in self.want:
                real[h] = self.open(part, parts, pid, gid, like)
            else:
                real[h] = self.op_node(part, parts, like, pid if part.compose else None, gid)
        out = real[top]
        if like.name is not None and parent is None and out >= first:
            # The name the expression gives the gate's value now labels its last part.
            self.nodes[out].name = like.name
            self.nodes[out].label = like.name
        self.opened.append(OpenGate(gid, op.name, parent, out, like.start, like.end,
                                    like.name if parent is None else None))
        self.opening = outer
        return out

    def view(self) -> View:
        """The view these nodes make: edges wired, the collapsed graph's fields carried over."""
        graph, nodes, new_of = self.graph, self.nodes, self.new_of
        edges: list[Edge] = []
        for n in nodes:
            for k, a in enumerate(n.args):
                edge = Edge(len(edges), a, n.index, k)
                edges.append(edge)
                n.in_edges.append(edge.index)
                nodes[a].out_edges.append(edge.index)
        gates = Gates(self.ids, self.groups, sorted(self.opened, key=lambda g: id_key(g.id)))
        # Everything the layout depends on: the nodes and wiring, and which gate holds which.
        h = hashlib.sha256(b"gates\n")
        for n, group in zip(nodes, self.groups, strict=True):
            h.update(f"{n.kind}|{n.op}|{n.attrs}|{n.label}|{n.args}|{group}\n".encode())
        for g in gates.opened:
            h.update(f"open|{g.id}|{g.op}\n".encode())
        h.update(str(new_of[graph.output]).encode())
        # Every field of the collapsed graph (whatever the engine adds to it), with the view's.
        common = {f.name: getattr(graph, f.name) for f in fields(Graph)}
        common.update(nodes=nodes, edges=edges, output=new_of[graph.output],
                      inputs={name: new_of[i] for name, i in graph.inputs.items()},
                      _structure=h.hexdigest()[:24])
        return View(**common, gates=gates, base=graph, base_of=list(new_of))


def _with_parents(ids: Iterable[str]) -> set[str]:
    want: set[str] = set()
    for g in ids:
        at: str | None = g
        while at is not None:
            want.add(at)
            at = parent_of(at)
    return want


def open_gates(graph: Graph, expand: Iterable[str], given: Mapping[str, object],
               settings: Settings) -> tuple[Graph, list[str]]:
    """The view of `graph` (a collapsed graph, as `engine.build_graph` makes it) with the gates
    `expand` names opened, and the ids given that name no gate of it (they open nothing, nor the
    gates they would lie in). `given`: the request's values (their shapes, for compositions that
    ask one)."""
    asked = parse_expand(expand)
    want = _with_parents(g for g in asked if GATE_ID.fullmatch(g))
    if not want:
        return graph, asked
    rw = _rewrite(graph, want, given, settings)
    opened = {g.id for g in rw.opened}
    unknown = [g for g in asked if g not in opened]
    known = _with_parents(g for g in asked if g in opened)
    if not known:
        return graph, unknown
    if known != opened:
        # A wrong id inside a real gate (g5.9) opened that gate: open only what is asked.
        rw = _rewrite(graph, known, given, settings)
    return rw.view(), unknown


def _rewrite(graph: Graph, want: set[str], given: Mapping[str, object],
             settings: Settings) -> _Rewriter:
    rw = _Rewriter(graph, want, given, settings)
    for node in graph.nodes:
        args = tuple(rw.new_of[a] for a in node.args)
        gid = f"g{node.index}"
        if gid in want and is_gate(node):
            rw.new_of.append(rw.open(node.operation, args, gid, None, node))
        else:
            rw.new_of.append(rw.copy(node, args))
    return rw
