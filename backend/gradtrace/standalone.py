"""One self-contained HTML file that steps through a trace offline, with no server.

The file holds the trace and its layout (JSON), the standalone bundle of the browser app
(frontend/standalone/, built to `<frontend_dist>/standalone/standalone.{js,css}`: the graph view,
the step controls and the explanation) and its CSS, all inlined. It is what "Download HTML" in
the app gives (`GET /api/standalone.html`), and what a notebook shows (`notebook_html`). A
forward-mode record (`trace(..., mode="forward", wrt="x")`, or the query's `mode=forward&wrt=x`)
gives a page that steps forward mode, as the app does: tangents, no backward pass. A view with
gates opened (`expand=g3`) is drawn as it is, each opened gate's parts in their titled box; the
file cannot open or close gates itself (that is another trace, which needs the server).

Escaping: the data is JSON inside `<script type="application/json">`, with `<`, `>` and `&`
written as `\\u003c`, `\\u003e`, `\\u0026` (so no `</script>` or `<!--` in user text can end or
bend the block); the title is HTML-escaped; everything else user-typed reaches the page only as
text set by the script (`textContent`). A Content-Security-Policy in the file lets only the inlined
script run (by its hash), and no request leave the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from .errors import GradtraceError
from .render import THEMES, step_index
from .settings import Settings, get_settings


class StandaloneUnavailable(RuntimeError):
    """The standalone bundle has not been built (`cd frontend && npm ci && npm run build`)."""


def bundle_dir(settings: Settings | None = None) -> Path:
    return Path((settings or get_settings()).frontend_dist) / "standalone"


@lru_cache(maxsize=4)
def _read_bundle(directory: str, mtimes: tuple[float, float]) -> tuple[str, str]:
    d = Path(directory)
    return (d / "standalone.js").read_text(encoding="utf-8"), (
        d / "standalone.css").read_text(encoding="utf-8")


def load_bundle(settings: Settings | None = None) -> tuple[str, str]:
    """The standalone script and its CSS, as text (read once per build)."""
    d = bundle_dir(settings)
    js, css = d / "standalone.js", d / "standalone.css"
    if not (js.is_file() and css.is_file()):
        raise StandaloneUnavailable(
            f"the standalone bundle is not built ({d} has no standalone.js and standalone.css): "
            "run `npm ci && npm run build` in frontend/")
    return _read_bundle(str(d), (js.stat().st_mtime, css.stat().st_mtime))


def _script_json(data: Any) -> str:
    """JSON that can sit inside a <script> element: no `<`, `>` or `&` in it at all."""
    # orjson: 10 times faster than json.dumps on a tensor record (2.4 s for a 64x256 MLP's).
    text = orjson.dumps(data).decode()
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _script_text(js: str) -> str:
    # A bundle never holds these today; if one ever did, `<\/` means the same in JS strings.
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _default_layouts(trace_record: Mapping[str, Any], settings: Settings
                     ) -> dict[str, dict[str, Any]]:
    """Both layouts of a record that `trace()` made (it keeps its analysis): no second parse."""
    from .layout import compute_layout

    analysis = getattr(trace_record, "analysis", None)
    if analysis is None:
        raise ValueError("give the layout (the /api/layout answer) with a record that did not "
                         "come from gradtrace.trace()")
    return {d: compute_layout(analysis.graph, settings, d) for d in ("down", "right")}


def standalone_html(trace_record: Mapping[str, Any], layout: dict[str, Any] | None = None,
                    step: str | None = None, theme: str = "light",
                    settings: Settings | None = None,
                    layouts: Mapping[str, dict[str, Any]] | None = None) -> str:
    """The page for `trace_record` (a `gradtrace.trace(...)` record, reverse or forward mode)
    drawn with `layout` (its `/api/layout` answer), or with `layouts` (one per direction, down
    and right: the file then draws the one that fits its window, and its toggle switches);
    both computed when neither is given, for a record that `trace()` made. Opened at `step`
    (`f2`, `b3`, `start`, `end`; None: the end) in `theme` (light, dark, projector).

    Raises `GradtraceError` for an unknown step or theme, `StandaloneUnavailable` when the
    frontend is not built."""
    settings = settings or get_settings()
    if theme not in THEMES:
        raise GradtraceError("value", f"unknown theme {theme!r}: use light, dark or projector")
    if step is not None:
        step_index(trace_record, step)  # an unknown step is an error here, as for pictures
    js, css = load_bundle(settings)
    if layout is None and layouts is None:
        layouts = _default_layouts(trace_record, settings)
    if layout is None:
        assert layouts is not None
        # The one a 16:9 screen takes: the file's first drawing, before it measures its window.
        layout = layouts.get("right") or next(iter(layouts.values()))
    page: dict[str, Any] = {"trace": trace_record, "layout": layout, "step": step,
                            "theme": theme}
    if layouts:
        page["layouts"] = dict(layouts)
    data = _script_json(page)
    script = _script_text(js)
    style = css.replace("</style", "<\\/style")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           "font-src data:; img-src data: blob:; base-uri 'none'; form-action 'none'")
    title = html.escape(f"gradtrace: {trace_record.get('expr', '')}"[:200], quote=True)
    return (
        "<!doctype html>\n"
        f'<html lang="en" data-theme="{theme}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        '<meta name="generator" content="gradtrace">\n'
        f"<style>\n{style}\n</style>\n</head>\n"
        '<body class="standalone">\n<div id="app"></div>\n'
        f'<script type="application/json" id="gradtrace-data">{data}</script>\n'
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def notebook_html(trace_record: Mapping[str, Any], layout: dict[str, Any] | None = None,
                  step: str | None = None, theme: str = "light", height: int = 560,
                  settings: Settings | None = None) -> str:
    """The standalone page for a notebook cell (`Trace._repr_html_`): in a sandboxed iframe, so
    its styles and script stay out of the notebook's own page."""
    page = standalone_html(trace_record, layout, step, theme, settings)
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
            f'style="width:100%;height:{int(height)}px;border:1px solid #ddd;border-radius:6px" '
            'title="gradtrace"></iframe>')


def repr_html(trace_record: Mapping[str, Any]) -> str | None:
    """For `Trace._repr_html_`: the notebook view, or None (plain repr) without a built
    frontend."""
    try:
        return notebook_html(trace_record)
    except StandaloneUnavailable:
        return None
