"""End-to-end tests of the browser app against the real server (Playwright + Debian's chromium).

Each test opens a fresh page; the whole module runs in well under a minute. The screenshots are
for a person to look at; each asserts what it shows first (conftest.screenshot)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from .conftest import assert_picture, screenshot

Page = Any  # playwright.sync_api.Page (imported lazily: conftest checks the frontend is built)


def numbers_in(text: str) -> list[float]:
    """The numbers of a displayed value, e.g. "[0.9526, −0.25]" or "1.23e−5"."""
    text = text.replace("\u2212", "-").replace("∞", "inf")
    return [float(x) for x in re.findall(r"-?(?:\d+\.?\d*(?:e-?\d+)?|inf)|NaN", text)]


def flat(x: Any) -> list[float]:
    if isinstance(x, list):
        return [y for v in x for y in flat(v)]
    return [float(x)]


def close(a: float, b: float, sig: int = 4) -> bool:
    """Equal to the `sig` significant digits the app displays."""
    return math.isclose(a, b, rel_tol=10 ** (1 - sig), abs_tol=1e-12)


def query(expr: str, values: dict[str, Any], **extra: str) -> str:
    """The URL query of a view, as the page and the server read it: ?expr=...&x=-2&step=b3."""
    parts = [f"expr={quote(expr)}"]
    parts += [f"{name}={quote(json.dumps(v))}" for name, v in values.items()]
    parts += [f"{k}={quote(v)}" for k, v in extra.items()]
    return "?" + "&".join(parts)


def open_app(page: Page, expr: str | None = None, values: dict[str, Any] | None = None) -> None:
    page.goto("/" + (query(expr, values or {}) if expr is not None else ""))
    page.wait_for_selector("[data-testid=graph] [data-node-id]")


def wait_trace(page: Page, expr: str) -> None:
    """Until the page shows the trace of `expr`."""
    page.wait_for_function(
        "e => window.__gradtrace && window.__gradtrace.trace"
        " && window.__gradtrace.trace.expr === e",
        arg=expr,
    )


def label(page: Page) -> str:
    text: str = page.get_by_test_id("step-label").inner_text()
    return text


def step_to_end(page: Page) -> None:
    for _ in range(200):
        m = re.fullmatch(r"backward (\d+)/(\d+)", label(page))
        if m and m.group(1) == m.group(2):
            return
        page.get_by_test_id("step-next").click()
    raise AssertionError(f"never reached the last step: {label(page)}")


def grad_of(page: Page, name: str) -> str | None:
    node = page.locator(f"[data-node-id][data-kind=input][data-name={name}]")
    value: str | None = node.get_attribute("data-grad")
    return value


def test_circuit_gradients_from_typed_expression_and_values(app: Page) -> None:
    open_app(app, "a * b", {"a": 3, "b": 4})
    box = app.get_by_test_id("expr-input")
    box.fill("")
    box.press_sequentially("(x + y) * z", delay=20)
    wait_trace(app, "(x + y) * z")
    for name, value in (("x", "-2"), ("y", "5"), ("z", "-4")):
        app.get_by_test_id(f"value-{name}").fill(value)
    app.wait_for_function(
        "() => window.__gradtrace.trace.gradients.x === -4"
        " && window.__gradtrace.trace.value === -12"
    )
    assert numbers_in(app.get_by_test_id("output-value").inner_text()) == [-12]
    # Back to the start: no gradient is known during the forward pass.
    app.get_by_test_id("step-first").click()
    assert label(app) == "forward 1/5"
    assert app.locator("[data-node-id][data-grad]").count() == 0
    step_to_end(app)
    assert label(app) == "backward 5/5"
    assert [grad_of(app, n) for n in ("x", "y", "z")] == ["-4", "-4", "3"]
    # Stepping back one step forgets the gradient of the last node again.
    app.get_by_test_id("step-prev").click()
    assert label(app) == "backward 4/5"
    assert app.locator("[data-node-id][data-grad]").count() == 4


def test_first_backward_step_shows_only_the_output_gradient(app: Page) -> None:
    open_app(app, "q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    app.get_by_test_id("step-first").click()
    for _ in range(5):
        app.get_by_test_id("step-next").click()
    assert label(app) == "backward 1/5"
    graded = app.locator("[data-node-id][data-grad]")
    assert graded.count() == 1
    assert graded.get_attribute("data-name") == "f"
    assert graded.get_attribute("data-grad") == "1"
    # The explain panel has the chain rule with numbers, rendered by KaTeX.
    app.get_by_test_id("step-next").click()
    app.get_by_test_id("step-next").click()
    assert label(app) == "backward 3/5"
    explain = app.get_by_test_id("explain")
    assert explain.locator(".katex").count() >= 3
    text = explain.inner_text()
    assert "distributes" in text


def test_broken_expression_is_underlined_and_keeps_the_last_graph(
    app: Page, screenshots: Path
) -> None:
    open_app(app, "(x + y) * z", {"x": -2, "y": 5, "z": -4})
    nodes_before = app.locator("[data-testid=graph] [data-node-id]").count()
    box = app.get_by_test_id("expr-input")
    box.fill("x ^^ 2")
    error = app.get_by_test_id("error")
    error.wait_for(state="visible")
    assert "^" in error.inner_text()
    underline = app.get_by_test_id("error-underline")
    assert underline.inner_text() == "^^"
    screenshot(app, screenshots / "error-underline.png", [error, underline])
    assert app.locator("[data-testid=graph] [data-node-id]").count() == nodes_before
    # An unfinished expression: the underline sits past its end.
    box.fill("(x + ")
    # (The answer to this text, not the last error: an edit drops the old underline.)
    app.wait_for_function(
        "() => document.querySelector('[data-testid=error]').textContent"
        ".includes(\"operand after '+'\")"
    )
    assert app.get_by_test_id("error-underline").count() >= 1
    assert app.locator("[data-testid=graph] [data-node-id]").count() == nodes_before
    # Fixing it clears the error and draws the new graph.
    box.fill("(x + y) * 2")
    wait_trace(app, "(x + y) * 2")
    assert app.get_by_test_id("error").is_hidden()
    assert app.get_by_test_id("error-underline").count() == 0


def test_unknown_name_gets_an_editor(app: Page) -> None:
    open_app(app, "x * 2", {"x": 3})
    app.get_by_test_id("expr-input").fill("x * w + bias")
    wait_trace(app, "x * w + bias")
    assert app.get_by_test_id("value-w").input_value() == "1"
    assert app.get_by_test_id("value-bias").input_value() == "1"
    assert app.get_by_test_id("value-x").input_value() == "3"
    # Names that disappear lose their editor; their values come back with them.
    app.get_by_test_id("value-w").fill("7")
    app.wait_for_function("() => window.__gradtrace.trace.gradients.x === 7")
    app.get_by_test_id("expr-input").fill("x * 2")
    wait_trace(app, "x * 2")
    assert app.get_by_test_id("value-w").count() == 0
    app.get_by_test_id("expr-input").fill("x * w")
    wait_trace(app, "x * w")
    assert app.get_by_test_id("value-w").input_value() == "7"


def test_value_change_moves_no_node_and_fetches_no_layout(app: Page) -> None:
    open_app(app, "q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    positions = app.eval_on_selector_all(
        "[data-node-id]", "els => els.map(e => e.getAttribute('transform'))"
    )
    layouts: list[str] = []
    app.on("request", lambda r: layouts.append(r.url) if "/api/layout" in r.url else None)
    slider = app.get_by_test_id("slider-y")
    slider.fill("7")
    app.wait_for_function("() => window.__gradtrace.trace.value === -20")
    assert app.eval_on_selector_all(
        "[data-node-id]", "els => els.map(e => e.getAttribute('transform'))"
    ) == positions
    assert layouts == []
    assert app.get_by_test_id("value-y").input_value() == "7"


def test_keys_step_but_not_while_typing(app: Page) -> None:
    open_app(app, "(x + y) * z", {"x": -2, "y": 5, "z": -4})
    app.get_by_test_id("graph").click()
    app.keyboard.press("Home")
    assert label(app) == "forward 1/5"
    app.keyboard.press("ArrowRight")
    assert label(app) == "forward 2/5"
    app.keyboard.press("End")
    assert label(app) == "backward 5/5"
    app.keyboard.press("ArrowLeft")
    assert label(app) == "backward 4/5"
    app.get_by_test_id("expr-input").press("Home")
    app.get_by_test_id("expr-input").press("ArrowRight")
    assert label(app) == "backward 4/5"


def test_every_preset_loads_with_its_output_and_gradients(app: Page, server: str) -> None:
    presets = httpx.get(f"{server}/api/presets", timeout=10).json()
    assert len(presets) >= 16
    open_app(app)
    for p in presets:
        app.get_by_test_id(f"preset-{p['key']}").click()
        wait_trace(app, p["expr"])
        shown = numbers_in(app.get_by_test_id("output-value").inner_text())
        want = flat(p["output"])
        assert len(shown) == len(want), (p["key"], shown, want)
        assert all(close(a, b) for a, b in zip(shown, want, strict=True)), (p["key"], shown, want)
        assert app.get_by_test_id("expr-input").input_value() == p["expr"]
        # The preset opens at its last step: every input's gradient is on its node.
        for name, grad in p["gradients"].items():
            got = grad_of(app, name)
            assert got is not None, (p["key"], name)
            assert all(
                close(a, b, 10) for a, b in zip(flat(json.loads(got)), flat(grad), strict=True)
            ), (p["key"], name, got, grad)


def test_tensor_values_show_as_heat_matrices(app: Page) -> None:
    open_app(app)
    app.get_by_test_id("preset-matmul").click()
    wait_trace(app, "L = sum(x @ w)")
    app.locator("[data-node-id][data-name=x]").click()
    cells = app.locator("[data-testid=inspector] table.heat td")
    assert cells.count() == 12  # value and gradient, 2×3 each
    assert app.get_by_test_id("value-x-1-2").input_value() == "1"
    app.get_by_test_id("value-x-1-2").fill("5")
    app.wait_for_function("() => window.__gradtrace.trace.value === 96")


def test_theme_is_remembered(app: Page) -> None:
    open_app(app)
    app.get_by_test_id("theme-select").select_option("projector")
    app.reload()
    app.wait_for_selector("[data-node-id]")
    assert app.evaluate("document.documentElement.dataset.theme") == "projector"


def test_embed_page_draws_the_graph_from_the_url(app: Page) -> None:
    app.goto("/embed/" + query("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, step="b1"))
    app.wait_for_selector("[data-node-id]")
    assert label(app) == "backward 1/5"
    assert app.locator(".side").is_hidden()
    assert grad_of(app, "x") is None


def test_url_keeps_the_state_and_share_links_work(app: Page, server: str) -> None:
    open_app(app, "q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    app.get_by_test_id("step-first").click()
    for _ in range(6):
        app.get_by_test_id("step-next").click()
    assert label(app) == "backward 2/5"
    app.wait_for_function("() => location.search.includes('step=b2')")
    app.reload()
    app.wait_for_selector("[data-node-id]")
    assert label(app) == "backward 2/5"
    app.get_by_test_id("share").click()
    links = {k: app.get_by_test_id(f"share-{k}").input_value() for k in ("page", "embed", "svg")}
    assert links["page"].startswith(server + "/?expr=") and "step=b2" in links["page"]
    assert links["embed"].startswith(server + "/embed/?")
    picture = httpx.get(links["svg"], timeout=20)
    assert picture.status_code == 200, picture.text[:300]
    assert picture.text.lstrip().startswith(("<svg", "<?xml"))


@pytest.mark.parametrize("theme", ["light", "projector"])
@pytest.mark.parametrize("preset", ["circuit", "sigmoid-neuron"])
def test_screenshots(app: Page, screenshots: Path, theme: str, preset: str) -> None:
    """Pictures of the first and last backward steps, for a person to look at."""
    open_app(app)
    app.get_by_test_id("theme-select").select_option(theme)
    app.get_by_test_id(f"preset-{preset}").click()
    app.wait_for_function(
        "() => window.__gradtrace.trace.expr === document.getElementById('expr-input').value"
    )
    app.get_by_test_id("graph").click()
    app.keyboard.press("End")
    total = int(label(app).split("/")[1])
    for _ in range(total - 1):
        app.keyboard.press("ArrowLeft")
    assert label(app) == f"backward 1/{total}"
    assert app.evaluate("document.documentElement.dataset.theme") == theme
    nodes = app.evaluate("window.__gradtrace.trace.nodes.length")
    drawn = app.locator("[data-testid=graph] [data-node-id]")
    assert drawn.filter(visible=True).count() == nodes  # the whole graph is on screen
    # The first backward step: only the output has its gradient, the seed 1.
    graded = app.locator("[data-node-id][data-grad]")
    assert graded.count() == 1 and graded.get_attribute("data-grad") == "1"
    assert "output" in (graded.get_attribute("class") or "").split()
    app.wait_for_timeout(150)
    screenshot(app, screenshots / f"{preset}-{theme}-backward-first.png",
               [app.get_by_test_id("step-label").filter(has_text=f"backward 1/{total}"),
                graded])
    app.keyboard.press("End")
    assert label(app) == f"backward {total}/{total}"
    # The last step: every input's gradient, the notes' numbers.
    grads = app.evaluate("window.__gradtrace.trace.gradients")
    inputs = app.locator("[data-node-id][data-kind=input][data-grad]")
    assert inputs.count() == len(grads)
    for name, g in grads.items():
        shown = grad_of(app, name)
        assert shown is not None and close(float(shown), g), (name, shown, g)
    app.wait_for_timeout(150)
    screenshot(app, screenshots / f"{preset}-{theme}-backward-last.png",
               [app.get_by_test_id("step-label").filter(has_text=f"backward {total}/{total}"),
                inputs])
    if theme == "projector":  # as on a projector: the graph and the steps only ("f")
        app.keyboard.press("f")
        app.wait_for_timeout(200)
        assert app.locator(".side").is_hidden()
        assert drawn.filter(visible=True).count() == nodes
        screenshot(app, screenshots / f"{preset}-{theme}-backward-last-graph-only.png",
                   [app.get_by_test_id("graph"), inputs])


def test_slider_drag_updates_gradients_all_the_way(app: Page) -> None:
    """Dragging a slider with the mouse keeps updating (the panel never re-creates the slider
    under the pointer)."""
    open_app(app, "(x + y) * z", {"x": -2, "y": 5, "z": -4})
    app.get_by_test_id("graph").click()
    app.keyboard.press("End")
    slider = app.get_by_test_id("slider-z")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    renders = app.evaluate("window.__gradtrace.renders")
    y = box["y"] + box["height"] / 2
    app.mouse.move(box["x"] + box["width"] * 0.3, y)
    app.mouse.down()
    for k in range(20):
        app.mouse.move(box["x"] + box["width"] * (0.3 + 0.02 * k), y)
        app.wait_for_timeout(15)
    app.mouse.up()
    app.wait_for_function(f"() => window.__gradtrace.renders > {renders + 5}")
    z = float(app.get_by_test_id("value-z").input_value())
    app.wait_for_function(f"() => window.__gradtrace.trace.gradients.x === {z}")
    assert grad_of(app, "x") == app.evaluate("String(window.__gradtrace.trace.gradients.x)")


def test_step_picture_downloads_as_svg_and_png(app: Page, screenshots: Path) -> None:
    open_app(app, "q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    with app.expect_download() as info:
        app.get_by_test_id("export-svg").click()
    path = info.value.path()
    text = Path(path).read_text()
    assert text.startswith("<svg") and "viewBox" in text
    assert ">−4<" in text and ">−12<" in text  # the step's gradients and values are in it
    with app.expect_download() as info:
        app.get_by_test_id("export-png").click()
    png = Path(info.value.path()).read_bytes()
    assert_picture(app, png, None, "export-circuit-named.png")
    (screenshots / "export-circuit-named.png").write_bytes(png)


def test_play_runs_to_the_last_step(app: Page) -> None:
    open_app(app, "(x + y) * z", {"x": -2, "y": 5, "z": -4})
    app.get_by_test_id("step-speed").select_option("200")
    app.get_by_test_id("step-first").click()
    app.get_by_test_id("step-play").click()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=step-label]').textContent === 'backward 5/5'",
        timeout=10_000,
    )
    assert "play" in app.get_by_test_id("step-play").inner_text()


def test_shape_field_makes_a_matrix_and_large_tensors_get_a_heatmap(app: Page) -> None:
    # A typed as a number (left to the server, a capitalised A would be a drawn matrix).
    open_app(app, "s = sum(A * 2)", {"A": 1})
    assert app.get_by_test_id("value-A").input_value() == "1"
    app.get_by_test_id("shape-A").fill("10x10")
    app.get_by_test_id("shape-A").press("Enter")
    app.wait_for_function("() => window.__gradtrace.trace.value === 200")
    assert app.get_by_test_id("value-A-9-9").input_value() == "1"
    app.locator("[data-node-id][data-name=A]").click()
    maps = app.locator("[data-testid=inspector] .heatmap")
    assert maps.count() == 2  # its value and its gradient, 10×10 each
    assert maps.first.locator(".heat-cell").count() == 100
    # A cell read by the keyboard: its index and number.
    maps.nth(1).locator(".heat-cell").first.focus()
    app.keyboard.press("End")
    assert maps.nth(1).locator(".heat-readout").inner_text() == "dA[0, 9] = 2"


# ---- a tensor's shape is never drawn as a number ----


def open_at(page: Page, path: str) -> None:
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


def test_vector_input_shows_its_numbers_on_its_wire(app: Page, screenshots: Path) -> None:
    open_at(app, "/" + query("(x + y) * z", {"x": [-2, 1, 1], "y": 5, "z": -4}))
    assert label(app) == "backward 5/5"
    value, grad = wire_labels(app, "x")
    # A short vector as its numbers where they fit; else its shape in words, never a bare 3.
    assert value in ("[\u22122, 1, 1]", "3-vector"), value
    assert grad in ("\u2207 [\u22124, \u22124, \u22124]", "\u2207 3-vector"), grad
    # A scalar input's wire still shows its number.
    assert wire_labels(app, "z")[0] == "\u22124"
    screenshot(app, screenshots / "vector-wire-numbers.png",
               [app.locator("text.edge-value", has_text=value),
                app.locator("text.edge-grad", has_text=grad)])


# ---- theme, hide, speed and autoplay survive a reload and agree with the share link ----


def test_reload_keeps_theme_and_hidden_parts(app: Page) -> None:
    open_at(app, "/?theme=projector&hide=explain")
    assert app.evaluate("document.documentElement.dataset.theme") == "projector"
    app.wait_for_function("() => location.search.includes('expr=')")  # the state was written
    assert "theme=projector" in app.evaluate("location.search")
    assert "hide=explain" in app.evaluate("location.search")
    app.reload()
    app.wait_for_selector("[data-node-id]")
    assert app.evaluate("document.documentElement.dataset.theme") == "projector"
    assert app.evaluate("document.body.classList.contains('hide-explain')")
    assert app.locator(".below").is_hidden()
    # The share link is the address bar (once the step is written into it).
    app.wait_for_function("() => location.search.includes('step=')")
    app.get_by_test_id("share").click()
    assert app.get_by_test_id("share-page").input_value() == app.evaluate("location.href")


def test_chosen_speed_and_theme_go_into_the_url(app: Page) -> None:
    open_at(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, speed="2"))
    app.wait_for_function("() => location.search.includes('speed=2')")
    app.get_by_test_id("step-speed").select_option("200")  # 4×
    app.wait_for_function("() => location.search.includes('speed=4')")
    app.get_by_test_id("theme-select").select_option("dark")
    assert "theme=dark" in app.evaluate("location.search")
    app.reload()
    app.wait_for_selector("[data-node-id]")
    assert app.get_by_test_id("step-speed").input_value() == "200"
    assert app.evaluate("document.documentElement.dataset.theme") == "dark"


# ---- keys on focused controls ----


def test_arrow_on_a_focused_slider_changes_the_value_not_the_step(app: Page) -> None:
    open_at(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="b2"))
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
    open_at(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="f1"))
    app.get_by_test_id("step-next").focus()
    app.keyboard.press(" ")
    assert label(app) == "forward 2/5"
    assert "play" in app.get_by_test_id("step-play").inner_text()  # not playing


def test_after_choosing_a_theme_arrows_step(app: Page) -> None:
    open_at(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="f1"))
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


# ---- the empty expression; a broken one dims the whole stage ----


def test_clearing_the_expression_clears_the_error(app: Page, screenshots: Path) -> None:
    open_at(app, "/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}))
    box = app.get_by_test_id("expr-input")
    box.fill("x ^^ 2")
    app.get_by_test_id("error").wait_for(state="visible")
    assert app.get_by_test_id("error-underline").count() == 1
    # The whole stage shows the last good trace in grey, not only the graph (grey, not faded:
    # faded text would fall under 4.5:1).
    app.wait_for_function("() => document.querySelector('.stage').classList.contains('stale')")
    for sel in (".below", ".controls", ".out-value"):
        assert app.eval_on_selector(sel, "e => getComputedStyle(e).filter") == "grayscale(1)", sel
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
    screenshot(app, screenshots / "empty-expression.png", ["type an expression"])
    # Typing again draws the new graph.
    box.fill("a * b")
    app.wait_for_function(
        "() => window.__gradtrace.trace && window.__gradtrace.trace.expr === 'a * b'"
    )
    assert app.get_by_test_id("empty-note").is_hidden()
    assert app.locator("[data-node-id]").count() == 3
