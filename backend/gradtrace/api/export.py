"""Exports of a whole view: the standalone HTML file (steps through offline, no server).

Thin like routes.py: parse the page's query, trace, lay out (cached by structure), build the file
off the event loop, answer it as a download."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import record as records
from ..cancel import CancelToken
from ..layout import LayoutCache
from ..settings import Settings
from ..standalone import standalone_html
from .routes import ERRORS, analyse_query

router = APIRouter(prefix="/api")


def _standalone(query: list[tuple[str, str]], settings: Settings, layouts: LayoutCache,
                cancel: CancelToken) -> str:
    # A forward-mode view (`mode=forward&wrt=x`) gives a file that steps forward mode.
    state, a = analyse_query(query, settings, cancel)
    record = records.build(a)
    return standalone_html(record, layouts.get(a.graph, settings), state.step, state.theme,
                           settings)


@router.get("/standalone.html", responses={
    200: {"content": {"text/html": {}}, "description": "The page as one offline HTML file."},
    **ERRORS})
async def get_standalone(request: Request) -> Response:
    """The view as one self-contained HTML file (trace, layout and script inlined) that steps
    through offline: `?expr=...&x=-2&step=b3&theme=light`, the same query as the page (with
    `mode=forward&wrt=x`, forward mode)."""
    s = request.app.state
    token = CancelToken()
    page = await s.runner.run(_standalone, list(request.query_params.multi_items()),
                              s.settings, s.layouts, token, cancel=token)
    return Response(page, media_type="text/html; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="gradtrace.html"',
        "cache-control": "no-store",
    })
