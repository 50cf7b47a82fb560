"""Exports of a whole view: the standalone HTML file (steps through offline, no server).

Thin like routes.py: parse the page's query, trace, lay out (cached by structure), build the file
off the event loop, answer it as a download."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import jobs
from .routes import ERRORS, query_of

router = APIRouter(prefix="/api")


@router.get("/standalone.html", responses={
    200: {"content": {"text/html": {}}, "description": "The page as one offline HTML file."},
    **ERRORS})
async def get_standalone(request: Request) -> Response:
    """The view as one self-contained HTML file (trace, layout and script inlined) that steps
    through offline: `?expr=...&x=-2&step=b3&theme=light`, the same query as the page (with
    `mode=forward&wrt=x`, forward mode)."""
    state = request.app.state
    query, size = query_of(request)
    page = await state.lanes.run(jobs.standalone, query, state.settings, size=size)
    return Response(page, media_type="text/html; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="gradtrace.html"',
        "cache-control": "no-store",
    })
