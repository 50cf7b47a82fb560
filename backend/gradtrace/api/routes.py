"""The API routes. Each is thin: hand the request's bytes or query to its job (jobs.py) in a lane
chosen by cost (lanes.py), answer what it made. Errors are turned into JSON in one place
(errors.py)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from .. import __version__, jobs
from ..codegen import MEDIA_TYPE, Lang, filename
from ..describe import wants_text
from ..render import Format
from ..schema import (
    DescribeResponse,
    ErrorResponse,
    Health,
    LayoutRequest,
    LayoutResponse,
    Preset,
    ReadRequest,
    ReadResponse,
    TraceRequest,
    TraceResponse,
)

router = APIRouter(prefix="/api")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad input: the span says where."},
    408: {"model": ErrorResponse, "description": "The request did not arrive in time."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    422: {"model": ErrorResponse, "description": "The request is not of the documented form."},
    503: {"model": ErrorResponse, "description": "Overloaded: retry after Retry-After seconds."},
}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The documented body of a route that reads its body itself: FastAPI would parse and
    validate it on the event loop, where a 16 MB body stalls every other client; the lanes parse
    it (jobs.parse_body). The model's schema is added to the components in app.py."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


BODY_MODELS: list[type[BaseModel]] = [TraceRequest, LayoutRequest, ReadRequest]


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


@router.post("/trace", response_model=TraceResponse, responses=ERRORS,
             openapi_extra=_body(TraceRequest))
async def post_trace(request: Request) -> Response:
    """Forward values and backward steps of `expr` at `values`, with output gradient `seed`; or,
    with `mode: "forward"`, the forward-mode tangents along input `wrt` in direction `tangent`."""
    state = request.app.state
    body = await request.body()
    # Bodies the light lane may read are cached by their bytes: the same slide opened by every
    # student sends the same bytes.
    key = hashlib.sha256(body).hexdigest() if len(body) <= state.settings.light_request_bytes \
        else None
    cached = state.traces.get(key) if key else None
    if cached is None:
        cached = await state.lanes.run(jobs.trace, body, state.settings, size=len(body))
        if key:
            state.traces.put(key, cached)
    return Response(cached, media_type="application/json")


@router.post("/layout", response_model=LayoutResponse, responses=ERRORS,
             openapi_extra=_body(LayoutRequest))
async def post_layout(request: Request) -> Response:
    """The Graphviz layout of the expression's graph: depends on its structure only, cached."""
    state = request.app.state
    body = await request.body()
    data = await state.lanes.run(jobs.layout, body, state.settings, size=len(body))
    return Response(data, media_type="application/json")


@router.post("/read", response_model=ReadResponse, responses=ERRORS,
             openapi_extra=_body(ReadRequest))
async def post_read(request: Request) -> Response:
    """How the text reads: the program in gradtrace's own language and in LaTeX, its inputs with
    the values the text gives them, the lines skipped (README, "Pasting from a lecture")."""
    state = request.app.state
    body = await request.body()
    data = await state.lanes.run(jobs.read, body, state.settings, size=len(body))
    return Response(data, media_type="application/json")


MEDIA = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}


def query_of(request: Request) -> tuple[list[tuple[str, str]], int]:
    """The page's query, and its size in bytes (the lanes' first criterion)."""
    return list(request.query_params.multi_items()), len(request.scope.get("query_string", b""))


@router.get("/picture.{fmt}", responses={
    200: {"content": {m: {} for m in MEDIA.values()}, "description": "The picture."}, **ERRORS})
async def get_picture(fmt: Format, request: Request) -> Response:
    """The graph at a step, as the app draws it: `?expr=...&x=-2&step=b3&theme=light&scale=2`.

    Inputs are one parameter each (JSON values); `v.<name>` escapes a name that is reserved."""
    state = request.app.state
    query, size = query_of(request)
    data = await state.lanes.run(jobs.picture, query, fmt, state.settings, size=size)
    return Response(data, media_type=MEDIA[fmt],
                    headers={"content-disposition": f'inline; filename="gradtrace.{fmt}"'})


@router.get("/describe", response_model=DescribeResponse, responses={
    200: {"content": {"text/plain": {}}, "description": "The view in words: JSON, or with "
          "`format=text` (or an Accept header preferring text/plain) the title, a blank line "
          "and the text."}, **ERRORS})
async def get_describe(request: Request, format: Literal["json", "text"] | None = None
                       ) -> Response:
    """The view of a page's query (as /api/picture.svg takes it: `?expr=...&x=-2&step=b3`) in
    words: a title and a description of the graph and the step (the pictures' <title> and <desc>,
    alt text for a slide), the step's narration (brief and full) and each node as known there."""
    state = request.app.state
    query, size = query_of(request)
    text = wants_text(format, request.headers.get("accept"))
    data = await state.lanes.run(jobs.describe, query, text, state.settings, size=size)
    # One URL, two forms: a cache keys the answer by the Accept header too.
    return Response(data, media_type="text/plain; charset=utf-8" if text else "application/json",
                    headers={"vary": "Accept"})


@router.get("/code", responses={
    200: {"content": {MEDIA_TYPE: {}}, "description": "A runnable Python file."}, **ERRORS})
async def get_code(request: Request, lang: Lang = "numpy") -> Response:
    """The expression as a runnable Python file, from the page's query
    (`?lang=numpy&expr=...&x=-2`): NumPy with the backward pass written out by hand, one line per
    edge, or PyTorch with autograd; either prints each input's gradient. With the forward-mode
    view's `mode=forward&wrt=x` (and `tangent`): the tangents by hand, or PyTorch's dual numbers,
    printing the output's derivative along the direction."""
    state = request.app.state
    query, size = query_of(request)
    text = await state.lanes.run(jobs.code, query, lang, state.settings, size=size)
    return Response(text, media_type=MEDIA_TYPE, headers={
        "content-disposition": f'inline; filename="{filename(lang)}"'})
