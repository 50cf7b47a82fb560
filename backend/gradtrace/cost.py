"""What a request will cost, declared from its graph before any pass runs.

Every kind of work (the trace, the numeric check, the Hessian, the layout and its label placement,
pictures, the offline file, the code) has an estimate in seconds of CPU on the reference machine
(2 cores, bench/bench_cost.py prints each estimate beside the time measured, and refits the
coefficients). The API uses the estimate to choose a lane (api/lanes.py): work estimated at more
than `light_work_s` never runs in the server process, where it would hold Python's GIL against
everyone's cheap requests, but in a lower-priority worker process.

The estimate is made from a shape pass over the graph (shapes from the registry's rules, no
numbers), so it costs microseconds per node; it is a budget, not a limit: the limits stay in
settings.py and are checked where the work is done, each with its own message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .engine import Graph
from .layout import dot_work
from .ops import Array, ShapeError
from .settings import Settings

# Seconds per unit, fitted on the reference machine by bench/bench_cost.py (rounded up).
CHAR_S = 15e-6  # a character of the expression: tokenized, parsed, built into the graph
NODE_S = 90e-6  # a node of a trace: forward, backward, steps and formulas, its JSON
ELEMENT_S = 400e-9  # a number held by a trace (value, gradient, downstream), and its JSON
MAC_S = 1.5e-9  # a multiply-add of matmul or conv2d, forward and backward
JACOBIAN_ROW_S = 15e-6  # a row of a small tensor edge's explicit Jacobian (one VJP)
CHECK_UNIT_S = 4e-6  # a node or a number in one forward pass of the numeric check
HESSIAN_NODE_S = 30e-6  # a node of the gradient graph in one tangent pass (a Hessian column)
GRADIENT_GRAPH_NODE_S = 150e-6  # building the gradient graph, per node of the graph
DOT_START_S = 0.02  # starting dot and reading its answer
DOT_WORK_S = 3e-6  # dot's time grows as (nodes + virtual nodes) ** 1.5 (crossing minimisation)
LAYERED_NODE_S = 30e-6  # a node of the layered stand-in, used past `dot_max_work`
LABEL_S = 200e-6  # an edge's labels placed clear of the others
SVG_NODE_S = 300e-6  # a node and its edges drawn in SVG
PIXEL_S = 150e-9  # a pixel of a PNG or PDF drawn by rsvg-convert
PIXELS_PER_NODE = 40_000  # a node and its share of the margins, at scale 1
CODE_NODE_S = 30e-6  # a node's lines of generated code
CODE_NUMBER_S = 4e-6  # an input number written into the generated file
STANDALONE_BYTE_S = 15e-9  # a byte of the offline file (the record and layout inlined)
RECORD_BYTES_PER_ELEMENT = 80  # a number appears about four times in a record, ~20 bytes each
RECORD_BYTES_PER_NODE = 1_500  # steps, formulas, labels


@dataclass(frozen=True, slots=True)
class Seconds:
    """Estimated CPU seconds, split by where they are spent: `own` in this process (Python and
    NumPy: mostly holding the GIL), `tools` in the processes of dot and rsvg-convert (which hold
    no lock of ours, only a share of the cores)."""

    own: float
    tools: float = 0.0

    def __add__(self, other: Seconds) -> Seconds:
        return Seconds(self.own + other.own, self.tools + other.tools)

    @property
    def total(self) -> float:
        return self.own + self.tools


@dataclass(frozen=True, slots=True)
class Budget:
    """What a lane takes: at most `own` seconds in the server process and `tools` in tools."""

    own: float
    tools: float


class OverBudget(Exception):
    """The work is estimated to cost more than the lane it was offered to takes."""

    def __init__(self, seconds: Seconds) -> None:
        super().__init__(f"estimated {seconds.own:.3f} s own, {seconds.tools:.3f} s in tools")
        self.seconds = seconds


def admit(seconds: Seconds, budget: Budget | None) -> None:
    """Raise `OverBudget` if the work does not fit the lane's budget (None: any work fits)."""
    if budget is not None and (seconds.own > budget.own or seconds.tools > budget.tools):
        raise OverBudget(seconds)


@dataclass(frozen=True, slots=True)
class Cost:
    """The size of one analysed request, and the seconds each product of it costs."""

    structure: str  # the graph's structure key (what its layout depends on)
    chars: int  # of the expression
    nodes: int
    edges: int
    elements: int  # numbers held by all nodes' values
    macs: int  # multiply-adds of matmul and conv2d
    input_numbers: int
    new_layout: Seconds  # a layout of this graph, if it is not cached
    extras_s: float = 0.0  # small Jacobians; the check and Hessian if asked for, within limits

    @property
    def trace(self) -> Seconds:
        """The passes and the record, with the extras asked for."""
        return parse(self.chars) + Seconds(self.nodes * NODE_S + 3 * self.elements * ELEMENT_S
                                           + 3 * self.macs * MAC_S + self.extras_s)

    @property
    def record_bytes(self) -> int:
        return self.elements * RECORD_BYTES_PER_ELEMENT + self.nodes * RECORD_BYTES_PER_NODE

    def layout(self, cached: bool = False) -> Seconds:
        return Seconds(0.0) if cached else self.new_layout

    def picture(self, fmt: str, scale: float = 1.0, cached_layout: bool = False) -> Seconds:
        pixels = self.nodes * PIXELS_PER_NODE * scale * scale if fmt != "svg" else 0.0
        return (self.trace + self.layout(cached_layout)
                + Seconds(self.nodes * SVG_NODE_S, pixels * PIXEL_S))

    def standalone(self, cached_layout: bool = False) -> Seconds:
        return (self.trace + self.layout(cached_layout)
                + Seconds(self.record_bytes * STANDALONE_BYTE_S))

    @property
    def code(self) -> Seconds:
        return self.trace + Seconds(self.nodes * CODE_NODE_S
                                    + self.input_numbers * CODE_NUMBER_S)


def parse(chars: int) -> Seconds:
    """Reading an expression of `chars` characters into its graph: known from the text alone,
    so a lane can refuse a long expression before reading it."""
    return Seconds(chars * CHAR_S)


def layout(graph: Graph, settings: Settings) -> Seconds:
    """A new layout of `graph`: dot (or the layered stand-in past `dot_max_work`, as layout.py
    chooses) and the placement of its edges' labels."""
    work = dot_work(graph)
    labels = len(graph.edges) * LABEL_S
    if work > settings.dot_max_work:
        return Seconds(LAYERED_NODE_S * len(graph.nodes) + labels)
    return Seconds(labels, DOT_START_S + DOT_WORK_S * work ** 1.5)


def shapes(graph: Graph, inputs: Mapping[str, Array]) -> list[tuple[int, ...]]:
    """Each node's shape by the registry's rules, without computing a number. Stops at the first
    node whose operands do not fit (the forward pass reports it, with its span)."""
    out: list[tuple[int, ...]] = []
    for node in graph.nodes:
        if node.kind == "input":
            shape: tuple[int, ...] = inputs[node.label].shape
        elif node.kind == "const":
            shape = ()
        else:
            try:
                shape = tuple(node.operation.shape([out[a] for a in node.args]))
            except (ShapeError, ValueError, TypeError, IndexError, RuntimeError, OverflowError):
                break
        out.append(shape)
    return out


def estimate(graph: Graph, inputs: Mapping[str, Array], settings: Settings,
             check: bool = False, hessian: bool = False) -> Cost:
    shape_of = shapes(graph, inputs)
    macs = 0
    for node in graph.nodes[:len(shape_of)]:
        op = node.operation if node.op is not None else None
        if op is not None and op.cost is not None and all(a < len(shape_of) for a in node.args):
            macs += op.cost([shape_of[a] for a in node.args])[0]
    elements = sum(math.prod(s) for s in shape_of)
    # The explicit Jacobians of small tensor edges (jacobian.py): one VJP per row.
    rows = 0
    for e in graph.edges:
        if e.source < len(shape_of) and e.target < len(shape_of):
            target, source = shape_of[e.target], shape_of[e.source]
            m = math.prod(target)
            if (target or source) and m * math.prod(source) <= settings.max_jacobian_entries:
                rows += m
    numbers = sum(int(v.size) for v in inputs.values())
    extras = rows * JACOBIAN_ROW_S
    # An extra past its limit costs nothing: it answers its error at once (check.py, hessian.py).
    passes, per_pass = 2 * numbers, len(graph.nodes) + elements
    if check and passes <= settings.max_check_evaluations \
            and passes * per_pass <= settings.max_check_work:
        extras += passes * (per_pass * CHECK_UNIT_S + macs * MAC_S)
    grad_nodes = 3 * len(graph.nodes)  # a gradient graph is about three times its graph
    if hessian and numbers <= settings.max_hessian_elements:
        extras += len(graph.nodes) * GRADIENT_GRAPH_NODE_S  # built before its limit is known
        if numbers * grad_nodes <= settings.max_hessian_work:
            extras += numbers * grad_nodes * HESSIAN_NODE_S
    return Cost(structure=graph.structure, chars=len(graph.source), nodes=len(graph.nodes),
                edges=len(graph.edges), elements=elements, macs=macs, input_numbers=numbers,
                new_layout=layout(graph, settings), extras_s=extras)
