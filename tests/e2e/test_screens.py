"""Every example, on a laptop (1280x800), a projector (1920x1080) and a phone (390x844), measured
in Debian's chromium from the DOM: no two texts of the graph overlap, none is cut off at the
edge of the graph's space, the page never scrolls sideways, every formula is fully shown or sits
in a scroll box the keyboard reaches, the graph's text is at least 24 px at 1920x1080 (every
example has at most 30 nodes) and legible elsewhere, the step buttons keep their boxes at every
step, the phone gives the graph at least half its height and the colour key is shown. The dark
theme draws the same geometry as the light one; the projector theme (larger type) passes the same
checks. One page per size, moved from example to example by URL; the full set of pictures is
scripts/screenshots.py, not a test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

Page = Any  # playwright.sync_api.Page

SIZES = [(1280, 800), (1920, 1080), (390, 844)]
# The smallest text on the graph, px: from the back of a hall on a 1080p projector; legible
# elsewhere.
PROJECTOR_PX = 24
LEGIBLE_PX = 11
# Pixels two boxes may share (anti-aliasing, rounding) before they count as overlapping.
SLACK = 0.75

# Everything measured at once: the graph's shown texts, its space, the page's width, the
# formulas and what (if anything) clips each.
MEASURE = """() => {
  const graph = document.querySelector('[data-testid=graph]');
  const g = graph.getBoundingClientRect();
  const shown = (el) => {
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return cs.visibility !== 'hidden' && cs.display !== 'none' && r.width > 0 && r.height > 0;
  };
  const texts = [...graph.querySelectorAll('svg text')]
    .filter((t) => t.textContent.trim() !== '' && shown(t))
    .map((t) => {
      const r = t.getBoundingClientRect();
      const px = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
      return { text: t.textContent, cls: t.getAttribute('class') || '', x0: r.left, y0: r.top,
               x1: r.right, y1: r.bottom, px };
    });
  const clips = (el) => {
    const cs = getComputedStyle(el);
    return cs.overflowX !== 'visible' || cs.overflowY !== 'visible';
  };
  const formulas = [...document.querySelectorAll('.katex')].filter(shown).map((k) => {
    const r = k.getBoundingClientRect();
    let problem = null;
    let scrolled = false;
    for (let a = k.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      if (!clips(a)) continue;
      const b = a.getBoundingClientRect();
      const inside = r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1
        && r.bottom <= b.bottom + 1;
      if (inside) continue;
      const cs = getComputedStyle(a);
      const scrolls = /auto|scroll/.test(cs.overflowX + cs.overflowY);
      if (!(scrolls && a.tabIndex >= 0)) {
        problem = `${k.textContent.slice(0, 40)} clipped by ${a.tagName}.${a.className}`;
      }
      scrolled = true;
      break;
    }
    if (!scrolled && (r.left < -1 || r.right > innerWidth + 1)) {
      problem = `${k.textContent.slice(0, 40)} outside the window`;
    }
    return problem;
  }).filter((p) => p !== null);
  const key = document.querySelector('[data-testid=colour-key]');
  return {
    graph: { x0: g.left, y0: g.top, x1: g.right, y1: g.bottom },
    texts, formulas,
    scrollWidth: document.documentElement.scrollWidth, innerWidth, innerHeight,
    key: key !== null && shown(key),
  };
}"""

# The boxes of every control on the stage (the step buttons, the speed, the scrubber, the label,
# the direction switch, the output bar's buttons).
CONTROLS = """() => [...document.querySelectorAll(
    '.controls button, .controls select, .controls input, .step-label, .dir-toggle, '
    + '.out-actions > *'
  )].map((el) => {
    const r = el.getBoundingClientRect();
    return [el.getAttribute('data-testid') || el.className, r.left, r.top, r.width, r.height];
  })"""


def preset_url(p: dict[str, Any], theme: str = "light", step: str = "end") -> str:
    q = {"expr": p["expr"], **{k: json.dumps(v) for k, v in (p.get("values") or {}).items()}}
    if p.get("seed") is not None:
        q["seed"] = json.dumps(p["seed"])
    q["step"] = step
    q["theme"] = theme
    return "/?" + urlencode(q)


def show(page: Page, url: str) -> None:
    """Open `url` and wait until its graph is drawn and settled (a layout asked again for the
    space's shape, the labels packed)."""
    page.goto(url)
    page.wait_for_function("() => window.__gradtrace && window.__gradtrace.trace")
    page.wait_for_selector("[data-testid=graph] svg g.node")
    page.evaluate("""() => document.fonts.ready.then(() => new Promise((done) =>
        requestAnimationFrame(() => requestAnimationFrame(done))))""")


def overlapping(texts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if w > SLACK and h > SLACK:
                out.append((f"{a['cls']}:{a['text']}", f"{b['cls']}:{b['text']}"))
    return out


def clipped(m: dict[str, Any]) -> list[str]:
    g = m["graph"]
    return [
        f"{t['cls']}:{t['text']}"
        for t in m["texts"]
        if t["x0"] < g["x0"] - SLACK or t["y0"] < g["y0"] - SLACK
        or t["x1"] > g["x1"] + SLACK or t["y1"] > g["y1"] + SLACK
    ]


def check(m: dict[str, Any], what: str, min_px: float) -> list[str]:
    """What is wrong with a measured screen (nothing: [])."""
    problems = []
    if over := overlapping(m["texts"]):
        problems.append(f"{what}: overlapping labels {over[:4]}")
    if cut := clipped(m):
        problems.append(f"{what}: labels cut off at the graph's edge {cut[:4]}")
    if m["scrollWidth"] > m["innerWidth"]:
        problems.append(f"{what}: the page scrolls sideways ({m['scrollWidth']} > "
                        f"{m['innerWidth']})")
    if m["formulas"]:
        problems.append(f"{what}: formulas not shown {m['formulas'][:3]}")
    small = [(t["text"], round(t["px"], 1)) for t in m["texts"] if t["px"] < min_px - 0.05]
    if small:
        problems.append(f"{what}: graph text under {min_px} px {small[:4]}")
    if not m["key"]:
        problems.append(f"{what}: no colour key")
    if m["innerWidth"] < 800:
        g = m["graph"]
        if g["y1"] - g["y0"] < m["innerHeight"] / 2:
            problems.append(f"{what}: the graph is {g['y1'] - g['y0']:.0f} px high")
    return problems


@pytest.fixture(scope="module")
def presets(server: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{server}/api/presets", timeout=10).json()
    assert len(found) >= 20
    return found


@contextmanager
def page_of(browser: Any, server: str, size: tuple[int, int]) -> Iterator[tuple[Page, list[str]]]:
    """One page at `size` (a phone is touch-first), and the errors it logs."""
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h}, reduced_motion="reduce",
                              base_url=server, has_touch=w < 800, is_mobile=w < 800)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" else None)
    try:
        yield page, problems
    finally:
        ctx.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_example_fits_the_screen(browser: Any, server: str,
                                       presets: list[dict[str, Any]],
                                       size: tuple[int, int]) -> None:
    problems: list[str] = []
    smallest: list[float] = []
    with page_of(browser, server, size) as (page, logged):
        for p in presets:
            show(page, preset_url(p))
            m = page.evaluate(MEASURE)
            nodes = page.locator("[data-testid=graph] g.node").count()
            projector = size == (1920, 1080) and nodes <= 30
            problems += check(m, f"{p['key']} at {size}", PROJECTOR_PX if projector else LEGIBLE_PX)
            if projector:
                # Packing may hide a label without room (it shows on hover and in the panels),
                # not most of them: at the last step every wire has its value, and more than half
                # show it (the gradients' "∇ " takes room: three-layer shows 10 of 16, tiny-cnn 6
                # of 10, the others all).
                wires = page.locator("[data-testid=graph] g.edge").count()
                values = sum(1 for t in m["texts"] if t["cls"] == "edge-value")
                if 2 * values <= wires:
                    problems.append(f"{p['key']} at {size}: {values} of {wires} values shown")
            smallest.append(min((t["px"] for t in m["texts"]), default=99))
        assert logged == [], logged
    print(f"{size}: smallest graph text {min(smallest):.1f} px")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_step_buttons_never_move(browser: Any, server: str, presets: list[dict[str, Any]],
                                 size: tuple[int, int]) -> None:
    """Through every step with ▶ (the explanation changes at each): every control keeps its box,
    and the labels never overlap."""
    p = next(q for q in presets if q["key"] == "sigmoid-neuron")
    with page_of(browser, server, size) as (page, logged):
        show(page, preset_url(p, step="start"))
        first = page.evaluate(CONTROLS)
        total = page.evaluate("() => window.__gradtrace.trace.forward.length"
                              " + window.__gradtrace.trace.backward.length")
        problems = []
        for i in range(1, total):
            page.get_by_test_id("step-next").click()
            page.wait_for_function("i => window.__gradtrace.step === i", arg=i)
            now = page.evaluate(CONTROLS)
            if now != first:
                moved = [(a, b) for a, b in zip(first, now, strict=True) if a != b]
                problems.append(f"step {i}: {moved[:3]}")
            m = page.evaluate(MEASURE)
            if over := overlapping(m["texts"]):
                problems.append(f"step {i}: overlapping labels {over[:3]}")
            if cut := clipped(m):
                problems.append(f"step {i}: labels cut off {cut[:3]}")
        assert problems == [], "\n".join(problems)
        assert logged == [], logged


def test_themes_draw_the_same_graph(browser: Any, server: str,
                                    presets: list[dict[str, Any]]) -> None:
    """Dark has the light theme's sizes: the very same boxes. The projector's type is larger:
    other boxes, the same checks."""
    p = next(q for q in presets if q["key"] == "three-layer")
    with page_of(browser, server, (1280, 800)) as (page, logged):
        got = {}
        for theme in ("light", "dark", "projector"):
            show(page, preset_url(p, theme=theme))
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            got[theme] = page.evaluate(MEASURE)
        rounded = {t: [(x["text"], round(x["x0"]), round(x["y0"]), round(x["x1"]), round(x["y1"]))
                       for x in m["texts"]] for t, m in got.items()}
        assert rounded["dark"] == rounded["light"]
        assert check(got["projector"], "projector", LEGIBLE_PX) == []
        assert logged == [], logged


def test_tablet_stacks_and_a_pinch_zooms(browser: Any, server: str,
                                        presets: list[dict[str, Any]]) -> None:
    """A portrait tablet stacks like a phone (the graph on half the height, no sideways scroll);
    two fingers spread on the graph zoom it in."""
    with page_of(browser, server, (768, 1024)) as (page, logged):
        for key in ("circuit", "three-layer", "tiny-cnn"):
            p = next(q for q in presets if q["key"] == key)
            show(page, preset_url(p))
            assert check(page.evaluate(MEASURE), f"{key} at 768x1024", LEGIBLE_PX) == []
            # Drawn down: the tall space fits a deep graph best.
            if key == "three-layer":
                assert page.get_by_test_id("direction").inner_text() == "↓ down"
        before = page.evaluate(
            "() => document.querySelector('.viewport').getAttribute('transform')")
        box = page.locator(".graph-svg").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        # Two touch pointers moving apart (CDP's touch events reach the page as pointer events).
        cdp = page.context.new_cdp_session(page)

        def touch(kind: str, d: float) -> None:
            points = [] if kind == "touchEnd" else [
                {"x": cx - d, "y": cy, "id": 1}, {"x": cx + d, "y": cy, "id": 2}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", 30)
        for d in (50, 80, 110):
            touch("touchMove", d)
        touch("touchEnd", 0)
        after = page.evaluate("() => document.querySelector('.viewport').getAttribute('transform')")
        scale = lambda t: float(t.split("scale(")[1].rstrip(")"))  # noqa: E731
        assert scale(after) > scale(before) * 2.5, (before, after)
        assert logged == [], logged
