"""Accessibility in Debian's chromium: axe-core finds no violation (of any impact) on the app, the
embed and the offline file, in every theme, with every panel open, on a scalar and a tensor
example; the page at 200% zoom loses nothing; with reduced motion nothing moves; Escape leaves a
field and the arrow keys in a field never step the graph.

axe leaves the contrast of SVG text and of text over the heatmaps' inline colours "incomplete":
those colour pairs are checked by frontend/tests/palette.test.ts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from .conftest import ROOT

Page = Any  # playwright.sync_api.Page

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices (landmarks, headings, regions...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
THEMES = ("light", "dark", "projector")
PRESETS = {p["key"]: p for p in json.loads(
    (ROOT / "backend" / "gradtrace" / "data" / "seed_examples.json").read_text())}
# A scalar example (every number a formula) and a tensor one (heatmaps, a folded Jacobian). At
# b6 of tiny-cnn the explanation holds three heatmaps and the dense Jacobian folded; its input X
# (2×6×6×1) selected into the node panel is a heatmap there too. The scalar's Hessian is 5×5.
EXAMPLES = {
    "scalar": ("sigmoid-neuron", "b4", "x0"),
    "tensor": ("tiny-cnn", "b6", "X"),
}


def view_query(key: str, **extra: str) -> str:
    """The URL query of a preset's view (its expression, values and output gradient)."""
    p = PRESETS[key]
    q: dict[str, str] = {"expr": str(p["expr"])}
    for name, v in dict(p.get("values") or {}).items():
        q[name] = json.dumps(v)
    if p.get("seed") is not None:
        q["seed"] = json.dumps(p["seed"])
    q.update(extra)
    return "?" + urlencode(q)


# ---- axe ----


def axe(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page (or inside the elements `include` selects)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async ([tags, include]) => {
            const r = await axe.run(include ? { include: [include] } : document,
                { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target.join(" "),
                                             summary: n.failureSummary })),
            }));
        }""",
        [AXE_TAGS, include],
    )
    return found


def report(where: str, violations: list[dict[str, Any]]) -> list[str]:
    """One readable line per element in violation: where, rule, impact, target, what is wrong."""
    lines = []
    for v in violations:
        for n in v["nodes"]:
            summary = " ".join(str(n["summary"]).split())
            lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}\n"
                         f"    at {n['target']}\n    {summary}")
    return lines


def assert_no_violations(found: list[str]) -> None:
    assert not found, f"{len(found)} accessibility violations:\n" + "\n".join(found)


@pytest.fixture(scope="module")
def a11y_context(browser: Any, server: str) -> Iterator[tuple[Any, list[str]]]:
    """One browser context for the module's pages, that bypasses the page's Content Security
    Policy: axe is put into the page as an inline script, which the app's CSP (script-src 'self')
    and the offline file's refuse. Only these tests bypass it; every other test runs under it."""
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  reduced_motion="reduce", base_url=server, bypass_csp=True)
    problems: list[str] = []
    context.on("weberror", lambda e: problems.append(f"page error: {e.error}"))
    try:
        yield context, problems
    finally:
        context.close()


@pytest.fixture()
def page(a11y_context: tuple[Any, list[str]]) -> Iterator[Page]:
    """A page of the module's context, failing the test on a page error."""
    context, problems = a11y_context
    problems.clear()
    p = context.new_page()
    p.set_default_timeout(15_000)
    try:
        yield p
    finally:
        p.close()
    assert problems == [], problems


def rendered(page: Page) -> None:
    """Until the graph is drawn and the frame after it painted."""
    page.wait_for_selector("[data-testid=graph] [data-node-id]")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def select_node(page: Page, name: str) -> None:
    """Click an input node into the node panel (it stays there while stepping)."""
    page.locator(f"[data-node-id][data-kind=input][data-name={name}]").first.click()
    page.get_by_test_id("inspector").filter(has_text="selected").wait_for()


def open_folds(page: Page) -> None:
    """Open the folded asides of the explanation (the dense Jacobian)."""
    page.evaluate("() => document.querySelectorAll('details.explain-fold')"
                  ".forEach((d) => { d.open = true; })")


def table_axe(page: Page) -> list[dict[str, Any]]:
    """axe's violations in the table view of the trace (the key T opens it over the graph; Escape
    closes it again)."""
    page.keyboard.press("t")
    page.get_by_test_id("trace-table-grid").wait_for()
    found = axe(page, "[data-testid=trace-table]")
    page.keyboard.press("Escape")
    page.get_by_test_id("trace-table").wait_for(state="hidden")
    return found


# ---- the app ----


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_app_has_no_axe_violations(page: Page, kind: str) -> None:
    key, step, node = EXAMPLES[kind]
    page.goto("/" + view_query(key, step=step, check="1", hessian="1", theme="light"))
    rendered(page)
    page.get_by_test_id("check-table").wait_for()
    page.locator("[data-testid=hessian-table], [data-testid=hessian-error]").first.wait_for()
    select_node(page, node)
    open_folds(page)
    if kind == "tensor":
        assert page.locator("[data-testid=explain] .heatmap").count() >= 1
        assert page.locator("[data-testid=explain] details.explain-fold[open]").count() >= 1
        assert page.locator("[data-testid=inspector] .heatmap").count() >= 1
    found: list[str] = []
    for theme in THEMES:
        page.get_by_test_id("theme-select").select_option(theme)
        assert page.evaluate("() => document.documentElement.dataset.theme") == theme
        # The share panel open over the stage, then the code panel in its place (they overlap).
        page.get_by_test_id("share").click()
        page.get_by_test_id("share-page").wait_for()
        found += report(f"app {kind} {theme}", axe(page))
        page.get_by_test_id("share").click()
        page.get_by_test_id("code").click()
        page.get_by_test_id("code-text").filter(has_text="import").wait_for()
        page.locator("[data-testid=code-panel]:not(.loading)").wait_for()
        found += report(f"app {kind} {theme} code panel",
                        axe(page, "[data-testid=code-panel]"))
        page.get_by_test_id("code-close").click()
        found += report(f"app {kind} {theme} table", table_axe(page))
    assert_no_violations(found)


# Code pasted from a notebook, in forward mode: how it was read ("read as", the lines skipped,
# unfolded), the mode switch and its input, the tangents, a value from the text.
PASTED = ("import torch\nx = torch.tensor(2.0, requires_grad=True)\nq = x * y + torch.sin(x)\n"
          "f = q.sum()\nf.backward()\nprint(x.grad)")


def test_pasted_code_in_forward_mode_has_no_axe_violations(page: Page) -> None:
    from .test_app import query

    page.goto("/" + query(PASTED, {"y": 5}, mode="forward", wrt="x", check="1", step="f3"))
    rendered(page)
    page.get_by_test_id("check-table").wait_for()
    page.get_by_test_id("skipped-summary").click()
    page.get_by_test_id("skipped-line").first.wait_for()
    assert page.get_by_test_id("read-as").is_visible()
    assert page.get_by_test_id("wrt-select").is_visible()
    select_node(page, "y")
    found: list[str] = []
    for theme in THEMES:
        page.get_by_test_id("theme-select").select_option(theme)
        found += report(f"pasted forward {theme}", axe(page))
    assert_no_violations(found)


def test_a_broken_expression_keeps_the_last_trace_readable(page: Page) -> None:
    # While the expression is broken the stage shows the last good trace, set apart (drained of
    # colour), and the error: every text still reads at 4.5:1.
    from .test_app import query

    page.goto("/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="b3"))
    rendered(page)
    page.get_by_test_id("expr-input").fill("(x + y) * z +")
    page.get_by_test_id("error").wait_for()
    page.wait_for_function("() => document.querySelector('.stage').classList.contains('stale')")
    found: list[str] = []
    for theme in THEMES:
        page.get_by_test_id("theme-select").select_option(theme)
        found += report(f"broken expression {theme}", axe(page))
    assert_no_violations(found)


# ---- the embed ----


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_embed_has_no_axe_violations(page: Page, kind: str) -> None:
    key, step, _ = EXAMPLES[kind]
    found: list[str] = []
    for theme in THEMES:
        page.goto("/embed/" + view_query(key, step=step, theme=theme))
        rendered(page)
        found += report(f"embed {kind} {theme}", axe(page))
    assert_no_violations(found)


# ---- the offline file ----


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_offline_file_has_no_axe_violations(page: Page, server: str, tmp_path: Path,
                                            kind: str) -> None:
    key, step, node = EXAMPLES[kind]
    found: list[str] = []
    for theme in THEMES:
        r = httpx.get(f"{server}/api/standalone.html" + view_query(key, step=step, theme=theme),
                      timeout=60)
        assert r.status_code == 200, r.text[:300]
        path = tmp_path / f"{kind}-{theme}.html"
        path.write_bytes(r.content)
        page.goto(path.as_uri())
        rendered(page)
        select_node(page, node)
        open_folds(page)
        found += report(f"offline {kind} {theme}", axe(page))
        found += report(f"offline {kind} {theme} table", table_axe(page))
    assert_no_violations(found)


# ---- 200% zoom ----

# Every control and text on the page as it is laid out: what overflows the page sideways, what
# cannot be brought into view (scrolled to, it is still outside the window or under something
# else), and what text is cut off in its box (wider than the box that holds it: a button's words,
# a label, a value's number or shape in its field).
_LOSSES = """(within) => {
    const root = within || document;
    const page = document.scrollingElement;
    const out = { pageScroll: page.scrollWidth - page.clientWidth, hidden: [], clipped: [] };
    const name = (el) => {
        const id = el.dataset.testid ? `[${el.dataset.testid}]` : "";
        const cls = typeof el.className === "string" && el.className
            ? "." + el.className.split(" ")[0] : "";
        const text = el.innerText || el.value || el.getAttribute("aria-label") || "";
        return `${el.tagName.toLowerCase()}${id}${cls} "${text.slice(0, 30)}"`;
    };
    const shown = (el) => el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== "hidden";
    const controls = root.querySelectorAll(
        "button, select, input, textarea, summary, a[href], [tabindex='0']");
    for (const el of controls) {
        if (!shown(el)) continue;
        // Reached as the keyboard reaches it (a skip link shows only then).
        el.focus({ preventScroll: true });
        el.scrollIntoView({ block: "center", inline: "center" });
        const r = el.getBoundingClientRect();
        const x = Math.min(Math.max(r.left + Math.min(r.width / 2, 8), 0), innerWidth - 1);
        const y = Math.min(Math.max(r.top + Math.min(r.height / 2, 8), 0), innerHeight - 1);
        const inView = r.right > 0 && r.left < innerWidth && r.bottom > 0 && r.top < innerHeight;
        const top = document.elementFromPoint(x, y);
        if (!inView || !(top && (el.contains(top) || top.contains(el) || el.labels?.length
                                 && [...el.labels].some((l) => l.contains(top))))) {
            out.hidden.push(name(el));
        }
    }
    document.activeElement?.blur();
    const texts = root.querySelectorAll(
        "button, label, summary, .step-label, .panel-title, .key-item, .value-source, a.button,"
        + " input.value-shape, input.value-number, input.grid-cell");
    for (const el of texts) {
        if (!shown(el)) continue;
        if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) out.clipped.push(
            `${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
    }
    return out;
}"""


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_text_zoomed_to_200_percent_loses_nothing(browser: Any, server: str, kind: str) -> None:
    # 1280×800 at 200% zoom is a 640×400 CSS-pixel window at two device pixels a CSS pixel.
    key, step, node = EXAMPLES[kind]
    context = browser.new_context(viewport={"width": 640, "height": 400},
                                  device_scale_factor=2, reduced_motion="reduce",
                                  base_url=server)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/" + view_query(key, step=step, check="1", hessian="1"))
        rendered(page)
        page.get_by_test_id("check-table").wait_for()
        select_node(page, node)
        open_folds(page)
        losses = page.evaluate(_LOSSES, None)
        # The share panel and the code panel, each open over the page.
        for opener, panel, inside in (("share", "share-panel", "share-page"),
                                      ("code", "code-panel", "code-copy")):
            page.get_by_test_id(opener).click()
            page.get_by_test_id(panel).wait_for()
            inner = page.evaluate(f"() => ({_LOSSES})("
                                  f"document.querySelector('[data-testid={panel}]'))")
            losses["hidden"] += [f"{panel}: {h}" for h in inner["hidden"]]
            losses["clipped"] += [f"{panel}: {c}" for c in inner["clipped"]]
            page.get_by_test_id(inside).focus()
            page.keyboard.press("Escape")
            page.get_by_test_id(panel).wait_for(state="hidden")
        assert losses == {"pageScroll": 0, "hidden": [], "clipped": []}, losses
    finally:
        context.close()


# ---- reduced motion ----

_MOVING = """() => document.getAnimations()
    .filter((a) => a.playState === "running" && a.effect
                   && a.effect.getComputedTiming().duration > 0)
    .map((a) => `${a.animationName || a.transitionProperty || "script"} on `
                + `${a.effect.target ? a.effect.target.getAttribute("class") : "?"}`)"""


def moving_while_stepping(browser: Any, server: str, motion: str) -> list[str]:
    """What moves on the page while it steps backward and dims (a broken expression), with the
    motion preference `motion`."""
    from .test_app import query

    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  reduced_motion=motion, base_url=server)
    try:
        page = context.new_page()
        page.goto("/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="f5"))
        rendered(page)
        seen: list[str] = []
        for _ in range(3):
            page.keyboard.press("ArrowRight")
            seen += page.evaluate(_MOVING)
        page.get_by_test_id("expr-input").fill("(x + y) * ")
        page.wait_for_function("() => document.querySelector('.stage').classList.contains('stale')")
        seen += page.evaluate(_MOVING)
        return seen
    finally:
        context.close()


def test_reduced_motion_stops_every_animation_and_transition(browser: Any, server: str) -> None:
    # Without the preference the gradient's wires flow and the stage fades: the check sees motion.
    assert moving_while_stepping(browser, server, "no-preference") != []
    assert moving_while_stepping(browser, server, "reduce") == []


# ---- the keyboard in fields ----


def active(page: Page) -> str:
    """What has the focus: its test id, else its tag."""
    got: str = page.evaluate(
        "() => document.activeElement.dataset.testid || document.activeElement.tagName")
    return got


def test_escape_leaves_a_field_and_the_arrows_in_a_field_never_step(page: Page) -> None:
    from .test_app import label, query

    page.goto("/" + query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, step="b2"))
    rendered(page)
    # One region speaks the steps (the stage's narration); the step label is not one.
    assert page.get_by_test_id("step-label").get_attribute("aria-live") is None
    for field in ("value-x", "expr-input", "slider-y", "step-speed", "theme-select"):
        page.get_by_test_id(field).focus()
        before = page.get_by_test_id(field).input_value()
        page.keyboard.press("ArrowLeft" if field == "slider-y" else "ArrowRight")
        assert label(page) == "backward 2/5", field  # the field kept the arrow
        page.keyboard.press("Escape")
        assert active(page) == "BODY", field  # out of the field...
        if field not in ("slider-y", "step-speed", "theme-select"):
            assert page.get_by_test_id(field).input_value() == before, field  # ...as it was
        page.keyboard.press("ArrowRight")
        assert label(page) == "backward 3/5", field  # ...and the arrows step again
        page.keyboard.press("ArrowLeft")
        assert label(page) == "backward 2/5", field
    # Tab goes on from where the field was.
    page.get_by_test_id("value-x").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert active(page) == "slider-x"
    # A dialog keeps its Escape: the code panel and the share panel close, and the focus goes
    # back to the button that opened them.
    for opener, panel in (("code", "code-panel"), ("share", "share-panel")):
        page.get_by_test_id(opener).click()
        page.get_by_test_id(panel).wait_for()
        if opener == "share":
            page.get_by_test_id("share-page").focus()
        page.keyboard.press("Escape")
        page.get_by_test_id(panel).wait_for(state="hidden")
        assert active(page) == opener
    assert label(page) == "backward 2/5"


def test_a_heatmaps_active_cell_is_marked_apart_from_the_focus(page: Page) -> None:
    key, step, _ = EXAMPLES["tensor"]
    page.goto("/" + view_query(key, step=step))
    rendered(page)
    grid = page.locator("[data-testid=explain] .heat-grid").first
    first = grid.locator(".heat-cell").nth(0)
    second = grid.locator(".heat-cell").nth(1)
    look = "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.boxShadow]; }"
    # Before any focus: the first cell is the active one, marked inside its edge, no ring.
    outline, shadow = first.evaluate(look)
    assert outline == "none" and "inset" in shadow
    # By the keyboard: the focus is a ring outside the cell, the active mark moves with it.
    first.focus()
    page.keyboard.press("ArrowRight")
    assert second.evaluate("e => e === document.activeElement")
    outline, shadow = second.evaluate(look)
    assert outline == "solid" and "inset" in shadow
    assert first.evaluate(look)[0] == "none"
    assert "inset" not in first.evaluate(look)[1]
    # The arrows moved in the grid, not through the steps; Escape leaves the grid and the active
    # cell keeps its mark without the focus ring.
    assert page.get_by_test_id("step-label").inner_text() == "backward 6/10"
    page.keyboard.press("Escape")
    assert active(page) == "BODY"
    outline, shadow = second.evaluate(look)
    assert outline == "none" and "inset" in shadow
    page.keyboard.press("ArrowRight")
    assert page.get_by_test_id("step-label").inner_text() == "backward 7/10"


# ---- focus visible ----

# How the focused element shows its focus: an outline of at least 2 px (its own, or over a card
# its ::after's), a ring drawn as a box shadow outside it, or (a control drawn in SVG, as a
# gate's button) its drawing changed by the focus: a stroke at least 2 px wide that is not there
# without the focus. None of these: nothing shows.
_FOCUS_RING = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const ring = (s) => s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    const s = getComputedStyle(el);
    const outer = s.boxShadow.split(/,(?![^(]*\\))/).some((r) => r !== "none" && !/inset/.test(r));
    let shown = ring(s) || ring(getComputedStyle(el, "::after")) || outer;
    if (!shown && el instanceof SVGElement) {
        const strokes = () => [el, ...el.querySelectorAll("*")].map((c) => {
            const cs = getComputedStyle(c);
            return cs.stroke === "none" ? 0 : parseFloat(cs.strokeWidth) + ":" + cs.stroke;
        });
        const focused = strokes();
        el.blur();
        const plain = strokes();
        el.focus();
        shown = focused.some((f, i) => f !== plain[i] && parseFloat(f) >= 2);
    }
    const id = el.dataset?.testid || el.getAttribute("aria-label") || el.className?.baseVal
        || el.className || el.tagName;
    return { what: `${el.tagName.toLowerCase()} ${String(id).slice(0, 40)}`, shown };
}"""


def test_every_tab_stop_shows_its_focus(page: Page) -> None:
    # The rings' colours are the palette's, checked in every theme by palette.test.ts; here, that
    # every stop has one.
    key, step, _ = EXAMPLES["tensor"]
    page.goto("/" + view_query(key, step=step, check="1"))
    rendered(page)
    page.get_by_test_id("check-table").wait_for()
    unseen: list[str] = []
    seen: set[str] = set()
    for _ in range(400):
        page.keyboard.press("Tab")
        got = page.evaluate(_FOCUS_RING)
        if got is None or got["what"] in seen:
            if got is None:
                break
            continue
        seen.add(got["what"])
        if not got["shown"]:
            unseen.append(got["what"])
    assert len(seen) > 40, seen  # the whole page was tabbed through
    assert unseen == [], unseen
