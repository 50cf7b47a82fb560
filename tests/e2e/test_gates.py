"""Gates that open, in Debian's chromium: a composite op's ⊕ opens it into its parts (click, or
Enter/Space once focused), the URL carries `expand=`, the steps are renumbered, and closing the
gate (its box's ⊖, or the node panel's button) gives back the very steps of before; the embed
honours `expand=` and toggles too; the link panel's picture and offline-file links carry it.
Screenshots of a gate closed and opened, in the light and dark themes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gradtrace.ops import REGISTRY

from .conftest import screenshot
from .test_app import label, open_at, query

Page = Any  # playwright.sync_api.Page

# A sigmoid-like composite that opens into several nodes (the step count changes), as the
# registry has it: softplus, else gelu.
OP = next(n for n in ("softplus", "gelu") if n in REGISTRY)
EXPR = f"{OP}(w * x + b)"
VALUES = {"w": 2, "x": -1, "b": 0.5}
GATE = "g5"  # the op node: w, x, w*x, b, +, then OP


def steps(page: Page) -> dict[str, Any]:
    """The steps on show: the forward node ids and the backward steps' nodes, and the total."""
    got: dict[str, Any] = page.evaluate(
        "() => { const t = window.__gradtrace.trace;"
        " return { forward: t.forward, backward: t.backward.map((s) => s.node),"
        " structure: t.structure, grads: t.gradients }; }")
    return got


def total(page: Page) -> int:
    m = re.fullmatch(r"(?:forward|backward) \d+/(\d+)", label(page))
    assert m, label(page)
    return int(m.group(1))


def wait_structure_change(page: Page, old: str) -> None:
    page.wait_for_function("s => window.__gradtrace.trace && window.__gradtrace.trace.structure"
                           " !== s", arg=old)


def test_a_gate_opens_and_closes_by_click_and_keyboard(app: Page, screenshots: Path) -> None:
    open_at(app, "/" + query(EXPR, VALUES))
    before = steps(app)
    n_before = total(app)
    assert label(app) == f"backward {n_before}/{n_before}"
    opener = app.get_by_test_id(f"gate-open-{GATE}")
    assert opener.get_attribute("aria-label", timeout=1000).startswith(
        "Open this gate into its parts")
    # Click the ⊕: the gate opens, the URL says so, the steps are renumbered (more of them).
    opener.click()
    wait_structure_change(app, before["structure"])
    app.wait_for_function("() => location.search.includes('expand=g5')")
    opened = steps(app)
    assert len(opened["backward"]) > len(before["backward"])
    assert total(app) > n_before
    n = len(opened["backward"])
    assert label(app) == f"backward {n}/{n}"  # still at the end
    parts = app.locator(f"[data-in-gate={GATE}]")
    assert parts.count() >= 2
    assert opened["grads"] == pytest.approx(before["grads"], rel=1e-12)
    closer = app.get_by_test_id(f"gate-close-{GATE}")
    assert closer.get_attribute("aria-label") == f"Close the gate {OP} ({GATE})"
    # Enter on the focused ⊖ closes it: the very steps of before, and no expand in the URL.
    closer.focus()
    app.keyboard.press("Enter")
    wait_structure_change(app, opened["structure"])
    app.wait_for_function("() => !location.search.includes('expand=')")
    assert steps(app) == before and total(app) == n_before
    # Space on the focused ⊕ opens it again, and does not play the steps.
    app.get_by_test_id(f"gate-open-{GATE}").focus()
    app.keyboard.press(" ")
    wait_structure_change(app, before["structure"])
    assert steps(app) == opened
    assert app.get_by_test_id("step-play").inner_text() == "▶ play"
    # The node panel closes it too, from one of its parts.
    app.locator(f"[data-in-gate={GATE}]").first.click()
    app.get_by_test_id("inspector-close-gate").click()
    wait_structure_change(app, opened["structure"])
    assert steps(app) == before


def test_toggling_keeps_the_step_on_its_node(app: Page) -> None:
    """Between the first and the last step, opening or closing a gate keeps the view on the same
    node (renumbered), or, on the gate itself, goes to the step of the node holding its value."""
    open_at(app, "/" + query(EXPR, VALUES, step="b2"))
    before = app.evaluate("() => window.__gradtrace.trace")
    plus = before["backward"][1]["node"]
    assert next(n for n in before["nodes"] if n["id"] == plus)["op"] == "add"
    app.get_by_test_id(f"gate-open-{GATE}").click()
    wait_structure_change(app, before["structure"])
    trace = app.evaluate("() => window.__gradtrace.trace")
    current = trace["backward"][int(label(app).split()[1].split("/")[0]) - 1]["node"]
    node = next(n for n in trace["nodes"] if n["id"] == current)
    assert (node["op"], node["start"], node["end"]) == ("add", 0 + len(OP) + 1, len(EXPR) - 1)
    # At the gate's own step (b1, the output) closing from a part goes back to the gate.
    app.get_by_test_id("step-last").click()
    app.keyboard.press("Home")
    app.wait_for_function("() => /step=f1(&|$)/.test(location.search)")
    out = next(g["output"] for g in trace["open_gates"] if g["id"] == GATE)
    k = [s["node"] for s in trace["backward"]].index(out) + 1
    app.goto(app.url.replace("step=f1", f"step=b{k}"))
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    assert label(app) == f"backward {k}/{len(trace['backward'])}"
    app.get_by_test_id(f"gate-close-{GATE}").click()
    wait_structure_change(app, trace["structure"])
    assert label(app) == f"backward 1/{len(before['backward'])}"


def test_the_url_opens_gates_and_the_links_carry_them(app: Page) -> None:
    open_at(app, "/" + query(EXPR, VALUES, expand=f"{GATE},g99"))
    assert app.get_by_test_id(f"gate-close-{GATE}").is_visible()
    # The id that names no gate is ignored with a warning, and drops out of the URL.
    assert "g99" in app.get_by_test_id("warnings").inner_text()
    app.wait_for_function("() => /expand=g5(&|$)/.test(location.search)")
    app.get_by_test_id("share").click()
    for key in ("page", "embed", "svg", "png", "pdf", "html"):
        assert "expand=g5" in app.get_by_test_id(f"share-{key}").input_value(), key
    svg = app.request.get(app.get_by_test_id("share-svg").input_value())
    assert svg.ok and 'data-gate="g5"' in svg.text()


def test_the_embed_honours_expand_and_toggles(app: Page) -> None:
    open_at(app, "/embed/" + query(EXPR, VALUES, expand=GATE))
    first = steps(app)
    app.get_by_test_id(f"gate-close-{GATE}").click()
    wait_structure_change(app, first["structure"])
    assert len(steps(app)["backward"]) < len(first["backward"])
    assert app.locator(f"[data-gate-id={GATE}]").count() == 1


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_of_a_gate(app: Page, screenshots: Path, theme: str) -> None:
    open_at(app, "/" + query("square(x + y) * z", {"x": 3, "y": -1, "z": 2}, theme=theme))
    screenshot(app, screenshots / f"gate-closed-{theme}.png",
               [app.get_by_test_id("gate-open-g3"), "backward 6/6"])
    open_at(app, "/" + query(EXPR, VALUES, theme=theme, expand=GATE, step="b3"))
    screenshot(app, screenshots / f"gate-open-{theme}.png",
               [app.get_by_test_id(f"gate-close-{GATE}"), "Close the gate " + OP])
