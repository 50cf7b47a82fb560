"""The record: what `POST /api/trace` answers, built from an `Analysis` as the schema's types.

Names follow the math: a backward step takes one node, its `upstream` gradient (with the `terms`
it is the sum of: one per out-edge, plus the seed at the output), and for each in-edge the `local`
derivative and the `downstream` gradient sent on.

A forward-mode record holds one direction `tangent` of one input `wrt`, every node's `tangent`,
every edge's `tangent` (its part of its target's tangent), and the output's tangent as
`derivative`; `backward` is empty and `gradients` is {}.

The record is plain dicts of the schema's types (schema.py), and mypy holds every dict written
here against them. Numbers are encoded by codec.py as they go in, so the record is valid JSON as
it is, and orjson writes it: pydantic objects would cost more to build than a 1,000-node trace.

Gates (gates.py): every node says whether it is a closed gate that can be opened (`gate_id`, the
id `expand` takes) and which opened gate it is a part of (`in_gate`); `open_gates` lists the gates
the view opened. The record of a view with gates opened is the record of that graph: its own node
ids and steps.

The extras (`check`, `hessian`) each have their own limits: past one, or where the extra does not
apply (a Hessian of a vector output), the record still answers, with the reason in the extra's
place (`{"error": {...}}`), so that a client can show the trace and say why the extra is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
import orjson

from .analysis import Analysis
from .check import check_forward, check_reverse
from .codec import encode, encode_matrix, encode_number
from .engine import Graph, Node, Result, Tangents
from .errors import GradtraceError
from .gates import Gates, base_graph, base_values, gates_of
from .hessian import hessian as second_derivatives
from .hessian import is_symmetric
from .jacobian import edge_jacobian, jacobian_size
from .naming import Shown, shown_names
from .ops import GATE_TEXT, Array, fmt_shape, vjp_tex
from .readout import reading
from .schema import (
    Check,
    EdgeOut,
    ErrorBody,
    GateOut,
    Hessian,
    NodeOut,
    Reading,
    Step,
    Term,
    TraceResponse,
    Unavailable,
    Warning_,
)

# ---------------------------------------------------------------------------------------------
# LaTeX symbols for formulas


# ---------------------------------------------------------------------------------------------
# Nodes, edges, steps


def _node(node: Node, value: Array, grad: Any, gates: Gates, shown: Shown) -> NodeOut:
    return NodeOut(
        id=node.id,
        kind=node.kind,
        op=node.op,
        label=node.label,
        name=node.name,
        display=shown.text,
        display_tex=shown.tex,
        value=encode(value),
        grad=grad,
        shape=list(value.shape),
        start=node.start,
        end=node.end,
        fanout=len(node.out_edges),
        origin="grad" if node.origin == "grad" else None,
        gate=node.operation.gate if node.op else ("sums" if len(node.out_edges) > 1
                                                      and node.requires_grad else None),
        gate_id=gates.ids[node.index],
        in_gate=gates.groups[node.index],
        labels=node.kind == "input" and not node.requires_grad,
    )


def _edges(graph: Graph, res: Result, names: Sequence[Shown]) -> list[EdgeOut]:
    out: list[EdgeOut] = []
    for e in graph.edges:
        target = graph.nodes[e.target]
        op = target.operation
        # Formulas in the nodes' own names (naming.py), as the graph and the explanation say.
        s = [names[a].tex for a in target.args]
        z = names[target.index].tex
        formula = (
            f"\\frac{{\\partial\\,({op.tex(s)})}}{{\\partial {s[e.arg]}}} = "
            # An op with a variable number of operands repeats its last formula, as its code
            # templates do.
            f"{op.local_tex[min(e.arg, len(op.local_tex) - 1)](s)}"
        )
        src_shape = res.values[e.source].shape
        dst_shape = res.values[e.target].shape
        scalar = src_shape == () and dst_shape == ()
        vjp = None
        if not scalar and res.downstream[e.index] is not None:  # no gradient flows to constants
            vjp = vjp_tex(op, e.arg, s, z)
            if op.elementwise and src_shape != dst_shape:
                vjp += f",\\ \\text{{summed over broadcast axes to }} {fmt_shape(src_shape)}"
        local = res.local[e.index]
        out.append(EdgeOut(
            id=e.id,
            source=graph.nodes[e.source].id,
            target=target.id,
            arg=e.arg,
            local=None if local is None else encode_number(local),
            local_formula=formula,
            vjp_formula=vjp,
            downstream=encode(res.downstream[e.index]),
            broadcast=op.elementwise and src_shape != dst_shape,
        ))
    return out


def _steps(graph: Graph, res: Result, edges: list[EdgeOut], grads: list[Any]) -> list[Step]:
    steps: list[Step] = []
    for node in reversed(graph.nodes):
        if res.grads[node.index] is None:
            continue
        terms: list[Term] = []
        if node.index == graph.output:
            terms.append(Term(edge=None, value=encode(res.seed)))
        for ei in node.out_edges:
            sent = edges[ei]["downstream"]
            if sent is not None:
                terms.append(Term(edge=graph.edges[ei].id, value=sent))
        steps.append(Step(
            node=node.id,
            upstream=grads[node.index],
            terms=terms,
            edges=[edges[ei] for ei in node.in_edges if res.downstream[ei] is not None],
        ))
    return steps


def _add_jacobians(graph: Graph, res: Result, edges: list[EdgeOut], max_entries: int) -> None:
    """On every tensor edge a gradient flows along: `jacobian_size` (target numbers x source
    numbers), and `jacobian` (the explicit matrix, jacobian.py) when that is small enough."""
    for e, rec in zip(graph.edges, edges, strict=True):
        src, dst = res.values[e.source], res.values[e.target]
        if (src.ndim == 0 and dst.ndim == 0) or res.downstream[e.index] is None:
            continue
        size = jacobian_size(src.shape, dst.shape)
        rec["jacobian_size"] = size
        rec["jacobian"] = None
        if size <= max_entries:
            target = graph.nodes[e.target]
            args = [res.values[a] for a in target.args]
            rec["jacobian"] = encode_matrix(edge_jacobian(target.operation, args, dst, e.arg))


def _first_nonfinite(graph: Graph, arrays: list[Array | None], order: list[Node],
                     what: str) -> Warning_ | None:
    for node in order:
        a = arrays[node.index]
        if a is not None and not np.isfinite(a).all():
            flat = a.reshape(-1)
            shown = encode_number(float(flat[~np.isfinite(flat)][0]))
            where = graph.source[node.start:node.end]
            if len(where) > 40:
                where = where[:37] + "..."
            return Warning_(
                type="nonfinite",
                message=f"the {what} first went non-finite ({shown}) at node "
                f"'{node.label}' ({where})",
                node=node.id, start=node.start, end=node.end,
            )
    return None


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _cost(graph: Graph, vals: list[Array]) -> dict[str, str]:
    """What each mode costs for the full gradient of this expression."""
    n = len(graph.inputs)
    numbers = sum(vals[i].size for i in graph.inputs.values())
    inputs = "the 1 input" if n == 1 else f"all {n} inputs"
    if numbers == n:
        return {
            "reverse": f"Reverse mode: one backward pass gives the gradient for {inputs}",
            "forward": f"Forward mode: one pass per input direction: "
            f"{_count(n, 'pass', 'passes')} for {inputs}",
        }
    return {
        "reverse": f"Reverse mode: one backward pass gives the gradient for {inputs} "
        f"({_count(numbers, 'number', 'numbers')})",
        "forward": f"Forward mode: one pass per input direction: "
        f"{_count(numbers, 'pass', 'passes')} for all {_count(numbers, 'number', 'numbers')} "
        f"of the {_count(n, 'input', 'inputs')}",
    }


# ---------------------------------------------------------------------------------------------
# The record


def build(a: Analysis) -> TraceResponse:
    """The record of `a`, with the extras its request asks for."""
    record = _forward_record(a, a.tangents) if a.tangents is not None else _reverse_record(a)
    if a.request.check:
        record["check"] = _extra(lambda: _check(a))
    if a.request.hessian:
        record["hessian"] = _extra(lambda: _hessian(a))
    return record


def to_json(record: TraceResponse) -> bytes:
    """The record as the API's JSON body. orjson writes the same JSON as json.dumps, 20 times
    faster on tensor traces (a 33 MB MLP record: 30 ms instead of 0.75 s)."""
    return orjson.dumps(record)


def _record(a: Analysis, nodes: list[NodeOut], edges: list[EdgeOut], backward: list[Step],
            gradients: dict[str, Any], warnings: list[Warning_]) -> TraceResponse:
    graph = a.graph
    out = a.output
    open_gates = [GateOut(id=g.id, op=g.op, parent=g.parent, output=graph.nodes[g.output].id,
                          name=g.name, start=g.start, end=g.end)
                  for g in gates_of(graph).opened]
    return TraceResponse(
        expr=graph.source,
        mode="forward" if a.tangents is not None else "reverse",
        output=graph.nodes[graph.output].id,
        value=encode(out),
        shape=list(out.shape),
        seed=encode(a.seed),
        gradients=gradients,
        nodes=nodes,
        edges=edges,
        forward=[n.id for n in graph.nodes],
        backward=backward,
        gates=dict(GATE_TEXT),
        open_gates=open_gates,
        structure=graph.structure,
        cost=_cost(graph, a.values),
        warnings=[*a.warnings, *warnings],
        reading=_reading(a),
    )


def _reading(a: Analysis) -> Reading:
    """How the text was read, with the shapes of the values (LaTeX writes ⊙ for an
    elementwise product of tensors)."""
    shapes = {i: v.shape for i, v in enumerate(base_values(a.graph, a.values))}
    return reading(a.program, a.graph, a.supplied, shapes)


def _reverse_record(a: Analysis) -> TraceResponse:
    res = a.reverse
    assert res is not None
    graph = a.graph
    warnings = [w for w in (
        _first_nonfinite(graph, list(a.values), graph.nodes, "forward pass"),
        _first_nonfinite(graph, res.grads, list(reversed(graph.nodes)), "backward pass"),
    ) if w is not None]
    gates = gates_of(graph)
    names = shown_names(graph, gates.groups)
    edges = _edges(graph, res, names)
    _add_jacobians(graph, res, edges, a.settings.max_jacobian_entries)
    # Each gradient is encoded once and the same data shared by the node, its step and
    # `gradients` (a tensor's tolist() is most of the record's cost).
    grads = [encode(g) for g in res.grads]
    return _record(
        a,
        nodes=[_node(n, a.values[n.index], grads[n.index], gates, names[n.index])
               for n in graph.nodes],
        edges=edges,
        backward=_steps(graph, res, edges, grads),
        gradients={name: grads[graph.inputs[name]] for name in graph.differentiable},
        warnings=warnings,
    )


def _forward_record(a: Analysis, tan: Tangents) -> TraceResponse:
    """The forward-mode record: the reverse record's fields (no gradients, no backward steps),
    plus the direction, every node's and edge's tangent, and the output's (`derivative`)."""
    graph = a.graph
    res = Result(a.values, [None] * len(graph.nodes), [None] * len(graph.edges), tan.local,
                 a.seed)
    warnings = [w for w in (
        _first_nonfinite(graph, list(a.values), graph.nodes, "forward pass"),
        _first_nonfinite(graph, tan.tangents, graph.nodes, "tangent (forward mode)"),
    ) if w is not None]
    gates = gates_of(graph)
    names = shown_names(graph, gates.groups)
    edges = _edges(graph, res, names)
    for e, rec in zip(graph.edges, edges, strict=True):
        rec["tangent"] = encode(tan.contributions[e.index])
    nodes = [_node(n, a.values[n.index], None, gates, names[n.index]) for n in graph.nodes]
    for n, rec_n in zip(graph.nodes, nodes, strict=True):
        rec_n["tangent"] = encode(tan.tangents[n.index])
    record = _record(a, nodes=nodes, edges=edges, backward=[], gradients={}, warnings=warnings)
    record["wrt"] = tan.wrt
    record["tangent"] = encode(tan.tangent)
    record["derivative"] = encode(tan.output)
    return record


# ---------------------------------------------------------------------------------------------
# Extras

E = TypeVar("E", Check, Hessian)


def _extra(make: Callable[[], E]) -> E | Unavailable:
    try:
        return make()
    except GradtraceError as err:
        return Unavailable(error=ErrorBody(type=err.type, message=err.message, start=err.start,
                                           end=err.end))


def _check(a: Analysis) -> Check:
    """The numeric check of every input's gradient (reverse) or of the derivative (forward)."""
    if a.tangents is not None:
        data = check_forward(a, a.tangents.tangent, a.tangents.output)
    else:
        res = a.reverse
        assert res is not None
        grads: dict[str, Array] = {}
        for name in a.graph.differentiable:
            idx = a.graph.inputs[name]
            g = res.grads[idx]
            grads[name] = g if g is not None else np.zeros(a.values[idx].shape)
        data = check_reverse(a, grads)
    return data


def _hessian(a: Analysis) -> Hessian:
    # The Hessian is built on the collapsed graph (its gradient graph extends that one), whatever
    # gates the view opened: it is the same matrix either way.
    h = second_derivatives(replace(a, graph=base_graph(a.graph),
                                   values=base_values(a.graph, a.values)))
    return Hessian(inputs=h["inputs"], labels=h["labels"], matrix=encode_matrix(h["matrix"]),
                   symmetric=is_symmetric(h["matrix"]))

