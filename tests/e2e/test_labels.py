"""Labels in Debian's chromium: an input used only as labels (`y` in cross_entropy(scores, y)) is
shown as labels, whole numbers that take no gradient, in the graph, the values panel, the node
panel and the steps, never as a missing gradient ("null", "NaN", an empty box); stepping to the
end still gives every other input its gradient. Index nodes show their index, options in the
expression are not taken for inputs, and the new ops' steps render without KaTeX errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from .conftest import screenshot
from .test_app import close, flat, grad_of, label, open_app, open_at, query, step_to_end, wait_trace

Page = Any  # playwright.sync_api.Page

PRESET = "softmax-cross-entropy"


def preset(server: str, key: str) -> dict[str, Any]:
    presets = httpx.get(f"{server}/api/presets", timeout=10).json()
    found: dict[str, Any] = next(p for p in presets if p["key"] == key)
    return found


def no_broken_words(text: str) -> None:
    """What a student reads has no trace of a missing number or of the registry's names."""
    for bad in ("null", "NaN", "undefined", "setitem", "index_put_add", "unreduce", "amax_share"):
        assert bad not in text, (bad, text)


def test_labels_show_as_labels_with_no_gradient(app: Page, server: str, screenshots: Path) -> None:
    p = preset(server, PRESET)
    open_app(app)
    # The gallery shows the preset's title, lesson and source; one click loads it.
    button = app.get_by_test_id(f"preset-{PRESET}")
    for part in ("title", "lesson", "source"):
        assert button.locator(f".preset-{part}").inner_text().strip() == p[part]
    button.click()
    wait_trace(app, p["expr"])
    y = app.locator("[data-node-id][data-kind=input][data-name=y]")
    # The graph: y is drawn as labels (its role above it), and its wire is marked as one along
    # which no gradient comes back.
    assert y.get_attribute("data-labels") == "labels"
    assert y.locator(".labels-tag").text_content() == "labels"
    assert "labels (whole numbers): no gradient" in y.locator("title").text_content()
    trace = app.evaluate("() => window.__gradtrace.trace")
    y_node = next(n for n in trace["nodes"] if n["name"] == "y")
    assert y_node["labels"] is True and y_node["grad"] is None and "y" not in trace["gradients"]
    y_edges = [e for e in trace["edges"] if e["source"] == y_node["id"]]
    for e in y_edges:
        wire = app.locator(f"[data-edge-id={e['id']}]")
        assert "from-labels" in (wire.get_attribute("class") or "").split()
    # The values panel: whole numbers, said to be labels, with a slider of whole steps.
    note = app.get_by_test_id("labels-y")
    assert note.is_visible() and note.inner_text() == "labels (whole numbers): no gradient"
    cells = [app.get_by_test_id(f"value-y-{i}").input_value() for i in range(len(p["values"]["y"]))]
    assert cells == [str(v) for v in p["values"]["y"]]
    assert app.get_by_test_id("slider-y").get_attribute("step") == "1"
    assert app.get_by_test_id("slider-y").get_attribute("min") == "0"
    # The other inputs are not labels.
    assert app.get_by_test_id("labels-W").count() == 0
    assert app.locator("[data-node-id][data-name=W]").get_attribute("data-labels") is None

    # The first backward step (cross_entropy's own) says why y gets nothing.
    total = len(trace["backward"])
    app.get_by_test_id("graph").click()
    app.keyboard.press("End")
    for _ in range(total - 1):
        app.keyboard.press("ArrowLeft")
    assert label(app) == f"backward 1/{total}"
    explain = app.get_by_test_id("explain")
    text = explain.inner_text()
    assert "y holds labels" in text and "No gradient flows to them" in text
    assert explain.locator(".katex-error").count() == 0
    no_broken_words(text)
    screenshot(app, screenshots / "labels-softmax-cross-entropy-backward-first.png",
               [y.locator(".labels-tag"), app.get_by_test_id("labels-y")])

    # Stepping to the end: W (and X, b) get their gradients, y never does.
    step_to_end(app)
    assert label(app) == f"backward {total}/{total}"
    got = grad_of(app, "W")
    assert got is not None
    assert all(close(a, b, 10) for a, b in zip(flat(json.loads(got)), flat(p["gradients"]["W"]),
                                                strict=True))
    assert y.get_attribute("data-grad") is None
    assert app.locator("[data-node-id][data-kind=input][data-grad]").count() == len(p["gradients"])
    # The node panel on y: its labels, and a sentence where a gradient would be.
    y.click()
    inspector = app.get_by_test_id("inspector")
    head = inspector.locator(".inspector-head").inner_text()
    assert head.startswith("y (labels) · 4"), head
    assert "labels" in inspector.locator("figcaption").first.inner_text()
    assert inspector.locator(".is-grad").count() == 0
    assert "No gradient flows to them" in app.get_by_test_id("inspector-labels").inner_text()
    no_broken_words(inspector.inner_text())
    screenshot(app, screenshots / "labels-softmax-cross-entropy-backward-last.png",
               [app.get_by_test_id("inspector-labels"),
                app.locator("[data-node-id][data-name=W][data-grad]")])

    # Forward mode differentiates along an input: never along labels.
    app.get_by_test_id("mode-select").select_option("forward")
    app.wait_for_function("() => window.__gradtrace.trace.mode === 'forward'")
    options = app.get_by_test_id("wrt-select").locator("option").all_inner_texts()
    assert "y" not in options and "X" in options
    assert app.get_by_test_id("labels-y").is_visible()


def test_index_nodes_show_their_index_and_options_are_not_inputs(app: Page, server: str) -> None:
    """Index assignment: x[0], x[1], x[2] and y[0] =, y[1] = read as such; `torch` is a library,
    not an input (no warning that its value is ignored); the steps are titled by their statements
    (y[1] = g)."""
    p = preset(server, "index-assign")
    open_app(app)
    app.get_by_test_id("preset-index-assign").click()
    wait_trace(app, p["expr"])
    assert app.locator(".warning").count() == 0, app.locator(".warning").all_inner_texts()
    assert app.locator(".value-editor").count() == 1  # x only
    texts = "els => els.map((e) => e.textContent)"  # SVG text has no innerText
    shown = app.locator("[data-node-id] .node-label").evaluate_all(texts)
    # An indexing is named as it is written, on the graph as in the text.
    for sub in ("x[0]", "x[1]", "x[2]"):
        assert sub in shown, shown
    assert "[ ]" not in shown
    tags = app.locator("[data-node-id] .node-op").evaluate_all(texts)
    assert "[0]=" in tags and "[1]=" in tags, tags
    trace = app.evaluate("() => window.__gradtrace.trace")
    setitem = next(i for i, s in enumerate(trace["backward"])
                   if next(n for n in trace["nodes"] if n["id"] == s["node"])["op"] == "setitem")
    app.get_by_test_id("graph").click()
    app.keyboard.press("End")
    for _ in range(len(trace["backward"]) - 1 - setitem):
        app.keyboard.press("ArrowLeft")
    explain = app.get_by_test_id("explain")
    # The step is titled by its statement, with the value assigned by its name: y[1] = g.
    assert re.match(r"backward \d+/\d+: y\[1\] = \w", explain.locator("h2").inner_text())
    assert explain.locator(".katex-error").count() == 0
    no_broken_words(explain.inner_text())
    no_broken_words(app.get_by_test_id("inspector").inner_text())
    # A tiny CNN's options (stride=2, padding=1) are options, not inputs.
    open_at(app, "/" + query("relu(conv2d(X, K, stride=2, padding=1))",
                             {"X": [[[[1.0], [2.0]], [[3.0], [4.0]]]], "K": [[[[1.0]]]]}))
    assert app.locator(".warning").count() == 0, app.locator(".warning").all_inner_texts()
    assert sorted(app.locator(".value-editor").evaluate_all(
        "els => els.map((e) => e.dataset.name)")) == ["K", "X"]
