"""The API routes. Each is thin: validate (pydantic), run the domain function off the event loop,
answer JSON. Errors are turned into JSON in one place (errors.py)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .. import __version__
from .. import record as records
from ..analysis import Analysis, analyse, compile_graph, request
from ..cancel import CancelToken
from ..codegen import MEDIA_TYPE, Lang, filename, generate_code
from ..layout import LayoutCache
from ..render import Format, convert, render_svg
from ..schema import (
    ErrorResponse,
    Health,
    LayoutRequest,
    LayoutResponse,
    Preset,
    TraceRequest,
    TraceResponse,
)
from ..settings import Settings
from ..state import ViewState, from_query
from .cache import BodyCache, request_key
from .runner import Runner

router = APIRouter(prefix="/api")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad input: the span says where."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    422: {"model": ErrorResponse, "description": "The request is not of the documented form."},
    503: {"model": ErrorResponse, "description": "Overloaded: retry after Retry-After seconds."},
}


def _state(request: Request) -> tuple[Settings, Runner, LayoutCache]:
    s = request.app.state
    return s.settings, s.runner, s.layouts


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(status="ok", version=__version__)


@cache
def _presets() -> list[dict[str, Any]]:
    text = resources.files("gradtrace").joinpath("data/seed_examples.json").read_text()
    presets: list[dict[str, Any]] = json.loads(text)
    return presets


@router.get("/presets", response_model=list[Preset], response_model_exclude_unset=True)
async def presets() -> list[dict[str, Any]]:
    """The worked examples of the lecture notes: expression, values, seed and expected numbers."""
    return _presets()


def _trace_body(body: TraceRequest, settings: Settings, cache: BodyCache,
                cancel: CancelToken | None = None) -> bytes:
    if body.mode == "reverse" and not body.check and not body.hessian:
        # wrt and tangent do not change a reverse-mode record: the key of old.
        key = request_key(body.expr, body.values, body.seed)
    else:
        # A dict is never a valid seed (it is refused, and errors are not cached), so no
        # forward-mode key can be a reverse-mode one.
        key = request_key(body.expr, body.values, {"mode": body.mode, "seed": body.seed,
                                                   "wrt": body.wrt, "tangent": body.tangent,
                                                   "check": body.check,
                                                   "hessian": body.hessian})
    cached = cache.get(key)
    if cached is not None:
        return cached
    # The record is JSON-ready as built (non-finite numbers are strings): no second validation.
    data = records.to_json(records.build(analyse(body, settings, cancel)))
    cache.put(key, data)
    return data


@router.post("/trace", response_model=TraceResponse, responses=ERRORS)
async def post_trace(body: TraceRequest, request: Request) -> Response:
    """Forward values and backward steps of `expr` at `values`, with output gradient `seed`; or,
    with `mode: "forward"`, the forward-mode tangents along input `wrt` in direction `tangent`."""
    settings, runner, _ = _state(request)
    token = CancelToken()
    data = await runner.run(_trace_body, body, settings, request.app.state.traces, token,
                            cancel=token)
    return Response(data, media_type="application/json")


@router.post("/layout", response_model=LayoutResponse, responses=ERRORS)
async def post_layout(body: LayoutRequest, request: Request) -> JSONResponse:
    """The Graphviz layout of the expression's graph: depends on its structure only, cached."""
    settings, runner, layouts = _state(request)

    def work() -> dict[str, Any]:
        return layouts.get(compile_graph(body.expr, body.values, settings), settings)

    return JSONResponse(await runner.run(work))


MEDIA = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}


def analyse_query(query: list[tuple[str, str]], settings: Settings,
                  cancel: CancelToken | None = None) -> tuple[ViewState, Analysis]:
    """The view a page's query describes, analysed once (forward mode with `mode=forward`)."""
    state = from_query(query)
    req = request(state.expr, state.values, state.seed, state.mode, state.wrt, state.tangent)
    return state, analyse(req, settings, cancel)


def _picture(query: list[tuple[str, str]], fmt: Format, settings: Settings,
             layouts: LayoutCache, cancel: CancelToken) -> bytes:
    state, a = analyse_query(query, settings, cancel)
    record = records.build(a)
    layout = layouts.get(a.graph, settings)
    return convert(render_svg(record, layout, state.step, state.theme), fmt, state.scale,
                   settings.max_picture_pixels, settings.picture_timeout_s)


@router.get("/picture.{fmt}", responses={
    200: {"content": {m: {} for m in MEDIA.values()}, "description": "The picture."}, **ERRORS})
async def get_picture(fmt: Format, request: Request) -> Response:
    """The graph at a step, as the app draws it: `?expr=...&x=-2&step=b3&theme=light&scale=2`.

    Inputs are one parameter each (JSON values); `v.<name>` escapes a name that is reserved."""
    settings, runner, layouts = _state(request)
    token = CancelToken()
    data = await runner.run(_picture, list(request.query_params.multi_items()), fmt, settings,
                            layouts, token, cancel=token)
    return Response(data, media_type=MEDIA[fmt],
                    headers={"content-disposition": f'inline; filename="gradtrace.{fmt}"'})


def _code(query: list[tuple[str, str]], lang: Lang, settings: Settings,
          cancel: CancelToken) -> str:
    # `lang` is this route's own parameter: an input called lang is given as `v.lang`.
    _, a = analyse_query([(k, v) for k, v in query if k != "lang"], settings, cancel)
    return generate_code(a, lang)


@router.get("/code", responses={
    200: {"content": {MEDIA_TYPE: {}}, "description": "A runnable Python file."}, **ERRORS})
async def get_code(request: Request, lang: Lang = "numpy") -> Response:
    """The expression as a runnable Python file, from the page's query
    (`?lang=numpy&expr=...&x=-2`): NumPy with the backward pass written out by hand, one line per
    edge, or PyTorch with autograd; either prints each input's gradient. With the forward-mode
    view's `mode=forward&wrt=x` (and `tangent`): the tangents by hand, or PyTorch's dual numbers,
    printing the output's derivative along the direction."""
    settings, runner, _ = _state(request)
    token = CancelToken()
    text = await runner.run(_code, list(request.query_params.multi_items()), lang, settings,
                            token, cancel=token)
    return Response(text, media_type=MEDIA_TYPE, headers={
        "content-disposition": f'inline; filename="{filename(lang)}"'})
