"""The trace: the full step-by-step record of one expression, as plain JSON-ready data.

`trace(expr, values, seed)` is the whole pipeline of DESIGN.md (text -> parser -> graph ->
engine -> steps) and returns exactly what `POST /api/trace` answers. Names follow the math:
a backward step takes one node, its `upstream` gradient (with the `terms` it is the sum of: one per
out-edge, plus the seed at the output), and for each in-edge the `local` derivative and the
`downstream` gradient sent on.

With `mode="forward"` the record is the forward-mode one: one direction `tangent` of one input
`wrt` per pass, every node's `tangent`, every edge's `tangent` (its part of its target's tangent),
and the output's tangent as `derivative`; `backward` is empty and `gradients` is {}.

Numbers are floats or nested lists of floats; non-finite ones are the strings "Infinity",
"-Infinity" and "NaN", so the record is valid JSON as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from .check import check_forward, check_reverse
from .engine import (
    Graph,
    Node,
    Result,
    Tangents,
    backward,
    build_graph,
    check_wrt,
    forward,
    forward_mode,
    make_seed,
    make_tangent,
    parse_value,
)
from .errors import GradtraceError
from .hessian import hessian as second_derivatives
from .hessian import is_symmetric
from .jacobian import edge_jacobian, jacobian_size
from .ops import GATE_TEXT, REGISTRY, Array, fmt_shape, vjp_tex
from .parser import parse
from .settings import Settings, get_settings

JSON = Any


def _nonfinite(x: float) -> float | str:
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _number(x: float | None) -> float | str | None:
    return x if x is None or math.isfinite(x) else _nonfinite(x)


def encode(a: Array | None) -> JSON:
    """A NumPy value as JSON data: a float, or nested lists; non-finite numbers as strings."""
    if a is None:
        return None
    if a.ndim == 0:
        x = float(a)
        return x if math.isfinite(x) else _nonfinite(x)
    data = a.tolist()
    if np.isfinite(a).all():
        return data

    def fix(v: JSON) -> JSON:
        if isinstance(v, list):
            return [fix(i) for i in v]
        return v if math.isfinite(v) else _nonfinite(v)

    return fix(data)


def decode(v: JSON) -> Array:
    """The inverse of `encode` (for tests and clients in Python)."""
    special = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}

    def fix(x: JSON) -> JSON:
        if isinstance(x, list):
            return [fix(i) for i in x]
        return special[x] if isinstance(x, str) else x

    return np.asarray(fix(v), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# LaTeX symbols for formulas


def tex_name(name: str) -> str:
    """`x` -> x, `w0` -> w_{0}, `W1` -> W_{1}, `x_in` -> x_{in}, `cost` -> \\mathrm{cost}."""
    if name == "pi":
        return "\\pi"
    head, sep, tail = name.partition("_")
    if not sep:
        i = len(name.rstrip("0123456789"))
        head, tail = name[:i], name[i:]
    if not head or (sep and not tail):
        # `_`, `_x`, `x_`: no head or no subscript to give; a bare `_` would not be valid LaTeX.
        return "\\mathrm{" + name.replace("_", "\\_") + "}"
    base = head if len(head) == 1 else "\\mathrm{" + head + "}"
    if tail:
        return f"{base}_{{{tail.replace('_', ',')}}}"
    return base


class _Symbols:
    """A LaTeX symbol per node: its name if it has one, else a placeholder letter no name uses."""

    def __init__(self, graph: Graph) -> None:
        used = {n.name for n in graph.nodes if n.name}
        self.free = [c for c in "uvwpqrstabcdfghk" if c not in used]
        # Chosen once here: looking through every node for each edge made a trace O(n^2).
        self.out_sym = next((c for c in "zyfoghk" if c not in used), "z_{out}")

    def of(self, node: Node, fallback: int) -> str:
        if node.name:
            return tex_name(node.name)
        if node.kind == "const":
            return node.label
        return self.free[fallback % len(self.free)] if self.free else f"u_{{{fallback}}}"

    def out(self, node: Node) -> str:
        if node.name:
            return tex_name(node.name)
        return self.out_sym


# ---------------------------------------------------------------------------------------------
# The record


class Trace(dict[str, Any]):
    """The trace record: a plain dict (what the API answers), shown as a table by the CLI and,
    in a Jupyter notebook, as the same self-contained stepping page that "Download" gives."""

    def _repr_html_(self) -> str | None:
        from .standalone import repr_html  # imported late: standalone imports this module

        return repr_html(self)


def compile_graph(expr: str, given: Mapping[str, object], settings: Settings) -> Graph:
    """Parse and build the graph, enforcing the text limits."""
    if len(expr) > settings.max_expr_chars:
        raise GradtraceError(
            "limit", f"the expression is {len(expr):,} characters long, more than the limit of "
            f"{settings.max_expr_chars:,}", settings.max_expr_chars, len(expr),
        )
    program = parse(expr, max_depth=settings.max_depth)
    return build_graph(program, given, settings)


def _node_record(node: Node, res: Result, grad: JSON) -> dict[str, Any]:
    v = res.values[node.index]
    return {
        "id": node.id,
        "kind": node.kind,
        "op": node.op,
        "label": node.label,
        "name": node.name,
        "value": encode(v),
        "grad": grad,
        "shape": list(v.shape),
        "start": node.start,
        "end": node.end,
        "fanout": len(node.out_edges),
        "origin": node.origin,
        "gate": REGISTRY[node.op].gate if node.op else ("sums" if len(node.out_edges) > 1
                                                          and node.requires_grad else None),
    }


def _edge_records(graph: Graph, res: Result) -> list[dict[str, Any]]:
    syms = _Symbols(graph)
    out: list[dict[str, Any]] = []
    for e in graph.edges:
        target = graph.nodes[e.target]
        assert target.op is not None
        op = REGISTRY[target.op]
        operands = [graph.nodes[a] for a in target.args]
        s = [syms.of(n, k) for k, n in enumerate(operands)]
        z = syms.out(target)
        formula = (
            f"\\frac{{\\partial\\,({op.tex(s)})}}{{\\partial {s[e.arg]}}} = "
            f"{op.local_tex[e.arg](s)}"
        )
        src_shape = res.values[e.source].shape
        dst_shape = res.values[e.target].shape
        scalar = src_shape == () and dst_shape == ()
        vjp = None
        if not scalar and res.downstream[e.index] is not None:  # no gradient flows to constants
            vjp = vjp_tex(op, e.arg, s, z)
            if op.elementwise and src_shape != dst_shape:
                vjp += f",\\ \\text{{summed over broadcast axes to }} {fmt_shape(src_shape)}"
        out.append({
            "id": e.id,
            "source": graph.nodes[e.source].id,
            "target": target.id,
            "arg": e.arg,
            "local": _number(res.local[e.index]),
            "local_formula": formula,
            "vjp_formula": vjp,
            "downstream": encode(res.downstream[e.index]),
            "broadcast": op.elementwise and src_shape != dst_shape,
        })
    return out


def _steps(graph: Graph, res: Result, edges: list[dict[str, Any]], grads: list[JSON]
           ) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for node in reversed(graph.nodes):
        if res.grads[node.index] is None:
            continue
        terms: list[dict[str, Any]] = []
        if node.index == graph.output:
            terms.append({"edge": None, "value": encode(res.seed)})
        for ei in node.out_edges:
            if res.downstream[ei] is not None:
                terms.append({"edge": graph.edges[ei].id, "value": edges[ei]["downstream"]})
        steps.append({
            "node": node.id,
            "upstream": grads[node.index],
            "terms": terms,
            "edges": [edges[ei] for ei in node.in_edges
                      if res.downstream[ei] is not None],
        })
    return steps


def _first_nonfinite(graph: Graph, arrays: list[Array | None], order: list[Node],
                     what: str) -> dict[str, Any] | None:
    for node in order:
        a = arrays[node.index]
        if a is not None and not np.isfinite(a).all():
            flat = a.reshape(-1)
            bad = float(flat[~np.isfinite(flat)][0])
            shown = _nonfinite(bad)
            where = graph.source[node.start:node.end]
            if len(where) > 40:
                where = where[:37] + "..."
            return {
                "type": "nonfinite",
                "message": f"the {what} first went non-finite ({shown}) at node "
                f"'{node.label}' ({where})",
                "node": node.id,
                "start": node.start,
                "end": node.end,
            }
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


Mode = Literal["reverse", "forward"]


def trace(expr: str, values: Mapping[str, object] | None = None, seed: object = None,
          settings: Settings | None = None, mode: Mode = "reverse", wrt: str | None = None,
          tangent: object = None, check: bool = False, hessian: bool = False) -> Trace:
    """Trace `expr` with `values` (numbers or nested lists) and output gradient `seed`.

    `mode="forward"` traces forward-mode differentiation instead: the tangents along the input
    `wrt` in the direction `tangent` (ones of the input's shape by default; one number
    broadcasts). `wrt` and `tangent` are ignored in reverse mode; `seed` is checked and recorded
    in both modes but only the reverse pass uses it.

    `check=True` adds `check`: the analytic derivatives beside central finite differences
    (check.py); the rest of the record is the same. `hessian=True` adds `hessian`, the matrix of
    second derivatives of a scalar output over the input numbers (hessian.py).

    Raises `GradtraceError` (with the span in `expr`) for any problem with the input.
    """
    settings = settings or get_settings()
    values = values or {}
    if mode not in ("reverse", "forward"):
        raise GradtraceError("value", f"unknown mode {str(mode)[:20]!r}: give 'reverse' or "
                             "'forward'", 0, len(expr))
    graph = compile_graph(expr, values, settings)
    if mode == "forward":
        check_wrt(graph, wrt)
    inputs: dict[str, Array] = {}
    for name, idx in graph.inputs.items():
        if name not in values:
            node = graph.nodes[idx]
            raise GradtraceError(
                "name", f"unknown name '{name}': give it a value, or assign it before use "
                f"({name} = ...)", node.start, node.end,
            )
        inputs[name] = parse_value(name, values[name], graph.spans[name], settings)
    warnings: list[dict[str, Any]] = [
        {"type": "unused_value", "message": f"the value given for '{name}' is ignored: the "
         "expression does not use it", "node": None, "start": 0, "end": 0}
        for name in values if name not in graph.inputs
    ]
    warnings += [
        {"type": "unused_statement", "message": f"'{graph.source[a:b][:40]}' is not used: only "
         "the last statement is the output (to name it for later, write name = ...)",
         "node": None, "start": a, "end": b}
        for a, b in graph.unused
    ]
    vals = forward(graph, inputs, settings)
    out = vals[graph.output]
    if mode == "forward":
        assert wrt is not None
        direction = make_tangent(graph, wrt, tangent, vals, settings)
        tan = forward_mode(graph, vals, wrt, direction)
        record = _forward_record(graph, vals, make_seed(graph, seed, out, settings), tan,
                                 warnings)
        if check:
            record["check"] = check_forward(graph, inputs, vals, wrt, tan.tangent, tan.output,
                                            settings)
        if hessian:
            record["hessian"] = _hessian_record(expr, values, inputs, settings)
        return record
    res = backward(graph, vals, make_seed(graph, seed, out, settings))
    for w in (
        _first_nonfinite(graph, list(vals), graph.nodes, "forward pass"),
        _first_nonfinite(graph, res.grads, list(reversed(graph.nodes)), "backward pass"),
    ):
        if w:
            warnings.append(w)
    edges = _edge_records(graph, res)
    _add_jacobians(graph, res, edges, settings)
    # Each gradient is encoded once and the same data shared by the node, its step and
    # `gradients` (a tensor's tolist() is most of the record's cost).
    grads = [encode(g) for g in res.grads]
    out_node = graph.nodes[graph.output]
    record = Trace({
        "expr": expr,
        "mode": "reverse",
        "output": out_node.id,
        "value": encode(out),
        "shape": list(out.shape),
        "seed": encode(res.seed),
        "gradients": {name: grads[idx] for name, idx in graph.inputs.items()},
        "nodes": [_node_record(n, res, grads[n.index]) for n in graph.nodes],
        "edges": edges,
        "forward": [n.id for n in graph.nodes],
        "backward": _steps(graph, res, edges, grads),
        "gates": {k: v for k, v in GATE_TEXT.items()},
        "structure": graph.structure,
        "cost": _cost(graph, vals),
        "warnings": warnings,
    })
    if check:
        record["check"] = _reverse_check(graph, inputs, vals, res, settings)
    if hessian:
        record["hessian"] = _hessian_record(expr, values, inputs, settings)
    return record


def _hessian_record(expr: str, values: Mapping[str, object], inputs: Mapping[str, Array],
                    settings: Settings) -> dict[str, Any]:
    h = second_derivatives(expr, values, inputs, settings)
    return {"inputs": h["inputs"], "labels": h["labels"], "matrix": encode(h["matrix"]),
            "symmetric": is_symmetric(h["matrix"])}


def _reverse_check(graph: Graph, inputs: Mapping[str, Array], vals: list[Array], res: Result,
                   settings: Settings) -> dict[str, Any]:
    """The numeric check of every input's gradient (check.py)."""
    grads: dict[str, Array] = {}
    for name, idx in graph.inputs.items():
        g = res.grads[idx]
        grads[name] = g if g is not None else np.zeros(vals[idx].shape)
    return check_reverse(graph, inputs, vals, res.seed, grads, settings)


def _add_jacobians(graph: Graph, res: Result, edges: list[dict[str, Any]],
                   settings: Settings) -> None:
    """On every tensor edge a gradient flows along: `jacobian_size` (target numbers x source
    numbers), and `jacobian` (the explicit matrix, jacobian.py) when that is small enough."""
    for e, rec in zip(graph.edges, edges, strict=True):
        src, dst = res.values[e.source], res.values[e.target]
        if (src.ndim == 0 and dst.ndim == 0) or res.downstream[e.index] is None:
            continue
        size = jacobian_size(src.shape, dst.shape)
        rec["jacobian_size"] = size
        rec["jacobian"] = None
        if size <= settings.max_jacobian_entries:
            target = graph.nodes[e.target]
            assert target.op is not None
            args = [res.values[a] for a in target.args]
            rec["jacobian"] = encode(edge_jacobian(REGISTRY[target.op], args, dst, e.arg))


def _forward_record(graph: Graph, vals: list[Array], seed: Array, tan: Tangents,
                    warnings: list[dict[str, Any]]) -> Trace:
    """The forward-mode record: the reverse record's fields (no gradients, no backward steps),
    plus the direction, every node's and edge's tangent, and the output's (`derivative`)."""
    n_edges = len(graph.edges)
    res = Result(vals, [None] * len(graph.nodes), [None] * n_edges, tan.local, seed)
    for w in (
        _first_nonfinite(graph, list(vals), graph.nodes, "forward pass"),
        _first_nonfinite(graph, tan.tangents, graph.nodes, "tangent (forward mode)"),
    ):
        if w:
            warnings.append(w)
    edges = _edge_records(graph, res)
    for e, rec in zip(graph.edges, edges, strict=True):
        rec["tangent"] = encode(tan.contributions[e.index])
    nodes = []
    for n in graph.nodes:
        rec = _node_record(n, res, None)
        rec["tangent"] = encode(tan.tangents[n.index])
        nodes.append(rec)
    out = vals[graph.output]
    return Trace({
        "expr": graph.source,
        "mode": "forward",
        "wrt": tan.wrt,
        "tangent": encode(tan.tangent),
        "derivative": encode(tan.output),
        "output": graph.nodes[graph.output].id,
        "value": encode(out),
        "shape": list(out.shape),
        "seed": encode(seed),
        "gradients": {},
        "nodes": nodes,
        "edges": edges,
        "forward": [n.id for n in graph.nodes],
        "backward": [],
        "gates": {k: v for k, v in GATE_TEXT.items()},
        "structure": graph.structure,
        "cost": _cost(graph, vals),
        "warnings": warnings,
    })
