"""Browser tests of the review's fixes: shapes on wires, the view's look kept in the URL, keys on
focused controls, the empty expression, the stale stage, the embed's out-bar, the standalone
file's warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gradtrace import trace
from gradtrace.standalone import standalone_html

Page = Any  # playwright.sync_api.Page


def query(expr: str, values: dict[str, Any], **extra: str) -> str:
    parts = [f"expr={quote(expr)}"]
    parts += [f"{name}={quote(json.dumps(v))}" for name, v in values.items()]
    parts += [f"{k}={quote(v)}" for k, v in extra.items()]
    return "?" + "&".join(parts)


def label(page: Page) -> str:
    text: str = page.get_by_test_id("step-label").inner_text()
    return text


def open_app(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_selector("[data-testid=graph] [data-node-id]")


def wire_labels(page: Page, name: str) -> tuple[str, str]:
    """The value and gradient labels on the wire out of the input `name`."""
    edge = page.evaluate(
        """name => {
            const t = window.__gradtrace.trace;
            const n = t.nodes.find((m) => m.name === name && m.kind === "input");
            return t.edges.find((e) => e.source === n.id).id;
        }""",
        name,
    )
    value = page.locator(f"text.edge-value[data-edge='{edge}']").text_content() or ""
    grad = page.locator(f"text.edge-grad[data-edge='{edge}']").text_content() or ""
    return value, grad


# ---- 1. a tensor's shape is never drawn as a number ----


def test_vector_input_shows_its_shape_in_brackets_on_its_wire(app: Page,
                                                               screenshots: Path) -> None:
    open_app(app, "/" + query("(x + y) * z", {"x": [-2, 1, 1], "y": 5, "z": -4}))
    assert label(app) == "backward 5/5"
    value, grad = wire_labels(app, "x")
    assert value == "⟨3⟩", value
    assert grad == "⟨3⟩", grad
    # A scalar input's wire still shows its number.
    assert wire_labels(app, "z")[0] == "−4"
    app.screenshot(path=str(screenshots / "vector-wire-shape.png"))


# ---- 2. theme, hide, speed and autoplay survive a reload and agree with the share link ----


def test_reload_keeps_theme_and_hidden_parts(app: Page) -> None:
    open_app(app, "/?theme=projector&hide=explain")
    assert app.evaluate("document.documentElement.dataset.theme") == "projector"
    app.wait_for_function("() => location.search.includes('expr=')")  # the state was written
    assert "theme=projector" in app.evaluate("location.search")
    assert "hide=explain" in app.evaluate("location.search")
    app.reload()
    app.wait_for_selector("[data-node-id]")
    assert app.evaluate("document.documentElement.dataset.theme") == "projector"
    assert app.evaluate("document.body.classList.contains('hide-explain')")
    assert app.locator(".below").is_hidden()
    # The share link is the address bar.
    app.get_by_test_id("share").click()
    assert app.get_by_test_id("share-page").input_value() == app.evaluate("location.href")


def test_chosen_speed_and_theme_go_into_the_url(app: Page) -> None:
    open_app(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, speed="2"))
    app.wait_for_function("() => location.search.includes('speed=2')")
    app.get_by_test_id("step-speed").select_option("200")  # 4×
    app.wait_for_function("() => location.search.includes('speed=4')")
    app.get_by_test_id("theme-select").select_option("dark")
    assert "theme=dark" in app.evaluate("location.search")
    app.reload()
    app.wait_for_selector("[data-node-id]")
    assert app.get_by_test_id("step-speed").input_value() == "200"
    assert app.evaluate("document.documentElement.dataset.theme") == "dark"


# ---- 3. keys on focused controls ----


def test_arrow_on_a_focused_slider_changes_the_value_not_the_step(app: Page) -> None:
    open_app(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="b2"))
    assert label(app) == "backward 2/5"
    slider = app.get_by_test_id("slider-x")
    before = slider.input_value()
    slider.focus()
    app.keyboard.press("ArrowRight")
    app.wait_for_function(
        "() => window.__gradtrace.trace.nodes.find((n) => n.name === 'x').value !== -2"
    )
    assert slider.input_value() != before
    assert float(app.get_by_test_id("value-x").input_value()) > -2
    assert label(app) == "backward 2/5"  # the step stayed
    # The step scrubber moves itself (one step), once, not twice.
    app.get_by_test_id("step-scrubber").focus()
    app.keyboard.press("ArrowRight")
    assert label(app) == "backward 3/5"


def test_space_on_a_focused_button_presses_it(app: Page) -> None:
    open_app(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="f1"))
    app.get_by_test_id("step-next").focus()
    app.keyboard.press(" ")
    assert label(app) == "forward 2/5"
    assert "play" in app.get_by_test_id("step-play").inner_text()  # not playing


def test_after_choosing_a_theme_arrows_step(app: Page) -> None:
    open_app(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="f1"))
    select = app.get_by_test_id("theme-select")
    select.focus()
    select.select_option("dark")
    assert app.evaluate("document.documentElement.dataset.theme") == "dark"
    app.keyboard.press("ArrowRight")
    assert label(app) == "forward 2/5"
    assert app.evaluate("document.documentElement.dataset.theme") == "dark"  # the select kept it
    speed = app.get_by_test_id("step-speed")
    speed.focus()
    speed.select_option("400")
    app.keyboard.press("ArrowRight")
    assert label(app) == "forward 3/5"
    assert speed.input_value() == "400"


# ---- 4, 5. the empty expression; a broken one dims the whole stage ----


def test_clearing_the_expression_clears_the_error(app: Page, screenshots: Path) -> None:
    open_app(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}))
    box = app.get_by_test_id("expr-input")
    box.fill("x ^^ 2")
    app.get_by_test_id("error").wait_for(state="visible")
    assert app.get_by_test_id("error-underline").count() == 1
    # The whole stage shows the last good trace dimmed, not only the graph.
    app.wait_for_function("() => document.querySelector('.stage').classList.contains('stale')")
    for sel in (".below", ".controls", ".out-value"):
        assert float(app.eval_on_selector(sel, "e => getComputedStyle(e).opacity")) < 1, sel
    # An edit drops the stale underline at once (before the next answer).
    assert app.evaluate(
        """() => {
            const t = document.querySelector('[data-testid=expr-input]');
            t.value = t.value + ' ';
            t.dispatchEvent(new Event('input', { bubbles: true }));
            return document.querySelectorAll('[data-testid=error-underline]').length;
        }"""
    ) == 0
    box.fill("")
    app.get_by_test_id("error").wait_for(state="hidden")
    assert app.get_by_test_id("error-underline").count() == 0
    assert app.get_by_test_id("empty-note").is_visible()
    assert app.get_by_test_id("empty-note").inner_text() == "type an expression"
    assert app.get_by_test_id("view-error").is_hidden()
    assert not app.evaluate("document.querySelector('.stage').classList.contains('stale')")
    app.screenshot(path=str(screenshots / "empty-expression.png"))
    # Typing again draws the new graph.
    box.fill("a * b")
    app.wait_for_function(
        "() => window.__gradtrace.trace && window.__gradtrace.trace.expr === 'a * b'"
    )
    assert app.get_by_test_id("empty-note").is_hidden()
    assert app.locator("[data-node-id]").count() == 3


# ---- 6. the embed shows no export buttons ----


def test_embed_hides_the_export_buttons(app: Page, screenshots: Path) -> None:
    open_app(app, "/embed/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="b3"))
    for testid in ("export-svg", "export-png", "export-html", "share", "fit"):
        assert app.get_by_test_id(testid).is_hidden(), testid
    assert app.get_by_test_id("output-value").is_visible()
    assert app.get_by_test_id("step-next").is_visible()
    app.screenshot(path=str(screenshots / "embed-no-buttons.png"))


# ---- 8. the standalone file shows the trace's warnings ----


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
