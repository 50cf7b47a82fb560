"""Exports of a whole view: the standalone HTML file (steps through offline, no server).

Thin like routes.py: parse the page's query, trace, lay out (cached by structure), build the file
off the event loop, answer it as a download."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import jobs
from ..errors import GradtraceError
from .routes import ERRORS, query_of

router = APIRouter(prefix="/api")


@router.get("/standalone.html", responses={
    200: {"content": {"text/html": {}}, "description": "The page as one offline HTML file."},
    **ERRORS})
async def get_standalone(request: Request) -> Response:
    """The view as one self-contained HTML file (trace, layout and script inlined) that steps
    through offline: `?expr=...&x=-2&step=b3&theme=light`, the same query as the page (with
    `mode=forward&wrt=x`, forward mode)."""
    query, size = query_of(request)
    return await _standalone(request, query, size)


@router.post("/standalone.html", responses={
    200: {"content": {"text/html": {}}, "description": "The page as one offline HTML file."},
    **ERRORS}, openapi_extra={"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}})
async def post_standalone(request: Request) -> Response:
    """The same file, with the page's query sent as a form body (`expr=...&X=[[...]]`): for a
    view whose values make its link longer than a request's head may be (the app's share panel
    offers it then)."""
    body = await request.body()
    try:
        query = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=request.app.state.settings.max_value_names + 64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise GradtraceError("value", f"the form body is not a page's query: {exc}"[:200]
                             ) from None
    return await _standalone(request, query, len(body))


async def _standalone(request: Request, query: list[tuple[str, str]], size: int) -> Response:
    state = request.app.state
    page = await state.lanes.run(jobs.standalone, query, state.settings, size=size)
    return Response(page, media_type="text/html; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="gradtrace.html"',
        "cache-control": "no-store",
    })
