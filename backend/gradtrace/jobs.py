"""The work behind each API route, as plain functions of the request's bytes or query.

Each runs in either of the API's lanes (api/lanes.py): in a thread of the server, or in a worker
process, so each is a module-level function of picklable arguments, and this module does not
import FastAPI (a worker process loads it at start). Each takes, by keyword:

- `cancel`: the token the lane sets when nobody waits for the answer any more;
- `layouts`: the layout cache to use (None in a worker process: the process's own);
- `budget`: the estimated work the lane takes (None: any). Each job declares its cost from
  the graph before running (cost.py) and raises `OverBudget` if it does not fit, before any pass.

Every answer is bounded in bytes (`max_response_bytes`): past it, a "limit" error.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Callable, Mapping, MutableSequence, Sequence
from typing import Any, TypeVar

import pydantic

from . import record as records
from .analysis import Analysis, analyse, compile_graph, compile_view, reading_warnings, request
from .cancel import CancelToken, SharedCancelToken
from .codegen import Lang, generate_code
from .cost import Budget, Cost, admit, parse
from .cost import layout as layout_cost
from .describe import as_text
from .describe import describe as describe_view
from .engine import Graph
from .errors import GradtraceError
from .gates import parse_expand
from .infer import supply
from .layout import Direction, LayoutCache, choose_direction
from .readout import reading
from .render import Format, convert, render_svg
from .schema import LayoutRequest, ReadRequest, ReadResponse, TraceRequest
from .settings import Settings
from .standalone import standalone_html
from .state import ViewState, from_query

T = TypeVar("T")
Query = list[tuple[str, str]]


class InvalidRequest(Exception):
    """The request body is not of the documented form (the API answers 422)."""


def parse_body(model: type[pydantic.BaseModel], body: bytes) -> Any:
    """The body as `model`, or `InvalidRequest`. Python's own JSON reader, not pydantic's: JSON
    may carry a lone surrogate ("\\ud800"), which the domain answers with a 400 pointing at it."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidRequest(f"the body is not valid JSON: {exc}"[:300]) from None
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidRequest(describe_invalid(exc.errors())) from None


def describe_invalid(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first few of pydantic's errors as one line: `field: what is wrong`."""
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")  # FastAPI's prefix
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "the request is not valid"


def bounded(data: bytes, expr: str, settings: Settings) -> bytes:
    if len(data) > settings.max_response_bytes:
        raise GradtraceError(
            "limit", f"the answer would be {len(data) / 1e6:,.1f} MB, more than the limit of "
            f"{settings.max_response_bytes / 1e6:,.0f} MB: use smaller tensors", 0, len(expr))
    return data


_own_layouts: LayoutCache | None = None


def _layouts(layouts: LayoutCache | None, settings: Settings) -> LayoutCache:
    """The cache given, or this (worker) process's own."""
    global _own_layouts
    if layouts is not None:
        return layouts
    if _own_layouts is None:
        _own_layouts = LayoutCache(settings.layout_cache_entries, settings.provisional_layout_s,
                                   max_bytes=settings.layout_cache_bytes)
    return _own_layouts


# -- the jobs ---------------------------------------------------------------------------------


def trace(body: bytes, settings: Settings, *, cancel: CancelToken,
          layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """POST /api/trace: the record as JSON bytes."""
    req: TraceRequest = parse_body(TraceRequest, body)
    admit(parse(len(req.expr)), budget)  # before reading the expression
    a = analyse(req, settings, cancel, admit=lambda c: admit(c.trace, budget))
    return bounded(records.to_json(records.build(a)), req.expr, settings)


def layout(body: bytes, settings: Settings, *, cancel: CancelToken,
           layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """POST /api/layout: the layout as JSON bytes (it depends on the structure alone)."""
    req: LayoutRequest = parse_body(LayoutRequest, body)
    admit(parse(len(req.expr)), budget)
    cache = _layouts(layouts, settings)
    graph = compile_graph(req.expr, req.values, settings, req.expand)
    direction = (choose_direction(graph, req.aspect) if req.direction == "auto"
                 else req.direction)
    if not cache.has(graph.structure, direction):
        admit(layout_cost(graph, settings), budget)
    return cache.get_json(graph, settings, direction)


def read(body: bytes, settings: Settings, *, cancel: CancelToken,
         layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """POST /api/read: how the text reads (its canonical form, inputs, skipped lines), no pass."""
    req: ReadRequest = parse_body(ReadRequest, body)
    admit(parse(len(req.expr)), budget)
    program, graph, warnings = compile_view(req.expr, req.values, settings)
    warnings += reading_warnings(graph, settings)
    supplied = supply(graph, req.values, req.rng, settings.max_tensor_elements, req.seed)
    return json.dumps(ReadResponse(reading=reading(program, graph, supplied),
                                   warnings=warnings), allow_nan=False).encode()


def expand_of(query: Query) -> list[str]:
    """The gates a page's query opens: `expand=g3,g3.2` (gates.py), in every `expand` given."""
    return parse_expand(text for key, text in query if key == "expand")


def analyse_view(state: ViewState, settings: Settings, cancel: CancelToken,
                 fits: Callable[[Cost], None], budget: Budget | None,
                 expand: Sequence[str] = ()) -> Analysis:
    """The view a page's query describes, analysed once (forward mode with `mode=forward`, the
    gates of `expand` opened); `fits` is shown its cost before any pass."""
    admit(parse(len(state.expr)), budget)  # before reading the expression
    req = request(state.expr, state.values, state.seed, state.mode, state.wrt, state.tangent,
                  expand=expand, rng=state.rng)
    return analyse(req, settings, cancel, fits)


def _direction(graph: Graph, state: ViewState) -> Direction:
    """The URL's `dir`, else the direction that fits a 16:9 picture or slide."""
    return state.dir or choose_direction(graph, 16 / 9)


def _cached(cache: LayoutCache, structure: str, state: ViewState) -> bool:
    """Whether the view's layout is cached (without `dir`, the direction is chosen from the
    graph, not known yet: both must be)."""
    if state.dir is not None:
        return cache.has(structure, state.dir)
    return cache.has(structure, "right") and cache.has(structure, "down")


def picture(query: Query, fmt: Format, settings: Settings, *, cancel: CancelToken,
            layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """GET /api/picture.{fmt}: the graph at a step, as the app draws it."""
    cache = _layouts(layouts, settings)
    state = from_query(query)

    def fits(c: Cost) -> None:
        admit(c.picture(fmt, state.scale, _cached(cache, c.structure, state)), budget)

    a = analyse_view(state, settings, cancel, fits, budget, expand_of(query))
    layout = cache.get(a.graph, settings, _direction(a.graph, state))
    svg = render_svg(records.build(a), layout, state.step, state.theme)
    data = svg.encode() if fmt == "svg" else convert(
        svg, fmt, state.scale, settings.max_picture_pixels, settings.picture_timeout_s)
    return bounded(data, state.expr, settings)


def standalone(query: Query, settings: Settings, *, cancel: CancelToken,
               layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """GET /api/standalone.html: the view as one offline HTML file."""
    cache = _layouts(layouts, settings)
    state = from_query(query)

    def fits(c: Cost) -> None:
        admit(c.standalone(_cached(cache, c.structure, state)), budget)

    # A forward-mode view (`mode=forward&wrt=x`) gives a file that steps forward mode.
    a = analyse_view(state, settings, cancel, fits, budget, expand_of(query))
    # With `dir` the file keeps that direction; without, it holds both and fits its window.
    if state.dir is not None:
        page = standalone_html(records.build(a), cache.get(a.graph, settings, state.dir),
                               state.step, state.theme, settings)
    else:
        page = standalone_html(records.build(a), None, state.step, state.theme, settings,
                               layouts={d: cache.get(a.graph, settings, d)
                                        for d in ("down", "right")})
    return bounded(page.encode(), state.expr, settings)


def describe(query: Query, text: bool, settings: Settings, *, cancel: CancelToken,
             layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """GET /api/describe: the view in words (describe.py), as JSON or (`text`) plain text."""
    # `format` is the route's own parameter: an input called format is given as `v.format`.
    state = from_query([(k, v) for k, v in query if k != "format"])
    a = analyse_view(state, settings, cancel, lambda c: admit(c.trace, budget), budget,
                     expand_of(query))
    answer = describe_view(records.build(a), state.step)
    data = as_text(answer).encode() if text else json.dumps(
        answer, ensure_ascii=False, allow_nan=False).encode()
    return bounded(data, state.expr, settings)


def code(query: Query, lang: Lang, settings: Settings, *, cancel: CancelToken,
         layouts: LayoutCache | None, budget: Budget | None) -> bytes:
    """GET /api/code: the expression as a runnable Python file."""
    # `lang` is the route's own parameter: an input called lang is given as `v.lang`.
    state = from_query([(k, v) for k, v in query if k != "lang"])
    a = analyse_view(state, settings, cancel, lambda c: admit(c.code, budget), budget,
                     expand_of(query))
    return bounded(generate_code(a, lang).encode(), state.expr, settings)


# -- a worker process's side of the heavy lane ------------------------------------------------

_flags: MutableSequence[int] | None = None


def start_worker(flags: MutableSequence[int], nice: int) -> None:
    """A heavy-lane worker process begins: its cancel flags, and a lower CPU priority."""
    global _flags
    _flags = flags
    with contextlib.suppress(OSError):  # not permitted: it still works, at the same priority
        os.nice(nice)
    gc.freeze()  # the modules' objects live as long as the process: not the collector's work


def work(slot: int, fn: Callable[..., T], args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> T:
    """Run `fn` in a worker process, with the cancel flag of its slot."""
    assert _flags is not None, "start_worker has not run in this process"
    token = SharedCancelToken(_flags, slot)
    token.raise_if_cancelled()  # its client left while it waited: never started
    return fn(*args, cancel=token, **kwargs)
