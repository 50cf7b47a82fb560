"""Exports of a whole view: the standalone HTML file (steps through offline, no server).

Thin like routes.py: parse the page's query, trace, lay out (cached by structure), build the file
off the event loop, answer it as a download."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..layout import LayoutCache
from ..settings import Settings
from ..standalone import standalone_html
from ..state import from_query
from ..trace import compile_graph, trace
from .routes import ERRORS

router = APIRouter(prefix="/api")


def _standalone(query: list[tuple[str, str]], settings: Settings, layouts: LayoutCache) -> str:
    state = from_query(query)
    # A forward-mode view (`mode=forward&wrt=x`) gives a file that steps forward mode.
    record = trace(state.expr, state.values, state.seed, settings, mode=state.mode,
                   wrt=state.wrt, tangent=state.tangent)
    layout = layouts.get(compile_graph(state.expr, state.values, settings), settings)
    return standalone_html(record, layout, state.step, state.theme, settings)


@router.get("/standalone.html", responses={
    200: {"content": {"text/html": {}}, "description": "The page as one offline HTML file."},
    **ERRORS})
async def get_standalone(request: Request) -> Response:
    """The view as one self-contained HTML file (trace, layout and script inlined) that steps
    through offline: `?expr=...&x=-2&step=b3&theme=light`, the same query as the page (with
    `mode=forward&wrt=x`, forward mode)."""
    s = request.app.state
    page = await s.runner.run(_standalone, list(request.query_params.multi_items()),
                              s.settings, s.layouts)
    return Response(page, media_type="text/html; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="gradtrace.html"',
        "cache-control": "no-store",
    })
