"""The app by keyboard alone (page.keyboard only, no mouse): type an expression, set a value,
step to the end, move through the graph's nodes to an input and hear its gradient, open the table
view of the whole trace; and no focus trap on the way (graph-view.ts, graph-nav.ts,
trace-table.ts, the stage's live region)."""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import httpx

from .conftest import screenshot
from .test_embed import offline  # noqa: F401  (the fixture: a page for files opened from disk)

Page = Any  # playwright.sync_api.Page

# The focused element, in a few words a failing assertion can show.
FOCUSED = """() => {
    const a = document.activeElement;
    if (!a || a === document.body) return "body";
    return [a.tagName.toLowerCase(), a.getAttribute("data-testid") || "",
            a.getAttribute("data-node-id") || "", a.getAttribute("aria-label") || ""].join("|");
}"""

# A number as the narration says it: "minus 4", "0.25", "1.5 times 10 to the minus 5".
SPOKEN = r"(minus )?(\d+(?:\.\d+)?)(?: times 10 to the (minus )?(\d+))?"


def spoken_number(m: re.Match[str]) -> float:
    x = float(m.group(2))
    if m.group(4) is not None:
        x *= 10.0 ** (-int(m.group(4)) if m.group(3) else int(m.group(4)))
    return -x if m.group(1) else x


def focused(page: Page) -> str:
    text: str = page.evaluate(FOCUSED)
    return text


def label(page: Page) -> str:
    text: str = page.get_by_test_id("step-label").inner_text()
    return text


def tab_until(page: Page, test: str, most: int = 80) -> int:
    """Press Tab until `test` (JS, of the focused element `a`) holds; returns how many Tabs."""
    for k in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const a = document.activeElement; return !!({test}); }}"):
            return k
    raise AssertionError(f"never reached {test} with Tab; last at {focused(page)}")


def arrows(page: Page) -> dict[str, str]:
    """The keys of node navigation for the direction the graph is drawn in."""
    if page.locator("svg.graph-svg").get_attribute("data-direction") == "down":
        return {"inputs": "ArrowUp", "output": "ArrowDown", "previous": "ArrowLeft",
                "next": "ArrowRight"}
    return {"inputs": "ArrowLeft", "output": "ArrowRight", "previous": "ArrowUp",
            "next": "ArrowDown"}


def on_node(page: Page) -> str:
    """The display name of the node the keyboard is on (it must be on one)."""
    name = page.evaluate(
        """() => {
            const a = document.activeElement;
            const id = a && a.getAttribute("data-node-id");
            if (!id) return null;
            return window.__gradtrace.trace.nodes.find((n) => n.id === id).display;
        }"""
    )
    assert name is not None, f"not on a node: {focused(page)}"
    result: str = name
    return result


def test_keyboard_only_expression_value_steps_graph_and_table(
    app: Page, screenshots: Path
) -> None:
    app.goto("/?expr=")
    app.wait_for_selector("[data-testid=expr-input]")
    assert app.get_by_test_id("expr-input").input_value() == ""
    # Tab to the expression box and type.
    tab_until(app, "a.getAttribute('data-testid') === 'expr-input'", most=10)
    app.keyboard.type("(x + y) * z", delay=15)
    app.wait_for_function(
        "() => window.__gradtrace.trace && window.__gradtrace.trace.expr === '(x + y) * z'"
    )
    # Tab to x's value (Tab selects what the field holds), type -2, and Escape leaves the field.
    tab_until(app, "a.getAttribute('data-testid') === 'value-x'", most=6)
    app.keyboard.type("-2")
    app.wait_for_function("() => window.__gradtrace.trace.nodes"
                          ".find((n) => n.name === 'x').value === -2")
    app.keyboard.press("Escape")
    assert focused(app) == "body"
    value_x = app.get_by_test_id("value-x")
    # The arrows step (and never change the field): to the start, then to the end.
    app.keyboard.press("Home")
    assert label(app) == "forward 1/5"
    total = app.evaluate("() => { const t = window.__gradtrace.trace;"
                         " return t.forward.length + t.backward.length; }")
    for _ in range(total - 1):
        app.keyboard.press("ArrowRight")
        assert value_x.input_value() == "-2"
    assert label(app) == "backward 5/5"
    app.keyboard.press("ArrowRight")  # past the end: stays
    assert label(app) == "backward 5/5" and value_x.input_value() == "-2"

    # Tab to the graph: one stop; the arrows still step there.
    tabs = tab_until(app, "a.matches('svg.graph-svg')")
    graph = app.locator("svg.graph-svg")
    assert graph.get_attribute("role") == "group"
    assert graph.get_attribute("aria-roledescription") == "graph"
    title_id = graph.get_attribute("aria-labelledby")
    title = app.locator(f"svg.graph-svg > title#{title_id}").text_content() or ""
    assert "(x + y) * z" in title and "5 of 5" in title, title
    app.keyboard.press("ArrowLeft")
    assert label(app) == "backward 4/5"
    app.keyboard.press("ArrowRight")
    assert label(app) == "backward 5/5"
    assert graph.evaluate("g => document.activeElement === g")
    screenshot(app, screenshots / "keyboard-graph-focused.png", [graph])

    # Enter: node navigation, on this step's node (x, the last backward step's).
    key = arrows(app)
    app.keyboard.press("Enter")
    assert on_node(app) == "x"
    assert app.get_by_test_id("nav-hint").is_visible()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=narration]').textContent"
        ".includes('toward the inputs')"
    )
    # Along the wires to the output, and back the way it came, to x; the steps stay.
    app.keyboard.press(key["output"])
    assert on_node(app) == "a"
    # Enter selects it into the node panel, as a click does (and again lets it go).
    inspector = app.get_by_test_id("inspector")
    app.keyboard.press("Enter")
    assert "a = x + y" in inspector.inner_text() and "selected" in inspector.inner_text()
    assert on_node(app) == "a"
    app.keyboard.press("Enter")
    assert "selected" not in inspector.inner_text()
    app.keyboard.press(key["output"])
    assert on_node(app) == "f"
    assert "the output" in (app.evaluate("document.activeElement.getAttribute('aria-label')"))
    app.keyboard.press(key["output"])  # nothing uses the output: it stays, and says so
    assert on_node(app) == "f"
    app.wait_for_function(
        "() => document.querySelector('[data-testid=narration]').textContent"
        ".includes('is the output')"
    )
    app.keyboard.press(key["inputs"])
    assert on_node(app) == "a"
    app.keyboard.press(key["inputs"])  # back along the wire it came by
    assert on_node(app) == "x"
    # Across: the other operand of a, y, on the side it is drawn.
    x_first = app.evaluate(
        """dir => {
            const at = (name) => document.querySelector(`[data-kind=input][data-name=${name}]`)
                .getBoundingClientRect();
            return dir === "down" ? at("x").x < at("y").x : at("x").y < at("y").y;
        }""",
        graph.get_attribute("data-direction"),
    )
    app.keyboard.press(key["next"] if x_first else key["previous"])
    assert on_node(app) == "y"
    app.keyboard.press(key["previous"] if x_first else key["next"])
    assert on_node(app) == "x"
    assert label(app) == "backward 5/5"  # no arrow stepped
    ring = app.locator(".nav-ring")
    assert ring.get_attribute("visibility") is None and ring.is_visible()
    screenshot(app, screenshots / "keyboard-node-x.png", [ring])

    # R reads the node into the live region: its gradient is the trace's.
    narration = app.get_by_test_id("narration")
    app.keyboard.press("r")
    app.wait_for_function(
        "() => document.querySelector('[data-testid=narration]').textContent"
        ".startsWith('x is an input')"
    )
    heard = narration.text_content() or ""
    m = re.search(r"gradient is " + SPOKEN, heard)
    assert m, heard
    assert spoken_number(m) == app.evaluate("window.__gradtrace.trace.gradients.x")

    # T opens the table view, the focus on the current step's row.
    app.keyboard.press("t")
    table = app.get_by_test_id("trace-table")
    assert table.is_visible() and not graph.is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() == total
    current = table.locator("tbody tr[aria-current=step]")
    assert current.count() == 1
    assert current.get_attribute("data-step") == str(app.evaluate("window.__gradtrace.step"))
    assert current.evaluate("r => document.activeElement === r")
    assert "backward 5/5" in current.inner_text() and "x (input)" in current.inner_text()
    screenshot(app, screenshots / "keyboard-table.png", [table, current])
    # Up a row, Enter: that step; the mark moves with it.
    app.keyboard.press("ArrowUp")
    assert label(app) == "backward 5/5"
    app.keyboard.press("Enter")
    assert label(app) == "backward 4/5"
    assert current.get_attribute("data-step") == str(total - 2)
    # Escape closes it, and the focus is back on x, navigating again.
    app.keyboard.press("Escape")
    assert not table.is_visible() and graph.is_visible()
    assert on_node(app) == "x"
    app.keyboard.press(key["output"])
    assert on_node(app) == "a"
    assert label(app) == "backward 4/5"

    # Escape: back to stepping on the graph; Tab leaves it for the next control (no trap), and
    # Shift+Tab comes back.
    app.keyboard.press("Escape")
    assert graph.evaluate("g => document.activeElement === g")
    assert not app.get_by_test_id("nav-hint").is_visible()
    app.keyboard.press("ArrowRight")
    assert label(app) == "backward 5/5"
    app.keyboard.press("Tab")
    after = focused(app)
    assert after.split("|")[1] == "direction", after
    app.keyboard.press("Shift+Tab")
    assert graph.evaluate("g => document.activeElement === g")
    # From inside the nodes too, Tab goes on out of the graph.
    app.keyboard.press("Enter")
    on_node(app)
    app.keyboard.press("Tab")
    assert focused(app).split("|")[1] == "direction"
    assert tabs > 0


def test_table_opens_in_the_embed_the_offline_file_and_from_its_button(
    app: Page, server: str, offline: tuple[Page, list[str]], tmp_path: Path,  # noqa: F811
) -> None:
    """T opens and closes the table in the embed and in the offline file (they show the same
    stage); its button opens it (Enter on it) and the focus returns to it; a t typed in a field
    is a t."""
    query = "expr=(x%20%2B%20y)%20*%20z&x=-2&y=5&z=-4&step=b2"
    app.goto(f"/embed?{query}")
    app.wait_for_selector("[data-node-id]")
    app.keyboard.press("t")
    table = app.get_by_test_id("trace-table")
    assert table.is_visible()
    assert table.locator("tbody tr").count() == 10
    assert table.locator("tbody tr[aria-current=step]").get_attribute("data-step") == "6"
    app.keyboard.press("t")
    assert not table.is_visible()

    file = tmp_path / "gradtrace.html"
    file.write_bytes(httpx.get(f"{server}/api/standalone.html?{query}", timeout=30).content)
    page, problems = offline
    page.goto(file.as_uri())
    page.wait_for_selector("[data-node-id]")
    page.keyboard.press("t")
    off = page.get_by_test_id("trace-table")
    assert off.is_visible() and off.locator("tbody tr").count() == 10
    page.keyboard.press("Enter")  # on the current row: the same step
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.get_by_test_id("step-label").inner_text() == "backward 3/5"
    page.keyboard.press("Escape")
    assert not off.is_visible()
    assert problems == []

    app.goto(f"/?{query}")
    app.wait_for_selector("[data-node-id]")
    box = app.get_by_test_id("expr-input")
    box.focus()
    app.keyboard.press("End")
    app.keyboard.type(" + t")
    assert not table.is_visible()
    assert box.input_value() == "(x + y) * z + t"
    app.keyboard.press("Escape")
    button = app.get_by_test_id("table-toggle")
    button.focus()
    app.keyboard.press("Enter")
    assert table.is_visible() and button.get_attribute("aria-expanded") == "true"
    app.keyboard.press("Escape")
    assert not table.is_visible()
    assert button.evaluate("b => document.activeElement === b")


def test_exported_picture_is_an_image_with_its_description(app: Page, tmp_path: Path) -> None:
    """The SVG the browser exports (export.ts) is an image named by the view's title and
    described by its description, with nothing of the keyboard's left in it; the PNG carries
    both as text."""
    app.goto("/?expr=(x%20%2B%20y)%20*%20z&x=-2&y=5&z=-4&step=b3")
    app.wait_for_selector("[data-node-id]")
    app.locator("svg.graph-svg").focus()
    app.keyboard.press("Enter")  # a node focused, its ring drawn
    title = app.locator("svg.graph-svg > title").text_content() or ""
    desc = app.locator("svg.graph-svg > desc").text_content() or ""
    assert "backward step 3 of 5" in title and desc
    with app.expect_download() as info:
        app.get_by_test_id("export-svg").click()
    svg = Path(info.value.path()).read_text()
    head = svg[: svg.index(">") + 1]
    assert 'role="img"' in head and "tabindex" not in head and "aria-roledescription" not in head
    first = re.match(r"<svg[^>]*>\s*<title[^>]*>([^<]*)</title>\s*<desc[^>]*>([^<]*)</desc>", svg)
    assert first, svg[:400]
    unescape = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
    text = [re.sub("&[a-z#0-9]+;", lambda m: unescape.get(m.group(0), m.group(0)), g)
            for g in first.groups()]
    assert text == [title, desc]
    assert "tabindex" not in svg and "aria-label=" not in svg and "nav-ring" not in svg
    assert svg.count("<title") == 1 and svg.count("<desc") == 1
    assert "∇ −4" in svg  # the gradient labels, with their prefix
    with app.expect_download() as info:
        app.get_by_test_id("export-png").click()
    png = Path(info.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    texts = {}
    at = 8
    while at < len(png):  # every chunk whole, with its CRC; the text chunks read back
        n = int.from_bytes(png[at:at + 4], "big")
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + n]
        assert int.from_bytes(png[at + 8 + n:at + 12 + n], "big") == zlib.crc32(kind + data)
        if kind == b"iTXt":
            keyword, rest = data.split(b"\0", 1)
            texts[keyword.decode()] = rest[2:].split(b"\0", 2)[2].decode()
        at += 12 + n
    assert kind == b"IEND"
    assert texts == {"Title": title, "Description": desc}
