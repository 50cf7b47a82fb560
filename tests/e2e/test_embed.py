"""Embedding in slides, in Debian's chromium: a host page on another port drives /embed by
postMessage; the reveal.js example steps the graph with fragments; the standalone HTML file steps
through offline from disk (file://); a broken URL shows its error in the view."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gradtrace import trace
from gradtrace.errors import GradtraceError
from gradtrace.settings import Settings
from gradtrace.standalone import StandaloneUnavailable, notebook_html, repr_html, standalone_html

from ..helpers import unavailable
from .conftest import ROOT, screenshot
from .test_app import grad_of, label, open_at, query

Page = Any  # playwright.sync_api.Page

CIRCUIT = query("(x + y) * z", {"x": -2, "y": 5, "z": -4})
PRESETS = {p["key"]: p for p in json.loads(
    (ROOT / "backend" / "gradtrace" / "data" / "seed_examples.json").read_text())}
REVEAL_DIST = ROOT / "frontend" / "node_modules" / "reveal.js" / "dist"

# The host page: an iframe of whatever ?src= says; every gradtrace message it hears goes into
# window.events; window.send(msg) posts to the frame.
HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>host</title><link rel="icon" href="data:,">
<style>
  body { margin: 0; font: 16px sans-serif; }
  iframe { width: 960px; height: 540px; border: 0; }
</style>
</head><body>
<iframe id="gt" title="gradtrace"></iframe>
<script>
  window.events = [];
  const frame = document.getElementById("gt");
  window.addEventListener("message", (ev) => {
    const ours = ev.data && String(ev.data.type).startsWith("gradtrace:");
    if (ev.source === frame.contentWindow && ours) window.events.push(ev.data);
  });
  window.send = (msg) => frame.contentWindow.postMessage(msg, "*");
  frame.src = new URLSearchParams(location.search).get("src");
</script>
</body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def host_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin (another loopback port): the host page, and the reveal.js example with
    reveal.js itself, served from a temporary directory by a tiny http.server."""
    root = tmp_path_factory.mktemp("host")
    (root / "host.html").write_text(HOST_PAGE)
    shutil.copy(ROOT / "frontend" / "examples" / "reveal.html", root / "reveal.html")
    if REVEAL_DIST.is_dir():
        (root / "reveal" / "theme").mkdir(parents=True)
        for name in ("reveal.js", "reveal.css", "theme/white.css"):
            shutil.copy(REVEAL_DIST / name, root / "reveal" / name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def events(page: Page) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = page.evaluate("window.events")
    return got


def wait_event(page: Page, count: int) -> dict[str, Any]:
    """The event number `count` (0-based) once it has come."""
    page.wait_for_function("n => window.events.length > n", arg=count)
    return events(page)[count]


def test_host_page_steps_the_embed_by_postmessage(app: Page, server: str, host_site: str,
                                                  screenshots: Path) -> None:
    src = f"{server}/embed{CIRCUIT}"
    app.goto(f"{host_site}/host.html?src={quote(src, safe='')}")
    ready = wait_event(app, 0)
    assert ready["type"] == "gradtrace:ready"
    assert ready["step"] == "b5" and ready["label"] == "backward 5/5"  # no step in the URL: end
    assert ready["expr"] == "(x + y) * z"
    assert (ready["index"], ready["total"], ready["phase"], ready["k"], ready["n"]) == (
        9, 10, "backward", 5, 5)

    def send(msg: Any) -> dict[str, Any]:
        n = len(events(app))
        app.evaluate("m => window.send(m)", msg)
        return wait_event(app, n)

    e = send({"type": "gradtrace:step", "step": "b3"})
    assert (e["type"], e["step"], e["label"], e["index"]) == (
        "gradtrace:stepped", "b3", "backward 3/5", 7)
    assert send({"type": "gradtrace:next"})["label"] == "backward 4/5"
    assert send({"type": "gradtrace:prev"})["label"] == "backward 3/5"
    assert send({"type": "gradtrace:step", "step": "f2"})["label"] == "forward 2/5"
    assert send({"type": "gradtrace:step", "step": 0})["label"] == "forward 1/5"
    frame = app.frame_locator("#gt")
    assert frame.get_by_test_id("step-label").inner_text() == "forward 1/5"

    # Anything not exactly of the protocol's form is ignored: no step, no answer.
    n = len(events(app))
    for bad in [{"type": "gradtrace:step", "step": "zz"}, {"type": "gradtrace:next", "x": 1},
                "gradtrace:next", {"type": "gradtrace:step", "step": -3}, None]:
        app.evaluate("m => window.send(m)", bad)
    e = send({"type": "gradtrace:step", "step": "b3"})
    assert events(app)[n:] == [e] and e["label"] == "backward 3/5"
    assert frame.get_by_test_id("step-label").inner_text() == "backward 3/5"
    app.wait_for_timeout(150)
    # The step b3 of the circuit: the output and the + node have their gradients, the inputs not.
    graded = frame.locator("[data-node-id][data-grad]")
    assert graded.count() == 3 and grad_of_frame(frame, "x") is None
    screenshot(app, screenshots / "embed-host-b3.png",
               [frame.get_by_test_id("step-label").filter(has_text="backward 3/5"), graded])

    # A step taken in the frame itself (a key) is reported too.
    frame.get_by_test_id("graph").click()
    n = len(events(app))
    app.keyboard.press("ArrowRight")
    assert wait_event(app, n)["label"] == "backward 4/5"
    # A presenter's clicker sends Page Up / Page Down.
    n = len(events(app))
    app.keyboard.press("PageUp")
    assert wait_event(app, n)["label"] == "backward 3/5"
    n = len(events(app))
    app.keyboard.press("PageDown")
    assert wait_event(app, n)["label"] == "backward 4/5"

    e = send({"type": "gradtrace:step", "step": "end"})
    assert e["label"] == "backward 5/5" and e["step"] == "b5"
    grads = {name: frame.locator(f"[data-node-id][data-kind=input][data-name={name}]")
             .get_attribute("data-grad") for name in "xyz"}
    assert {k: float(v or "nan") for k, v in grads.items()} == PRESETS["circuit"]["gradients"]


def test_early_command_is_applied_once_the_graph_is_drawn(app: Page, server: str,
                                                          host_site: str) -> None:
    held: list[Any] = []
    app.route("**/api/trace", lambda route: held.append(route))  # hold the first trace back
    app.goto(f"{host_site}/host.html?src={quote(f'{server}/embed{CIRCUIT}', safe='')}")
    app.frame_locator("#gt").locator(".controls").wait_for(state="attached")
    for _ in range(200):
        if held:
            break
        app.wait_for_timeout(20)
    app.evaluate("window.send({type: 'gradtrace:step', step: 'b2'})")
    app.wait_for_timeout(100)
    assert events(app) == []
    for route in held:
        route.continue_()
    app.unroute("**/api/trace")
    assert wait_event(app, 0)["type"] == "gradtrace:ready"
    e = wait_event(app, 1)
    assert (e["type"], e["label"]) == ("gradtrace:stepped", "backward 2/5")


def test_reveal_fragments_step_the_embedded_graph(app: Page, server: str, host_site: str,
                                                  screenshots: Path) -> None:
    if not REVEAL_DIST.is_dir():
        unavailable("reveal.js is not installed (cd frontend && npm ci)")
    app.set_viewport_size({"width": 1280, "height": 800})
    app.goto(f"{host_site}/reveal.html?server={quote(server, safe='')}")
    app.wait_for_function("() => window.Reveal && Reveal.isReady()")
    app.keyboard.press("ArrowRight")  # to the slide with the graph
    app.wait_for_function("() => window.events.some(e => e.type === 'gradtrace:ready')")
    frame = app.frame_locator("iframe[data-gradtrace]")
    # With no fragment shown, the graph is at its URL's step (f5: the forward pass done).
    app.wait_for_function("() => window.events.some(e => e.step === 'f5')")
    assert frame.get_by_test_id("step-label").inner_text() == "forward 5/5"

    def last() -> dict[str, Any]:
        return events(app)[-1]

    for k in (1, 2, 3):
        n = len(events(app))
        app.keyboard.press("ArrowRight")  # the next fragment
        wait_event(app, n)
        assert last()["step"] == f"b{k}", events(app)
    assert frame.get_by_test_id("step-label").inner_text() == "backward 3/5"
    assert app.locator("[data-gradtrace-caption]").inner_text() == "backward 3/5"
    app.wait_for_timeout(150)
    screenshot(app, screenshots / "reveal-b3.png",
               [app.locator("[data-gradtrace-caption]").filter(has_text="backward 3/5"),
                frame.get_by_test_id("step-label").filter(has_text="backward 3/5"),
                frame.locator("[data-node-id][data-grad]")])

    n = len(events(app))
    app.evaluate("Reveal.prev()")  # hides fragment 3: back to b2
    assert wait_event(app, n)["label"] == "backward 2/5"
    for _ in range(3):
        app.evaluate("Reveal.next()")
    app.wait_for_function("() => window.events.at(-1).label === 'backward 5/5'")
    assert grad_of_frame(frame, "x") == "-4" and grad_of_frame(frame, "z") == "3"


def grad_of_frame(frame: Any, name: str) -> str | None:
    value: str | None = frame.locator(
        f"[data-node-id][data-kind=input][data-name={name}]").get_attribute("data-grad")
    return value


# ---- the standalone file ----


@pytest.fixture()
def offline(browser: Any) -> Iterator[tuple[Page, list[str]]]:
    """A page for files opened from disk; collects any request that is not for a file (there
    must be none) and any page error or dialog."""
    context = browser.new_context(viewport={"width": 1100, "height": 720},
                                  reduced_motion="reduce")
    page = context.new_page()
    problems: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
            else problems.append(f"request {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" else None)

    def on_dialog(d: Any) -> None:
        problems.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(10_000)
    try:
        yield page, problems
    finally:
        context.close()


def test_downloaded_html_steps_to_the_end_offline(app: Page, offline: tuple[Page, list[str]],
                                                  tmp_path: Path, screenshots: Path) -> None:
    app.goto("/" + CIRCUIT + "&step=b1")
    app.wait_for_selector("[data-node-id]")
    with app.expect_download() as info:
        app.get_by_test_id("export-html").click()
    download = info.value
    assert download.suggested_filename == "gradtrace.html"
    path = tmp_path / "gradtrace.html"
    download.save_as(path)
    page, problems = offline
    page.goto(path.as_uri())
    page.wait_for_selector("[data-node-id]")
    assert label(page) == "backward 1/5"  # the step the page was at
    assert grad_of(page, "x") is None
    page.keyboard.press("ArrowRight")
    assert label(page) == "backward 2/5"
    for _ in range(3):
        page.get_by_test_id("step-next").click()
    assert label(page) == "backward 5/5"
    assert {n: float(grad_of(page, n) or "nan") for n in "xyz"} == PRESETS["circuit"]["gradients"]
    assert page.get_by_test_id("output-value").get_attribute("data-value") == "-12"
    assert "\\partial" not in page.get_by_test_id("explain").inner_text()  # KaTeX rendered it
    page.keyboard.press("Home")
    assert label(page) == "forward 1/5"
    page.keyboard.press("End")
    assert label(page) == "backward 5/5"
    page.wait_for_timeout(150)
    screenshot(page, screenshots / "standalone-circuit-end.png",
               [page.get_by_test_id("step-label").filter(has_text="backward 5/5"),
                page.locator("[data-node-id][data-kind=input][data-grad]"),
                page.get_by_test_id("output-value")])
    assert problems == []


def test_standalone_route_answers_a_download(server: str) -> None:
    r = httpx.get(f"{server}/api/standalone.html{CIRCUIT}&step=b3&theme=dark", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="gradtrace.html"'
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="en" data-theme="dark">' in r.text
    bad = httpx.get(f"{server}/api/standalone.html{CIRCUIT}&step=b99", timeout=30)
    assert bad.status_code == 400 and "no backward step 99" in bad.json()["error"]["message"]
    bad = httpx.get(f"{server}/api/standalone.html?expr=W&W=[[1,2", timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "value"
    # Forward mode: the file holds the forward-mode record; its mistakes answer as /api/trace's.
    r = httpx.get(f"{server}/api/standalone.html{CIRCUIT}&mode=forward&wrt=y&step=f3", timeout=30)
    assert r.status_code == 200, r.text
    data = re.search(r'id="gradtrace-data">(.*?)</script>', r.text, re.S)
    assert data is not None
    inlined = json.loads(data.group(1))
    assert inlined["trace"]["mode"] == "forward" and inlined["trace"]["wrt"] == "y"
    assert inlined["trace"]["derivative"] == -4.0 and inlined["step"] == "f3"
    for extra, words in (("&mode=forward", "needs 'wrt'"), ("&mode=forward&wrt=q", "not an input"),
                         ("&mode=forward&wrt=x&step=b1", "forward steps only")):
        bad = httpx.get(f"{server}/api/standalone.html{CIRCUIT}{extra}", timeout=30)
        assert bad.status_code == 400 and words in bad.json()["error"]["message"], bad.text


def test_standalone_tensor_example(offline: tuple[Page, list[str]], tmp_path: Path,
                                   screenshots: Path) -> None:
    p = PRESETS["matmul-seeded"]
    record = trace(p["expr"], p["values"], p.get("seed"))
    path = tmp_path / "matmul.html"
    path.write_text(standalone_html(record, step="f1", theme="projector"), encoding="utf-8")
    page, problems = offline
    page.goto(path.as_uri())
    page.wait_for_selector("[data-node-id]")
    assert label(page).startswith("forward 1/")
    value = page.get_by_test_id("output-value").get_attribute("data-value")
    assert json.loads(value or "null") == p["output"]
    page.keyboard.press("End")
    assert json.loads(grad_of(page, "x") or "null") == p["gradients"]["x"]
    assert json.loads(grad_of(page, "y") or "null") == p["gradients"]["y"]
    assert "gradient" in page.get_by_test_id("inspector").inner_text()  # heat matrices of x
    page.wait_for_timeout(150)
    screenshot(page, screenshots / "standalone-matmul-end.png",
               [page.get_by_test_id("step-label").filter(has_text="backward"),
                page.get_by_test_id("inspector"),
                page.locator("[data-node-id][data-name=x][data-grad]")])
    assert problems == []


def test_standalone_file_shows_the_warnings(browser: Any, tmp_path: Path) -> None:
    record = trace("log(x)", {"x": 0})
    assert record["warnings"], "log(0) should warn"
    path = tmp_path / "log0.html"
    path.write_text(standalone_html(record), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1100, "height": 720})
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_selector("[data-node-id]")
        text = page.get_by_test_id("warnings").inner_text()
        for w in record["warnings"]:
            assert w["message"] in text
    finally:
        context.close()


def test_notebook_html_shows_the_same_page_in_a_sandboxed_frame(
        offline: tuple[Page, list[str]], tmp_path: Path) -> None:
    p = PRESETS["circuit"]
    path = tmp_path / "notebook.html"
    cell = notebook_html(trace(p["expr"], p["values"]), height=480)
    path.write_text(f"<!doctype html><meta charset=utf-8><body>{cell}</body>", encoding="utf-8")
    page, problems = offline
    page.goto(path.as_uri())
    frame = page.frame_locator("iframe")
    frame.locator("[data-node-id]").first.wait_for()
    assert frame.get_by_test_id("step-label").inner_text() == "backward 5/5"
    assert grad_of_frame(frame, "z") == "3"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert problems == []


def test_notebook_html_of_a_forward_mode_trace_steps_forward_mode(
        offline: tuple[Page, list[str]], tmp_path: Path) -> None:
    p = PRESETS["circuit"]
    record = trace(p["expr"], p["values"], mode="forward", wrt="x")
    path = tmp_path / "notebook.html"
    cell = record._repr_html_()  # what a Jupyter cell shows
    assert cell is not None
    path.write_text(f"<!doctype html><meta charset=utf-8><body>{cell}</body>", encoding="utf-8")
    page, problems = offline
    page.goto(path.as_uri())
    frame = page.frame_locator("iframe")
    frame.locator("[data-node-id]").first.wait_for()
    assert frame.get_by_test_id("step-label").inner_text() == "forward 5/5"
    out = frame.locator("[data-node-id].output")
    assert out.get_attribute("data-tangent") == "-4"  # d((x + y) z)/dx = z
    assert frame.get_by_test_id("derivative").get_attribute("data-value") == "-4"
    frame.get_by_test_id("step-first").click()
    assert frame.get_by_test_id("step-label").inner_text() == "forward 1/5"
    assert frame.locator("[data-node-id][data-tangent]").count() == 1
    assert problems == []


def test_standalone_file_runs_no_injected_script(server: str, offline: tuple[Page, list[str]],
                                                 tmp_path: Path) -> None:
    # A comment carries the payload, so the expression is valid and the file is made.
    expr = ("x * 2 # </script><script>window.__pwned = 1; alert(1)</script>"
            " <!-- \"q\" 'q' \\ \"]; a [label=\"x <img src=x onerror=alert(2)>")
    r = httpx.get(f"{server}/api/standalone.html", params={"expr": expr, "x": "3"}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    assert "<script>window.__pwned" not in r.text and "<img src=x" not in r.text
    path = tmp_path / "evil.html"
    path.write_bytes(r.content)
    page, problems = offline
    page.goto(path.as_uri())
    page.wait_for_selector("[data-node-id]")
    assert page.evaluate("window.__pwned") is None
    assert page.get_by_test_id("expr").inner_text() == expr  # shown as typed, as text
    assert page.title() == f"gradtrace: {expr}"[:200]
    page.keyboard.press("End")
    assert grad_of(page, "x") == "2"
    assert problems == []


# ---- the embed shows no export buttons ----


def test_embed_hides_the_export_buttons(app: Page, screenshots: Path) -> None:
    open_at(app, "/embed/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="b3"))
    for testid in ("export-svg", "export-png", "export-html", "share", "fit"):
        assert app.get_by_test_id(testid).is_hidden(), testid
    assert app.get_by_test_id("output-value").is_visible()
    assert app.get_by_test_id("step-next").is_visible()
    screenshot(app, screenshots / "embed-no-buttons.png",
               [app.get_by_test_id("output-value"), app.get_by_test_id("step-next"),
                app.get_by_test_id("step-label").filter(has_text="backward 3/5")])


# ---- a broken URL shows its error in the view ----


def test_broken_urls_show_the_error_in_the_view(app: Page, screenshots: Path) -> None:
    app.goto("/embed/" + CIRCUIT + "&step=b99")
    app.wait_for_selector("[data-node-id]")
    err = app.get_by_test_id("view-error")
    assert err.is_visible()
    assert "no backward step 99" in err.inner_text() and "b1 to b5" in err.inner_text()
    app.set_viewport_size({"width": 960, "height": 540})
    app.wait_for_timeout(150)
    screenshot(app, screenshots / "embed-broken-step.png",
               [err.filter(has_text="no backward step 99")])

    app.goto("/" + query("sum(W)", {}) + "&W=" + quote("[[1,2"))
    app.wait_for_selector("[data-node-id]")
    assert "value of 'W'" in app.get_by_test_id("view-error").inner_text()

    app.goto("/embed" + query("x +* y", {"x": 1, "y": 2}))
    err = app.get_by_test_id("view-error")
    err.wait_for(state="visible")
    assert err.inner_text().strip() != ""

    app.goto("/" + query("x +* y", {"x": 1, "y": 2}))
    app.get_by_test_id("error").wait_for(state="visible")  # under the expression box
    assert app.get_by_test_id("view-error").is_hidden()  # not twice

    app.goto("/embed" + CIRCUIT + "&step=zz")
    app.wait_for_selector("[data-node-id]")
    assert "unknown step 'zz'" in app.get_by_test_id("view-error").inner_text()
    assert label(app) == "backward 5/5"


# ---- the file itself (no browser) ----


def test_standalone_data_block_holds_the_record_and_nothing_that_ends_it() -> None:
    import base64
    import hashlib
    import re

    expr = "x * 2 # </script><!-- <script>alert(1)</script> & \u2028"
    record = trace(expr, {"x": 3})
    page = standalone_html(record, step="b1", theme="dark")
    m = re.search(r'<script type="application/json" id="gradtrace-data">(.*?)</script>', page,
                  re.S)
    assert m is not None
    assert "<" not in m.group(1) and ">" not in m.group(1)
    data = json.loads(m.group(1))
    assert data["trace"]["expr"] == expr and data["step"] == "b1" and data["theme"] == "dark"
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1  # the viewer, allowed by its hash and nothing else
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in page
    assert "<title>gradtrace: x * 2 # &lt;/script&gt;&lt;!-- &lt;script&gt;" in page


def test_standalone_refuses_what_it_cannot_show(tmp_path: Path) -> None:
    record = trace("x * 2", {"x": 3})
    with pytest.raises(GradtraceError, match="no backward step 9"):
        standalone_html(record, step="b9")
    with pytest.raises(GradtraceError, match="unknown theme"):
        standalone_html(record, theme="neon")
    unbuilt = Settings(frontend_dist=str(tmp_path))
    with pytest.raises(StandaloneUnavailable, match="npm run build"):
        standalone_html(record, settings=unbuilt)
    cell = repr_html(record)
    assert cell is not None and cell.startswith('<iframe srcdoc="&lt;!doctype html&gt;')
