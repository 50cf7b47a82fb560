"""One request, analysed once: text -> parser -> graph -> passes -> an `Analysis`.

Everything a request can ask for is made from its `Analysis`: the record (record.py), the numeric
check (check.py), the Hessian (hessian.py), the Jacobians of tensor edges (jacobian.py), the
generated code (codegen.py), the layout and the pictures (layout.py, render.py) and the offline
file (standalone.py). None of them parses or traces again.

Work on an analysis can be stopped from outside (the client hung up): the `CancelToken` it carries
is checked between forward passes and between nodes, and raises `Cancelled`.

A request may open gates (`expand`: gates.py): the graph is then the view with those gates opened
into their parts, and everything (the passes, the cost, the record, the layout, the pictures, the
code) is made from the view; the Hessian reads the collapsed graph's values from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from .cancel import CancelToken
from .cost import Cost, estimate
from .engine import (
    Graph,
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
from .gates import open_gates
from .infer import Supplied, supply
from .ops import Array
from .parser import Program, parse
from .schema import TraceRequest, Warning_
from .settings import Settings, get_settings

Mode = Literal["reverse", "forward"]


@dataclass(slots=True)
class Analysis:
    """A request's program, graph, input values and passes: what every product is made from."""

    request: TraceRequest
    settings: Settings
    program: Program
    graph: Graph  # the view: the collapsed graph, or a gates.View with gates opened
    inputs: dict[str, Array]  # parsed input values, by name
    values: list[Array]  # every node's value (the forward pass)
    seed: Array  # the output gradient, fitted to the output's shape
    reverse: Result | None  # reverse mode: gradients, downstream and local derivatives
    tangents: Tangents | None  # forward mode: tangents along `request.wrt`
    warnings: list[Warning_] = field(default_factory=list)
    cancel: CancelToken = field(default_factory=CancelToken)
    # Where each input's value came from (the request, the text, drawn), with its shape.
    supplied: dict[str, Supplied] = field(default_factory=dict)

    @property
    def output(self) -> Array:
        return self.values[self.graph.output]


_SURROGATES = re.compile("[\ud800-\udfff]")


def _encodable(text: str, what: str, in_expr: bool = False) -> None:
    """A lone UTF-16 surrogate (JSON can carry "\\ud800", UTF-8 cannot) is refused with a 400
    pointing at it, before it can reach any answer (which must be UTF-8)."""
    bad = _SURROGATES.search(text)
    if bad is not None:
        span = (bad.start(), bad.end()) if in_expr else (0, 0)
        raise GradtraceError("syntax", f"{what} has a character that is not valid Unicode (a "
                             f"lone surrogate, U+{ord(bad.group()):04X})", *span)


def compile_program(expr: str, given: Mapping[str, object], settings: Settings
                    ) -> tuple[Program, Graph]:
    """Parse and build the (collapsed) graph, enforcing the text limits."""
    _encodable(expr, "the expression", in_expr=True)
    if len(given) > settings.max_value_names:
        raise GradtraceError(
            "limit", f"{len(given):,} values are given, more than the limit of "
            f"{settings.max_value_names:,} names", 0, 0)
    for name in given:
        _encodable(name, "the name of a value")
    if len(expr) > settings.max_expr_chars:
        raise GradtraceError(
            "limit", f"the expression is {len(expr):,} characters long, more than the limit of "
            f"{settings.max_expr_chars:,}", settings.max_expr_chars, len(expr),
        )
    program = parse(expr, max_depth=settings.max_depth, given=given)
    return program, build_graph(program, given, settings)


def compile_graph(expr: str, given: Mapping[str, object], settings: Settings,
                  expand: Iterable[str] = ()) -> Graph:
    """The graph alone (what a layout needs): parse and build, with the gates `expand` names
    opened (gates.py), no pass."""
    return compile_view(expr, given, settings, expand)[1]


def compile_view(expr: str, given: Mapping[str, object], settings: Settings,
                 expand: Iterable[str] = ()) -> tuple[Program, Graph, list[Warning_]]:
    """Parse and build the graph, open the gates `expand` names; with a warning per id that
    names no gate of the expression (ignored: a link may be older than an edit of it)."""
    program, graph = compile_program(expr, given, settings)
    view, unknown = open_gates(graph, expand, given, settings)
    shown = settings.max_unused_warnings
    warnings = [
        Warning_(type="unknown_gate", message=f"expand: there is no gate '{gate[:40]}' in this "
                 "expression, so nothing opens for it (the link may be older than the "
                 "expression)", node=None, start=0, end=0)
        for gate in unknown[:shown]
    ]
    if len(unknown) > shown:
        warnings.append(Warning_(
            type="unknown_gate", message=f"expand: and {len(unknown) - shown:,} more gates that "
            "are not in this expression", node=None, start=0, end=0))
    return program, view, warnings


def reading_warnings(graph: Graph, settings: Settings) -> list[Warning_]:
    """The warnings of the reading (an assigned name the output does not use, NumPy's reading
    of np.max(p, 0), ...), as many as settings show."""
    return [Warning_(type=kind, message=message, node=None, start=a, end=b)
            for kind, message, a, b in graph.notes[:settings.max_unused_warnings]]


def request(expr: str, values: Mapping[str, object] | None = None, seed: object = None,
            mode: str = "reverse", wrt: str | None = None, tangent: object = None,
            check: bool = False, hessian: bool = False,
            expand: Iterable[str] = (), rng: int = 0) -> TraceRequest:
    """A request from Python arguments, unvalidated: `analyse` checks it with the errors (and
    spans) the API gives."""
    # `mode` is not narrowed here: a wrong one gets analyse's error with its span.
    return TraceRequest.model_construct(
        expr=expr, values=dict(values or {}), seed=seed, mode=cast(Mode, mode), wrt=wrt,
        tangent=tangent, check=check, hessian=hessian,
        expand=[expand] if isinstance(expand, str) else list(expand), rng=rng)


def analyse(req: TraceRequest, settings: Settings | None = None,
            cancel: CancelToken | None = None,
            admit: Callable[[Cost], None] | None = None) -> Analysis:
    """Parse, build and run the passes of `req` once.

    `admit`, if given, is shown the request's estimated `Cost` before any pass runs, and may
    refuse it by raising (the API's lanes raise `OverBudget` for work too costly for the lane).
    Raises `GradtraceError` (with the span in `expr`) for any problem with the input, and
    `Cancelled` once `cancel` is set."""
    settings = settings or get_settings()
    cancel = cancel or CancelToken()
    expr, given = req.expr, req.values
    if req.mode not in ("reverse", "forward"):
        raise GradtraceError("value", f"unknown mode {str(req.mode)[:20]!r}: give 'reverse' or "
                             "'forward'", 0, len(expr))
    program, graph, gate_warnings = compile_view(expr, given, settings, req.expand)
    if req.mode == "forward":
        _encodable(req.wrt or "", "wrt (the input to differentiate along)")
        check_wrt(graph, req.wrt)
    # Inputs neither the request nor the text gives get a shape that fits the ops, and a value.
    supplied = supply(graph, given, req.rng, settings.max_tensor_elements, req.seed)
    inputs: dict[str, Array] = {}
    for name, s in supplied.items():
        if s.drawn is not None:
            inputs[name] = s.drawn
        else:
            # A value given in the request wins over the one the text gives (a value line).
            raw = given[name] if name in given else graph.defaults[name]
            inputs[name] = parse_value(name, raw, graph.spans[name], settings)
    unused = [name for name in given if name not in graph.inputs]
    shown = settings.max_unused_warnings
    warnings = [
        Warning_(type="unused_value", message=f"the value given for '{name[:40]}' is ignored: "
                 "the expression does not use it", node=None, start=0, end=0)
        for name in unused[:shown]
    ]
    if len(unused) > shown:
        warnings.append(Warning_(type="unused_value", message=f"and {len(unused) - shown:,} more "
                                 "values the expression does not use are ignored", node=None,
                                 start=0, end=0))
    warnings += [
        Warning_(type="unused_statement", message=f"'{graph.source[a:b][:40]}' is not used: "
                 "only the last statement is the output (to name it for later, write name = ...)",
                 node=None, start=a, end=b)
        for a, b in graph.unused
    ]
    warnings += reading_warnings(graph, settings)
    warnings += gate_warnings
    if admit is not None:
        admit(estimate(graph, inputs, settings, check=bool(req.check), hessian=bool(req.hessian)))
    cancel.raise_if_cancelled()
    values = forward(graph, inputs, settings, cancel)
    seed = make_seed(graph, graph.seed_default if req.seed is None else req.seed,
                     values[graph.output], settings)
    reverse: Result | None = None
    tangents: Tangents | None = None
    if req.mode == "forward":
        assert req.wrt is not None
        direction = make_tangent(graph, req.wrt, req.tangent, values, settings)
        tangents = forward_mode(graph, values, req.wrt, direction)
    else:
        cancel.raise_if_cancelled()
        reverse = backward(graph, values, seed)
    return Analysis(req, settings, program, graph, inputs, values, seed, reverse, tangents,
                    warnings, cancel, supplied)
